"""Text a provider controls (ids, labels, URLs, descriptions, vendor messages) made harmless for its sink.

Anyone who can edit a webhook in a vendor's console writes these strings, and the tool prints them to a
terminal, a CI log and a pull-request comment. Two sinks, two rules (contract §6):

- text (terminal, log, stderr): every character that is not printable is shown as an escape (`\\n`,
  `\\x1b`, `\\u202e`): C0 and C1 controls and DEL (escape sequences that retitle or clear a terminal, a line
  break or carriage return that forges a line of its own), Unicode format characters (bidi overrides and
  isolates, zero-width characters that reorder or hide text), line and paragraph separators, surrogates,
  private-use and unassigned code points. Printable text, spaces included, is kept as written.
- markdown: the same escaped text, always inside a code span whose backtick fence is longer than any run
  of backticks in the value, so nothing the value holds can close it; a value that starts or ends with a
  backtick or a space is padded with one space each side, which CommonMark strips again.
"""

from __future__ import annotations

import re
import unicodedata

# Python's str.isprintable() is false for exactly the categories above (Cc, Cf, Cs, Co, Cn, Zl, Zp) and
# for the space separators (Zs) other than " "; spaces are kept.
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_BACKTICKS = re.compile(r"`+")
# Colour the tool itself writes (render/text.py's Style): the only escape sequences the terminal net lets by.
_OWN_SGR = re.compile(r"\x1b\[(?:0|2|3[1235])m")


def text(value: object) -> str:
    """`value` as text that cannot act on a terminal: non-printable characters escaped, on one line."""
    raw = str(value)
    if raw.isprintable():  # the common case, decided in C
        return raw
    return "".join(ch if _printable(ch) else _escape(ch) for ch in raw)


def _printable(ch: str) -> bool:
    return ch.isprintable() or unicodedata.category(ch) == "Zs"


def _escape(ch: str) -> str:
    short = _SHORT.get(ch)
    if short is not None:
        return short
    point = ord(ch)
    if point <= 0xFF:
        return f"\\x{point:02x}"
    return f"\\u{point:04x}" if point <= 0xFFFF else f"\\U{point:08x}"


def code_span(value: object) -> str:
    """`value` as a markdown code span that renders exactly the escaped text and nothing else."""
    body = text(value)
    if not body:
        return "(empty)"
    longest = max((len(run) for run in _BACKTICKS.findall(body)), default=0)
    fence = "`" * (longest + 1)
    if body.strip(" ") and (body[0] in "` " or body[-1] in "` "):  # a span of spaces only is kept as is
        body = f" {body} "
    return f"{fence}{body}{fence}"


def code_fence(body: str) -> str:
    """A fence for a fenced code block around `body`: longer than any run of backticks in it, so no line of
    the body can close the block early."""
    longest = max((len(run) for run in _BACKTICKS.findall(body)), default=0)
    return "`" * max(3, longest + 1)


def terminal(output: str) -> str:
    """The last net before a stream: every non-printable character but the line breaks and the colour codes
    the tool writes escaped, should a renderer have missed a provider value."""
    if output.isprintable():
        return output
    pieces = _OWN_SGR.split(output)
    codes = [*_OWN_SGR.findall(output), ""]
    return "".join(_net(piece) + code for piece, code in zip(pieces, codes, strict=True))


def _net(piece: str) -> str:
    return "\n".join(text(line) for line in piece.split("\n"))
