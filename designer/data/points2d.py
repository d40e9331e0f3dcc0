"""The TensorFlow Playground classics: small 2-D point clouds a network has to separate.

Written with numpy alone (no scikit-learn) so they are instant and identical everywhere for a
given seed. All live roughly in the square [-2, 2]^2, which is why "auto" scaling leaves them
alone: the decision-boundary plot then shows the coordinates the student sees in the table.
"""

from __future__ import annotations

import numpy as np

N_POINTS = 1000


def _halves(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


def moons(seed: int, n: int = N_POINTS, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n0, n1 = _halves(n)
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n1)
    upper = np.c_[np.cos(t0), np.sin(t0)]
    lower = np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]
    # Centre the pair on the origin so the points straddle both axes like in the Playground.
    x = np.r_[upper, lower] - [0.5, 0.25]
    y = np.r_[np.zeros(n0), np.ones(n1)]
    return _finish(rng, x, y, noise)


def circles(seed: int, n: int = N_POINTS, noise: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n0, n1 = _halves(n)
    a0 = rng.uniform(0, 2 * np.pi, n0)
    a1 = rng.uniform(0, 2 * np.pi, n1)
    outer = 1.5 * np.c_[np.cos(a0), np.sin(a0)]
    inner = 0.6 * np.c_[np.cos(a1), np.sin(a1)]
    y = np.r_[np.zeros(n0), np.ones(n1)]
    return _finish(rng, np.r_[outer, inner], y, noise)


def blobs(seed: int, n: int = N_POINTS, noise: float = 0.35) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # Three fixed centres on a triangle: separable, but close enough that noise matters.
    centres = np.array([[-1.0, -0.8], [1.0, -0.8], [0.0, 1.0]])
    y = np.arange(n) % 3
    x = centres[y]
    return _finish(rng, x, y, noise)


def spirals(seed: int, n: int = N_POINTS, noise: float = 0.06) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n0, n1 = _halves(n)

    def arm(count: int, phase: float) -> np.ndarray:
        # sqrt spacing puts as many points on the outer turns as on the crowded centre.
        t = np.sqrt(rng.uniform(0, 1, count)) * 3 * np.pi
        r = t / (3 * np.pi) * 1.8
        return np.c_[r * np.cos(t + phase), r * np.sin(t + phase)]

    x = np.r_[arm(n0, 0.0), arm(n1, np.pi)]
    y = np.r_[np.zeros(n0), np.ones(n1)]
    return _finish(rng, x, y, noise)


def xor(seed: int, n: int = N_POINTS, noise: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, size=(n, 2))
    # Push points off the axes (as the Playground does) so the label is unambiguous.
    x += np.sign(x) * 0.1
    y = ((x[:, 0] > 0) != (x[:, 1] > 0)).astype(np.int64)
    return _finish(rng, x, y, noise)


def _finish(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, noise: float):
    x = x + rng.normal(scale=noise, size=x.shape)
    order = rng.permutation(len(x))
    return x[order].astype(np.float32), np.asarray(y)[order].astype(np.int64)


GENERATORS = {"moons": moons, "circles": circles, "blobs": blobs, "spirals": spirals, "xor": xor}
