"""Source positions and a JSON decoder that keeps them.

Python's :mod:`json` forgets where a value stood and silently keeps the last of duplicate keys.
IAM rejects duplicate keys and users need file:line:col for every finding, so policies are
decoded here into :class:`Node` trees. Other loaders (the CloudFormation YAML loader) build the
same trees, so every later stage sees one shape whatever the input format was.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast


@dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line and column in a named source."""

    line: int
    column: int
    source: str | None = None

    def __str__(self) -> str:
        prefix = f"{self.source}:" if self.source else ""
        return f"{prefix}{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Node:
    """A decoded JSON value with its position.

    ``value`` is a ``str``, ``int``, ``float``, ``bool`` or ``None`` for scalars, a tuple of
    ``Node`` for arrays and a tuple of :class:`Member` for objects (in source order, duplicates
    kept so that validation can report them).
    """

    value: Any
    start: Position | None = None
    end: Position | None = None
    kind: str = "scalar"  # "object", "array" or "scalar"

    @property
    def is_object(self) -> bool:
        return self.kind == "object"

    @property
    def is_array(self) -> bool:
        return self.kind == "array"

    def member(self, key: str) -> Node | None:
        """The value of member ``key`` of an object (the last one, if repeated), else None."""
        if self.kind != "object":
            return None
        found = None
        for member in self.value:
            if member.key == key:
                found = member.value
        return found

    def to_python(self) -> Any:
        """The plain value (for objects, the last of duplicate keys wins, as in :mod:`json`)."""
        if self.kind == "object":
            return {m.key: m.value.to_python() for m in self.value}
        if self.kind == "array":
            return [n.to_python() for n in self.value]
        return self.value


@dataclass(frozen=True, slots=True)
class Member:
    key: str
    value: Node
    key_start: Position | None = None


class JsonSyntaxError(ValueError):
    """Text that is not JSON; carries the position of the problem."""

    def __init__(self, message: str, position: Position) -> None:
        super().__init__(f"{position}: {message}")
        self.message = message
        self.position = position


_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_WHITESPACE = " \t\r\n"
_DIGITS = frozenset("0123456789")
_MAX_DEPTH = 200

# The decoder's fast paths run in the regex engine (C): JSON whitespace, a string without escapes
# or control characters. Anything else takes the character-by-character path below, which also
# words every error.
# (It always matches, possibly the empty string.)
_SKIP = cast(Callable[[str, int], "re.Match[str]"], re.compile(r"[ \t\r\n]*").match)
_PLAIN_STRING = re.compile(r'"([^"\\\x00-\x1f]*)"').match
_NEWLINE = re.compile("\n")

# Building frozen dataclasses through their __init__ costs about twice as much as setting their
# slots directly, and positions and nodes are most of what decoding a policy allocates.
_new = object.__new__
_set_line, _set_column, _set_source = (Position.__dict__[name].__set__ for name in ("line", "column", "source"))


def _position(line: int, column: int, source: str | None) -> Position:
    position = _new(Position)
    _set_line(position, line)
    _set_column(position, column)
    _set_source(position, source)
    return position


_set_value, _set_start, _set_end, _set_kind = (Node.__dict__[name].__set__ for name in ("value", "start", "end", "kind"))
_set_key, _set_member_value, _set_key_start = (Member.__dict__[name].__set__ for name in ("key", "value", "key_start"))


def _node(value: Any, start: Position, end: Position, kind: str) -> Node:
    node = _new(Node)
    _set_value(node, value)
    _set_start(node, start)
    _set_end(node, end)
    _set_kind(node, kind)
    return node


def _member(key: str, value: Node, key_start: Position) -> Member:
    member = _new(Member)
    _set_key(member, key)
    _set_member_value(member, value)
    _set_key_start(member, key_start)
    return member


