"""Reading the user's files, with every failure said in the user's terms (exit status 2)."""

from __future__ import annotations

import sys
from pathlib import Path

from accesspath.errors import UsageError


def read_text(path: str) -> str:
    """The UTF-8 text of a file (a leading byte-order mark is dropped), or a UsageError naming it."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise UsageError(f"no such file '{path}'") from None
    except IsADirectoryError:
        raise UsageError(f"'{path}' is a directory, not a file") from None
    except OSError as error:
        raise UsageError(f"cannot read '{path}': {error.strerror or error}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(f"'{path}' is not UTF-8 text (byte {error.start})") from None


def read_input(name: str) -> tuple[str, str]:
    """The text of FILE, or of standard input for '-', and the name to show in messages."""
    if name == "-":
        return sys.stdin.read(), "<stdin>"
    return read_text(name), name
