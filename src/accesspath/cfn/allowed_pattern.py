"""Checking a parameter value against its ``AllowedPattern``, in time linear in the value.

An AllowedPattern is a regular expression written by the template's author (Java's dialect,
parameters-section-structure.md). Python's backtracking engine can take forever on patterns such
as ``(a+)+$`` (issue 17: a template stalled the loader), so patterns run on RE2, whose time is
linear in the input. RE2 refuses back-references and look-around; such a pattern is reported as
not checked (CloudFormation still checks it at deploy time), never taken as matched silently.
"""

from __future__ import annotations

import functools
from typing import Any

import re2  # google-re2: linear-time matching

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print parse errors to stderr; they are reported as data here


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> Any:
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error:
        return None


def allowed_pattern_matches(pattern: str, value: str) -> bool | None:
    """Whether ``value`` matches ``pattern`` as a whole; None when the pattern cannot be run here."""
    compiled = _compiled(pattern)
    if compiled is None:
        return None
    return compiled.fullmatch(value) is not None
