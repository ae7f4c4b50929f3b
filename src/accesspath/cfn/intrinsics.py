"""Resolve CloudFormation intrinsic functions in a positioned :class:`Node` tree.

The resolver is pure over its :class:`Scope`: the template supplies what ``Ref``,
``Fn::GetAtt``, ``Fn::ImportValue``, conditions and mappings mean, and receives the issues.
Resolved values keep positions: a computed scalar (``Fn::Sub``, ``Ref``...) takes the position of
the intrinsic that produced it; a chosen node (``Fn::If``, ``Fn::Select``, ``Fn::FindInMap``)
keeps its own. What cannot be resolved becomes a :class:`Symbolic` scalar and one issue at the
cause; values computed from it carry the same ``Symbolic`` without further issues.
(intrinsic-function-reference.md)
"""

from __future__ import annotations

import base64
import ipaddress
import itertools
import json
import re
from typing import Protocol

from accesspath.cfn.model import Symbolic
from accesspath.cfn.pseudo import Deployment
from accesspath.policy.model import Severity
from accesspath.policy.source import Member, Node, Position


class _NoValue:
    """``Ref: AWS::NoValue``: the enclosing key or list item is removed."""

    _instance: _NoValue | None = None

    def __new__(cls) -> _NoValue:  # noqa: PYI034 - a singleton
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE = _NoValue()
Resolved = Node | _NoValue

CONDITION_FUNCTIONS = ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or")
_LANGUAGE_EXTENSIONS = ("Fn::ToJsonString", "Fn::Length")
_MAX_DEPTH = 100
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Scope(Protocol):
    """What a template gives the resolver."""

    @property
    def deployment(self) -> Deployment: ...

    def ref(self, name: str, at: Node) -> Resolved: ...

    def get_att(self, logical_id: str, attribute: str, at: Node) -> Node: ...

    def import_value(self, name: str, at: Node) -> Node: ...

    def condition(self, name: str, at: Node) -> bool | Symbolic: ...

    def mappings(self) -> Node | None: ...

    def report(self, code: str, message: str, severity: Severity, position: Position | None) -> None: ...


def intrinsic(node: Node) -> tuple[str, Node] | None:
    """``(function name, argument)`` when ``node`` is ``{"Ref": x}`` or ``{"Fn::Name": x}``."""
    if node.is_object and len(node.value) == 1:
        member = node.value[0]
        if member.key == "Ref" or member.key.startswith("Fn::"):
            return member.key, member.value
    return None


def symbolic_node(symbolic: Symbolic, at: Node) -> Node:
    return Node(symbolic, at.start, at.end)


def scalar_node(value: object, at: Node) -> Node:
    return Node(value, at.start, at.end)


def list_node(values: tuple[str, ...] | list[str], at: Node) -> Node:
    return Node(tuple(Node(v, at.start, at.end) for v in values), at.start, at.end, "array")


def as_text(node: Node) -> str | Symbolic | None:
    """The string CloudFormation would use for a scalar; None for objects, lists and null."""
    value = node.value
    if isinstance(value, Symbolic):
        return value
    if node.is_object or node.is_array or value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def sub_references(template: str) -> list[str]:
    """The variable names in an ``Fn::Sub`` string (``${!Literal}`` is not a reference)."""
    return [m.group(1).strip() for m in _SUB_VARIABLE.finditer(template) if not m.group(1).startswith("!")]


