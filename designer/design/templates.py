"""Ready-made designs a user starts from.

Each template is written as a chain of layers (plus explicit edges where the graph branches),
so it reads like the tutorial it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from designer.design.spec import CompileSpec, DataSpec, Design, Edge, Node, TrainSpec


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    description: str
    dataset: str | None  # None: the template has no built-in data set to train on


def _chain(*layers: tuple[str, str, dict[str, Any]]) -> tuple[list[Node], list[Edge]]:
    nodes = [Node(i, t, dict(p)) for i, t, p in layers]
    edges = [Edge(a.id, b.id) for a, b in zip(nodes, nodes[1:])]
    return nodes, edges


def _design(t: Template, nodes, edges, *, compile=None, training=None, **kw) -> Design:
    return Design(
        nodes=nodes,
        edges=edges,
        name=t.id,
        description=t.description,
        compile=compile or CompileSpec(),
        data=DataSpec(dataset=t.dataset),
        training=training or TrainSpec(),
        **kw,
    )


TEMPLATES: dict[str, Template] = {
    t.id: t
    for t in (
        Template(
            "digits-mlp",
            "Digits MLP",
            "A small MLP for scikit-learn's 8×8 digits: trains in seconds.",
            "digits",
        ),
        Template(
            "mnist-mlp",
            "MNIST MLP",
            "The tutorial MLP: 784 → Dense 128 relu → Dropout 0.5 → Dense 10 softmax. "
            "Trains offline on 5,000 MNIST digits; the full 70,000 are on the Data page.",
            "mnist_local",
        ),
        Template(
            "cifar10-cnn",
            "CIFAR-10 CNN",
            "The tutorial CNN: two Conv/Pool/Dropout blocks (32, 64 filters), Dense 512. "
            "Trains offline on generated coloured shapes; CIFAR-10 is on the Data page.",
            "shapes",
        ),
        Template(
            "lenet5",
            "LeNet-5",
            "LeCun's classic: two conv/average-pool blocks, Dense 120 and 84.",
            "fashion_mnist_local",
        ),
        Template(
            "mini-resnet",
            "Mini ResNet",
            "Two residual blocks joined with Add skip connections. Trains offline on generated "
            "coloured shapes; CIFAR-10 is on the Data page.",
            "shapes",
        ),
        Template(
            "text-lstm",
            "Text LSTM",
            "Embedding → LSTM → Dense sigmoid: is a movie review positive? (IMDB on the Data page)",
            "reviews",
        ),
        Template(
            "transfer-mobilenetv2",
            "Transfer learning (MobileNetV2)",
            "A frozen MobileNetV2 base with a new classification head, on 32×32 colour images "
            "enlarged to 96×96. Trains offline on generated coloured shapes (ImageNet weights "
            "need a download once); CIFAR-10 is on the Data page.",
            "shapes",
        ),
        Template(
            "two-inputs",
            "Two inputs",
            "An image branch and a tabular branch joined with Concatenate: a pattern to export "
            "and train on your own paired data (the app's data sets feed one input).",
            None,
        ),
        Template(
            "moons-mlp",
            "Playground: moons",
            "TensorFlow-Playground style: two small tanh layers on 2-D points.",
            "moons",
        ),
        Template(
            "diabetes-mlp",
            "Diabetes regression",
            "An MLP that predicts disease progression (regression).",
            "diabetes",
        ),
    )
}


def _digits_mlp(t: Template) -> Design:
    return _design(
        t,
        *_chain(
            ("input", "Input", {"shape": [8, 8, 1]}),
            ("flatten", "Flatten", {}),
            ("dense", "Dense", {"units": 64, "activation": "relu"}),
            ("dropout", "Dropout", {"rate": 0.2}),
            ("output", "Dense", {"units": 10, "activation": "softmax"}),
        ),
        training=TrainSpec(epochs=20, batch_size=32),
    )


def _mnist_mlp(t: Template) -> Design:
    return _design(
        t,
        *_chain(
            ("input", "Input", {"shape": [28, 28, 1]}),
            ("flatten", "Flatten", {}),
            ("dense", "Dense", {"units": 128, "activation": "relu"}),
            ("dropout", "Dropout", {"rate": 0.5}),
            ("output", "Dense", {"units": 10, "activation": "softmax"}),
        ),
        training=TrainSpec(epochs=5, batch_size=128),
    )


def _cifar10_cnn(t: Template) -> Design:
    return _design(
        t,
        *_chain(
            ("input", "Input", {"shape": [32, 32, 3]}),
            ("conv1", "Conv2D", {"filters": 32, "kernel_size": 3, "activation": "relu"}),
            ("pool1", "MaxPooling2D", {"pool_size": 2}),
            ("drop1", "Dropout", {"rate": 0.25}),
            ("conv2", "Conv2D", {"filters": 64, "kernel_size": 3, "activation": "relu"}),
            ("pool2", "MaxPooling2D", {"pool_size": 2}),
            ("drop2", "Dropout", {"rate": 0.25}),
            ("flatten", "Flatten", {}),
            ("dense", "Dense", {"units": 512, "activation": "relu"}),
            ("drop3", "Dropout", {"rate": 0.5}),
            ("output", "Dense", {"units": 10, "activation": "softmax"}),
        ),
        training=TrainSpec(epochs=15, batch_size=64),
        augmentation=[Node("flip", "RandomFlip", {"mode": "horizontal"})],
    )


def _lenet5(t: Template) -> Design:
    return _design(
        t,
        *_chain(
            ("input", "Input", {"shape": [28, 28, 1]}),
            (
                "c1",
                "Conv2D",
                {"filters": 6, "kernel_size": 5, "padding": "same", "activation": "tanh"},
            ),
            ("s2", "AveragePooling2D", {"pool_size": 2}),
            ("c3", "Conv2D", {"filters": 16, "kernel_size": 5, "activation": "tanh"}),
            ("s4", "AveragePooling2D", {"pool_size": 2}),
            ("flatten", "Flatten", {}),
            ("f5", "Dense", {"units": 120, "activation": "tanh"}),
            ("f6", "Dense", {"units": 84, "activation": "tanh"}),
            ("output", "Dense", {"units": 10, "activation": "softmax"}),
        ),
        training=TrainSpec(epochs=10, batch_size=128),
    )


def _mini_resnet(t: Template) -> Design:
    conv = {"filters": 32, "kernel_size": 3, "padding": "same"}
    nodes, edges = _chain(
        ("input", "Input", {"shape": [32, 32, 3]}),
        ("stem", "Conv2D", conv | {"activation": "relu"}),
        ("b1_conv1", "Conv2D", conv | {"activation": "relu"}),
        ("b1_conv2", "Conv2D", conv),
        ("b1_add", "Add", {}),
        ("b1_relu", "Activation", {"activation": "relu"}),
        ("b2_conv1", "Conv2D", conv | {"activation": "relu"}),
        ("b2_conv2", "Conv2D", conv),
        ("b2_add", "Add", {}),
        ("b2_relu", "Activation", {"activation": "relu"}),
        ("pool", "GlobalAveragePooling2D", {}),
        ("output", "Dense", {"units": 10, "activation": "softmax"}),
    )
    # The skip connections: each block's input also goes straight to its Add.
    edges += [Edge("stem", "b1_add"), Edge("b1_relu", "b2_add")]
    return _design(t, nodes, edges, training=TrainSpec(epochs=10, batch_size=64))


def _text_lstm(t: Template) -> Design:
    return _design(
        t,
        *_chain(
            ("input", "Input", {"shape": [200], "dtype": "int32"}),
            ("embedding", "Embedding", {"input_dim": 10000, "output_dim": 32}),
            ("lstm", "LSTM", {"units": 32}),
            ("output", "Dense", {"units": 1, "activation": "sigmoid"}),
        ),
        compile=CompileSpec(loss="binary_crossentropy", metrics=["accuracy"]),
        training=TrainSpec(epochs=8, batch_size=32),
    )


def _transfer(t: Template) -> Design:
    return _design(
        t,
        *_chain(
            ("input", "Input", {"shape": [32, 32, 3]}),
            # MobileNetV2's ImageNet weights exist for 96×96 and larger, not for 32×32.
            ("upscale", "Resizing", {"height": 96, "width": 96}),
            ("resize", "Rescaling", {"scale": 1 / 127.5, "offset": -1.0}),
            ("base", "MobileNetV2", {"weights": "imagenet", "trainable": False}),
            ("pool", "GlobalAveragePooling2D", {}),
            ("dropout", "Dropout", {"rate": 0.2}),
            ("output", "Dense", {"units": 10, "activation": "softmax"}),
        ),
        training=TrainSpec(epochs=5, batch_size=32),
    )


def _two_inputs(t: Template) -> Design:
    nodes, edges = _chain(
        ("image", "Input", {"shape": [8, 8, 1]}),
        ("conv", "Conv2D", {"filters": 16, "kernel_size": 3, "activation": "relu"}),
        ("flatten", "Flatten", {}),
    )
    tab_nodes, tab_edges = _chain(
        ("features", "Input", {"shape": [4]}),
        ("tab_dense", "Dense", {"units": 16, "activation": "relu"}),
    )
    head_nodes, head_edges = _chain(
        ("concat", "Concatenate", {}),
        ("dense", "Dense", {"units": 32, "activation": "relu"}),
        ("output", "Dense", {"units": 10, "activation": "softmax"}),
    )
    edges = edges + tab_edges + head_edges
    edges += [Edge("flatten", "concat"), Edge("tab_dense", "concat")]
    nodes = nodes + tab_nodes + head_nodes
    return _design(t, nodes, edges)


def _moons_mlp(t: Template) -> Design:
    return _design(
        t,
        *_chain(
            ("input", "Input", {"shape": [2]}),
            ("hidden1", "Dense", {"units": 8, "activation": "tanh"}),
            ("hidden2", "Dense", {"units": 8, "activation": "tanh"}),
            ("output", "Dense", {"units": 2, "activation": "softmax"}),
        ),
        compile=CompileSpec(optimizer="Adam", optimizer_params={"learning_rate": 0.03}),
        training=TrainSpec(epochs=30, batch_size=32),
    )


def _diabetes_mlp(t: Template) -> Design:
    return _design(
        t,
        *_chain(
            ("input", "Input", {"shape": [10]}),
            ("hidden1", "Dense", {"units": 64, "activation": "relu"}),
            ("hidden2", "Dense", {"units": 32, "activation": "relu"}),
            ("output", "Dense", {"units": 1}),
        ),
        compile=CompileSpec(
            loss="mean_squared_error", metrics=["mae"], optimizer_params={"learning_rate": 0.01}
        ),
        training=TrainSpec(epochs=60, batch_size=32),
    )


_BUILDERS = {
    "digits-mlp": _digits_mlp,
    "mnist-mlp": _mnist_mlp,
    "cifar10-cnn": _cifar10_cnn,
    "lenet5": _lenet5,
    "mini-resnet": _mini_resnet,
    "text-lstm": _text_lstm,
    "transfer-mobilenetv2": _transfer,
    "two-inputs": _two_inputs,
    "moons-mlp": _moons_mlp,
    "diabetes-mlp": _diabetes_mlp,
}


def get(template_id: str) -> Design:
    """A fresh copy of template ``template_id`` (KeyError if unknown)."""
    return _BUILDERS[template_id](TEMPLATES[template_id])


def blank() -> Design:
    """'Start from scratch': an Input and an output layer, ready to grow."""
    nodes, edges = _chain(
        ("input", "Input", {"shape": [8, 8, 1]}),
        ("flatten", "Flatten", {}),
        ("output", "Dense", {"units": 10, "activation": "softmax"}),
    )
    return Design(nodes=nodes, edges=edges, name="my-model", data=DataSpec(dataset="digits"))
