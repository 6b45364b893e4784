"""Text taken from data and shown on a terminal: control characters (escape sequences above all) removed."""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 controls but tab and newline, and DEL; format characters (bidi overrides, zero-width joiners) are
# caught by their Unicode category: a CSV cell holding "\x1b]0;…\x07" or "\u202e" must not retitle or rewrite
# the operator's terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
REPLACEMENT = "?"


def printable(value: object, *, keep_newlines: bool = False) -> str:
    """`value` as text safe to print: each control or format character becomes "?", a tab a space, a newline a space
    unless `keep_newlines`; lone surrogates become "?" too. One cell can never take over the line it is printed on."""
    text = value if isinstance(value, str) else str(value)
    text = text.encode("utf-8", "replace").decode("utf-8").replace("\t", " ")
    if not keep_newlines:
        text = text.replace("\r\n", " ").replace("\n", " ")
    text = _CONTROL.sub(REPLACEMENT, text)
    if text.isascii():
        return text
    return "".join(REPLACEMENT if unicodedata.category(char) == "Cf" else char for char in text)
