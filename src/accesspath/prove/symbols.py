"""The symbolic request: the resource and the context keys a proof leaves open, as z3 terms.

A request in a proof has a concrete caller and action (the action universe is finite: the catalog's
actions, grouped into classes the policies cannot tell apart, see ``prove.actions``) and a symbolic
resource and context. Each context key is either *fixed* (the environment and the path set it, or
it is absent, exactly as :class:`accesspath.environment.decide.Decider` would send it) or *free*:
any values a caller could send, including none.

A free key holds up to ``bound`` values. That bound is exact, not a sample: a condition on a key
is an "any value" or "every value" test (reference_policies_condition-single-vs-multi-valued-
context-keys.md), and a boolean combination of n such tests that some set of values satisfies is
satisfied by a subset of at most n + 1 of them (one witness per "any" test that holds, one
counterexample per "every" test that fails, one value to keep the key present).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import z3

from accesspath.engine.request import ContextValue

# How a free key's values are represented, by the operator family reading them.
STRING, NUMERIC, DATE, IP, BINARY = "string", "numeric", "date", "ip", "binary"
# Numbers are decimals with up to nine digits after the point; dates are epoch seconds to the
# microsecond (finer fractions are beyond the engine's floating-point dates anyway).
SCALE = {"numeric": 10**9, "date": 10**6}
# Bool values are read as text (compared lowercased with the policy's true/false), as strings are.
_REPRESENTATION = {"string": STRING, "arn": STRING, "bool": STRING, "numeric": NUMERIC, "date": DATE,
                   "ip": IP, "binary": BINARY}


class Unsupported(Exception):
    """Something the encoding cannot express: the answer is ``unknown``, never ``proved``."""


def representation(family: str) -> str | None:
    """The value representation an operator family reads (None for Null, which reads no value)."""
    return _REPRESENTATION.get(family)


@dataclass
class FreeValue:
    """One value of a free key: its text (strings), or its parsed form and whether it fails to parse."""

    text: z3.SeqRef | None = None
    number: z3.ArithRef | None = None
    address: z3.BitVecRef | None = None
    is_v6: z3.BoolRef | None = None
    malformed: z3.BoolRef | None = None
    scaled: z3.ArithRef | None = None   # numbers and dates: the value times SCALE[kind], an integer


@dataclass
class FreeKey:
    """A context key the request may set to any values: ``count`` of them (0 = absent)."""

    name: str
    kind: str
    count: z3.ArithRef
    values: tuple[FreeValue, ...]
    presence_only: bool = False     # made for a Null test: its values may still take any representation

    def present(self) -> z3.BoolRef:
        return self.count >= 1

    def value_in_use(self, index: int) -> z3.BoolRef:
        return self.count > index


@dataclass
class SymbolicContext:
    """Fixed keys (lowercased name → value, or None for absent) and free keys made on first use."""

    fixed: Mapping[str, ContextValue | None]
    bounds: Mapping[str, int]
    multivalued: frozenset[str]
    prefix: str = "k"
    free: dict[str, FreeKey] = field(default_factory=dict)
    constraints: list[z3.BoolRef] = field(default_factory=list)
    linked: dict[str, z3.SeqRef] = field(default_factory=dict)
    excluded: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def link(self, key_lower: str, term: z3.SeqRef) -> None:
        """The key is present with one value: ``term`` (e.g. aws:ResourceAccount, the ARN's account)."""
        self.linked[key_lower] = term

    def exclude(self, key_lower: str, values: tuple[str, ...]) -> None:
        """A free key whose values are never one of ``values`` (an outsider's organization is not ours)."""
        self.excluded[key_lower] = values

    def is_fixed(self, key_lower: str) -> bool:
        return key_lower not in self.linked and key_lower in self.fixed

    def fixed_value(self, key_lower: str) -> ContextValue | None:
        return self.fixed.get(key_lower)

    def free_key(self, key_lower: str, family: str) -> FreeKey:
        kind = representation(family)
        presence_only = kind is None
        if kind is None:  # Null reads only presence; give the key the representation others use
            kind = self.free[key_lower].kind if key_lower in self.free else STRING
        if key_lower in self.linked:
            if kind != STRING:
                raise Unsupported(f"the context key '{key_lower}' is read as {kind}; its value is an account id")
            if key_lower not in self.free:
                self.free[key_lower] = FreeKey(key_lower, STRING, z3.IntVal(1), (FreeValue(text=self.linked[key_lower]),))
        found = self.free.get(key_lower)
        if found is not None and found.presence_only and not presence_only and found.kind != kind:
            # Only a Null test read the key so far: give its values the representation now asked for.
            values = tuple(self._value(f"{self.prefix}!{key_lower}#{i}~{kind}", kind) for i in range(len(found.values)))
            found = self.free[key_lower] = FreeKey(key_lower, kind, found.count, values)
        if found is not None:
            if not presence_only:
                found.presence_only = False
            if found.kind != kind:
                raise Unsupported(f"the context key '{key_lower}' is read both as {found.kind} and as {kind}:"
                                  " the encoding does not relate a value's text to its parsed form")
            return found
        size = self.bounds.get(key_lower, 1) if key_lower in self.multivalued else 1
        name = f"{self.prefix}!{key_lower}"
        count = z3.Int(f"{name}#count")
        self.constraints.append(z3.And(count >= 0, count <= size))
        values = tuple(self._value(f"{name}#{i}", kind) for i in range(size))
        for i, value in enumerate(values):
            for excluded in self.excluded.get(key_lower, ()):
                if value.text is not None:
                    self.constraints.append(z3.Implies(count > i, value.text != z3.StringVal(excluded)))
        key = FreeKey(key_lower, kind, count, values, presence_only)
        self.free[key_lower] = key
        return key

    def _value(self, name: str, kind: str) -> FreeValue:
        if kind == STRING:
            return FreeValue(text=z3.String(name))
        malformed = z3.Bool(f"{name}#malformed")
        if kind in (NUMERIC, DATE):
            # A decimal with at most SCALE digits after the point, so a witness can be written out.
            scaled = z3.Int(name)
            return FreeValue(number=z3.ToReal(scaled) / z3.RealVal(SCALE[kind]), scaled=scaled, malformed=malformed)
        if kind == IP:
            address = z3.BitVec(name, 128)
            is_v6 = z3.Bool(f"{name}#v6")
            self.constraints.append(z3.Or(is_v6, z3.Extract(127, 32, address) == 0))
            return FreeValue(address=address, is_v6=is_v6, malformed=malformed)
        return FreeValue(text=z3.String(name), malformed=malformed)  # binary: the decoded bytes as text
