"""The parts of a generated script around the model: docstring, imports, ``load_data()``,
``main()`` with argparse, callbacks, training, evaluation and saving; then black.

Kept apart from :mod:`designer.codegen.model` (the model) so each file reads on its own.
"""

from __future__ import annotations

import textwrap

from designer.codegen import data as codegen_data
from designer.codegen.data import dataset_task
from designer.codegen.model import docstring, literal, model_code
from designer.design.compiling import resolve
from designer.design.spec import Design
from designer.model.build import Analysis, layer_name
from designer.model.exporting import check

_STDLIB = {"argparse", "gzip", "pathlib"}


def _import_block(lines: set[str]) -> str:
    """isort order (what ``ruff check --select I`` expects): stdlib, then third-party; in each
    section plain ``import`` lines first, then ``from`` lines, each sorted by module."""

    def module(line: str) -> str:
        return line.split()[1]

    def key(line: str) -> tuple:
        return (line.startswith("from "), module(line).lower(), line)

    std = sorted((line for line in lines if module(line).split(".")[0] in _STDLIB), key=key)
    third = sorted((line for line in lines if module(line).split(".")[0] not in _STDLIB), key=key)
    return "\n\n".join("\n".join(part) for part in (std, third) if part)


def _data(
    design: Design, analysis: Analysis
) -> tuple[str, set[str], codegen_data.DataEntry | None]:
    dataset = design.data.dataset
    entry = codegen_data.DATASETS.get(dataset or "")
    inputs, outputs = design.input_ids(), design.output_ids()
    if entry is not None and len(inputs) == 1 and len(outputs) == 1:
        shape = analysis.nodes[inputs[0]].output_shape[1:]
        code, imports = codegen_data.load_data_code(entry, design.data, shape)
        return code, imports, entry
    shapes = ", ".join(
        f"{layer_name(i)} {literal(list(analysis.nodes[i].output_shape[1:]))}" for i in inputs
    )
    if entry is not None:
        message = (
            f"load_data(): fill in how {dataset!r} feeds {len(inputs)} input(s), "
            f"{len(outputs)} output(s)"
        )
    elif dataset in (None, "", "upload"):
        message = "load_data(): write the code that loads your data"
    else:
        message = f"load_data(): write the code that loads {dataset!r}"
    lines = [
        "Load your data: return (x_train, y_train), (x_test, y_test).",
        "",
        f"The model takes, in this order: {shapes}.",
        "With several inputs, x_train and x_test are lists of arrays in that order.",
    ]
    doc = docstring("\n    ".join(lines) + "\n    ")
    return codegen_data.stub_code(message, doc), set(), None


def _callbacks(design: Design, has_validation: bool) -> list[str]:
    t = design.training
    monitor = t.monitor if has_validation else t.monitor.removeprefix("val_")
    out = []
    if t.early_stopping:
        out.append(
            f"keras.callbacks.EarlyStopping(monitor={literal(monitor)}, patience={t.patience!r}, "
            "restore_best_weights=True)"
        )
    if t.checkpoint:
        out.append(
            'keras.callbacks.ModelCheckpoint(str(Path(args.output).with_suffix(".best.keras")), '
            f"monitor={literal(monitor)}, save_best_only=True)"
        )
    if t.reduce_lr:
        out.append(
            f"keras.callbacks.ReduceLROnPlateau(monitor={literal(monitor)}, factor=0.5, "
            f"patience={max(1, t.patience // 2)!r})"
        )
    if t.tensorboard:
        out.append('keras.callbacks.TensorBoard(log_dir="logs")')
    return out


