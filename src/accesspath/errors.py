"""Errors the user can fix: bad input files, bad options.

Everything here is shown to the user as one clear line (with file:line:col where there is a file)
and exits with status 2. Policy problems are not exceptions: they are data on the parsed policy.
"""

from __future__ import annotations


class UsageError(Exception):
    """Bad input given by the user; the CLI prints it and exits with status 2."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = ""
        if self.source is not None:
            where = self.source
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        return f"{where}{self.message}"
