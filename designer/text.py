"""Values as people read them: sizes, shapes, one-line messages. The one place for each."""

from __future__ import annotations

from collections.abc import Sequence


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


def shape_text(shape: Sequence | None) -> str:
    """An output shape as people read it, without the batch axis: ``(26, 26, 32)``."""
    if shape is None:
        return "?"
    rest = tuple(shape[1:])
    return f"({rest[0]},)" if len(rest) == 1 else str(rest)


def one_line(text: object, limit: int = 300) -> str:
    """``text`` (an exception: its message) on one line of at most ``limit`` characters; a
    longer one ends with "…"."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def error_line(exc: BaseException, limit: int = 300) -> str:
    """An unexpected exception as one line: ``ValueError: what it said``."""
    text = one_line(exc, limit)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