def _main(design: Design, entry: codegen_data.DataEntry | None) -> tuple[str, set[str]]:
    t, d = design.training, design.data
    imports = {"import argparse", "import keras"}
    output = literal(f"{layer_name(design.name) or 'model'}.keras")
    # The name goes into a string literal black cannot split: a long one stays in the docstring.
    title = (
        f"Train {design.name!r} and save it."
        if len(design.name) <= 48
        else "Train the model and save it."
    )
    if entry is None or entry.fixed_test:
        validation = d.validation_split
    else:  # the design's fractions are of the whole set; fit() takes them of what is left
        validation = round(d.validation_split / (1 - d.test_split), 4) if d.test_split < 1 else 0.0
    callbacks = _callbacks(design, validation > 0)
    if any("Path(" in c for c in callbacks):
        imports.add("from pathlib import Path")
    loss = resolve(design, dataset_task(design)).loss
    lines = [
        "def main():",
        f"parser = argparse.ArgumentParser(description={literal(title)})",
        f'parser.add_argument("--epochs", type=int, default={t.epochs!r}, '
        'help="passes over the training data")',
        f'parser.add_argument("--batch-size", type=int, default={t.batch_size!r}, '
        'help="samples per update")',
        f'parser.add_argument("--output", default={output}, '
        'help="where to save the trained model (.keras)")',
        "args = parser.parse_args()",
        "",
        f"keras.utils.set_random_seed({t.seed!r})",
        "(x_train, y_train), (x_test, y_test) = load_data()",
    ]
    if loss in {"categorical_crossentropy", "kl_divergence"} and entry and entry.num_classes:
        lines += [
            "# This loss compares probability vectors: turn class ids into one-hot rows.",
            f"y_train = keras.utils.to_categorical(y_train, {entry.num_classes!r})",
            f"y_test = keras.utils.to_categorical(y_test, {entry.num_classes!r})",
        ]
    if t.devices > 1:
        imports.add("import tensorflow as tf")
        lines += [
            f"# The design trains on {t.devices} devices: "
            "one copy of the model per GPU, each batch",
            "# split across them (batch_size is the global batch). "
            "Without GPUs this is one device.",
            "strategy = tf.distribute.MirroredStrategy()",
            "with strategy.scope():",
            "    model = build_model()",
            "model.summary()",
        ]
    else:
        lines += ["model = build_model()", "model.summary()"]
    fit = ["x_train", "y_train"]
    if validation > 0:
        fit.append(f"validation_split={validation!r}")
    fit += ["epochs=args.epochs", "batch_size=args.batch_size"]
    if callbacks:
        lines.append(f"callbacks = [{', '.join(callbacks)},]")
        fit.append("callbacks=callbacks")
    lines += [
        f"model.fit({', '.join(fit)})",
        "results = model.evaluate(x_test, y_test, return_dict=True)",
        'print("Test:", results)',
        "model.save(args.output)",
        'print(f"Saved {args.output}")',
    ]
    return "\n    ".join(lines), imports


def script(design: Design, analysis: Analysis, model_body: str) -> str:
    import black

    data_code, data_imports, entry = _data(design, analysis)
    main_code, imports = _main(design, entry)
    imports |= data_imports | {"import keras"}
    if "layers." in model_body:
        imports.add("from keras import layers")
    api = "Sequential" if "keras.Sequential([" in model_body.split("model = ")[-1] else "Functional"
    n_layers = len(design.nodes) - len(design.input_ids())
    about = [f"{design.name}: a Keras model made with Keras Designer."]
    if design.description.strip():
        about += ["", design.description.strip()]
    about += ["", "Run `python this_script.py --help` for the options."]
    # Wrapped: a long description (or name) must not make the script fail a line-length check.
    about = [wrapped for line in about for wrapped in (textwrap.wrap(line, 96) or [""])]
    build_doc = f"{n_layers} layers, {analysis.total_params:,} parameters ({api} API)."
    body = "\n".join("    " + line if line else line for line in model_body.splitlines())
    source = "\n".join(
        [
            docstring("\n".join(about) + "\n"),
            "",
            _import_block(imports),
            "",
            "",
            "def build_model():",
            f"    {docstring(build_doc)}",
            body,
            "    return model",
            "",
            "",
            data_code,
            "",
            main_code,
            "",
            "",
            'if __name__ == "__main__":',
            "    main()",
            "",
        ]
    )
    return black.format_str(source, mode=black.Mode())


def generate(design: Design, *, offline: bool = False) -> str:
    """The script for ``design`` (:class:`DesignInvalid` if it does not build).

    ``offline``: pretrained bases get ``weights=None`` (no download), as
    :func:`designer.model.build.build_model` does by default.
    """
    analysis = check(design)
    return script(design, analysis, model_code(design, analysis, offline=offline))