class IntrinsicResolver:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    # -- helpers ---------------------------------------------------------------------------

    def fail(self, code: str, message: str, at: Node, severity: Severity = Severity.ERROR) -> Node:
        self.scope.report(code, message, severity, at.start)
        return symbolic_node(Symbolic(message, at.start), at)

    def resolve_required(self, node: Node, depth: int = 0) -> Node:
        """Like :meth:`resolve`, but AWS::NoValue where a value is required is an error."""
        result = self.resolve(node, depth)
        if isinstance(result, _NoValue):
            return self.fail("no-value-not-allowed", "AWS::NoValue cannot be used here", node)
        return result

    def text(self, node: Node, what: str, depth: int) -> str | Symbolic:
        """Resolve ``node`` to a string, reporting anything else."""
        resolved = self.resolve_required(node, depth)
        text = as_text(resolved)
        if text is None:
            symbolic = self.fail("bad-argument", f"{what} must be a string, not {_describe(resolved)}", node)
            return symbolic.value  # type: ignore[no-any-return]
        return text

    def array(self, node: Node, what: str, depth: int) -> tuple[Node, ...] | Symbolic:
        resolved = self.resolve_required(node, depth)
        if isinstance(resolved.value, Symbolic):
            return resolved.value
        if not resolved.is_array:
            return self.fail("bad-argument", f"{what} must be a list, not {_describe(resolved)}", node).value
        return resolved.value  # type: ignore[no-any-return]

    # -- the tree --------------------------------------------------------------------------

    def resolve(self, node: Node, depth: int = 0) -> Resolved:
        if depth > _MAX_DEPTH:
            return self.fail("too-deep", f"intrinsic functions nested deeper than {_MAX_DEPTH} levels", node)
        found = intrinsic(node)
        if found is not None:
            name, argument = found
            handler = _HANDLERS.get(name)
            if name in _LANGUAGE_EXTENSIONS and not getattr(self.scope, "language_extensions", False):
                return self.fail("unsupported-intrinsic", f"the intrinsic function '{name}' needs the"
                                 " AWS::LanguageExtensions transform", node, Severity.WARNING)
            if handler is None:
                if name in CONDITION_FUNCTIONS:
                    return self.fail("condition-function-outside-conditions",
                                     f"'{name}' can only be used in the Conditions section or inside Fn::If's"
                                     " condition", node)
                return self.fail("unsupported-intrinsic", f"the intrinsic function '{name}' is not supported",
                                 node, Severity.WARNING)
            return handler(self, argument, node, depth + 1)
        if node.is_object:
            members = []
            for member in node.value:
                value = self.resolve(member.value, depth + 1)
                if not isinstance(value, _NoValue):
                    members.append(Member(member.key, value, member.key_start))
            return Node(tuple(members), node.start, node.end, "object")
        if node.is_array:
            items = []
            for item in node.value:
                value = self.resolve(item, depth + 1)
                if not isinstance(value, _NoValue):
                    items.append(value)
            return Node(tuple(items), node.start, node.end, "array")
        return node

    # -- the functions ---------------------------------------------------------------------

    def _ref(self, argument: Node, at: Node, depth: int) -> Resolved:
        if not isinstance(argument.value, str) or argument.is_object or argument.is_array:
            return self.fail("bad-argument",
                             f"Ref takes the name of a parameter or resource, not {_describe(argument)}", at)
        return self.scope.ref(argument.value, at)

    def _get_att(self, argument: Node, at: Node, depth: int) -> Resolved:
        if isinstance(argument.value, str) and not argument.is_array:
            logical_id, dot, attribute = argument.value.partition(".")
            if not dot:
                return self.fail("bad-argument", f"Fn::GetAtt '{argument.value}' must have the form Resource.Attribute",
                                 at)
            return self.scope.get_att(logical_id, attribute, at)
        if not argument.is_array or len(argument.value) != 2:
            return self.fail("bad-argument", "Fn::GetAtt takes [resource, attribute]", at)
        logical_node, attribute_node = argument.value
        if not isinstance(logical_node.value, str):
            return self.fail("bad-argument", "the resource in Fn::GetAtt must be a literal logical id", at)
        attribute_text = self.text(attribute_node, "the attribute in Fn::GetAtt", depth)
        if isinstance(attribute_text, Symbolic):
            return symbolic_node(attribute_text, at)
        return self.scope.get_att(logical_node.value, attribute_text, at)

    def _sub(self, argument: Node, at: Node, depth: int) -> Resolved:
        variables: dict[str, Node] = {}
        if argument.is_array:
            if len(argument.value) != 2 or not argument.value[1].is_object:
                return self.fail("bad-argument", "Fn::Sub takes a string or [string, {variables}]", at)
            template_node, variables_node = argument.value
            for member in variables_node.value:
                variables[member.key] = member.value
        else:
            template_node = argument
        if not isinstance(template_node.value, str) or template_node.is_object or template_node.is_array:
            return self.fail("bad-argument",
                             f"the string of Fn::Sub must be a literal string, not {_describe(template_node)}", at)
        template = template_node.value
        parts: list[str] = []
        last = 0
        for match in _SUB_VARIABLE.finditer(template):
            parts.append(template[last:match.start()])
            last = match.end()
            inner = match.group(1)
            if inner.startswith("!"):
                parts.append("${" + inner[1:] + "}")  # ${!Literal} writes ${Literal}
                continue
            name = inner.strip()
            if name in variables:
                value: Resolved = self.resolve_required(variables[name], depth)
            elif "." in name:
                logical_id, _, attribute = name.partition(".")
                value = self.scope.get_att(logical_id, attribute, at)
            else:
                value = self.scope.ref(name, at)
            if isinstance(value, _NoValue):
                return self.fail("bad-argument", f"'${{{name}}}' in Fn::Sub is AWS::NoValue", at)
            text = as_text(value)
            if isinstance(text, Symbolic):
                return symbolic_node(text, at)
            if text is None:
                return self.fail("bad-argument",
                                 f"'${{{name}}}' in Fn::Sub must be a string, not {_describe(value)}", at)
            parts.append(text)
        parts.append(template[last:])
        return scalar_node("".join(parts), at)

    def _join(self, argument: Node, at: Node, depth: int) -> Resolved:
        if not argument.is_array or len(argument.value) != 2:
            return self.fail("bad-argument", "Fn::Join takes [delimiter, [values]]", at)
        delimiter_node, values_node = argument.value
        delimiter = as_text(delimiter_node)
        if not isinstance(delimiter, str):
            return self.fail("bad-argument", "the delimiter of Fn::Join must be a literal string", at)
        items = self.array(values_node, "the values of Fn::Join", depth)
        if isinstance(items, Symbolic):
            return symbolic_node(items, at)
        texts: list[str] = []
        for item in items:
            text = as_text(item)
            if isinstance(text, Symbolic):
                return symbolic_node(text, at)
            if text is None:
                return self.fail("bad-argument", f"Fn::Join values must be strings, not {_describe(item)}", item)
            texts.append(text)
        return scalar_node(delimiter.join(texts), at)

    def _select(self, argument: Node, at: Node, depth: int) -> Resolved:
        if not argument.is_array or len(argument.value) != 2:
            return self.fail("bad-argument", "Fn::Select takes [index, [values]]", at)
        index_text = self.text(argument.value[0], "the index of Fn::Select", depth)
        if isinstance(index_text, Symbolic):
            return symbolic_node(index_text, at)
        if not index_text.isdigit():
            return self.fail("bad-argument", f"the index of Fn::Select must be a number, not '{index_text}'", at)
        items = self.array(argument.value[1], "the values of Fn::Select", depth)
        if isinstance(items, Symbolic):
            return symbolic_node(items, at)
        index = int(index_text)
        if index >= len(items):
            return self.fail("index-out-of-range",
                             f"Fn::Select index {index} is out of range for a list of {len(items)} values", at)
        return items[index]

    def _split(self, argument: Node, at: Node, depth: int) -> Resolved:
        if not argument.is_array or len(argument.value) != 2:
            return self.fail("bad-argument", "Fn::Split takes [delimiter, string]", at)
        delimiter = as_text(argument.value[0])
        if not isinstance(delimiter, str) or not delimiter:
            return self.fail("bad-argument", "the delimiter of Fn::Split must be a non-empty literal string", at)
        source = self.text(argument.value[1], "the string of Fn::Split", depth)
        if isinstance(source, Symbolic):
            return symbolic_node(source, at)
        return list_node(source.split(delimiter), at)

    def _find_in_map(self, argument: Node, at: Node, depth: int) -> Resolved:
        if not argument.is_array or len(argument.value) not in (3, 4):
            return self.fail("bad-argument", "Fn::FindInMap takes [map, top-level key, second-level key]", at)
        keys: list[str] = []
        for key_node in argument.value[:3]:
            key = self.text(key_node, "a key of Fn::FindInMap", depth)
            if isinstance(key, Symbolic):
                return symbolic_node(key, at)
            keys.append(key)
        default: Node | None = None
        if len(argument.value) == 4:  # AWS::LanguageExtensions: [map, key, key, {DefaultValue: x}]
            option = argument.value[3]
            default = _member_of(option, "DefaultValue")
            if default is None:
                return self.fail("bad-argument", "the fourth value of Fn::FindInMap must be {DefaultValue: value}", at)
        node = self.scope.mappings()
        path = []
        for key in keys:
            path.append(key)
            found = _member_of(node, key) if node is not None else None
            if found is None:
                if default is not None:
                    return self.resolve(default, depth)
                where = "Mappings" if len(path) == 1 else f"mapping '{'.'.join(path[:-1])}'"
                return self.fail("missing-mapping-key", f"Fn::FindInMap: '{key}' is not a key of {where}", at)
            node = found
        assert node is not None
        return self.resolve(node, depth)

    def _import_value(self, argument: Node, at: Node, depth: int) -> Resolved:
        name = self.text(argument, "the export name in Fn::ImportValue", depth)
        if isinstance(name, Symbolic):
            return symbolic_node(name, at)
        return self.scope.import_value(name, at)

    def _if(self, argument: Node, at: Node, depth: int) -> Resolved:
        if not argument.is_array or len(argument.value) != 3 or not isinstance(argument.value[0].value, str):
            return self.fail("bad-argument", "Fn::If takes [condition name, value if true, value if false]", at)
        decided = self.scope.condition(argument.value[0].value, argument.value[0])
        if isinstance(decided, Symbolic):
            return symbolic_node(decided, at)
        return self.resolve(argument.value[1] if decided else argument.value[2], depth)

    def _base64(self, argument: Node, at: Node, depth: int) -> Resolved:
        text = self.text(argument, "the value of Fn::Base64", depth)
        if isinstance(text, Symbolic):
            return symbolic_node(text, at)
        return scalar_node(base64.b64encode(text.encode()).decode("ascii"), at)

    def _get_azs(self, argument: Node, at: Node, depth: int) -> Resolved:
        region = self.text(argument, "the region of Fn::GetAZs", depth)
        if isinstance(region, Symbolic):
            return symbolic_node(region, at)
        region = region or self.scope.deployment.region
        # Offline there is no account to ask: three zones named as AWS names them, a to c.
        return list_node([f"{region}a", f"{region}b", f"{region}c"], at)

    def _cidr(self, argument: Node, at: Node, depth: int) -> Resolved:
        if not argument.is_array or len(argument.value) != 3:
            return self.fail("bad-argument", "Fn::Cidr takes [ip block, count, cidr bits]", at)
        texts: list[str] = []
        for item, what in zip(argument.value, ("ip block", "count", "cidr bits")):
            text = self.text(item, f"the {what} of Fn::Cidr", depth)
            if isinstance(text, Symbolic):
                return symbolic_node(text, at)
            texts.append(text)
        block, count_text, bits_text = texts
        try:
            network = ipaddress.ip_network(block, strict=False)
        except ValueError:
            return self.fail("bad-argument", f"'{block}' in Fn::Cidr is not a CIDR block", at)
        if not count_text.isdigit() or not bits_text.isdigit():
            return self.fail("bad-argument", "the count and cidr bits of Fn::Cidr must be numbers", at)
        count, bits = int(count_text), int(bits_text)
        new_prefix = network.max_prefixlen - bits
        if not 1 <= count <= 256 or new_prefix < network.prefixlen or bits < 1:
            return self.fail("bad-argument",
                             f"Fn::Cidr cannot cut {count} blocks of {bits} host bits from '{block}'", at)
        subnets = [str(s) for s in itertools.islice(network.subnets(new_prefix=new_prefix), count)]
        if len(subnets) < count:
            return self.fail("bad-argument",
                             f"'{block}' holds only {len(subnets)} blocks of /{new_prefix}, not {count}", at)
        return list_node(subnets, at)



    # -- AWS::LanguageExtensions (transform-aws-languageextensions.md) ------------------------

    def _to_json_string(self, argument: Node, at: Node, depth: int) -> Resolved:
        """Fn::ToJsonString: an object or list, resolved, as a compact JSON string."""
        resolved = self.resolve_required(argument, depth)
        if not (resolved.is_object or resolved.is_array):
            if isinstance(resolved.value, Symbolic):
                return symbolic_node(resolved.value, at)
            return self.fail("bad-argument", f"Fn::ToJsonString takes an object or a list, not {_describe(resolved)}",
                             at)
        unresolved = _first_symbolic(resolved)
        if unresolved is not None:
            return symbolic_node(unresolved, at)
        return scalar_node(json.dumps(resolved.to_python(), separators=(",", ":")), at)

    def _length(self, argument: Node, at: Node, depth: int) -> Resolved:
        """Fn::Length: the number of items of a list (or of a function that returns one)."""
        items = self.array(argument, "the argument of Fn::Length", depth)
        if isinstance(items, Symbolic):
            return symbolic_node(items, at)
        return scalar_node(len(items), at)


