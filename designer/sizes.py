"""File and memory sizes as people read them, and refusals that say by how much."""

from __future__ import annotations


def human_bytes(n: float) -> str:
    """``141.7 KB``, ``200.0 MB``: one decimal above a kilobyte."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GB"


def over_limit(size: float, limit: float) -> tuple[str, str]:
    """``size`` and ``limit`` as two texts that differ whenever the numbers do.

    A file 4 bytes over a 200 MB limit must not read "200.0 MB; the limit is 200.0 MB": when
    the rounded texts agree, both are given in bytes.
    """
    a, b = human_bytes(size), human_bytes(limit)
    if a == b and size != limit:
        return f"{size:,.0f} bytes", f"{limit:,.0f} bytes"
    return a, b
