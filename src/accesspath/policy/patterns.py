"""Strings from policies that may hold wildcards and policy variables.

A policy string is parsed once into tokens: literal text, ``*``, ``?`` and ``${variable}``.
Matching is linear, without regular expressions that could backtrack (see "matching" below);
variables are substituted per request and always inserted literally (a ``*`` inside a user name
is not a wildcard). This module is the one place wildcards are matched: the engine, the linter,
the action catalog and condition-key templates all come here.

Rules (IAM User Guide):
- reference_policies_variables.md: variables exist only under ``"Version": "2012-10-17"``;
  ``${*}``, ``${?}``, ``${$}`` are the literal characters; ``${key, 'default'}`` gives a default;
  a key that is missing (or multivalued) leaves the variable without a value, and a value that
  holds such a variable matches nothing.
- reference_policies_elements_resource.md: wildcards work within ARN segments; in the resource
  part, ``*`` spans ``/`` and ``:``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

STAR = "*"
QUESTION = "?"

# How a wildcard is read: as a wildcard across the whole string, segment-aware for ARNs, or
# not at all (literal text, for StringEquals and friends).
WHOLE = "whole"
ARN = "arn"
LITERAL = "literal"


@dataclass(frozen=True, slots=True)
class Variable:
    """``${key}`` or ``${key, 'default'}``; ``key`` is lowercased (key names are case-insensitive)."""

    key: str
    default: str | None
    text: str


@dataclass(frozen=True, slots=True)
class Wildcard:
    symbol: str


_STAR = Wildcard(STAR)
_QUESTION = Wildcard(QUESTION)
_SPECIALS = {"*": "*", "?": "?", "$": "$"}
_VARIABLE_RE = re.compile(r"\$\{([^{}]*)\}")
_WILDCARD_SPLIT_RE = re.compile(r"([*?])")
_DEFAULT_RE = re.compile(r"^\s*([^,]+?)\s*,\s*'([^']*)'\s*$")


def tokenize(text: str, *, variables: bool, wildcards: bool) -> tuple[str | Variable | Wildcard, ...]:
    """Split ``text`` into literal strings, :class:`Wildcard` and :class:`Variable` tokens."""
    tokens: list[str | Variable | Wildcard] = []
    literal: list[str] = []

    def add_literal(chunk: str) -> None:
        if not wildcards or ("*" not in chunk and "?" not in chunk):
            literal.append(chunk)
            return
        for part in _WILDCARD_SPLIT_RE.split(chunk):
            if part == STAR or part == QUESTION:
                if literal:
                    tokens.append("".join(literal))
                    literal.clear()
                tokens.append(_STAR if part == STAR else _QUESTION)
            elif part:
                literal.append(part)

    position = 0
    if variables and "${" in text:
        for match in _VARIABLE_RE.finditer(text):
            add_literal(text[position:match.start()])
            inner = match.group(1)
            if inner in _SPECIALS:
                literal.append(_SPECIALS[inner])
            else:
                default_match = _DEFAULT_RE.match(inner)
                if default_match:
                    key, default = default_match.group(1), default_match.group(2)
                else:
                    key, default = inner.strip(), None
                if literal:
                    tokens.append("".join(literal))
                    literal.clear()
                tokens.append(Variable(key.lower(), default, match.group(0)))
            position = match.end()
    add_literal(text[position:])
    if literal:
        tokens.append("".join(literal))
    return tuple(tokens)


class _NoValue:
    """A key that is present but cannot be a variable (it is multivalued): no value, no default."""

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE = _NoValue()

# A lookup from a lowercased context key to its single value; None when the key is missing (the
# default applies), NO_VALUE when it is present but multivalued (reference_policies_variables.md).
VariableLookup = Callable[[str], "str | _NoValue | None"]


@dataclass(frozen=True, slots=True)
class Pattern:
    """A policy string compiled for matching.

    ``mode`` says how wildcards are read (:data:`WHOLE`, :data:`ARN` or :data:`LITERAL`);
    ``ignore_case`` is for actions and the ...IgnoreCase operators.
    """

    text: str
    tokens: tuple[str | Variable | Wildcard, ...]
    mode: str
    ignore_case: bool
    has_variables: bool
    _static: Matcher | None
    variables: tuple[Variable, ...] = ()

    @classmethod
    def compile(cls, text: str, *, mode: str, variables: bool = False,
                ignore_case: bool = False) -> Pattern:
        tokens = tokenize(text, variables=variables, wildcards=mode != LITERAL)
        if mode == ARN and _literal_colons(tokens) >= 5:
            tokens = _arn_segment_rules(tokens)
        has_variables = any(isinstance(t, Variable) for t in tokens)
        static = None
        if not has_variables:
            static = _matcher(tokens, mode, ignore_case)  # type: ignore[arg-type]
        variables_found = tuple(t for t in tokens if isinstance(t, Variable))
        return cls(text, tokens, mode, ignore_case, has_variables, static, variables_found)

    def matcher(self, lookup: VariableLookup | None) -> Matcher | None:
        """The matcher for this request, or None when a variable has no value."""
        if self._static is not None:
            return self._static
        values = tuple(_substitute(v, lookup) for v in self.variables)
        if None in values:
            return None
        return _matcher_with_values(self.tokens, self.mode, self.ignore_case, values)  # type: ignore[arg-type]

    def matches(self, value: str, lookup: VariableLookup | None = None) -> bool:
        matcher = self._static if self._static is not None else self.matcher(lookup)
        return matcher is not None and matcher.matches(value)

    def render(self, lookup: VariableLookup | None) -> str | None:
        """The text after substitution (wildcards kept as written), or None if unresolvable."""
        parts: list[str] = []
        for token in self.tokens:
            if isinstance(token, Variable):
                value = _substitute(token, lookup)
                if value is None:
                    return None
                parts.append(value)
            elif isinstance(token, Wildcard):
                parts.append(token.symbol)
            else:
                parts.append(token)
        return "".join(parts)

    def wildcards(self) -> Iterator[tuple[Wildcard, bool]]:
        """Each wildcard with whether it stays within one ARN segment (cannot match ``:``).

        The one statement of the segment rule, for the matcher here and for the linter's
        reasoning about which ARNs a pattern can reach (:mod:`accesspath.lint.arn_match`).
        """
        for token, in_segment in _with_segments(self.tokens, self.mode):
            if isinstance(token, Wildcard):
                yield token, in_segment

    @property
    def is_match_all(self) -> bool:
        return self.mode != LITERAL and len(self.tokens) == 1 and self.tokens[0] is _STAR


def _substitute(variable: Variable, lookup: VariableLookup | None) -> str | None:
    value = lookup(variable.key) if lookup is not None else None
    if value is None:
        return variable.default
    if isinstance(value, _NoValue):
        return None
    return value


# -- matching ------------------------------------------------------------------------------------
#
# IAM patterns have only ``*`` and ``?``. A backtracking regex (``.*`` per star) can take time
# exponential in the number of stars on a crafted value (issue 17: one ARN holding 1,000 slashes
# against ``b/*/*/*/*.secret`` froze the emulator). Here a pattern is cut at its stars into blocks
# of fixed length (literal characters and ``?``); the first block must sit at the start, the last
# at the end, and each block between is placed at its leftmost occurrence after the previous one.
# Leftmost placement is always safe for ``*`` (a later block only needs to come after an earlier
# one), so nothing is ever retried: one pass over the value per block, no backtracking. A block
# with ``?`` or compared ignoring case is searched with a regex that has no quantifier at all.


@dataclass(frozen=True, slots=True)
class _Block:
    """The text between two stars: always ``length`` characters long."""

    length: int
    text: str | None                # the block itself when plain string search applies
    regex: re.Pattern[str] | None   # otherwise: literals and ``.`` only, no quantifier


def _at(block: _Block, value: str, index: int) -> bool:
    if block.text is not None:
        return value.startswith(block.text, index)
    assert block.regex is not None
    return block.regex.match(value, index) is not None


def _find(block: _Block, value: str, start: int, end: int) -> int:
    if block.text is not None:
        return value.find(block.text, start, end)
    assert block.regex is not None
    found = block.regex.search(value, start, end)
    return -1 if found is None else found.start()


@dataclass(frozen=True, slots=True)
class _Glob:
    """``*`` and ``?`` over a whole string: blocks separated by stars."""

    blocks: tuple[_Block, ...]  # one more than the stars
    minimum: int                # the shortest value that can match

    def matches(self, value: str) -> bool:
        blocks = self.blocks
        first = blocks[0]
        if len(blocks) == 1:
            return len(value) == first.length and _at(first, value, 0)
        if len(value) < self.minimum or not _at(first, value, 0):
            return False
        last = blocks[-1]
        end = len(value) - last.length
        if not _at(last, value, end):
            return False
        position = first.length
        for block in blocks[1:-1]:
            found = _find(block, value, position, end)
            if found < 0:
                return False
            position = found + block.length
        return True


@dataclass(frozen=True, slots=True)
class _ArnGlob:
    """An ARN pattern with a wildcard in its first five segments, where wildcards stop at ``:``:
    the value is cut at its first five colons and each segment matched on its own (the pattern's
    first five colons are literal, so they can only stand for the value's first five)."""

    segments: tuple[_Glob, ...]  # six: partition … account segments, then the resource part

    def matches(self, value: str) -> bool:
        parts = value.split(":", 5)
        return len(parts) == 6 and all(glob.matches(part) for glob, part in zip(self.segments, parts))


Matcher = _Glob | _ArnGlob


@lru_cache(maxsize=8192)
def _block(pieces: tuple[str | Wildcard, ...], ignore_case: bool) -> _Block:
    length = sum(1 if isinstance(p, Wildcard) else len(p) for p in pieces)
    if not ignore_case and not any(isinstance(p, Wildcard) for p in pieces):
        return _Block(length, "".join(pieces), None)  # type: ignore[arg-type]
    source = "".join("." if isinstance(p, Wildcard) else re.escape(p) for p in pieces)
    return _Block(length, None, re.compile(source, re.DOTALL | (re.IGNORECASE if ignore_case else 0)))


def _glob(tokens: Sequence[str | Wildcard], ignore_case: bool) -> _Glob:
    blocks: list[_Block] = []
    pieces: list[str | Wildcard] = []
    for token in tokens:
        if token is _STAR or (isinstance(token, Wildcard) and token.symbol == STAR):
            blocks.append(_block(tuple(pieces), ignore_case))
            pieces = []
        elif token:
            pieces.append(token)
    blocks.append(_block(tuple(pieces), ignore_case))
    if len(blocks) > 2:  # empty blocks between stars (``**``) place nothing
        blocks = [blocks[0], *(b for b in blocks[1:-1] if b.length), blocks[-1]]
    return _Glob(tuple(blocks), sum(b.length for b in blocks))


def _with_segments(tokens: Sequence[str | Variable | Wildcard],
                   mode: str) -> Iterator[tuple[str | Variable | Wildcard, bool]]:
    """Each token with whether it stands in an ARN's first five segments (for ARN patterns with
    five literal colons; reference_policies_elements_resource.md). Literal text that holds the
    fifth colon is split there."""
    if mode != ARN or _literal_colons(tokens) < 5:
        for token in tokens:
            yield token, False
        return
    colons = 0
    for token in tokens:
        if isinstance(token, str) and colons < 5 and ":" in token:
            head, cut = "", 0
            for index, ch in enumerate(token):
                if ch == ":":
                    colons += 1
                    if colons == 5:
                        head, cut = token[:index + 1], index + 1
                        break
            if cut:
                yield head, True
                if token[cut:]:
                    yield token[cut:], False
                continue
            yield token, True
        else:
            yield token, colons < 5


def _matcher(tokens: Sequence[str | Wildcard], mode: str, ignore_case: bool) -> Matcher:
    """Tokens without variables (substituted values are literal text) compiled for matching."""
    flagged = list(_with_segments(tokens, mode))
    if not any(isinstance(t, Wildcard) and in_segment for t, in_segment in flagged):
        # No wildcard before the fifth colon: those colons are literal, so the segment rule
        # changes nothing and the pattern is matched as a whole.
        return _glob(tokens, ignore_case)
    segments: list[list[str | Wildcard]] = [[]]
    for token, in_segment in flagged:
        if isinstance(token, str) and in_segment:
            *heads, tail = token.split(":")
            for head in heads:
                segments[-1].append(head)
                segments.append([])
            segments[-1].append(tail)
        else:
            segments[-1].append(token)  # type: ignore[arg-type]
    return _ArnGlob(tuple(_glob(segment, ignore_case) for segment in segments))


@lru_cache(maxsize=8192)
def _matcher_with_values(tokens: tuple[str | Variable | Wildcard, ...], mode: str, ignore_case: bool,
                         values: tuple[str, ...]) -> Matcher:
    by_variable = dict(zip((t for t in tokens if isinstance(t, Variable)), values))
    # A variable's value is always literal text: a "*" in a user name is not a wildcard.
    plain = [by_variable[t] if isinstance(t, Variable) else t for t in tokens]
    return _matcher(plain, mode, ignore_case)


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Whether ``value`` matches an IAM ``*``/``?`` pattern as a whole (no ARN segment rule)."""
    return _whole_pattern(pattern, ignore_case).matches(value)


@lru_cache(maxsize=4096)
def _whole_pattern(pattern: str, ignore_case: bool) -> Pattern:
    return Pattern.compile(pattern, mode=WHOLE, ignore_case=ignore_case)


_KEY_PLACEHOLDER_RE = re.compile(r"\$\{[^}]+\}|<[^>]+>")


def key_template_matches(template: str, key: str) -> bool:
    """Whether condition key ``key`` is an instance of a documented key name such as
    ``aws:ResourceTag/${TagKey}`` or ``s3:ExistingObjectTag/<key>``: each placeholder stands for
    one or more characters; key names compare case-insensitively (reference_policies_condition-keys.md)."""
    return _key_template(template).matches(key)


@lru_cache(maxsize=4096)
def _key_template(template: str) -> _Glob:
    tokens: list[str | Wildcard] = []
    position = 0
    for found in _KEY_PLACEHOLDER_RE.finditer(template):
        tokens += [template[position:found.start()], _QUESTION, _STAR]  # one or more characters
        position = found.end()
    tokens.append(template[position:])
    return _glob(tokens, True)


def _arn_segment_rules(tokens: tuple[str | Variable | Wildcard, ...]) -> tuple[str | Variable | Wildcard, ...]:
    """Apply the ARN-only rules: no wildcard in the service segment (reference_policies_elements_resource.md)
    and variables only in the resource part, after the fifth colon (reference_policies_variables.md)."""
    out: list[str | Variable | Wildcard] = []
    colons = 0
    for token in tokens:
        if isinstance(token, Wildcard) and colons == 2:
            out.append(token.symbol)
        elif isinstance(token, Variable) and colons < 5:
            out.append(token.text)
        else:
            out.append(token)
            if isinstance(token, str):
                colons += token.count(":")
    merged: list[str | Variable | Wildcard] = []
    for token in out:  # join adjacent literal text again
        if isinstance(token, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + token
        else:
            merged.append(token)
    return tuple(merged)


def _literal_colons(tokens: Sequence[str | Variable | Wildcard]) -> int:
    return sum(t.count(":") for t in tokens if isinstance(t, str))
