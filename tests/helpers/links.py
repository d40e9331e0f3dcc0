"""Damaged and forged links for the link tests (the command line's and the app's)."""

from __future__ import annotations

import base64
import hashlib
import zlib

from designer.design import linking


def envelope(raw: bytes, version: int = linking.LINK_VERSION) -> str:
    """A payload around any bytes with a correct check: what a deliberate forger could make
    (the check catches damage, not malice; what is inside is read like any design file)."""
    packed = zlib.compress(raw)
    check = hashlib.blake2b(packed, digest_size=8).digest()
    return f"{version}." + base64.urlsafe_b64encode(check + packed).decode().rstrip("=")


def cut(text: str) -> str:
    """The first half, as when a chat program cuts a long line."""
    return text[: len(text) // 2]


def flip(text: str) -> str:
    """One character in the middle changed, as when a link is copied by hand."""
    i = len(text) // 2
    return text[:i] + ("A" if text[i] != "A" else "B") + text[i + 1 :]
