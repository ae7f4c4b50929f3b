"""The curated table of API operations → IAM requests (``accesspath/data/call_mappings.json``)."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Binding:
    """Where a template variable's value comes from: request parameter paths or ``$extra`` names."""

    variable: str
    sources: tuple[str, ...]
    default: tuple[str, ...] | None
    arn_of: str | None
    """A resource type (``cluster``, or ``iam:role`` in another service) whose ARN the value may be."""
    transform: str | None


@dataclass(frozen=True)
class RequestSpec:
    """One IAM request an operation makes."""

    action: str
    resource_type: str | None
    """``type`` of the action's service or ``service:type``; None means the request is on ``"*"``."""
    resource: str | None
    """An ARN template that replaces the resource type's own (it must still be of that type)."""
    bindings: tuple[Binding, ...]
    context: tuple[tuple[str, tuple[str, ...]], ...]
    when_present: str | None
    when_absent: str | None
    optional: bool
    note: str

    def resource_type_ref(self) -> tuple[str, str] | None:
        """``(service prefix, type name)`` of the resource type, or None."""
        if self.resource_type is None:
            return None
        service, colon, name = self.resource_type.partition(":")
        return (service, name) if colon else (self.action.partition(":")[0], self.resource_type)


@dataclass(frozen=True)
class OperationMapping:
    service: str
    operation: str
    requests: tuple[RequestSpec, ...]
    in_botocore: bool
    parameters: tuple[str, ...]
    """For operations botocore does not model (agent calls): the parameter names we accept."""


@dataclass(frozen=True)
class ServiceMapping:
    service: str
    iam_prefix: str
    cli_names: tuple[str, ...]
    operations: Mapping[str, OperationMapping]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class SequenceStep:
    service: str | None
    operation: str | None
    request: RequestSpec | None


@dataclass(frozen=True)
class CallSequence:
    name: str
    description: str
    steps: tuple[SequenceStep, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class CallMappings:
    services: Mapping[str, ServiceMapping]
    sequences: Mapping[str, CallSequence]
    operation_actions: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    """botocore service → operation → the IAM actions it needs, where they are not the same-name action."""

    def operation(self, service: str, operation: str) -> OperationMapping | None:
        found = self.services.get(service)
        return found.operations.get(operation) if found else None

    def service_for_cli_name(self, cli_name: str) -> str | None:
        return next((name for name, s in self.services.items() if cli_name in s.cli_names), None)


def _spec(raw: Mapping[str, Any]) -> RequestSpec:
    bindings = tuple(
        Binding(variable=name, sources=tuple(b.get("from", ())),
                default=tuple(b["default"]) if "default" in b else None,
                arn_of=b.get("arn_of"), transform=b.get("transform"))
        for name, b in raw.get("bind", {}).items()
    )
    return RequestSpec(
        action=raw["action"], resource_type=raw.get("resource_type"), resource=raw.get("resource"),
        bindings=bindings,
        context=tuple((key, tuple(values)) for key, values in raw.get("context", {}).items()),
        when_present=raw.get("when_present"), when_absent=raw.get("when_absent"),
        optional=bool(raw.get("optional", False)), note=raw.get("note", ""),
    )


def load_call_mappings_document() -> dict[str, Any]:
    text = resources.files("accesspath").joinpath("data", "call_mappings.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@functools.lru_cache(maxsize=1)
def default_call_mappings() -> CallMappings:
    """The built-in mappings (read once)."""
    document = load_call_mappings_document()
    services = {
        name: ServiceMapping(
            service=name, iam_prefix=raw["iam_prefix"], cli_names=tuple(raw.get("cli_names", ())),
            sources=tuple(raw.get("sources", ())),
            operations={
                op: OperationMapping(service=name, operation=op,
                                     requests=tuple(_spec(r) for r in op_raw["requests"]),
                                     in_botocore=bool(op_raw.get("botocore", True)),
                                     parameters=tuple(op_raw.get("parameters", ())))
                for op, op_raw in raw["operations"].items()
            },
        )
        for name, raw in document["services"].items()
    }
    sequences = {
        name: CallSequence(
            name=name, description=raw.get("description", ""), sources=tuple(raw.get("sources", ())),
            steps=tuple(SequenceStep(service=s.get("service"), operation=s.get("operation"),
                                     request=_spec(s["request"]) if "request" in s else None)
                        for s in raw["steps"]),
        )
        for name, raw in document.get("sequences", {}).items()
    }
    operation_actions = {
        service: {operation: tuple(actions) for operation, actions in table.items()}
        for service, table in document.get("operation_actions", {}).get("services", {}).items()
    }
    return CallMappings(services=services, sequences=sequences, operation_actions=operation_actions)
