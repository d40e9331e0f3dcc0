"""Models written with Keras in the tests, to compare what the app builds against."""

from __future__ import annotations


def residual_params() -> int:
    """The parameters of the canvas tests' residual block (Start from scratch: 8×8×1 input):
    Input → Conv2D → Conv2D(same) → Add(+ skip) → Flatten → Dense 10, counted by Keras."""
    import keras

    x = keras.Input((8, 8, 1))
    a = keras.layers.Conv2D(32, 3)(x)
    b = keras.layers.Conv2D(32, 3, padding="same")(a)
    out = keras.layers.Dense(10, activation="softmax")(
        keras.layers.Flatten()(keras.layers.Add()([b, a]))
    )
    return keras.Model(x, out).count_params()
