"""The teacher passphrase: generated once, kept only as a scrypt hash, checked in constant time.

scrypt (Python's ``hashlib``) is slow and memory-hard on purpose, so a copied ``teacher.json``
does not give the passphrase away to a guessing laptop; ``hmac.compare_digest`` takes the same
time wherever the first wrong byte is, so the check's timing says nothing either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from pathlib import Path

from designer import settings

# 16 MiB of memory and ~50 ms per check on this kind of machine: a slow guess, a quick login.
N, R, P = 2**14, 8, 1
# Words are easier to read out in a classroom than random letters.
WORDS = (
    "amber anchor apple arrow basil beacon birch bison cactus canyon cedar cobalt comet coral "
    "cricket delta dune ember falcon fern fjord galaxy garnet glacier harbor hazel heron indigo "
    "island jasper juniper kelp kestrel lagoon lantern lemon lichen lotus lynx maple meadow "
    "mesa meteor nectar nebula oasis olive onyx orchid otter pebble pepper pine plume quartz "
    "quill raven reef river saffron sage sierra sparrow spruce summit thistle thunder tulip "
    "tundra umber valley velvet walnut willow yarrow zephyr"
).split()


def generate() -> str:
    """Four words and two digits: about 37 bits, plenty behind a slow hash and a slowed login."""
    words = [secrets.choice(WORDS) for _ in range(4)]
    return "-".join(words) + f"-{secrets.randbelow(100):02d}"


def _hash(passphrase: str, salt: bytes) -> bytes:
    return hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=N, r=R, p=P, dklen=32)


def write(path: str | Path, passphrase: str) -> None:
    salt = secrets.token_bytes(16)
    record = {"scrypt": {"n": N, "r": R, "p": P}, "salt": salt.hex()}
    record["hash"] = _hash(passphrase, salt).hex()
    settings.atomic_write_text(path, json.dumps(record, indent=1))


def verify(path: str | Path, passphrase: str) -> bool:
    """True when ``passphrase`` is the teacher's (False for a missing or damaged record)."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        salt, want = bytes.fromhex(record["salt"]), bytes.fromhex(record["hash"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return hmac.compare_digest(_hash(passphrase, salt), want)
