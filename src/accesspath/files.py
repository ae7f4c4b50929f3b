"""Reading the user's files, with every failure said in the user's terms (exit status 2)."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from typing import Any

from accesspath.errors import UsageError

# The largest file accesspath reads. AWS's own inputs are far smaller (a CloudFormation template
# is at most 1 MB, a policy at most 32 KB); a bound keeps a stray 40 MB file from costing minutes.
MAX_INPUT_BYTES = 16 * 1024 * 1024
# Decision logs are JSON lines read with the standard library's decoder: they may be larger.
MAX_LOG_BYTES = 512 * 1024 * 1024


def read_text(path: str, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """The UTF-8 text of a file (a leading byte-order mark is dropped), or a UsageError naming it."""
    try:
        with open(path, "rb") as handle:
            status = os.fstat(handle.fileno())
            _check_size(status.st_size, max_bytes, f"'{path}'")
            if stat.S_ISREG(status.st_mode):  # read what is there (read(n) would set aside n bytes first)
                data = handle.read(status.st_size + 1)
                data += handle.read(max_bytes + 1 - len(data)) if len(data) > status.st_size else b""
            else:  # a pipe or a device: its size is not known before it is read
                data = b"".join(_chunks(handle, max_bytes, f"'{path}'"))
    except FileNotFoundError:
        raise UsageError(f"no such file '{path}'") from None
    except IsADirectoryError:
        raise UsageError(f"'{path}' is a directory, not a file") from None
    except OSError as error:
        raise UsageError(f"cannot read '{path}': {error.strerror or error}") from None
    _check_size(len(data), max_bytes, f"'{path}'")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(f"'{path}' is not UTF-8 text (byte {error.start})") from None


def read_input(name: str, max_bytes: int = MAX_INPUT_BYTES) -> tuple[str, str]:
    """The text of FILE, or of standard input for '-', and the name to show in messages."""
    if name == "-":
        return "".join(_chunks(sys.stdin, max_bytes, "the standard input")), "<stdin>"
    return read_text(name, max_bytes), name


def _chunks(stream: Any, max_bytes: int, what: str) -> Iterator[Any]:
    size = 0
    while chunk := stream.read(1024 * 1024):
        size += len(chunk)  # characters for a text stream: never more than its bytes
        _check_size(size, max_bytes, what)
        yield chunk


def _check_size(size: int, max_bytes: int, what: str) -> None:
    if size > max_bytes:
        raise UsageError(f"{what} is larger than {max_bytes // (1024 * 1024)} MiB, the most accesspath reads"
                         " from one input")
