"""Decode YAML templates into :class:`~accesspath.policy.source.Node` trees with positions.

PyYAML composes the document into marked nodes; this module turns that graph into the same
``Node``/``Member`` tree the JSON decoder builds, rewriting CloudFormation's short tags to the
long form as it goes (``!Sub x`` becomes ``{"Fn::Sub": x}``, ``!GetAtt A.B`` becomes
``{"Fn::GetAtt": ["A", "B"]}``), as cfn-lint does, so every later stage sees one shape.
Duplicate mapping keys are an error: YAML libraries silently keep the last one, CloudFormation
rejects the template.
"""

from __future__ import annotations

import yaml

from accesspath.cfn.errors import TemplateSyntaxError
from accesspath.policy.source import Member, Node, Position

# Short tag → long-form key (template-reference intrinsic-function-reference.md).
SHORT_TAGS: dict[str, str] = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    **{f"!{name}": f"Fn::{name}" for name in (
        "Sub", "GetAtt", "Join", "ImportValue", "If", "Select", "Split", "FindInMap", "Base64",
        "Equals", "Not", "And", "Or", "GetAZs", "Cidr", "Length", "ToJsonString", "Transform",
    )},
}

_MAX_DEPTH = 200


class _TemplateYamlLoader(yaml.SafeLoader):
    """SafeLoader used only to scan, parse and compose; construction is done in this module."""


def _position(mark: yaml.Mark, source: str | None) -> Position:
    return Position(mark.line + 1, mark.column + 1, source)


def load_yaml(text: str, source: str | None = None) -> Node:
    """Decode one YAML document, raising :class:`TemplateSyntaxError` with file:line:col."""
    loader = _TemplateYamlLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or "invalid YAML"
        context = f" ({error.context} at line {error.context_mark.line + 1})" if (
            error.context and error.context_mark is not None and error.context_mark is not mark) else ""
        position = _position(mark, source) if mark is not None else None
        raise TemplateSyntaxError(f"the template is not valid YAML: {problem}{context}", position,
                                  source=source) from None
    except yaml.YAMLError as error:
        raise TemplateSyntaxError(f"the template is not valid YAML: {error}", None, source=source) from None
    finally:
        loader.dispose()
    if root is None:
        raise TemplateSyntaxError("the template is empty", Position(1, 1, source), source=source)
    return _Converter(loader, source).convert(root, 0, set())


class _Converter:
    def __init__(self, loader: yaml.SafeLoader, source: str | None) -> None:
        self.loader = loader
        self.source = source

    def pos(self, mark: yaml.Mark) -> Position:
        return _position(mark, self.source)

    def fail(self, message: str, node: yaml.Node) -> TemplateSyntaxError:
        return TemplateSyntaxError(message, self.pos(node.start_mark), source=self.source)

    def convert(self, node: yaml.Node, depth: int, visiting: set[int]) -> Node:
        if depth > _MAX_DEPTH:
            raise self.fail(f"nesting deeper than {_MAX_DEPTH} levels", node)
        if id(node) in visiting:  # an alias that contains itself
            raise self.fail("a YAML alias refers to the node that contains it", node)
        tag = node.tag
        if tag.startswith("!") and not tag.startswith("!!"):
            return self.short_tag(node, depth, visiting)
        if tag.startswith("!!"):
            raise self.fail(f"unsupported YAML tag '{tag}'", node)
        return self.plain(node, depth, visiting)

    def plain(self, node: yaml.Node, depth: int, visiting: set[int]) -> Node:
        start, end = self.pos(node.start_mark), self.pos(node.end_mark)
        if isinstance(node, yaml.ScalarNode):
            return Node(self.scalar(node), start, end)
        visiting.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                items = tuple(self.convert(item, depth + 1, visiting) for item in node.value)
                return Node(items, start, end, "array")
            members: list[Member] = []
            seen: dict[str, Position] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise self.fail("mapping keys must be plain strings", key_node)
                key = str(key_node.value)
                key_start = self.pos(key_node.start_mark)
                if key == "<<" and key_node.tag == "tag:yaml.org,2002:merge":
                    raise self.fail("YAML merge keys ('<<') are not supported by CloudFormation", key_node)
                if key in seen:
                    first = seen[key]
                    raise TemplateSyntaxError(
                        f"duplicate key '{key}' (first at line {first.line}, column {first.column})",
                        key_start, source=self.source)
                seen[key] = key_start
                members.append(Member(key, self.convert(value_node, depth + 1, visiting), key_start))
            return Node(tuple(members), start, end, "object")
        finally:
            visiting.discard(id(node))

    def scalar(self, node: yaml.ScalarNode) -> object:
        tag = node.tag
        # CloudFormation reads dates (AWSTemplateFormatVersion: 2010-09-09) and binary as text.
        if tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                   "tag:yaml.org,2002:float"):
            return self.loader.construct_object(node, deep=True)
        return str(node.value)

    def short_tag(self, node: yaml.Node, depth: int, visiting: set[int]) -> Node:
        key = SHORT_TAGS.get(node.tag)
        if key is None:
            raise self.fail(f"unknown tag '{node.tag}' (expected one of {', '.join(sorted(SHORT_TAGS))})", node)
        start, end = self.pos(node.start_mark), self.pos(node.end_mark)
        if isinstance(node, yaml.ScalarNode):
            text = str(node.value)
            if key == "Fn::GetAtt":
                # !GetAtt Resource.Attribute (the attribute may itself contain dots)
                logical_id, dot, attribute = text.partition(".")
                if not dot:
                    raise self.fail(f"'!GetAtt {text}' must have the form Resource.Attribute", node)
                inner = Node((Node(logical_id, start, end), Node(attribute, start, end)), start, end, "array")
            else:
                inner = Node(text, start, end)
        else:
            inner = self.plain(node, depth + 1, visiting)
        return Node((Member(key, inner, start),), start, end, "object")
