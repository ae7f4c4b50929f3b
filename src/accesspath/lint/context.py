"""What the rules look at: one parsed policy, its statements' actions resolved against the catalog once.

Rules never re-read policy JSON: they read the parsed :class:`~accesspath.policy.Policy` and this
context, which resolves every action pattern (``s3:Get*`` → the real actions) and finds every value's
source position once, so rules stay small and cannot disagree about what a statement holds.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from accesspath.policy import Node, Policy, Position, Statement

if TYPE_CHECKING:
    from accesspath.catalog import Action, ServiceCatalog

# How an action pattern resolved against the catalog.
RESOLVED = "resolved"                # names real actions (possibly through wildcards)
ALL_ACTIONS = "all"                  # "*" alone: every action (expanded only when asked)
UNKNOWN_SERVICE = "unknown-service"  # the service prefix is not a service
UNKNOWN_ACTION = "unknown-action"    # no wildcard, known service, no such action
NO_MATCH = "no-match"                # a wildcard pattern that matches no action


@dataclass(frozen=True, slots=True)
class ValueAt:
    """A string of a policy element and where it stands."""

    text: str
    position: Position | None


@dataclass(frozen=True, slots=True)
class ResolvedAction:
    """One Action/NotAction entry and the real actions it names."""

    text: str
    position: Position | None
    status: str
    actions: tuple[Action, ...]
    closest: str | None = None  # the closest real service or action, for unknown names

    @property
    def service(self) -> str:
        return self.text.partition(":")[0].lower()

    @property
    def service_has_wildcard(self) -> bool:
        return self.text == "*" or any(c in self.service for c in "*?")

    @property
    def is_full_service(self) -> bool:
        """``s3:*`` or ``*``: every action of a service (or of every service)."""
        return self.text == "*" or (not self.service_has_wildcard and self.text.partition(":")[2] == "*")


@dataclass(frozen=True, slots=True)
class StatementView:
    """A statement with its action entries resolved and its resource values positioned."""

    statement: Statement
    actions: tuple[ResolvedAction, ...]
    resources: tuple[ValueAt, ...]

    @property
    def negated_actions(self) -> bool:
        return self.statement.action.negated

    @property
    def negated_resources(self) -> bool:
        return self.statement.resource is not None and self.statement.resource.negated

    @property
    def has_bounded_actions(self) -> bool:
        """True when the statement names its actions: Action (not NotAction), no ``*`` and no
        wildcard in a service prefix, and every entry resolved. Only then can a rule say what the
        statement's actions cannot do."""
        return (not self.negated_actions and bool(self.actions)
                and all(a.status == RESOLVED and not a.service_has_wildcard for a in self.actions))

    @property
    def known_actions(self) -> tuple[Action, ...]:
        """The real actions of every resolved entry, each once, in order."""
        seen: dict[str, Action] = {}
        for entry in self.actions:
            for action in entry.actions:
                seen.setdefault(action.full_name, action)
        return tuple(seen.values())

    @property
    def applies_to_all_resources(self) -> bool:
        return (self.statement.resource is not None and not self.negated_resources
                and any(p.text == "*" for p in self.statement.resource.patterns))


class PolicyContext:
    """One policy under validation: where it came from and its statements, resolved once."""

    def __init__(self, policy: Policy, *, file: str | None, policy_id: str,
                 unresolved: Iterable[Position] = (), catalog: ServiceCatalog | None = None) -> None:
        self.policy = policy
        self.file = file
        self.policy_id = policy_id
        # Positions of template values not known offline; parser issues there are not the user's.
        self.unresolved = frozenset(unresolved)
        self._catalog = catalog

    @property
    def catalog(self) -> ServiceCatalog:
        if self._catalog is None:
            from accesspath.catalog import get_catalog

            self._catalog = get_catalog()
        return self._catalog

    @functools.cached_property
    def statements(self) -> tuple[StatementView, ...]:
        return tuple(self._view(statement) for statement in self.policy.statements)

    def _view(self, statement: Statement) -> StatementView:
        node = _statement_node(self.policy.document, statement.index)
        block = statement.action
        action_values = _positioned(node, "NotAction" if block.negated else "Action",
                                    block.texts, block.position)
        actions = tuple(self._resolve(value) for value in action_values)
        resources: tuple[ValueAt, ...] = ()
        if statement.resource is not None:
            rblock = statement.resource
            resources = _positioned(node, "NotResource" if rblock.negated else "Resource",
                                    rblock.texts, rblock.position)
        return StatementView(statement, actions, resources)

    def _resolve(self, value: ValueAt) -> ResolvedAction:
        text = value.text
        if text == "*":
            return ResolvedAction(text, value.position, ALL_ACTIONS, ())
        return _resolve_pattern(self.catalog, text, value.position)


def _resolve_pattern(catalog: ServiceCatalog, text: str, position: Position | None) -> ResolvedAction:
    from accesspath.catalog import expand_action_pattern

    prefix, _, name = text.partition(":")
    wild_prefix = any(c in prefix for c in "*?")
    if not wild_prefix and not catalog.has_service(prefix):
        return ResolvedAction(text, position, UNKNOWN_SERVICE, (), catalog.closest_service(prefix))
    if not wild_prefix and not any(c in name for c in "*?"):
        found = catalog.find_action(text)
        if found is None:
            return ResolvedAction(text, position, UNKNOWN_ACTION, (), catalog.closest_action(text))
        return ResolvedAction(text, position, RESOLVED, (found,))
    expanded = expand_action_pattern(text, catalog)
    return ResolvedAction(text, position, RESOLVED if expanded else NO_MATCH, expanded)


def _first_member(node: Node | None, key: str) -> Node | None:
    # The parser keeps the first of duplicate keys (and reports the others), so do we.
    if node is None or not node.is_object:
        return None
    for member in node.value:
        if member.key == key:
            return member.value
    return None


def _statement_node(document: Node | None, index: int) -> Node | None:
    statements = _first_member(document, "Statement")
    if statements is None:
        return None
    if statements.is_object:
        return statements if index == 0 else None
    if statements.is_array and index < len(statements.value):
        return statements.value[index]
    return None


def _positioned(statement: Node | None, element: str, texts: tuple[str, ...],
                fallback: Position | None) -> tuple[ValueAt, ...]:
    """Pair each parsed value with the position of the string it came from.

    The parser drops values it rejects, so values are matched by text, in order.
    """
    node = _first_member(statement, element)
    written: list[tuple[str, Position | None]] = []
    if node is not None:
        items = node.value if node.is_array else (node,)
        written = [(item.value, item.start) for item in items if isinstance(item.value, str)]
    out: list[ValueAt] = []
    cursor = 0
    for text in texts:
        position = fallback
        for offset in range(cursor, len(written)):
            if written[offset][0] == text:
                position = written[offset][1] or fallback
                cursor = offset + 1
                break
        out.append(ValueAt(text, position))
    return tuple(out)
