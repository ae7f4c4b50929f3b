"""Template problems that stop loading: the CLI shows them as one line and exits with status 2.

Everything CloudFormation would merely fail to resolve offline is not an exception: it becomes a
:class:`~accesspath.cfn.model.Symbolic` value and a :class:`~accesspath.cfn.model.TemplateIssue`.
Only input that cannot be read at all (a YAML or JSON syntax error, a duplicate key), a parameter
value outside its ``AllowedValues`` and circular references raise.
"""

from __future__ import annotations

from accesspath.errors import UsageError
from accesspath.policy.source import Position


class TemplateError(UsageError):
    """A template that cannot be loaded; carries file:line:col when known."""

    def __init__(self, message: str, position: Position | None = None, *, source: str | None = None) -> None:
        super().__init__(message,
                         source=position.source if position is not None and position.source else source,
                         line=position.line if position is not None else None,
                         column=position.column if position is not None else None)
        self.position = position


class TemplateSyntaxError(TemplateError):
    """Text that is not YAML or JSON, an unknown short tag or a duplicate mapping key."""


class ParameterValueError(TemplateError):
    """A parameter value (default or override) that the parameter's constraints reject."""


class CircularReferenceError(TemplateError):
    """Resources, conditions or stacks that depend on themselves (CloudFormation rejects these)."""
