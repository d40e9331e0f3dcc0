"""Models from the Keras documentation, written with Keras by hand, for the tests that import
them (from a .keras file, or from their code) and compare layer by layer."""

from __future__ import annotations

import keras
from keras import layers


def mnist_convnet() -> keras.Model:  # keras.io/examples/vision/mnist_convnet
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
