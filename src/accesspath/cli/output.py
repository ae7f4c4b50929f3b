"""What the command line writes: text a terminal can show, whatever the input held.

Input can carry characters no terminal should receive: a lone surrogate (``\\ud800``, which
cannot even be encoded as UTF-8) or control characters that move the cursor, retitle the window
or hide text. Every write to standard output and standard error goes through
:class:`EscapingStream`, which spells such characters as ``\\uXXXX`` (the same spelling is a valid
escape inside a JSON string, so JSON output stays JSON and means the same). Kept as they are:
tab, newline, and the colour sequences (``ESC [ … m``) the audit report uses on a terminal.
"""

from __future__ import annotations

import re
from typing import Any, TextIO

_UNPRINTABLE_RE = re.compile(r"\x1b(?!\[[0-9;]*m)|[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f\ud800-\udfff]")


def escape_unprintable(text: str) -> str:
    """``text`` with every character a terminal cannot print spelled ``\\uXXXX``."""
    return _UNPRINTABLE_RE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


class EscapingStream:
    """A text stream whose writes are passed through :func:`escape_unprintable`."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(escape_unprintable(text))

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