def _first_symbolic(node: Node) -> Symbolic | None:
    pending = [node]
    while pending:
        current = pending.pop()
        if current.is_object:
            pending.extend(m.value for m in current.value)
        elif current.is_array:
            pending.extend(current.value)
        elif isinstance(current.value, Symbolic):
            return current.value
    return None


def _describe(node: Node) -> str:
    if isinstance(node.value, Symbolic):
        return str(node.value)
    if node.is_object:
        return "an object"
    if node.is_array:
        return "a list"
    if node.value is None:
        return "null"
    return f"'{as_text(node)}'"


_HANDLERS = {
    "Ref": IntrinsicResolver._ref,
    "Fn::GetAtt": IntrinsicResolver._get_att,
    "Fn::Sub": IntrinsicResolver._sub,
    "Fn::Join": IntrinsicResolver._join,
    "Fn::Select": IntrinsicResolver._select,
    "Fn::Split": IntrinsicResolver._split,
    "Fn::FindInMap": IntrinsicResolver._find_in_map,
    "Fn::ImportValue": IntrinsicResolver._import_value,
    "Fn::If": IntrinsicResolver._if,
    "Fn::Base64": IntrinsicResolver._base64,
    "Fn::GetAZs": IntrinsicResolver._get_azs,
    "Fn::Cidr": IntrinsicResolver._cidr,
    "Fn::ToJsonString": IntrinsicResolver._to_json_string,
    "Fn::Length": IntrinsicResolver._length,
}


def _member_of(node: Node | None, key: str) -> Node | None:
    return node.member(key) if node is not None else None
