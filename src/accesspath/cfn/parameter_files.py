"""Parameter values in the shapes people already keep them.

- ``aws cloudformation create-stack --parameters file://params.json``:
  ``[{"ParameterKey": "Env", "ParameterValue": "prod"}, ...]`` (``UsePreviousValue`` cannot be
  known offline and is an error; ``ResolvedValue`` is taken for SSM parameters when present);
- ``aws cloudformation deploy --parameter-overrides``: ``Key=Value`` lines (blank lines and
  ``#`` comments ignored), or the JSON list ``["Key=Value", ...]``;
- CodePipeline template configuration: ``{"Parameters": {"Env": "prod"}, "Tags": {...}}``
  (continuous-delivery-codepipeline-cfn-artifacts.md).

Also the ``[STACK:]NAME=VALUE`` form of ``--param`` and ``NAME=VALUE`` of ``--import``.
"""

from __future__ import annotations

from dataclasses import dataclass

from accesspath.errors import UsageError
from accesspath.policy.source import JsonSyntaxError, Node, decode_json


@dataclass(frozen=True, slots=True)
class ParameterValue:
    """One value given by the user; ``stack`` is None when it applies to every stack that declares it."""

    stack: str | None
    name: str
    value: str
    origin: str  # "--param ..." or "FILE:LINE"


def parse_parameter(text: str, origin: str = "--param") -> ParameterValue:
    """``NAME=VALUE`` or ``STACK:NAME=VALUE`` (a parameter name has no ':' or '=')."""
    key, sep, value = text.partition("=")
    stack, colon, name = key.rpartition(":")
    if not sep or not name or (colon and not stack):
        raise UsageError(f"{origin} '{text}' must look like NAME=VALUE or STACK:NAME=VALUE")
    return ParameterValue(stack or None, name, value, f"{origin} {text}")


def parse_assignment(text: str, option: str, what: str) -> tuple[str, str]:
    """``NAME=VALUE`` for ``--import`` and ``--stack``."""
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise UsageError(f"{option} '{text}' must look like {what}")
    return name, value


def read_parameter_file(text: str, source: str, stack: str | None = None) -> list[ParameterValue]:
    """The values of a parameter file in any of the three shapes (see the module docstring)."""
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            root = decode_json(text, source)
        except JsonSyntaxError as error:
            raise UsageError(f"the parameter file is not valid JSON: {error.message}", source=source,
                             line=error.position.line, column=error.position.column) from None
        return _from_json(root, source, stack)
    values = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.strip()
        if not content or content.startswith("#"):
            continue
        name, sep, value = content.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"'{content}' must look like Key=Value (the lines of 'aws cloudformation deploy"
                             " --parameter-overrides')", source=source, line=number, column=1)
        values.append(ParameterValue(stack, name.strip(), value.strip(), f"{source}:{number}"))
    return values


def _from_json(root: Node, source: str, stack: str | None) -> list[ParameterValue]:
    def fail(message: str, node: Node) -> UsageError:
        where = node.start
        return UsageError(message, source=source, line=where.line if where else None,
                          column=where.column if where else None)

    def origin(node: Node) -> str:
        return f"{source}:{node.start.line}" if node.start else source

    values: list[ParameterValue] = []
    if root.is_object:  # CodePipeline template configuration
        parameters = root.member("Parameters")
        unknown = [m for m in root.value if m.key not in ("Parameters", "Tags", "StackPolicy")]
        if unknown:
            raise fail(f"unknown field '{unknown[0].key}' in a template configuration file (expected Parameters,"
                       " Tags, StackPolicy)", unknown[0].value)
        if parameters is None:
            return values
        if not parameters.is_object:
            raise fail("'Parameters' must be an object of names and string values", parameters)
        for member in parameters.value:
            values.append(ParameterValue(stack, member.key, _text(member.value, fail), origin(member.value)))
        return values
    if not root.is_array:
        raise fail("a parameter file holds a list of parameters or a {\"Parameters\": {...}} object", root)
    for item in root.value:
        if isinstance(item.value, str) and not (item.is_object or item.is_array):  # ["Key=Value", ...]
            name, sep, value = item.value.partition("=")
            if not sep or not name:
                raise fail(f"'{item.value}' must look like Key=Value", item)
            values.append(ParameterValue(stack, name, value, origin(item)))
            continue
        if not item.is_object:
            raise fail("each parameter must be {\"ParameterKey\": ..., \"ParameterValue\": ...}", item)
        key = item.member("ParameterKey")
        if key is None or not isinstance(key.value, str):
            raise fail("a parameter needs a string ParameterKey", item)
        for member in item.value:
            if member.key not in ("ParameterKey", "ParameterValue", "UsePreviousValue", "ResolvedValue"):
                raise fail(f"unknown field '{member.key}' (expected ParameterKey, ParameterValue,"
                           " UsePreviousValue, ResolvedValue)", member.value)
        previous = item.member("UsePreviousValue")
        if previous is not None and previous.value is True:
            raise fail(f"parameter '{key.value}' uses its previous value, which cannot be known offline;"
                       " give its ParameterValue", previous)
        value = item.member("ResolvedValue") or item.member("ParameterValue")
        if value is None:
            raise fail(f"parameter '{key.value}' has no ParameterValue", item)
        values.append(ParameterValue(stack, key.value, _text(value, fail), origin(value)))
    return values


def _text(node: Node, fail: object) -> str:
    value = node.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)) and not (node.is_object or node.is_array):
        return str(value)
    assert callable(fail)
    raise fail("a parameter value must be a string", node)
