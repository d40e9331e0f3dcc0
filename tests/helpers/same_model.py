"""Is a model the same model as another, layer by layer? Class and whole ``get_config()``
(activation, rate, padding, strides, initializers, ...) of every layer, compared by name.

Used against models written with Keras by hand in the tests, so a generated script or an
imported design that gets a setting wrong fails even when the parameter count agrees.
"""

from __future__ import annotations

import re

# Names Keras makes up with a process-wide counter for layers nobody named: the InputLayer of a
# nested Sequential or of an application base ("input_layer_4" in one model, "input_layer_7" in
# the same model built later) and the halves of a Bidirectional wrapper around an unnamed layer
# ("forward_lstm_8"). They are in neither the design nor the script; every name that is
# (the node ids) is compared as it is.
_COUNTER_NAME = re.compile(r"^(input_layer|(?:forward|backward)_[a-z_]+?)(?:_\d+)?$")


def config(value):
    """``get_config()`` output with Keras' counter-made names made equal (see _COUNTER_NAME)."""
    if isinstance(value, dict):
        return {k: config(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(config(v) for v in value)
    if isinstance(value, str) and (match := _COUNTER_NAME.match(value)):
        return match.group(1)
    return value


# Layers for which Keras makes up a random seed when none is given (RandomCrop calls
# make_default_seed()): two builds of one design differ there and nowhere else.
_INVENTED_SEED = {"RandomCrop"}


def layer_config(layer) -> dict:
    """``layer.get_config()`` without what Keras makes up (counter names, invented seeds)."""
    out = config(layer.get_config())
    if type(layer).__name__ in _INVENTED_SEED:
        out.pop("seed", None)
    return out


def leaves(model) -> dict:
    """Every layer by name, nested models (an augmentation block, an application base) opened:
    how they are nested is a matter of packaging, the layers inside are what computes."""
    import keras

    out = {}
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            out |= leaves(layer)
        elif type(layer).__name__ != "InputLayer":
            out[layer.name] = layer
    return out


def assert_same_layers(model, reference) -> None:
    """The same layers (by name) with the same class and the same config."""
    got, want = leaves(model), leaves(reference)
    assert sorted(got) == sorted(want)
    for name, layer in want.items():
        assert type(got[name]) is type(layer), name
        assert layer_config(got[name]) == layer_config(layer), name
