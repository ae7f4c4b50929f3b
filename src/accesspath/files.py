"""Reading the user's files, with every failure said in the user's terms (exit status 2)."""

from __future__ import annotations

import sys

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
            data = handle.read(max_bytes + 1)
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
        text = sys.stdin.read(max_bytes + 1)
        _check_size(len(text.encode("utf-8", "surrogatepass")), max_bytes, "the standard input")
        return text, "<stdin>"
    return read_text(name, max_bytes), name


def _check_size(size: int, max_bytes: int, what: str) -> None:
    if size > max_bytes:
        raise UsageError(f"{what} is larger than {max_bytes // (1024 * 1024)} MiB, the most accesspath reads"
                         " from one input")
