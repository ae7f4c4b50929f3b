"""Decode YAML templates into :class:`~accesspath.policy.source.Node` trees with positions.

PyYAML composes the document into marked nodes; this module turns that graph into the same
``Node``/``Member`` tree the JSON decoder builds, rewriting CloudFormation's short tags to the
long form as it goes (``!Sub x`` becomes ``{"Fn::Sub": x}``, ``!GetAtt A.B`` becomes
``{"Fn::GetAtt": ["A", "B"]}``), as cfn-lint does, so every later stage sees one shape.
Duplicate mapping keys are an error: YAML libraries silently keep the last one, CloudFormation
rejects the template.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

# Bounds on what one template may cost (README, "Reliability"). Aliases repeat the node they
# name, so a few hundred bytes of nested aliases can stand for billions of values (483 bytes once
# took 32 s and 1.25 GB): the aliases are counted, and what they add once expanded is measured on
# the composed graph, before anything is expanded.
_MAX_DEPTH = 200
MAX_ALIASES = 1_000
MAX_ALIAS_VALUES = 100_000
# Python refuses to convert integers of more than 4,300 digits (sys.get_int_max_str_digits).
_MAX_INT_DIGITS = 4_300


class _BoundedComposer(yaml.composer.Composer):
    """PyYAML's composer with the bounds above. Composing is recursive, so nesting is bounded here,
    before Python's own stack is; construction is done in this module."""

    _depth = 0
    aliases = 0

    if TYPE_CHECKING:  # supplied by the parser mixed in (PyYAML's or libyaml's)
        def check_event(self, *choices: type[yaml.Event]) -> bool: ...
        def peek_event(self) -> Any: ...  # an event with start_mark (a PyYAML or a libyaml mark)

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise yaml.composer.ComposerError(None, None, f"more than {MAX_ALIASES:,} YAML aliases",
                                                  self.peek_event().start_mark)
        self._depth += 1
        try:
            if self._depth > _MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nesting deeper than {_MAX_DEPTH} levels",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _TemplateYamlLoader(yaml.SafeLoader, _BoundedComposer):
    """The pure-Python loader: scanning and parsing in Python (PyYAML without libyaml)."""


if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser

    class _FastTemplateYamlLoader(_BoundedComposer, CParser, yaml.constructor.SafeConstructor,
                                  yaml.resolver.Resolver):
        """libyaml scans and parses (the cost of loading a large template: about 3x faster), the
        composer above builds the same nodes with the same marks from its events."""

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            _BoundedComposer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
else:  # pragma: no cover - PyYAML built without libyaml
    _FastTemplateYamlLoader = None  # type: ignore[assignment,misc]


def _position(mark: yaml.Mark, source: str | None) -> Position:
    return Position(mark.line + 1, mark.column + 1, source)


def load_yaml(text: str, source: str | None = None, *, pure: bool = False) -> Node:
    """Decode one YAML document, raising :class:`TemplateSyntaxError` with file:line:col.

    libyaml reads the document when PyYAML has it (``pure`` forces the Python reader). Its nodes and
    marks are the pure loader's (tests/cfn/test_yaml_loader.py compares them); where libyaml refuses
    the text, or the text holds a character YAML forbids, the pure loader reads it again, so a
    template that is not valid YAML gets the same error in the same words either way.
    """
    if not pure and _FastTemplateYamlLoader is not None and not _NON_PRINTABLE.search(text):
        fast = _FastTemplateYamlLoader(text)
        try:
            root = fast.get_single_node()
        except (yaml.YAMLError, UnicodeError):
            pass  # reported below, as the pure loader words it
        else:
            return _converted(fast, root, source)
        finally:
            fast.dispose()
    try:
        loader = _TemplateYamlLoader(text)
    except yaml.reader.ReaderError as error:  # a character YAML does not allow (a control character)
        raise TemplateSyntaxError(f"the template is not valid YAML: character {_character(error.character)}"
                                  " is not allowed in YAML", _index_position(text, error.position, source),
                                  source=source) from None
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
    return _converted(loader, root, source)


# The characters PyYAML's reader refuses (YAML 1.1, "5.1. Character Set"); libyaml's check differs.
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE


def _converted(loader: _TemplateYamlLoader | _FastTemplateYamlLoader, root: yaml.Node | None, source: str | None) -> Node:
    if root is None:
        raise TemplateSyntaxError("the template is empty", Position(1, 1, source), source=source)
    if loader.aliases:
        _check_alias_expansion(root, source)
    return _Converter(loader, source).convert(root, 0, set())


def _check_alias_expansion(root: yaml.Node, source: str | None) -> None:
    """Refuse a document whose aliases, expanded, add more than MAX_ALIAS_VALUES values."""
    distinct: set[int] = set()
    sizes: dict[int, int] = {}

    def expanded(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        distinct.add(key)
        sizes[key] = 1  # a node that contains itself is refused later, when it is converted
        if depth > _MAX_DEPTH or isinstance(node, yaml.ScalarNode):
            return 1
        children = (node.value if isinstance(node, yaml.SequenceNode)
                    else [part for pair in node.value for part in pair])
        total = 1
        for child in children:
            total += expanded(child, depth + 1)
            if total - len(distinct) > MAX_ALIAS_VALUES:
                break
        sizes[key] = total
        return total

    if expanded(root, 0) - len(distinct) > MAX_ALIAS_VALUES:
        raise TemplateSyntaxError(f"the template's YAML aliases expand to more than {MAX_ALIAS_VALUES:,} further"
                                  " values", _position(root.start_mark, source), source=source)


def _character(value: object) -> str:
    code = value if isinstance(value, int) else ord(value) if isinstance(value, str) and len(value) == 1 else None
    return f"U+{code:04X}" if code is not None else repr(value)


def _index_position(text: str, index: int, source: str | None) -> Position:
    line = text.count("\n", 0, index)
    column = index - (text.rfind("\n", 0, index) + 1)
    return Position(line + 1, column + 1, source)


class _Converter:
    def __init__(self, loader: _TemplateYamlLoader | _FastTemplateYamlLoader, source: str | None) -> None:
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
        if tag == "tag:yaml.org,2002:int" and sum(ch.isdigit() for ch in str(node.value)) > _MAX_INT_DIGITS:
            raise self.fail(f"an integer of more than {_MAX_INT_DIGITS:,} digits", node)
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
