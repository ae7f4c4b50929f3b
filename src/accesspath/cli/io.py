"""Reading the user's files with errors in the user's terms."""

from __future__ import annotations

import sys
from pathlib import Path

from accesspath.errors import UsageError


def read_input(name: str) -> tuple[str, str]:
    """Return the text of FILE (or standard input for '-') and the name to show in messages."""
    if name == "-":
        return sys.stdin.read(), "<stdin>"
    path = Path(name)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"no such file '{name}'") from None
    except IsADirectoryError:
        raise UsageError(f"'{name}' is a directory, not a file") from None
    except OSError as error:
        raise UsageError(f"cannot read '{name}': {error.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(f"'{name}' is not UTF-8 text (byte {error.start})") from None
    return text, name
