"""What accesspath was not given, kept local to what depends on it.

A value the templates do not resolve (an import no loaded stack exports, a parameter without a
value, a ``Fn::GetAtt`` on a resource of another stack), a managed policy, a role or a key policy
defined outside the inputs: each is an :class:`Unknown`. A policy that holds one is a
:class:`PolicyWithUnknowns`: besides what was parsed (shown and linted as before), it carries two
bounds on what the real policy can do:

- ``permissive``: every statement that holds an unknown value applies if it allows and does not
  apply if it denies (an unknown value is read as matching everything in ``Principal``, ``Action``
  and ``Resource``, as matching nothing in their ``Not`` forms, and a condition that holds one is
  read as true);
- ``restrictive``: the other way round.

IAM's evaluation is monotone in each statement (an Allow that matches more never allows less; a
Deny that matches more never allows more: reference_policies_evaluation-logic.md), so a request
that both bounds decide alike is decided exactly; otherwise the decision is ``undetermined`` and
names the unknowns. Statements that hold no unknown value are the same in both bounds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

from accesspath.cfn.model import Symbolic
from accesspath.policy import Node, Policy, PolicyType, Position, parse_policy
from accesspath.policy.source import Member

# A statement that matches no request: what a bound keeps when it drops every statement (an empty
# Statement list is malformed, and a malformed policy would change the gate's answer).
_NO_ACTION = "accesspath:NoActionMatchesThis"


@dataclass(frozen=True, slots=True)
class Unknown:
    """Something a decision may depend on that accesspath was not given, and how to give it."""

    what: str           # "the value of Fn::ImportValue 'shared-KeyArn' (no loaded stack exports it)"
    supply: str         # "load the template that exports it, or give --import NAME=VALUE"
    position: Position | None = None

    def __str__(self) -> str:
        where = f"{self.position}: " if self.position is not None else ""
        return f"{where}{self.what} ({self.supply})"


@dataclass(frozen=True, slots=True)
class PolicyWithUnknowns(Policy):
    """A policy part of which accesspath does not know; :class:`Decider` decides on both bounds."""

    permissive: Policy | None = None
    restrictive: Policy | None = None
    unknowns: tuple[Unknown, ...] = ()


def has_unknowns(policy: Policy | None) -> bool:
    return isinstance(policy, PolicyWithUnknowns) and bool(policy.unknowns)


def bound(policy: Policy, permissive: bool) -> Policy:
    """The permissive or restrictive bound of ``policy`` (itself when it holds no unknown)."""
    if isinstance(policy, PolicyWithUnknowns):
        chosen = policy.permissive if permissive else policy.restrictive
        return chosen if chosen is not None else policy
    return policy


def unknowns_of(policies: Iterable[Policy | None]) -> tuple[Unknown, ...]:
    out: dict[str, Unknown] = {}
    for policy in policies:
        if isinstance(policy, PolicyWithUnknowns):
            for unknown in policy.unknowns:
                out.setdefault(str(unknown), unknown)
    return tuple(out.values())


def supply_hint(reason: str) -> str:
    """How to give accesspath an unresolved template value, from the loader's reason."""
    lowered = reason.lower()
    if "terraform plan" in lowered:
        return "give the state after 'terraform apply' (terraform show -json), where the value is known"
    if "importvalue" in lowered or "export" in lowered:
        return "load the template that exports it, or give --import NAME=VALUE"
    if "parameter" in lowered:
        return "give the parameter with --param NAME=VALUE"
    return "load the template that defines it, or give the value with --param"


def _with_bounds(policy: Policy, permissive: Policy, restrictive: Policy,
                 unknowns: tuple[Unknown, ...]) -> PolicyWithUnknowns:
    values = {f.name: getattr(policy, f.name) for f in fields(Policy)}
    return PolicyWithUnknowns(**values, permissive=permissive, restrictive=restrictive, unknowns=unknowns)


def unknown_policy(policy_id: str, policy_type: PolicyType, unknown: Unknown) -> PolicyWithUnknowns:
    """A whole policy accesspath was not given: it may allow everything, or deny everything."""
    shown = parse_policy({"Version": "2012-10-17", "Statement": [_filler(policy_type)]},
                         policy_type=policy_type, policy_id=policy_id)
    return _with_bounds(shown, _everything(policy_type, "Allow", policy_id),
                        _everything(policy_type, "Deny", policy_id), (unknown,))


def policy_from_template(node: Node, *, policy_type: PolicyType, policy_id: str, source: str | None,
                         attachment: str | None = None) -> Policy:
    """Parse a policy document of a template; one that holds unresolved values gets its two bounds.

    ``attachment`` names the AWS size limit that applies (accesspath.policy.limits)."""
    policy = parse_policy(node, policy_type=policy_type, policy_id=policy_id, source=source, attachment=attachment)
    found = list(_symbolics(node))
    if not found:
        return policy
    unknowns = tuple(dict.fromkeys(
        Unknown(f"the value of {s.reason}", supply_hint(s.reason), s.position or at) for s, at in found))
    if isinstance(node.value, Symbolic):
        return _with_bounds(policy, _everything(policy_type, "Allow", policy_id),
                            _everything(policy_type, "Deny", policy_id), unknowns)
    permissive = _bound_document(node, policy_type, permissive=True)
    restrictive = _bound_document(node, policy_type, permissive=False)
    return _with_bounds(
        policy,
        # The bounds keep the policy's name: the statements they keep are the template's own.
        parse_policy(permissive, policy_type=policy_type, policy_id=policy_id, source=source, attachment=attachment),
        parse_policy(restrictive, policy_type=policy_type, policy_id=policy_id, source=source, attachment=attachment),
        unknowns)


