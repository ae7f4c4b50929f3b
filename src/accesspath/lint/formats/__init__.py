"""Output formats: each is a function from one :class:`ValidationReport` to text."""

from __future__ import annotations

from collections.abc import Callable

from accesspath.lint.formats.json_format import render_json
from accesspath.lint.formats.sarif import render_sarif
from accesspath.lint.formats.text import render_text
from accesspath.lint.validate import ValidationReport

FORMATS: dict[str, Callable[[ValidationReport], str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
}

__all__ = ["FORMATS", "render_json", "render_sarif", "render_text"]
