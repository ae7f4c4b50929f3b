"""Grouping the resources an action was observed on into the fewest exact-enough patterns.

Rules (also in ``accesspath policy generate --help``):
- an action that takes no resource (Service Authorization Reference: empty resource types column)
  gets ``"*"``, whatever the log says;
- every other ARN stays exact, unless more than ``threshold`` ARNs of the same resource type differ
  only in the *last* variable of the type's ARN template (several log streams of one log group,
  several objects of one bucket): those become one pattern with the last variable replaced by
  ``*`` — or, for a hierarchical name (S3 keys, log stream names with ``/``), by the deepest
  ``/``-prefix all of them share followed by ``*``. The pattern is never wider than the resource
  type's ARN shape: every other variable keeps its observed value;
- an ARN that matches none of the action's resource types stays exact;
- ``*``, ``?`` and ``$`` inside an exact ARN (S3 keys may hold them) are written ``${*}``, ``${?}``,
  ``${$}`` so IAM reads them literally (IAM User Guide, "IAM policy elements: Variables and tags",
  special characters).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from accesspath.catalog.arn_templates import (
    fill_template,
    parse_arn,
    template_variables,
)
from accesspath.catalog.model import ResourceType
from accesspath.catalog.service_catalog import ServiceCatalog

DEFAULT_GROUP_THRESHOLD = 3
"""More than this many ARNs differing only in the last variable become one pattern."""


@dataclass(frozen=True, slots=True)
class ResourcePattern:
    """A ``Resource`` entry and the observed ARNs it stands for."""

    pattern: str
    observed: tuple[str, ...]
    resource_type: str | None = None     # the catalog's resource type name, when the ARN matched one

    @property
    def generalized(self) -> bool:
        """True when the pattern allows ARNs that were not observed (``*`` included)."""
        if self.pattern == "*":
            return "*" not in self.observed
        return self.pattern != literal_arn(self.observed[0]) or len(self.observed) > 1

    def covers(self, arn: str) -> bool:
        return arn in self.observed


def literal_arn(arn: str) -> str:
    """``arn`` as a Resource entry that matches only itself."""
    if not any(c in arn for c in "*?$"):
        return arn
    return "".join("${" + c + "}" if c in "*?$" else c for c in arn)


def resource_type_of(catalog: ServiceCatalog, action: str, arn: str) -> ResourceType | None:
    """The resource type of ``arn`` among the action's (or, failing that, the service's) resource types."""
    if arn == "*":
        return None
    found = catalog.find_action(action)
    if found is not None:
        for _row, resource_type in catalog.action_resource_types(found):
            if resource_type.matches(arn):
                return resource_type
    matching = catalog.classify_arn(arn)
    return matching[0] if len(matching) == 1 else None


def group_resources(catalog: ServiceCatalog, action: str, arns: Iterable[str],
                    threshold: int = DEFAULT_GROUP_THRESHOLD) -> tuple[ResourcePattern, ...]:
    """The patterns of ``Resource`` that allow ``action`` on exactly ``arns``, grouped as the module says."""
    unique = sorted(set(arns))
    found = catalog.find_action(action)
    if found is not None and found.takes_no_resource:
        return (ResourcePattern("*", tuple(unique)),)
    if "*" in unique:
        # The log says the action was checked against "*": only "*" allows that.
        return (ResourcePattern("*", tuple(unique)),)

    # (template, every variable but the last) → {last value: arn}
    families: dict[tuple[str, str, tuple[tuple[str, str], ...]], dict[str, str]] = {}
    exact: list[ResourcePattern] = []
    for arn in unique:
        resource_type = resource_type_of(catalog, action, arn)
        values = parse_arn(resource_type.arn_template, arn) if resource_type is not None else None
        variables = template_variables(resource_type.arn_template) if resource_type is not None else ()
        if resource_type is None or values is None or not variables:
            exact.append(ResourcePattern(literal_arn(arn), (arn,), resource_type.name if resource_type else None))
            continue
        last = variables[-1]
        fixed = tuple((name, values[name]) for name in dict.fromkeys(variables) if name != last)
        families.setdefault((resource_type.arn_template, resource_type.name, fixed), {})[values[last]] = arn

    patterns = list(exact)
    for (template, type_name, fixed), members in families.items():
        if len(members) <= threshold:
            patterns.extend(ResourcePattern(literal_arn(arn), (arn,), type_name) for arn in members.values())
            continue
        last = template_variables(template)[-1]
        values = {name: literal_arn(value) for name, value in fixed}
        values[last] = _wildcard_for(tuple(members))
        patterns.append(ResourcePattern(fill_template(template, values), tuple(sorted(members.values())), type_name))
    return tuple(sorted(patterns, key=lambda p: p.pattern))


def _wildcard_for(values: tuple[str, ...]) -> str:
    """``*`` after the deepest ``/``-prefix every value shares (``reports/2026/*``), or ``*``."""
    prefix = _common_prefix(values)
    cut = prefix.rfind("/")
    if cut < 0:
        return "*"
    kept = prefix[:cut + 1]
    return literal_arn(kept) + "*"


def _common_prefix(values: tuple[str, ...]) -> str:
    first, last = min(values), max(values)
    length = 0
    while length < min(len(first), len(last)) and first[length] == last[length]:
        length += 1
    return first[:length]
