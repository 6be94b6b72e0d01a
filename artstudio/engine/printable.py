"""File names (and other text from outside) made safe to print in a message.

A name can hold a newline, an escape sequence or bytes that are not UTF-8
(Python keeps those as surrogates). Printed raw, a newline forges a line of
the summary ("failed: ..."), an escape sequence rewrites the terminal, and a
surrogate crashes the write. `printable` shows all of them escaped, the way
Python's repr does, and leaves every other character (accents, CJK, emoji,
backslashes in Windows paths) as it is.
"""

from __future__ import annotations

import os
import unicodedata

_ESCAPED_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}  # controls, surrogates, line breaks
# Bidirectional overrides and isolates can make a name read backwards.
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def printable(value: object) -> str:
    """`value` (a path or a string) as one safe line: control characters,
    line separators and bidirectional controls escaped (\\n, \\x1b, \\u2028),
    undecodable bytes of a file name as \\xNN."""
    text = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
    if text.isprintable():
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # a byte os.fsdecode could not decode
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch in _BIDI_CONTROLS or unicodedata.category(ch) in _ESCAPED_CATEGORIES:
            out.append(repr(ch)[1:-1])
        else:
            out.append(ch)
    return "".join(out)
