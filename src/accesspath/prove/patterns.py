"""Policy strings as z3 regular expressions, read exactly as the engine reads them.

A :class:`~accesspath.policy.patterns.Pattern` is a sequence of literal text, ``*``, ``?`` and
policy variables. Wildcards span any character, except in the first five segments of an ARN
pattern, where they stay within one segment (reference_policies_elements_resource.md); variables
are inserted literally (reference_policies_variables.md). Case-insensitive patterns accept, for
each letter, every character the engine would take for it: the table is computed from Python's
own case mapping, which is what the engine uses.
"""

from __future__ import annotations

import functools
import re
import sys

import z3

from accesspath.policy.patterns import LITERAL, Pattern, Variable, VariableLookup, Wildcard, _NoValue
from accesspath.prove.symbols import Unsupported

_RE = z3.ReSort(z3.StringSort())


def any_char() -> z3.ReRef:
    return z3.AllChar(_RE)


def char_except(excluded: str) -> z3.ReRef:
    """One character other than those in ``excluded``, as ranges (the solver handles ranges far better
    than complements)."""
    ranges = []
    low = 0
    for code in sorted(ord(c) for c in excluded):
        if code > low:
            ranges.append(z3.Range(_char(low), _char(code - 1)))
        low = code + 1
    ranges.append(z3.Range(_char(low), _char(_MAX_CHAR)))
    return ranges[0] if len(ranges) == 1 else z3.Union(*ranges)


# z3's strings hold code points up to this one (its default "unicode" encoding).
_MAX_CHAR = 0x2FFFF


def _char(code: int) -> z3.SeqRef:
    return z3.StringVal(f"\\u{{{code:x}}}")


def literal(text: str, *, ignore_case: bool = False, folding: str = "regex") -> z3.ReRef:
    """``text`` exactly, or case-insensitively (``folding``: "regex" as re.IGNORECASE compares,
    "lower" as ``str.lower`` equality compares)."""
    if not text:
        return z3.Re(z3.StringVal(""))
    if not ignore_case:
        return z3.Re(z3.StringVal(text))
    parts = []
    for ch in text:
        variants = _case_variants(ch, folding)
        parts.append(z3.Re(z3.StringVal(ch)) if len(variants) == 1
                     else z3.Union(*[z3.Re(z3.StringVal(v)) for v in variants]))
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


def pattern_regex(pattern: Pattern, lookup: VariableLookup | None) -> z3.ReRef | None:
    """The set of strings ``pattern`` matches for a request with these variable values, or None
    when a variable has no value (the pattern then matches nothing, as in the engine).

    ``lookup`` must give concrete values: a variable bound to a free context key is not expressible.
    """
    tokens = pattern.tokens
    in_segment = iter([stays for _, stays in pattern.wildcards()])  # the matcher's own segment rule
    folding = "regex"
    parts: list[z3.ReRef] = []
    for token in tokens:
        if isinstance(token, Wildcard):
            one = char_except(":") if next(in_segment) else any_char()
            parts.append(z3.Star(one) if token.symbol == "*" else one)
        elif isinstance(token, Variable):
            value = _variable_value(token, lookup)
            if value is None:
                return None
            parts.append(literal(value, ignore_case=pattern.ignore_case, folding=folding))
        else:
            parts.append(literal(token, ignore_case=pattern.ignore_case, folding=folding))
    if not parts:
        return z3.Re(z3.StringVal(""))
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


def literal_texts_regex(texts: list[str], *, fold: bool) -> z3.ReRef:
    """Strings equal to one of ``texts`` (``fold``: after ``str.lower`` on the request value)."""
    return z3.Union(*[literal(t, ignore_case=fold, folding="lower") for t in texts]) if len(texts) > 1 \
        else literal(texts[0], ignore_case=fold, folding="lower")


def uses_wildcards(pattern: Pattern) -> bool:
    return pattern.mode != LITERAL and any(isinstance(t, Wildcard) for t in pattern.tokens)


def _variable_value(variable: Variable, lookup: VariableLookup | None) -> str | None:
    if lookup is None:
        return variable.default
    value = lookup(variable.key)
    if value is None:
        return variable.default
    if not isinstance(value, str):  # present but multivalued: no value, no default
        return None
    return value


class FreeVariableLookup:
    """A lookup for fixed keys that refuses keys left free (their value is a term, not a string)."""

    def __init__(self, fixed_lookup: VariableLookup, is_fixed: object) -> None:
        self._lookup = fixed_lookup
        self._is_fixed = is_fixed

    def __call__(self, key: str) -> str | _NoValue | None:
        if not self._is_fixed(key):  # type: ignore[operator]
            raise Unsupported(f"a policy variable '${{{key}}}' takes its value from a context key the proof leaves"
                              " free")
        return self._lookup(key)


@functools.lru_cache(maxsize=1)
def _case_table() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """Characters grouped by ``str.lower`` and by ``str.upper`` (one-character results only)."""
    by_lower: dict[str, set[str]] = {}
    by_upper: dict[str, set[str]] = {}
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        ch = chr(code)
        lower, upper = ch.lower(), ch.upper()
        if lower != ch or upper != ch:
            if len(lower) == 1:
                by_lower.setdefault(lower, set()).add(ch)
            if len(upper) == 1:
                by_upper.setdefault(upper, set()).add(ch)
    return ({k: frozenset(v | {k}) for k, v in by_lower.items()},
            {k: frozenset(v | {k}) for k, v in by_upper.items()})


@functools.lru_cache(maxsize=4096)
def _case_variants(ch: str, folding: str) -> tuple[str, ...]:
    """Every character the engine treats as equal to ``ch`` when it ignores case."""
    by_lower, by_upper = _case_table()
    candidates = {ch} | by_lower.get(ch.lower(), frozenset()) | by_upper.get(ch.upper(), frozenset())
    for other in list(candidates):
        candidates |= by_lower.get(other.lower(), frozenset()) | by_upper.get(other.upper(), frozenset())
    if folding == "lower":
        # ``value.lower() == text`` where ``text`` is already lowered; a character whose lower form is
        # two characters (U+0130) is outside this encoding.
        if len(ch.lower()) != 1:
            raise Unsupported(f"the character {ch!r} lowercases to two characters")
        found = sorted(c for c in candidates if c.lower() == ch.lower())
    else:
        expression = re.compile(re.escape(ch), re.IGNORECASE | re.DOTALL)
        found = sorted(c for c in candidates if expression.fullmatch(c))
    return tuple(found)