@dataclass
class _Decoder:
    text: str
    source: str | None
    line_offset: int = 0
    column_offset: int = 0
    index: int = 0
    _line_starts: list[int] = field(default_factory=list)
    floats: int = 0   # numbers read as floats (their compact form may be longer than written)

    def __post_init__(self) -> None:
        self._line_starts = [0, *(m.end() for m in _NEWLINE.finditer(self.text))]

    def position(self, index: int | None = None) -> Position:
        i = self.index if index is None else index
        starts = self._line_starts
        line = bisect.bisect_right(starts, i) - 1
        column = i - starts[line] + 1
        if line == 0:
            column += self.column_offset
        return _position(line + 1 + self.line_offset, column, self.source)

    def fail(self, message: str, index: int | None = None) -> JsonSyntaxError:
        return JsonSyntaxError(message, self.position(index))

    def skip_whitespace(self) -> None:
        self.index = _SKIP(self.text, self.index).end()

    def decode(self) -> Node:
        self.skip_whitespace()
        node = self.value(0)
        self.skip_whitespace()
        if self.index != len(self.text):
            raise self.fail("unexpected text after the JSON document")
        return node

    def value(self, depth: int) -> Node:
        if depth > _MAX_DEPTH:
            raise self.fail(f"nesting deeper than {_MAX_DEPTH} levels")
        text = self.text
        i = self.index = _SKIP(text, self.index).end()
        if i >= len(text):
            raise self.fail("unexpected end of input: expected a value")
        ch = text[i]
        start = self.position(i)
        kind = "scalar"
        if ch == '"':
            plain = _PLAIN_STRING(text, i)
            if plain is not None:
                value: Any = plain.group(1)
                self.index = plain.end()
            else:
                value = self.string()
        elif ch == "{":
            value = self.object(depth)
            kind = "object"
        elif ch == "[":
            value = self.array(depth)
            kind = "array"
        elif ch == "-" or ch in _DIGITS:
            value = self.number()
        elif text.startswith("true", i):
            self.index += 4
            value = True
        elif text.startswith("false", i):
            self.index += 5
            value = False
        elif text.startswith("null", i):
            self.index += 4
            value = None
        else:
            raise self.fail(f"unexpected character {ch!r}: expected a value")
        return _node(value, start, self.position(self.index), kind)

    def object(self, depth: int) -> tuple[Member, ...]:
        text = self.text
        i = _SKIP(text, self.index + 1).end()
        if text.startswith("}", i):
            self.index = i + 1
            return ()
        members: list[Member] = []
        while True:
            i = _SKIP(text, i).end()
            self.index = i
            if not text.startswith('"', i):
                raise self.fail("expected a quoted member name")
            key_start = self.position(i)
            plain = _PLAIN_STRING(text, i)
            if plain is not None:
                key = plain.group(1)
                i = plain.end()
            else:
                key = self.string()
                i = self.index
            i = _SKIP(text, i).end()
            if not text.startswith(":", i):
                self.index = i
                raise self.fail("expected ':' after a member name")
            self.index = i + 1
            members.append(_member(key, self.value(depth + 1), key_start))
            i = _SKIP(text, self.index).end()
            if text.startswith(",", i):
                i += 1
                continue
            if text.startswith("}", i):
                self.index = i + 1
                return tuple(members)
            self.index = i
            raise self.fail("expected ',' or '}' in an object")

    def array(self, depth: int) -> tuple[Node, ...]:
        text = self.text
        i = _SKIP(text, self.index + 1).end()
        if text.startswith("]", i):
            self.index = i + 1
            return ()
        self.index = i
        items: list[Node] = []
        while True:
            items.append(self.value(depth + 1))
            i = _SKIP(text, self.index).end()
            if text.startswith(",", i):
                self.index = i + 1
                continue
            if text.startswith("]", i):
                self.index = i + 1
                return tuple(items)
            self.index = i
            raise self.fail("expected ',' or ']' in an array")

    def string(self) -> str:
        text = self.text
        i = self.index + 1
        parts: list[str] = []
        chunk_start = i
        n = len(text)
        while True:
            if i >= n:
                raise self.fail("unterminated string", self.index)
            ch = text[i]
            if ch == '"':
                parts.append(text[chunk_start:i])
                self.index = i + 1
                return "".join(parts)
            if ch == "\\":
                parts.append(text[chunk_start:i])
                if i + 1 >= n:
                    raise self.fail("unterminated escape in a string", i)
                esc = text[i + 1]
                if esc == "u":
                    hex_digits = text[i + 2:i + 6]
                    if len(hex_digits) != 4 or any(c not in "0123456789abcdefABCDEF" for c in hex_digits):
                        raise self.fail("invalid \\u escape in a string", i)
                    code = int(hex_digits, 16)
                    i += 6
                    if 0xD800 <= code <= 0xDBFF and text.startswith("\\u", i):
                        low_digits = text[i + 2:i + 6]
                        if len(low_digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in low_digits):
                            low = int(low_digits, 16)
                            if 0xDC00 <= low <= 0xDFFF:
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                                i += 6
                    parts.append(chr(code))
                elif esc in _ESCAPES:
                    parts.append(_ESCAPES[esc])
                    i += 2
                else:
                    raise self.fail(f"invalid escape '\\{esc}' in a string", i)
                chunk_start = i
                continue
            if ch < " ":
                raise self.fail("control character in a string (escape it)", i)
            i += 1

    def number(self) -> int | float:
        text, start = self.text, self.index
        i = start
        n = len(text)
        if i < n and text[i] == "-":
            i += 1
        if i < n and text[i] == "0":
            i += 1
        elif i < n and text[i] in _DIGITS:
            while i < n and text[i] in _DIGITS:
                i += 1
        else:
            raise self.fail("invalid number", start)
        is_float = False
        if i < n and text[i] == ".":
            is_float = True
            i += 1
            if not (i < n and text[i] in _DIGITS):
                raise self.fail("invalid number: digits expected after '.'", start)
            while i < n and text[i] in _DIGITS:
                i += 1
        if i < n and text[i] in "eE":
            is_float = True
            i += 1
            if i < n and text[i] in "+-":
                i += 1
            if not (i < n and text[i] in _DIGITS):
                raise self.fail("invalid number: digits expected in the exponent", start)
            while i < n and text[i] in _DIGITS:
                i += 1
        self.index = i
        literal = text[start:i]
        if is_float:
            self.floats += 1
            return float(literal)
        if len(literal) > 4000:
            raise self.fail("number too long", start)
        return int(literal)


