"""Coloured shapes: an offline 32×32 colour-image set for the CNN templates (CIFAR-10 needs the
network).

Each image shows one of ten simple shapes at a random position, size, colour and rotation on a
noisy, striped background of another colour. Rotation is free, so every class is a shape that
no rotation turns into another one (a diamond would be a turned square, an X a turned plus).
The test split is fixed (drawn from its own seed whatever the training seed), as CIFAR-10's is.

Everything below the imports is self-contained (numpy only, vectorised over whole batches: no
loop over pixels): generated scripts include it as it is (``script_source``), so a script
trains on exactly the images the app showed.
"""

from __future__ import annotations

import numpy as np

N_TRAIN = 10000
N_TEST = 2000
SIZE = 32
SHAPE_NAMES = (
    "circle",
    "square",
    "triangle",
    "star",
    "cross",
    "ring",
    "crescent",
    "bar",
    "frame",
    "half disc",
)
TEST_SEED = 20260  # the fixed test split: the same images whatever the training seed


def _shape_mask(label, u, v):
    """Whether each point (u, v) of a shape's own frame (radius 1) lies inside the shape."""
    rho = np.sqrt(u * u + v * v)
    name = SHAPE_NAMES[label]
    if name == "circle":
        return rho < 1.0
    if name == "square":
        return np.maximum(np.abs(u), np.abs(v)) < 0.8
    if name in ("triangle", "star"):
        sides = 3 if name == "triangle" else 5
        sector = 2 * np.pi / sides
        off = np.mod(np.arctan2(v, u), sector) - sector / 2  # angle from the nearest edge's middle
        if name == "triangle":
            return rho * np.cos(off) < np.cos(np.pi / sides)
        return rho < 0.4 + 0.6 * np.abs(off) / (sector / 2)  # tips where the sectors meet
    if name == "cross":
        arm = (np.abs(u) < 0.3) & (np.abs(v) < 1.0)
        return arm | ((np.abs(v) < 0.3) & (np.abs(u) < 1.0))
    if name == "ring":
        return (rho < 1.0) & (rho > 0.6)
    if name == "crescent":
        return (rho < 1.0) & ((u - 0.45) ** 2 + v * v > 0.75**2)
    if name == "bar":
        return (np.abs(u) < 1.0) & (np.abs(v) < 0.28)
    if name == "frame":
        box = np.maximum(np.abs(u), np.abs(v))
        return (box < 0.85) & (box > 0.5)
    return (rho < 1.0) & (v > -0.1)  # half disc


def make_shapes(seed, n):
    """``n`` images (uint8, n × 32 × 32 × 3) and their labels (int64, as balanced as ``n``
    allows): a shape ``SHAPE_NAMES[label]`` on a textured background."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(SHAPE_NAMES)).astype("int64")
    grid = np.arange(SIZE, dtype="float32") + 0.5 - 0.5 * SIZE  # pixel centres, 0 in the middle
    ys, xs = grid[None, :, None], grid[None, None, :]

    # Background: a random colour, soft stripes at a random angle and frequency, pixel noise.
    back = rng.uniform(0.0, 1.0, (n, 1, 1, 3)).astype("float32")
    angle = rng.uniform(0, np.pi, (n, 1, 1)).astype("float32")
    freq = rng.uniform(0.2, 0.8, (n, 1, 1)).astype("float32")
    phase = rng.uniform(0, 2 * np.pi, (n, 1, 1)).astype("float32")
    # The shape's colour differs from the background's by at least 0.4 in every channel.
    shift = rng.uniform(0.4, 0.6, (n, 1, 1, 3)).astype("float32")
    fore = np.mod(back + shift, 1.0)

    radius = rng.uniform(10.0, 14.0, n)
    margin = 0.9 * radius  # the shape may touch the border, never leave the image
    cx, cy = (rng.uniform(margin, SIZE - margin, (2, n)) - 0.5 * SIZE).astype("float32")
    turn = rng.uniform(0, 2 * np.pi, n)
    # A rotation and a scale taking pixels into the shape's own frame (radius 1, turned).
    cos = (np.cos(turn) / radius).astype("float32")[:, None, None]
    sin = (np.sin(turn) / radius).astype("float32")[:, None, None]
    inside = np.zeros((n, SIZE, SIZE), dtype=bool)
    for label in range(len(SHAPE_NAMES)):  # ten vectorised passes, one per class
        rows = labels == label
        dx, dy = xs - cx[rows, None, None], ys - cy[rows, None, None]
        u, v = dx * cos[rows] + dy * sin[rows], dy * cos[rows] - dx * sin[rows]
        inside[rows] = _shape_mask(label, u, v)

    # One grey texture for the three channels (a third of the work): stripes off the shape,
    # grain everywhere (uniform rather than Gaussian noise: several times faster to draw).
    texture = 0.16 * (rng.random((n, SIZE, SIZE), dtype="float32") - 0.5)
    stripes = np.sin(freq * (xs * np.cos(angle) + ys * np.sin(angle)) + phase)
    texture += np.where(inside, np.float32(0), np.float32(0.08) * stripes)
    # In byte levels from here on, scaled while the arrays are small (+0.5: round, not floor).
    texture = texture * np.float32(255) + np.float32(0.5)
    image = np.where(inside[..., None], fore * np.float32(255), back * np.float32(255))
    image += texture[..., None]
    return np.clip(image, 0, 255, out=image).astype("uint8"), labels


def shapes_split(seed, n_train=N_TRAIN, n_test=N_TEST):
    """``(x_train, y_train), (x_test, y_test)``: training images from ``seed``, the fixed test
    images from ``TEST_SEED`` (separate random streams, so the two never share an image)."""
    return make_shapes((seed, 0), n_train), make_shapes((TEST_SEED, 1), n_test)


def script_source():
    """This module's code from the shape names on: what a generated script includes."""
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    start = source.index("SHAPE_NAMES = (")
    end = source.index("def script_source(")
    return source[start:end].rstrip() + "\n"
