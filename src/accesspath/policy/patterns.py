"""Strings from policies that may hold wildcards and policy variables.

A policy string is parsed once into tokens: literal text, ``*``, ``?`` and ``${variable}``.
Matching compiles the tokens into a regular expression; variables are substituted per request
and always inserted literally (a ``*`` inside a user name is not a wildcard).

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
from collections.abc import Callable
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
_DEFAULT_RE = re.compile(r"^\s*([^,]+?)\s*,\s*'([^']*)'\s*$")


def tokenize(text: str, *, variables: bool, wildcards: bool) -> tuple[str | Variable | Wildcard, ...]:
    """Split ``text`` into literal strings, :class:`Wildcard` and :class:`Variable` tokens."""
    tokens: list[str | Variable | Wildcard] = []
    literal: list[str] = []

    def add_literal(chunk: str) -> None:
        if not wildcards:
            literal.append(chunk)
            return
        for ch in chunk:
            if ch == STAR or ch == QUESTION:
                if literal:
                    tokens.append("".join(literal))
                    literal.clear()
                tokens.append(_STAR if ch == STAR else _QUESTION)
            else:
                literal.append(ch)

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
    _static: re.Pattern[str] | None
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
            source = _regex_source(tokens, mode, None)
            assert source is not None
            static = _compiled(source, ignore_case)
        variables_found = tuple(t for t in tokens if isinstance(t, Variable))
        return cls(text, tokens, mode, ignore_case, has_variables, static, variables_found)

    def regex(self, lookup: VariableLookup | None) -> re.Pattern[str] | None:
        """The regex for this request, or None when a variable has no value."""
        if self._static is not None:
            return self._static
        values = tuple(_substitute(v, lookup) for v in self.variables)
        if None in values:
            return None
        return _regex_with_values(self.tokens, self.mode, self.ignore_case, values)  # type: ignore[arg-type]

    def matches(self, value: str, lookup: VariableLookup | None = None) -> bool:
        regex = self._static if self._static is not None else self.regex(lookup)
        return regex is not None and regex.fullmatch(value) is not None

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


def _regex_source(tokens: tuple[str | Variable | Wildcard, ...], mode: str,
                  lookup: VariableLookup | None, known: dict[Variable, str] | None = None) -> str | None:
    segment_aware = mode == ARN and _literal_colons(tokens) >= 5
    colons = 0
    out: list[str] = []
    for token in tokens:
        if isinstance(token, Wildcard):
            within_segment = segment_aware and colons < 5
            if token.symbol == STAR:
                out.append("[^:]*" if within_segment else ".*")
            else:
                out.append("[^:]" if within_segment else ".")
        elif isinstance(token, Variable):
            value = known[token] if known is not None and token in known else _substitute(token, lookup)
            if value is None:
                return None
            out.append(re.escape(value))
        else:
            out.append(re.escape(token))
            if segment_aware:
                colons += token.count(":")
    return "".join(out)


@lru_cache(maxsize=8192)
def _regex_with_values(tokens: tuple[str | Variable | Wildcard, ...], mode: str, ignore_case: bool,
                       values: tuple[str, ...]) -> re.Pattern[str]:
    by_variable = dict(zip((t for t in tokens if isinstance(t, Variable)), values))
    source = _regex_source(tokens, mode, lambda key: None, by_variable)
    assert source is not None
    return _compiled(source, ignore_case)


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


def _literal_colons(tokens: tuple[str | Variable | Wildcard, ...]) -> int:
    return sum(t.count(":") for t in tokens if isinstance(t, str))


@lru_cache(maxsize=8192)
def _compiled(source: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(source, re.DOTALL | (re.IGNORECASE if ignore_case else 0))
