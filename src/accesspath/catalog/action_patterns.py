"""Expanding action patterns (``ecs:Describe*``) to the real actions they match.

Action names and patterns compare case-insensitively; ``*`` matches any run of characters and
``?`` one character (IAM User Guide, reference_policies_elements_action.html); the matching is
the engine's own (:func:`accesspath.policy.patterns.wildcard_match`).
"""

from __future__ import annotations

from accesspath.catalog.model import Action
from accesspath.catalog.service_catalog import (
    ServiceCatalog,
    UnknownServiceError,
    get_catalog,
)
from accesspath.errors import UsageError
from accesspath.policy.patterns import wildcard_match


def expand_action_pattern(pattern: str, catalog: ServiceCatalog | None = None) -> tuple[Action, ...]:
    """Every real action a pattern matches, in service then reference order.

    ``*`` alone matches every action. A service part without wildcards must name a real service
    (else :class:`UnknownServiceError` with the closest one); a pattern that matches nothing
    returns an empty tuple, and the caller decides whether that is an error.
    """
    catalog = catalog or get_catalog()
    text = pattern.strip()
    if text == "*":
        return tuple(catalog.all_actions())
    prefix, colon, name = text.partition(":")
    if not colon or not prefix or not name:
        raise UsageError(f"action pattern '{pattern}' is not of the form 'service:Action'")
    if any(c in prefix for c in "*?"):
        prefixes = [p for p in catalog.service_prefixes() if wildcard_match(prefix, p, ignore_case=True)]
    else:
        if not catalog.has_service(prefix):
            raise UnknownServiceError(prefix, catalog.closest_service(prefix))
        prefixes = [prefix.lower()]
    return tuple(action for p in prefixes for action in catalog.actions_of(p)
                 if wildcard_match(name, action.name, ignore_case=True))
