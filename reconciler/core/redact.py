"""Last line of defence: every byte the tool prints or writes passes through `scrub`.

Secrets and tokens register themselves when a `Secret` is made; env-sourced manifest values that no
renderer masks by structure are registered when the manifest is loaded (manifest/interpolate.py's
`scrubbed`). Renderers mask on purpose; this catches what they miss.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

MASK = "********"
_MIN_LENGTH = 6  # shorter values would mask ordinary words
_lock = threading.Lock()
_values: set[str] = set()
# A URL's `user:password@` part, the one pattern for every mask of it (renderers, vendor messages, this
# scrubber): up to the authority's LAST `@` (a password may hold a raw `@`: `user:p@ss@host` masks all of
# `user:p@ss`), never past the path, query or fragment, where an `@` is ordinary data, nor past a `\`,
# which browsers read as a `/` (`https://evil.example\@good.example/` shown as `https://***@good.example/`
# would hide the host the events go to).
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#\\\s\"<>]*@")
# A signing secret as the APIs write one (`whsec_...`), wherever a vendor's message echoes it.
_SECRET_LIKE = re.compile(r"whsec_[A-Za-z0-9+/=_-]+")


def register(value: str) -> None:
    if len(value) >= _MIN_LENGTH:
        with _lock:
            _values.add(value)


def mask_userinfo(text: str) -> str:
    """`https://user:pass@host/` -> `https://***@host/`: a URL's credentials are never shown."""
    return _URL_USERINFO.sub(lambda m: f"{m['scheme']}***@", text)


def hide(text: str, values: Iterable[str], *, min_length: int = 1) -> str:
    """`text` with each of `values` (of at least `min_length` characters) replaced by MASK, longest first so
    that a value inside another is never left half shown."""
    for value in sorted((v for v in values if len(v) >= min_length), key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    return text


def mask_secret_like(text: str) -> str:
    return _SECRET_LIKE.sub(MASK, text)


def scrub(text: str) -> str:
    with _lock:
        values = list(_values)
    return mask_userinfo(hide(text, values))


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = ()
        return True
