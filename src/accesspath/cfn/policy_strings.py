"""Policy documents written as JSON strings, decoded once with positions in the template.

CloudFormation takes a policy document as an object or as a JSON string (``PolicyDocument: |``
followed by JSON; the ECS reference architecture writes its roles so). A string built with
``Fn::Sub`` or ``Fn::Join`` is also common. The loader decodes such a document before it is
resolved, so that:

- every value keeps the line and column where it is written in the template, even inside a YAML
  block scalar or a JSON-escaped string (the decoded text is aligned with the raw template text);
- an ``Fn::Sub`` variable or an ``Fn::Join`` part stays an intrinsic function in the string it sits
  in: one unresolved reference makes that one value unresolved, not the whole document.

A ``${Var}`` is replaced by a private-use placeholder of the same length before decoding, so
offsets in the decoded text are offsets in the ``Fn::Sub`` string; a placeholder found anywhere but
inside a JSON string value (a key, a bare number) gives up the early decoding, and the string is
decoded after resolution instead, every value then placed at the intrinsic function.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence

from accesspath.cfn.intrinsics import intrinsic
from accesspath.policy.model import PolicyType
from accesspath.policy.source import JsonSyntaxError, Member, Node, Position, decode_json

_IDENTITY, _RESOURCE = PolicyType.IDENTITY.value, PolicyType.RESOURCE.value

# resource type -> (property, kind); "Policies[].PolicyDocument" walks a list of inline policies.
POLICY_PROPERTIES: dict[str, tuple[tuple[str, str], ...]] = {
    "AWS::IAM::Role": (("AssumeRolePolicyDocument", PolicyType.ROLE_TRUST.value),
                       ("Policies[].PolicyDocument", _IDENTITY)),
    "AWS::IAM::User": (("Policies[].PolicyDocument", _IDENTITY),),
    "AWS::IAM::Group": (("Policies[].PolicyDocument", _IDENTITY),),
    "AWS::IAM::Policy": (("PolicyDocument", _IDENTITY),),
    "AWS::IAM::RolePolicy": (("PolicyDocument", _IDENTITY),),
    "AWS::IAM::UserPolicy": (("PolicyDocument", _IDENTITY),),
    "AWS::IAM::GroupPolicy": (("PolicyDocument", _IDENTITY),),
    "AWS::IAM::ManagedPolicy": (("PolicyDocument", _IDENTITY),),
    "AWS::S3::BucketPolicy": (("PolicyDocument", _RESOURCE),),
    "AWS::SQS::QueuePolicy": (("PolicyDocument", _RESOURCE),),
    "AWS::SQS::QueueInlinePolicy": (("PolicyDocument", _RESOURCE),),
    "AWS::SNS::TopicPolicy": (("PolicyDocument", _RESOURCE),),
    "AWS::SNS::TopicInlinePolicy": (("PolicyDocument", _RESOURCE),),
    "AWS::KMS::Key": (("KeyPolicy", PolicyType.KMS_KEY.value),),
    "AWS::KMS::ReplicaKey": (("KeyPolicy", PolicyType.KMS_KEY.value),),
    "AWS::SecretsManager::ResourcePolicy": (("ResourcePolicy", _RESOURCE),),
    "AWS::ECR::Repository": (("RepositoryPolicyText", _RESOURCE),),
    "AWS::ECR::RegistryPolicy": (("PolicyText", _RESOURCE),),
    "AWS::EC2::VPCEndpoint": (("PolicyDocument", PolicyType.VPC_ENDPOINT.value),),
}

Report = Callable[[str, str, Position | None], None]  # (code, message, position)

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_TOKEN_BASE = 0xE000  # Unicode private use area: never in a real policy
_TOKEN = re.compile("[\ue000-\uf8ff]+")


class PolicyStringDecoder:
    """Decodes the JSON-string policy documents of one template (``text``), reporting each bad one once."""

    def __init__(self, text: str | None, report: Report) -> None:
        self.text = text
        self.report = report
        self._reported: set[Position | None] = set()  # literal strings already reported as not JSON

    def before_resolution(self, properties: Node, resource_type: str) -> Node:
        """``properties`` with every literal, ``Fn::Sub`` or ``Fn::Join`` JSON-string document decoded."""
        return _rewrite(properties, resource_type, self._decode_raw)

    def after_resolution(self, properties: Node, resource_type: str) -> Node:
        """A document still a string after resolution (from a parameter, an ``Fn::If``, a string the early
        decoding gave up on) is decoded, its values placed at the string."""
        return _rewrite(properties, resource_type, self._decode_resolved)

    def _decode_raw(self, node: Node) -> Node | None:
        if _is_text(node) and node.value.lstrip().startswith("{"):
            located = _LocatedText.of_scalar(node, self.text)
            if located is None:
                return None
            decoded = _decode(located, node, self.report)
            if decoded is None:
                self._reported.add(node.start)
            return decoded
        found = intrinsic(node)
        if found is None:
            return None
        name, argument = found
        if name == "Fn::Sub":
            return _decode_sub(node, argument, self.text, self.report)
        if name == "Fn::Join":
            return _decode_join(node, argument, self.text, self.report)
        return None

    def _decode_resolved(self, node: Node) -> Node | None:
        if not _is_text(node) or not node.value.lstrip().startswith("{"):
            return None
        return _decode(_LocatedText(node.value, _at(node.start)), node, self.report,
                       quiet=node.start in self._reported)


def _rewrite(properties: Node, resource_type: str, decode: Callable[[Node], Node | None]) -> Node:
    for prop, _kind in POLICY_PROPERTIES.get(resource_type, ()):
        if prop.startswith("Policies[]."):
            properties = _replace_member(properties, "Policies", _inline_policies(prop.removeprefix("Policies[]."),
                                                                                  decode))
        else:
            properties = _replace_member(properties, prop, decode)
    return properties


def _inline_policies(inner: str, decode: Callable[[Node], Node | None]) -> Callable[[Node], Node]:
    def change(policies: Node) -> Node:
        return _each_item(policies, lambda item: _replace_member(item, inner, decode))
    return change


def _replace_member(node: Node, key: str, change: Callable[[Node], Node | None]) -> Node:
    if not node.is_object:
        return node
    members = list(node.value)
    changed = False
    for index, member in enumerate(members):
        if member.key == key:
            new = change(member.value)
            if new is not None and new is not member.value:
                members[index] = Member(member.key, new, member.key_start)
                changed = True
    return Node(tuple(members), node.start, node.end, node.kind) if changed else node


def _each_item(node: Node, change: Callable[[Node], Node]) -> Node:
    if not node.is_array:
        return node
    items = tuple(change(item) for item in node.value)
    return Node(items, node.start, node.end, node.kind)


# -- before resolution ---------------------------------------------------------------------------


def _decode_sub(node: Node, argument: Node, text: str | None, report: Report) -> Node | None:
    template_node, variables = argument, None
    if argument.is_array and len(argument.value) == 2 and argument.value[1].is_object:
        template_node, variables = argument.value
    if not _is_text(template_node) or not template_node.value.lstrip().startswith("{"):
        return None
    template: str = template_node.value
    originals: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        if match.group(1).startswith("!"):
            return match.group(0)  # ${!Literal} is not a variable
        originals.append(match.group(0))
        token = chr(_TOKEN_BASE + len(originals))
        return (token + chr(_TOKEN_BASE) * len(match.group(0)))[:len(match.group(0))]

    tokenised = _SUB_VARIABLE.sub(placeholder, template)
    located = _LocatedText.of_scalar(template_node, text)
    if located is None:
        located = _LocatedText(template, lambda _i: template_node.start)
    located = _LocatedText(tokenised, located.position_of)
    document = _decode(located, node, report, quiet=True)
    if document is None:
        return None

    def leaf(string: Node) -> Node | None:
        value: str = string.value
        if not _TOKEN.search(value) and "${!" not in value:
            return None
        restored = _TOKEN.sub(lambda m: "".join(_original(m.group(0), originals)), value)
        sub_argument = (Node((Node(restored, string.start, string.end), variables), string.start, string.end,
                             "array") if variables is not None else Node(restored, string.start, string.end))
        return Node((Member("Fn::Sub", sub_argument, string.start),), string.start, string.end, "object")

    return _rewrite_leaves(document, leaf)


def _original(run: str, originals: Sequence[str]) -> list[str]:
    """The ``${...}`` texts a run of placeholder characters stands for (each begins with its index)."""
    out = []
    for ch in run:
        index = ord(ch) - _TOKEN_BASE
        if index > 0:
            out.append(originals[index - 1])
    return out


def _decode_join(node: Node, argument: Node, text: str | None, report: Report) -> Node | None:
    if not argument.is_array or len(argument.value) != 2:
        return None
    delimiter_node, parts_node = argument.value
    if not _is_text(delimiter_node) or not parts_node.is_array or not parts_node.value:
        return None
    delimiter: str = delimiter_node.value
    first = parts_node.value[0]
    if not _is_text(first) or not first.value.lstrip().startswith("{"):
        return None
    pieces: list[str] = []
    starts: list[int] = []
    locators: list[Callable[[int], Position | None]] = []
    holes: list[Node] = []
    length = 0
    for index, part in enumerate(parts_node.value):
        if index and delimiter:
            starts.append(length)
            locators.append(_at(delimiter_node.start))
            pieces.append(delimiter)
            length += len(delimiter)
        starts.append(length)
        if _is_text(part):
            located = _LocatedText.of_scalar(part, text)
            locators.append(located.position_of if located is not None else _at(part.start))
            pieces.append(part.value)
            length += len(part.value)
        else:
            holes.append(part)
            locators.append(_at(part.start))
            pieces.append(chr(_TOKEN_BASE + len(holes)))
            length += 1
    joined = "".join(pieces)

    def position_of(index: int) -> Position | None:
        segment = max(bisect.bisect_right(starts, index) - 1, 0)
        return locators[segment](index - starts[segment])

    document = _decode(_LocatedText(joined, position_of), node, report, quiet=True)
    if document is None:
        return None

    def leaf(string: Node) -> Node | None:
        value: str = string.value
        if not _TOKEN.search(value):
            return None
        items: list[Node] = []
        last = 0
        for match in _TOKEN.finditer(value):
            if match.start() > last:
                items.append(Node(value[last:match.start()], string.start, string.end))
            items.extend(holes[ord(ch) - _TOKEN_BASE - 1] for ch in match.group(0))
            last = match.end()
        if last < len(value):
            items.append(Node(value[last:], string.start, string.end))
        join_argument = Node((Node("", string.start, string.end), Node(tuple(items), string.start, string.end,
                                                                        "array")), string.start, string.end, "array")
        return Node((Member("Fn::Join", join_argument, string.start),), string.start, string.end, "object")

    return _rewrite_leaves(document, leaf)


def _rewrite_leaves(document: Node, leaf: Callable[[Node], Node | None]) -> Node | None:
    """Replace string values by ``leaf(value)``; None when a placeholder sits where no string value is."""
    if document.is_object:
        members = []
        for member in document.value:
            if _TOKEN.search(member.key):
                return None
            value = _rewrite_leaves(member.value, leaf)
            if value is None:
                return None
            members.append(Member(member.key, value, member.key_start))
        return Node(tuple(members), document.start, document.end, "object")
    if document.is_array:
        items = []
        for item in document.value:
            value = _rewrite_leaves(item, leaf)
            if value is None:
                return None
            items.append(value)
        return Node(tuple(items), document.start, document.end, "array")
    if isinstance(document.value, str):
        return leaf(document) or document
    return document


# -- decoding with positions ---------------------------------------------------------------------


class _LocatedText:
    """A string and where each of its characters is written in the template."""

    def __init__(self, text: str, position_of: Callable[[int], Position | None]) -> None:
        self.text = text
        self.position_of = position_of

    @classmethod
    def of_scalar(cls, node: Node, template: str | None) -> _LocatedText | None:
        """Align a scalar's value with its raw text (YAML plain, quoted, literal or folded; JSON string)."""
        start = node.start
        if template is None or start is None:
            return None
        lines = _line_starts(template)
        if start.line - 1 >= len(lines):
            return None
        offsets = _raw_offsets(template, lines[start.line - 1] + start.column - 1, node.value)
        if offsets is None:
            return None
        source = start.source

        def position_of(index: int) -> Position:
            raw = offsets[min(index, len(offsets) - 1)]
            line = bisect.bisect_right(lines, raw) - 1
            return Position(line + 1, raw - lines[line] + 1, source)

        return cls(node.value, position_of)


