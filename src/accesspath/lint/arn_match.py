"""Can a policy's Resource pattern ever match an ARN of a given resource type?

Both sides are turned into sequences of character classes, each taken once or any number of times:
the policy pattern exactly as the engine reads it (``*`` and ``?`` stay within one segment before
the fifth colon and span everything after it, reference_policies_elements_resource.md, as
:meth:`accesspath.policy.patterns.Pattern.wildcards` says; a policy
variable may hold anything), and the resource type's ARN template *over-approximated* (each
placeholder accepts at least every value AWS allows, see
:mod:`accesspath.catalog.arn_templates`). Whether the two languages share a string is then a
reachability question on the product of the two automata. Because the template side only ever
grows, "no common string" is a proof: the rule built on this reports only what can never match.
"""

from __future__ import annotations

import functools
import re
import string
from collections import deque
from dataclasses import dataclass

from accesspath.policy.patterns import STAR, Pattern, Variable, Wildcard


@dataclass(frozen=True, slots=True)
class CharClass:
    """``chars`` when ``positive``, else every character except ``chars``."""

    positive: bool
    chars: frozenset[str]

    def meets(self, other: CharClass) -> bool:
        """Whether some character is in both classes (the alphabet is unbounded)."""
        if self.positive and other.positive:
            return bool(self.chars & other.chars)
        if self.positive:
            return bool(self.chars - other.chars)
        if other.positive:
            return bool(other.chars - self.chars)
        return True


@dataclass(frozen=True, slots=True)
class Item:
    """One character of ``cls``, or any number of them when ``repeat``."""

    cls: CharClass
    repeat: bool


Items = tuple[Item, ...]

_ANY = CharClass(False, frozenset())
_NOT_COLON = CharClass(False, frozenset(":"))
_NOT_COLON_SLASH = CharClass(False, frozenset(":/"))
_LOWER_DIGIT_DASH = CharClass(True, frozenset(string.ascii_lowercase + string.digits + "-"))
_ACCOUNT_CHARS = CharClass(True, frozenset(string.digits + "aws"))
_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def _literal(text: str) -> list[Item]:
    return [Item(CharClass(True, frozenset(ch)), False) for ch in text]


def _one_or_more(cls: CharClass) -> list[Item]:
    return [Item(cls, False), Item(cls, True)]


def pattern_items(pattern: Pattern) -> Items:
    """The strings a Resource pattern matches, for any values of its policy variables."""
    in_segment = iter([stays for _, stays in pattern.wildcards()])  # the matcher's own segment rule
    items: list[Item] = []
    for token in pattern.tokens:
        if isinstance(token, Wildcard):
            cls = _NOT_COLON if next(in_segment) else _ANY
            items.append(Item(cls, token.symbol == STAR))
        elif isinstance(token, Variable):
            items.append(Item(_ANY, True))  # a variable's value is not known here
        else:
            items.extend(_literal(token))
    return tuple(items)


def _placeholder_items(name: str, next_literal: str) -> list[Item]:
    from accesspath.catalog.arn_templates import placeholder_regex

    # Over-approximations of arn_templates' fixed placeholders: supersets of what they accept.
    if name == "Partition":
        return _literal("aws") + [Item(_LOWER_DIGIT_DASH, True)]
    if name == "Region":
        return _one_or_more(_LOWER_DIGIT_DASH)
    if name == "Account":
        return _one_or_more(_ACCOUNT_CHARS)
    regex = placeholder_regex(name, next_literal)
    if regex == r"[^:/]+":
        return _one_or_more(_NOT_COLON_SLASH)
    if regex == r"[^:]+":
        return _one_or_more(_NOT_COLON)
    return [Item(_ANY, True)]  # anything else: accept every string (still a superset)


@functools.lru_cache(maxsize=4096)
def template_items(template: str) -> Items:
    """The strings an ARN template can stand for (a superset of them)."""
    items: list[Item] = []
    position = 0
    matches = list(_PLACEHOLDER.finditer(template))
    for index, match in enumerate(matches):
        items.extend(_literal(template[position:match.start()]))
        end_of_next = matches[index + 1].start() if index + 1 < len(matches) else len(template)
        items.extend(_placeholder_items(match.group(1), template[match.end():end_of_next]))
        position = match.end()
    items.extend(_literal(template[position:]))
    return tuple(items)


ALL_RESOURCES_ITEMS: Items = tuple(_literal("*"))
"""The request resource of an action that takes no resource ARN: the literal ``*``."""


def service_arn_items(service: str) -> Items:
    """Every ARN of a service: ``arn:<any partition>:<service>:<anything>``."""
    return tuple(_literal("arn:") + [Item(_NOT_COLON, True)] + _literal(f":{service}:") + [Item(_ANY, True)])


def intersects(left: Items, right: Items) -> bool:
    """Whether some string is in both languages (breadth-first search of the product automaton)."""
    start = (0, 0)
    goal = (len(left), len(right))
    seen = {start}
    queue = deque([start])
    while queue:
        i, j = queue.popleft()
        if (i, j) == goal:
            return True
        moves: list[tuple[int, int]] = []
        if i < len(left) and left[i].repeat:
            moves.append((i + 1, j))
        if j < len(right) and right[j].repeat:
            moves.append((i, j + 1))
        if i < len(left) and j < len(right) and left[i].cls.meets(right[j].cls):
            moves.append((i if left[i].repeat else i + 1, j if right[j].repeat else j + 1))
        for move in moves:
            if move not in seen:
                seen.add(move)
                queue.append(move)
    return False


def could_match(pattern: Pattern, template: str) -> bool:
    """Whether some ARN of ``template``'s resource type could match ``pattern``."""
    return intersects(pattern_items(pattern), template_items(template))
