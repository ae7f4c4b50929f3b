"""The Conditions section: Fn::Equals, Fn::Not, Fn::And, Fn::Or and Condition references.

Conditions are evaluated once, lazily, with an explicit visiting list so that a condition that
refers to itself (directly or through others) is a :class:`CircularReferenceError`, never a hang.
An operand that cannot be resolved makes the condition a :class:`Symbolic` value, except where
the result does not depend on it (``Fn::And`` with a false operand, ``Fn::Or`` with a true one).
(intrinsic-function-reference-conditions.md)
"""

from __future__ import annotations

from collections.abc import Mapping

from accesspath.cfn.errors import CircularReferenceError
from accesspath.cfn.intrinsics import IntrinsicResolver, as_text, intrinsic
from accesspath.cfn.model import Symbolic
from accesspath.policy.source import Member, Node

Decision = bool | Symbolic


class ConditionEvaluator:
    def __init__(self, declarations: Mapping[str, Member], resolver: IntrinsicResolver) -> None:
        self.declarations = declarations
        self.resolver = resolver
        self.decided: dict[str, Decision] = {}
        self._visiting: list[str] = []

    def evaluate_all(self) -> dict[str, Decision]:
        for name, member in self.declarations.items():
            self.evaluate(name, member.value)
        return dict(self.decided)

    def evaluate(self, name: str, at: Node) -> Decision:
        if name in self.decided:
            return self.decided[name]
        member = self.declarations.get(name)
        if member is None:
            node = self.resolver.fail("unknown-condition", f"'{name}' is not a condition of this template", at)
            return node.value  # type: ignore[no-any-return]
        if name in self._visiting:
            cycle = self._visiting[self._visiting.index(name):] + [name]
            first = self.declarations[cycle[0]]
            raise CircularReferenceError(
                "circular reference between conditions: " + " -> ".join(f"'{n}'" for n in cycle),
                first.key_start or first.value.start)
        self._visiting.append(name)
        try:
            decision = self.expression(member.value)
        finally:
            self._visiting.pop()
        self.decided[name] = decision
        return decision

    def expression(self, node: Node) -> Decision:
        found = intrinsic(node)
        if found is None and node.is_object and len(node.value) == 1 and node.value[0].key == "Condition":
            reference = node.value[0].value
            if isinstance(reference.value, str):
                return self.evaluate(reference.value, reference)
        if found is None:
            return self._bad(node, "a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or {Condition: name}")
        name, argument = found
        if name == "Fn::Equals":
            if not argument.is_array or len(argument.value) != 2:
                return self._bad(node, "Fn::Equals takes [value, value]")
            left, right = (self.resolver.resolve_required(item) for item in argument.value)
            for side in (left, right):
                if isinstance(side.value, Symbolic):
                    return side.value
            return _comparable(left) == _comparable(right)
        if name == "Fn::Not":
            if not argument.is_array or len(argument.value) != 1:
                return self._bad(node, "Fn::Not takes [condition]")
            inner = self.expression(argument.value[0])
            return inner if isinstance(inner, Symbolic) else not inner
        if name in ("Fn::And", "Fn::Or"):
            if not argument.is_array or not 2 <= len(argument.value) <= 10:
                return self._bad(node, f"{name} takes a list of 2 to 10 conditions")
            decisive = name == "Fn::Or"  # the operand value that decides the result on its own
            unknown: Symbolic | None = None
            for item in argument.value:
                value = self.expression(item)
                if isinstance(value, Symbolic):
                    unknown = unknown or value
                elif value is decisive:
                    return decisive
            return unknown if unknown is not None else not decisive
        if name == "Fn::If":
            return self._bad(node, "Fn::If cannot be used as a condition")
        resolved = self.resolver.resolve_required(node)
        if isinstance(resolved.value, Symbolic):
            return resolved.value
        text = as_text(resolved)
        if text in ("true", "false"):
            return text == "true"
        return self._bad(node, f"'{name}' does not give a condition")

    def _bad(self, node: Node, message: str) -> Symbolic:
        return self.resolver.fail("bad-condition", message, node).value  # type: ignore[no-any-return]


def _comparable(node: Node) -> object:
    if node.is_array:
        return tuple(_comparable(item) for item in node.value)
    if node.is_object:
        return tuple((m.key, _comparable(m.value)) for m in node.value)
    return as_text(node)