def _decode(located: _LocatedText, at: Node, report: Report, *, quiet: bool = False) -> Node | None:
    try:
        document = decode_json(located.text)
    except JsonSyntaxError as error:
        if not quiet:
            where = _mapped(located, error.position) or at.start
            report("bad-policy-json", f"the policy document is a string that is not valid JSON: {error.message}",
                   where)
        return None
    value_lines = _line_starts(located.text)

    def place(position: Position | None) -> Position | None:
        return _mapped(located, position, value_lines) if position is not None else at.start

    def remap(node: Node) -> Node:
        if node.is_object:
            value: object = tuple(Member(m.key, remap(m.value), place(m.key_start)) for m in node.value)
        elif node.is_array:
            value = tuple(remap(item) for item in node.value)
        else:
            value = node.value
        return Node(value, place(node.start), place(node.end), node.kind)

    return remap(document)


def _mapped(located: _LocatedText, position: Position | None,
            value_lines: list[int] | None = None) -> Position | None:
    if position is None:
        return None
    lines = value_lines if value_lines is not None else _line_starts(located.text)
    index = lines[min(position.line - 1, len(lines) - 1)] + position.column - 1
    return located.position_of(index)


def _raw_offsets(raw: str, start: int, value: str) -> list[int] | None:
    """Where each character of ``value`` stands in ``raw`` (plus one past the end), or None when the
    raw text holds anything but the value, indentation, line breaks, quotes and escapes."""
    i, n = start, len(raw)
    if raw.startswith("!", i):  # a short tag: !Sub |
        while i < n and not raw[i].isspace():
            i += 1
        while i < n and raw[i] in " \t":
            i += 1
    quote = raw[i] if i < n and raw[i] in "\"'" else None
    if i < n and raw[i] in "|>":
        newline = raw.find("\n", i)
        if newline < 0:
            return None
        i = newline + 1
    elif quote is not None:
        i += 1
    out: list[int] = []
    for ch in value:
        while True:
            if i >= n:
                return None
            r = raw[i]
            if quote == '"' and r == "\\":
                decoded, length = _escape(raw, i)
                if decoded == ch:
                    out.append(i)
                    i += length
                    break
                if decoded != "":
                    return None
                i += length  # an escaped line break
                continue
            if quote == "'" and r == "'":
                if raw.startswith("''", i) and ch == "'":
                    out.append(i)
                    i += 2
                    break
                return None
            if r == ch or (ch == " " and r == "\n"):
                out.append(i)
                i += 1
                break
            if r in " \t\r\n":
                i += 1
                continue
            return None
    out.append(i)
    return out


_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", " ": " ",
            "0": "\0", "e": "\x1b", "N": "\x85", "_": "\xa0"}


def _escape(raw: str, i: int) -> tuple[str, int]:
    """The character a backslash escape at ``i`` stands for and its length ("" for a line break)."""
    following = raw[i + 1] if i + 1 < len(raw) else ""
    if following in "\r\n":
        return "", 2
    if following in ("u", "x", "U"):
        width = {"x": 2, "u": 4, "U": 8}[following]
        digits = raw[i + 2:i + 2 + width]
        try:
            return chr(int(digits, 16)), 2 + width
        except ValueError:
            return "\ufffd", 2
    return _ESCAPES.get(following, following), 2


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for index, ch in enumerate(text):
        if ch == "\n":
            starts.append(index + 1)
    return starts


def _at(position: Position | None) -> Callable[[int], Position | None]:
    return lambda _index: position


def _is_text(node: Node) -> bool:
    return isinstance(node.value, str) and not node.is_object and not node.is_array