def decode_json(text: str, source: str | None = None, *, line_offset: int = 0,
                column_offset: int = 0) -> Node:
    """Decode JSON text into a :class:`Node` tree, raising :class:`JsonSyntaxError`.

    ``line_offset``/``column_offset`` place the text inside a larger file (a policy given as a
    JSON string inside another JSON document), so positions point into the user's file.
    """
    return _Decoder(text, source, line_offset, column_offset).decode()


def decode_json_counting_floats(text: str, source: str | None = None, *, line_offset: int = 0,
                                column_offset: int = 0) -> tuple[Node, int]:
    """:func:`decode_json`, with how many numbers were read as floats (for size bounds)."""
    decoder = _Decoder(text, source, line_offset, column_offset)
    return decoder.decode(), decoder.floats


NodeLike = Node | Any


class NestingError(ValueError):
    """A value nested deeper than policies may be (the JSON decoder's limit applies here too)."""


def node_from_python(value: Any, position: Position | None = None, _depth: int = 0) -> Node:
    """Wrap an already-decoded value (dicts, lists, scalars) into a Node tree without positions."""
    if isinstance(value, Node):
        return value
    if _depth > _MAX_DEPTH:
        raise NestingError(f"nesting deeper than {_MAX_DEPTH} levels")
    if isinstance(value, dict):
        return Node(tuple(Member(str(k), node_from_python(v, position, _depth + 1), position)
                          for k, v in value.items()), position, position, "object")
    if isinstance(value, (list, tuple)):
        return Node(tuple(node_from_python(v, position, _depth + 1) for v in value), position, position, "array")
    return Node(value, position, position)
