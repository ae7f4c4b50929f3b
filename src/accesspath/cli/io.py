"""Reading the user's input files (kept for the command modules; see :mod:`accesspath.files`)."""

from accesspath.files import read_input, read_text

__all__ = ["read_input", "read_text"]
