"""A design inside a URL: ``http://host:8501/?design=<payload>`` opens it in the app.

The payload is ``<version>.<base64url(check + zlib(canonical JSON))>``: the design file's JSON
with sorted keys and no spaces, compressed, and an 8-byte BLAKE2b digest of the compressed
bytes in front of it. The digest catches a link cut short or mistyped (a chat program that
wraps long lines, a character lost from a blackboard) before anything is decompressed; it is
not a signature: anyone can make a link, so what a link holds is read like any design file
someone sends (``Design.from_dict``), and the app also forgets a data file path it names.

Limits keep a link a link: :data:`MAX_PAYLOAD_CHARS` characters (far below what browsers and
the app's web server accept, and still room for a few hundred layers) and
:data:`MAX_JSON_BYTES` once decompressed (a small payload that inflates to gigabytes is
refused without inflating it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zlib
from urllib.parse import parse_qs, quote, urlsplit

from designer.design.spec import Design, DesignFileError
from designer.errors import DesignerError
from designer.text import one_line

LINK_VERSION = 1
QUERY_KEY = "design"  # the URL's query parameter that holds the payload
DEFAULT_BASE = "http://localhost:8501/"
MAX_PAYLOAD_CHARS = 16_000
MAX_JSON_BYTES = 1024 * 1024
_CHECK_BYTES = 8


class LinkError(DesignerError):
    """A link that does not hold a design: damaged, cut short, too long or from a newer app."""


def _check(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=_CHECK_BYTES).digest()


def canonical_json(design: Design) -> bytes:
    """The design as the link holds it: the design file's content, keys sorted, no spaces.

    ``data.path`` is left out: it names a file on the machine that made the link.
    """
    raw = design.to_dict()
    raw["data"] = dict(raw["data"], path=None)
    return json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def payload(design: Design) -> str:
    """The ``design=`` value for ``design``; LinkError when it is longer than a link may be."""
    packed = zlib.compress(canonical_json(design), 9)
    text = f"{LINK_VERSION}." + base64.urlsafe_b64encode(_check(packed) + packed).decode()
    text = text.rstrip("=")
    if len(text) > MAX_PAYLOAD_CHARS:
        raise LinkError(
            f"this design is too large to share by link ({len(text):,} characters; a link "
            f"holds at most {MAX_PAYLOAD_CHARS:,}): share the design file instead"
        )
    return text


def make_link(design: Design, base: str = DEFAULT_BASE) -> str:
    """``base`` with ``?design=<payload>`` (or ``&design=`` when it has a query already)."""
    glue = "&" if "?" in base else ("" if base.endswith("/") else "/") + "?"
    return f"{base}{glue}{QUERY_KEY}={quote(payload(design), safe='.-_')}"


def payload_of(link: str) -> str:
    """The payload in a link (a whole URL, or just the ``design=`` value)."""
    text = link.strip()
    if "://" in text or "?" in text:
        values = parse_qs(urlsplit(text).query).get(QUERY_KEY)
        if not values:
            raise LinkError(f"not a Keras Designer link: it has no '{QUERY_KEY}=' part")
        return values[0]
    return text


def read_payload(text: str) -> Design:
    """The design a payload holds; LinkError with one sentence when it cannot be read."""
    text = text.strip()
    if len(text) > MAX_PAYLOAD_CHARS:
        raise LinkError(
            f"the link is too long ({len(text):,} characters; at most "
            f"{MAX_PAYLOAD_CHARS:,} are read)"
        )
    version, dot, body = text.partition(".")
    if not dot or not version.isdigit():
        raise LinkError("the link is damaged: it does not start with a version number")
    if int(version) != LINK_VERSION:
        raise LinkError(
            f"the link was made by a newer Keras Designer (link version {version}; this one "
            f"reads version {LINK_VERSION})"
        )
    try:
        blob = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise LinkError("the link is damaged: it holds characters a link never has") from None
    check, packed = blob[:_CHECK_BYTES], blob[_CHECK_BYTES:]
    if len(check) < _CHECK_BYTES or _check(packed) != check:
        raise LinkError("the link is damaged or incomplete: copy the whole link again")
    inflate = zlib.decompressobj()
    try:
        raw = inflate.decompress(packed, MAX_JSON_BYTES)
    except zlib.error:
        raise LinkError("the link is damaged: its content cannot be unpacked") from None
    if inflate.unconsumed_tail:
        raise LinkError(f"the link holds more than {MAX_JSON_BYTES // 1024:,} KB of design")
    if not inflate.eof:
        raise LinkError("the link is damaged or incomplete: copy the whole link again")
    try:
        return Design.from_json(raw)
    except DesignFileError as exc:
        raise LinkError(f"the link does not hold a design ({one_line(exc, 200)})") from None


def read_link(link: str) -> Design:
    """The design a link (or its payload) holds."""
    return read_payload(payload_of(link))
