"""Decode a template's text (JSON or YAML) once into a positioned :class:`Node` tree."""

from __future__ import annotations

from accesspath.cfn.errors import TemplateSyntaxError
from accesspath.cfn.yaml_loader import load_yaml
from accesspath.policy.source import JsonSyntaxError, Node, Position, decode_json


def decode_template(text: str, source: str | None = None) -> Node:
    """JSON when the text starts with ``{`` (so JSON errors are reported as JSON), else YAML."""
    text = text.removeprefix("\ufeff")
    if text.lstrip().startswith("{"):
        try:
            root = decode_json(text, source)
        except JsonSyntaxError as error:
            raise TemplateSyntaxError(f"the template is not valid JSON: {error.message}", error.position,
                                      source=source) from None
        _reject_duplicate_keys(root)
        return root
    return load_yaml(text, source)


def _reject_duplicate_keys(root: Node) -> None:
    pending = [root]
    while pending:
        node = pending.pop()
        if node.is_object:
            seen: dict[str, Position | None] = {}
            for member in node.value:
                if member.key in seen:
                    first = seen[member.key]
                    where = f" (first at line {first.line}, column {first.column})" if first else ""
                    raise TemplateSyntaxError(f"duplicate key '{member.key}'{where}",
                                              member.key_start or member.value.start)
                seen[member.key] = member.key_start or member.value.start
                pending.append(member.value)
        elif node.is_array:
            pending.extend(node.value)