# -- building the bounds ----------------------------------------------------------------------

def _symbolics(node: Node) -> Iterable[tuple[Symbolic, Position | None]]:
    if isinstance(node.value, Symbolic):
        yield node.value, node.start
    elif node.is_object:
        for member in node.value:
            yield from _symbolics(member.value)
    elif node.is_array:
        for item in node.value:
            yield from _symbolics(item)


def _holds_symbolic(node: Node | None) -> bool:
    return node is not None and next(iter(_symbolics(node)), None) is not None


def _bound_document(root: Node, policy_type: PolicyType, *, permissive: bool) -> Node:
    if not root.is_object:
        return root
    members = []
    for member in root.value:
        if member.key != "Statement":
            members.append(member)
            continue
        statements = member.value
        if isinstance(statements.value, Symbolic):
            items: tuple[Node, ...] = (_as_node(_everything_statement(policy_type, "Allow" if permissive else "Deny"),
                                                statements.start),)
        elif statements.is_array:
            items = tuple(kept for item in statements.value
                          for kept in _bound_statement(item, policy_type, permissive))
        else:
            items = tuple(_bound_statement(statements, policy_type, permissive))
        if not items:
            items = (_as_node(_filler(policy_type), statements.start),)
        members.append(Member("Statement", Node(items, statements.start, statements.end, "array"), member.key_start))
    return Node(tuple(members), root.start, root.end, "object")


def _bound_statement(statement: Node, policy_type: PolicyType, permissive: bool) -> Iterable[Node]:
    if isinstance(statement.value, Symbolic):
        yield _as_node(_everything_statement(policy_type, "Allow" if permissive else "Deny"), statement.start)
        return
    if not statement.is_object or not _holds_symbolic(statement):
        yield statement
        return
    effect = statement.member("Effect")
    if effect is not None and isinstance(effect.value, Symbolic):
        effect_text = "Allow" if permissive else "Deny"
    else:
        effect_text = effect.value if effect is not None and isinstance(effect.value, str) else "Allow"
    # The permissive bound lets an Allow apply and keeps a Deny from applying; the restrictive one
    # the other way round. A statement that does not apply is dropped.
    applies = (effect_text == "Allow") == permissive
    if not applies:
        # In its place a statement that matches nothing, so the others keep their Statement[i] labels.
        yield _as_node(_filler(policy_type), statement.start)
        return
    members: list[Member] = []
    for member in statement.value:
        key, value = member.key, member.value
        if key == "Effect":
            members.append(Member(key, Node(effect_text, value.start, value.end), member.key_start))
        elif not _holds_symbolic(value):
            members.append(member)
        elif key in ("Principal", "Action", "Resource"):
            members.append(Member(key, Node("*", value.start, value.end), member.key_start))
        elif key in ("NotPrincipal", "NotAction", "NotResource"):
            # Fewer exclusions match more requests; none left means the positive form's "*".
            kept = _without_symbolics(value)
            if kept is None:
                members.append(Member(key.removeprefix("Not"), Node("*", value.start, value.end), member.key_start))
            else:
                members.append(Member(key, kept, member.key_start))
        elif key == "Condition":
            kept = _condition_without_symbolics(value)
            if kept is not None:
                members.append(Member(key, kept, member.key_start))
        # Sid and anything else holding an unknown value is left out of the bound.
    yield Node(tuple(members), statement.start, statement.end, "object")


def _without_symbolics(node: Node) -> Node | None:
    """The value with its unresolved entries removed; None when nothing is left."""
    if isinstance(node.value, Symbolic):
        return None
    if node.is_array:
        items = tuple(item for item in node.value if not isinstance(item.value, Symbolic))
        return Node(items, node.start, node.end, "array") if items else None
    if node.is_object:  # a Principal block: {"AWS": [...], "Service": ...}
        members = tuple(Member(m.key, kept, m.key_start) for m in node.value
                        if (kept := _without_symbolics(m.value)) is not None)
        return Node(members, node.start, node.end, "object") if members else None
    return node


def _condition_without_symbolics(condition: Node) -> Node | None:
    """A condition block without the clauses that hold unknown values (read as true)."""
    if isinstance(condition.value, Symbolic) or not condition.is_object:
        return None
    operators = []
    for operator in condition.value:
        block = operator.value
        if isinstance(block.value, Symbolic):
            continue
        if block.is_object:
            clauses = tuple(m for m in block.value if not _holds_symbolic(m.value))
            if clauses:
                operators.append(Member(operator.key, Node(clauses, block.start, block.end, "object"),
                                        operator.key_start))
        else:
            operators.append(operator)
    return Node(tuple(operators), condition.start, condition.end, "object") if operators else None


def _everything_statement(policy_type: PolicyType, effect: str) -> dict[str, object]:
    statement: dict[str, object] = {"Effect": effect, "Action": "*", "Resource": "*"}
    if policy_type.takes_principal:
        statement["Principal"] = "*"
    return statement


def _filler(policy_type: PolicyType) -> dict[str, object]:
    statement: dict[str, object] = {"Effect": "Allow", "Action": _NO_ACTION, "Resource": "*"}
    if policy_type.takes_principal:
        statement["Principal"] = "*"
    return statement


def _everything(policy_type: PolicyType, effect: str, policy_id: str) -> Policy:
    bound_name = "permissive" if effect == "Allow" else "restrictive"
    return parse_policy({"Version": "2012-10-17", "Statement": [_everything_statement(policy_type, effect)]},
                        policy_type=policy_type, policy_id=f"{policy_id} ({bound_name} bound)")


def _as_node(value: dict[str, object], at: Position | None) -> Node:
    from accesspath.policy.source import node_from_python

    return node_from_python(value, at)
