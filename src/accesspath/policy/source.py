"""Source positions and a JSON decoder that keeps them.

Python's :mod:`json` forgets where a value stood and silently keeps the last of duplicate keys.
IAM rejects duplicate keys and users need file:line:col for every finding, so policies are
decoded here into :class:`Node` trees. Other loaders (the CloudFormation YAML loader) build the
same trees, so every later stage sees one shape whatever the input format was.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any


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


@dataclass
class _Decoder:
    text: str
    source: str | None
    line_offset: int = 0
    column_offset: int = 0
    index: int = 0
    _line_starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        starts = [0]
        for i, ch in enumerate(self.text):
            if ch == "\n":
                starts.append(i + 1)
        self._line_starts = starts

    def position(self, index: int | None = None) -> Position:
        i = self.index if index is None else index
        line = bisect.bisect_right(self._line_starts, i) - 1
        column = i - self._line_starts[line] + 1
        if line == 0:
            column += self.column_offset
        return Position(line + 1 + self.line_offset, column, self.source)

    def fail(self, message: str, index: int | None = None) -> JsonSyntaxError:
        return JsonSyntaxError(message, self.position(index))

    def skip_whitespace(self) -> None:
        text, i, n = self.text, self.index, len(self.text)
        while i < n and text[i] in _WHITESPACE:
            i += 1
        self.index = i

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
        self.skip_whitespace()
        if self.index >= len(self.text):
            raise self.fail("unexpected end of input: expected a value")
        ch = self.text[self.index]
        start = self.position()
        kind = "scalar"
        if ch == "{":
            value: Any = self.object(depth)
            kind = "object"
        elif ch == "[":
            value = self.array(depth)
            kind = "array"
        elif ch == '"':
            value = self.string()
        elif ch == "-" or ch in _DIGITS:
            value = self.number()
        elif self.text.startswith("true", self.index):
            self.index += 4
            value = True
        elif self.text.startswith("false", self.index):
            self.index += 5
            value = False
        elif self.text.startswith("null", self.index):
            self.index += 4
            value = None
        else:
            raise self.fail(f"unexpected character {ch!r}: expected a value")
        return Node(value, start, self.position(), kind)

    def object(self, depth: int) -> tuple[Member, ...]:
        self.index += 1
        members: list[Member] = []
        self.skip_whitespace()
        if self.text.startswith("}", self.index):
            self.index += 1
            return ()
        while True:
            self.skip_whitespace()
            if not self.text.startswith('"', self.index):
                raise self.fail("expected a quoted member name")
            key_start = self.position()
            key = self.string()
            self.skip_whitespace()
            if not self.text.startswith(":", self.index):
                raise self.fail("expected ':' after a member name")
            self.index += 1
            members.append(Member(key, self.value(depth + 1), key_start))
            self.skip_whitespace()
            if self.text.startswith(",", self.index):
                self.index += 1
                continue
            if self.text.startswith("}", self.index):
                self.index += 1
                return tuple(members)
            raise self.fail("expected ',' or '}' in an object")

    def array(self, depth: int) -> tuple[Node, ...]:
        self.index += 1
        items: list[Node] = []
        self.skip_whitespace()
        if self.text.startswith("]", self.index):
            self.index += 1
            return ()
        while True:
            items.append(self.value(depth + 1))
            self.skip_whitespace()
            if self.text.startswith(",", self.index):
                self.index += 1
                continue
            if self.text.startswith("]", self.index):
                self.index += 1
                return tuple(items)
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
