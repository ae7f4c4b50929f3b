"""The immutable result of loading templates: stacks, resources, outputs, exports and issues.

Resolved values are :class:`~accesspath.policy.source.Node` trees that keep the template's
positions, so a policy document inside a resource can be handed to
:func:`accesspath.policy.parse_policy` and its findings point into the YAML or JSON file.
A value accesspath cannot know offline is a :class:`Symbolic` scalar in that tree.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from accesspath.policy.model import Severity
from accesspath.policy.source import Node, Position


@dataclass(frozen=True, slots=True)
class Symbolic:
    """A value that could not be resolved offline; it never compares equal to a real value.

    ``position`` is where the cause stands (the intrinsic function, the missing import), which
    may differ from the position of the node that carries the value.
    """

    reason: str
    position: Position | None = None

    def __str__(self) -> str:
        return f"<unresolved: {self.reason}>"


@dataclass(frozen=True, slots=True)
class TemplateIssue:
    """A problem found while loading; ``code`` is stable, ``message`` is for people."""

    code: str
    message: str
    severity: Severity
    position: Position | None = None
    # A loader limitation (not-modelled, unmodelled-reference): the resource type and the resource it is about
    resource_type: str | None = None
    logical_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.position}: " if self.position is not None else ""
        return f"{where}{self.severity.value}: {self.message} [{self.code}]"


ParameterValue = str | tuple[str, ...] | Symbolic


@dataclass(frozen=True, slots=True)
class Parameter:
    """A template parameter with the value it takes in this load."""

    name: str
    type: str
    value: ParameterValue
    origin: str  # "default", "override" or "missing"
    allowed_values: tuple[str, ...]
    position: Position | None


@dataclass(frozen=True, slots=True)
class Resource:
    """One resource that CloudFormation would create (its condition, if any, is true).

    ``properties`` is the resolved ``Properties`` object (an empty object node when absent);
    ``physical_id`` is what ``Ref`` returns and ``attributes`` what ``Fn::GetAtt`` returns,
    both synthetic and deterministic (see :mod:`accesspath.cfn.physical_ids`).
    """

    logical_id: str
    type: str
    properties: Node
    condition: str | None
    position: Position | None
    physical_id: str | Symbolic
    attributes: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), compare=False)
    stack: str = ""
    depends_on: tuple[str, ...] = ()
    modelled: bool = True
    cfn_init: Node | None = None   # the resolved Metadata AWS::CloudFormation::Init (cfn-init's files, commands)

    def property(self, name: str) -> Node | None:
        """The resolved property ``name`` (the last one, if repeated), or None."""
        return self.properties.member(name)


@dataclass(frozen=True, slots=True)
class Output:
    name: str
    value: Node
    export_name: str | Symbolic | None
    condition: str | None
    position: Position | None


@dataclass(frozen=True, slots=True)
class Export:
    """An exported output, visible to ``Fn::ImportValue`` in the other loaded templates."""

    name: str
    value: Node
    stack: str
    output: str
    position: Position | None


@dataclass(frozen=True, slots=True)
class LoadedStack:
    name: str
    source: str
    parameters: Mapping[str, Parameter]
    conditions: Mapping[str, bool | Symbolic]
    resources: tuple[Resource, ...]
    outputs: Mapping[str, Output]
    exports: Mapping[str, Export]
    issues: tuple[TemplateIssue, ...]
    parent: str | None = None       # the stack that nests this one (AWS::CloudFormation::Stack)
    logical_id: str | None = None   # the nested stack's logical id in its parent
    path: str = ""                  # "root/Child/Grandchild": how users name a nested stack

    @property
    def qualified_name(self) -> str:
        """The name users qualify references with: the stack name, or the nesting path."""
        return self.path or self.name

    def resource(self, logical_id: str) -> Resource | None:
        for resource in self.resources:
            if resource.logical_id == logical_id:
                return resource
        return None

    @property
    def errors(self) -> tuple[TemplateIssue, ...]:
        return tuple(i for i in self.issues if i.severity is Severity.ERROR)


@dataclass(frozen=True, slots=True)
class StackSet:
    """Templates loaded together; ``stacks`` are in dependency order (exporters first)."""

    stacks: tuple[LoadedStack, ...]
    account: str
    region: str
    partition: str
    organization_id: str | None = None

    def stack(self, name: str) -> LoadedStack | None:
        for stack in self.stacks:
            if stack.name == name:
                return stack
        return None

    @property
    def exports(self) -> Mapping[str, Export]:
        merged: dict[str, Export] = {}
        for stack in self.stacks:
            merged.update(stack.exports)
        return MappingProxyType(merged)

    @property
    def issues(self) -> tuple[TemplateIssue, ...]:
        return tuple(issue for stack in self.stacks for issue in stack.issues)

    def resources(self) -> Iterator[Resource]:
        for stack in self.stacks:
            yield from stack.resources


def frozen_mapping(items: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(items))
