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

import functools
import operator
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
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
    # Matchers for the variable values seen so far (patterns with variables), bounded.
    _by_values: dict[tuple[str, ...], Matcher] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def compile(cls, text: str, *, mode: str, variables: bool = False,
                ignore_case: bool = False) -> Pattern:
        # Patterns are immutable, and the same ones recur across policies ("*", "s3:GetObject").
        return _compiled_pattern(text, mode, variables, ignore_case)

    @classmethod
    def _build(cls, text: str, mode: str, variables: bool, ignore_case: bool) -> Pattern:
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
        if len(self.variables) == 1:
            value = _substitute(self.variables[0], lookup)
            if value is None:
                return None
            values: tuple[str | None, ...] = (value,)
        else:
            values = tuple(_substitute(v, lookup) for v in self.variables)
            if None in values:
                return None
        found = self._by_values.get(values)  # type: ignore[arg-type]
        if found is None:
            found = _matcher_with_values(self.tokens, self.mode, self.ignore_case, values)  # type: ignore[arg-type]
            if len(self._by_values) >= _VALUES_LIMIT:
                self._by_values.clear()
            self._by_values[values] = found  # type: ignore[index]
        return found

    def matches(self, value: str, lookup: VariableLookup | None = None) -> bool:
        matcher = self._static if self._static is not None else self.matcher(lookup)
        return matcher is not None and bool(matcher(value))

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


_VALUES_LIMIT = 256


@lru_cache(maxsize=16384)
def _compiled_pattern(text: str, mode: str, variables: bool, ignore_case: bool) -> Pattern:
    return Pattern._build(text, mode, variables, ignore_case)


def _substitute(variable: Variable, lookup: VariableLookup | None) -> str | None:
    value = lookup(variable.key) if lookup is not None else None
    if value is None:
        return variable.default
    if isinstance(value, _NoValue):
        return None
    return value


# -- matching ------------------------------------------------------------------------------------
#
# IAM patterns have only ``*`` and ``?``. Read as a plain regex (``.*`` per star), a pattern with k
# stars can take time of the order of n**k on a crafted value (issue 17: one ARN of 1,000 slashes
# against ``b/*/*/*/*.secret`` froze the emulator for 36 s). The matching here never retries:
#
#   the text between two stars is a block of fixed length (literal characters and ``?``); the
#   first block must stand at the start, the last at the end, and each block between is placed
#   at its leftmost occurrence after the one before. Leftmost placement is always safe for ``*``
#   (a later block only needs to come after an earlier one), so a placement, once found, is final.
#
# The algorithm is run by the regex engine, in C, with that commitment spelled out: each middle
# block is an atomic group ``(?>.*?BLOCK)`` (find the leftmost occurrence, never come back to it),
# and only the last star, ``.*LAST``, is an ordinary quantifier, followed by fixed-length text
# and the end. So every match takes time linear in the value (times the pattern's length), and
# the common patterns cost what a regex costs. In ARN patterns, where wildcards stop at ``:``
# within the first five segments, each segment is one atomic group of its own.


@dataclass(frozen=True, slots=True)
class Compiled:
    """A pattern ready for matching: ``regex`` as built above (kept for inspection)."""

    regex: re.Pattern[str]
    match_all: bool  # "*": every string


# A matcher returns something true when the value matches (a regex match, or True).
Matcher = Callable[[str], object]

_ANY_STRING: Matcher = functools.partial(operator.is_not, None)  # "*": true for every string


def _glob_source(pieces: Sequence[str | Wildcard], any_char: str) -> str:
    """The regex source of one glob (no variables left): blocks between stars, committed leftmost."""
    blocks: list[list[str]] = [[]]
    for piece in pieces:
        if isinstance(piece, Wildcard) and piece.symbol == STAR:
            blocks.append([])
        elif isinstance(piece, Wildcard):
            blocks[-1].append(any_char)
        elif piece:
            blocks[-1].append(re.escape(piece))
    texts = ["".join(block) for block in blocks]
    if len(texts) == 1:
        return texts[0]
    middles = "".join(f"(?>{any_char}*?{text})" for text in texts[1:-1] if text)
    return f"{texts[0]}{middles}{any_char}*{texts[-1]}"


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


def _compile(tokens: Sequence[str | Wildcard], mode: str, ignore_case: bool) -> Compiled:
    """Tokens without variables (substituted values are literal text) compiled for matching."""
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    match_all = len(tokens) == 1 and isinstance(tokens[0], Wildcard) and tokens[0].symbol == STAR
    flagged = list(_with_segments(tokens, mode))
    if not any(isinstance(t, Wildcard) and in_segment for t, in_segment in flagged):
        # No wildcard before the fifth colon: those colons are literal, so the segment rule
        # changes nothing and the pattern is matched as a whole.
        return Compiled(_regex(_glob_source(tokens, "."), flags), match_all)
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
    source = ":".join(f"(?>{_glob_source(segment, '[^:]')})" for segment in segments[:5])
    return Compiled(_regex(f"{source}:{_glob_source(segments[5], '.')}", flags), False)


@lru_cache(maxsize=8192)
def _regex(source: str, flags: int) -> re.Pattern[str]:
    return re.compile(source, flags)


def _matcher(tokens: Sequence[str | Wildcard], mode: str, ignore_case: bool) -> Matcher:
    compiled = _compile(tokens, mode, ignore_case)
    return _ANY_STRING if compiled.match_all else compiled.regex.fullmatch


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
    return bool(_key_template(template)(key))


@lru_cache(maxsize=4096)
def _key_template(template: str) -> Matcher:
    tokens: list[str | Wildcard] = []
    position = 0
    for found in _KEY_PLACEHOLDER_RE.finditer(template):
        tokens += [template[position:found.start()], _QUESTION, _STAR]  # one or more characters
        position = found.end()
    tokens.append(template[position:])
    return _matcher(tokens, WHOLE, True)


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
