"""AWS API calls → the IAM requests AWS authorizes for them.

``iam_requests_for_call("ecs", "DescribeClusters", {"clusters": ["prod"]}, account=..., region=...)``
gives ``ecs:DescribeClusters`` on ``arn:aws:ecs:REGION:ACCOUNT:cluster/prod``. Curated mappings
(``data/call_mappings.json``) say what each operation needs; an operation we have not curated
falls back to the same-name action on ``"*"``, flagged ``inferred=True`` (a guess, to check).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from accesspath.catalog.arn_templates import (
    fill_template,
    parse_arn,
    template_variables,
)
from accesspath.catalog.call_mappings import (
    Binding,
    CallMappings,
    RequestSpec,
    default_call_mappings,
)
from accesspath.catalog.call_transforms import TRANSFORMS, NotKnownOffline
from accesspath.catalog.service_catalog import ServiceCatalog, get_catalog
from accesspath.errors import UsageError

DEFAULT_ACCOUNT = "123456789012"
"""The account used when none is given: AWS's documentation example account."""
DEFAULT_REGION = "us-east-1"
"""The region used when none is given (the AWS CLI's own fallback for many services)."""

_GLOBALS = frozenset({"Partition", "Region", "Account"})


@dataclass(frozen=True)
class IamRequest:
    """One authorization request: an action on a resource, with request context keys."""

    action: str
    resource: str
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    inferred: bool = False
    """True when no curated mapping exists: the action is the operation's same-name action."""
    note: str = ""
    unresolved: str = ""
    """Why the resource AWS checks is not known (empty when it is): ``resource`` is then ``"*"``, and
    a decision that a resource-scoped statement could change is ``undetermined``."""
    resource_pattern: str = ""
    """For an unresolved request: the ARN it would have, unknown parts as ``*`` (alternatives ``|``)."""

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"action": self.action, "resource": self.resource,
                                 "context": {k: list(v) for k, v in self.context.items()},
                                 "inferred": self.inferred, "note": self.note}
        if self.unresolved:
            found["unresolved"] = self.unresolved
            found["resource_pattern"] = self.resource_pattern
        return found


@dataclass(frozen=True)
class ApiCall:
    """An API call as botocore names it: ``ApiCall("ecs", "DescribeClusters", {"clusters": [...]})``."""

    service: str
    operation: str
    params: Mapping[str, Any] = field(default_factory=dict)


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def iam_requests_for_call(service: str, operation: str, params: Mapping[str, Any] | None = None, *,
                          account: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION,
                          extras: Mapping[str, str] | None = None,
                          mappings: CallMappings | None = None,
                          catalog: ServiceCatalog | None = None) -> tuple[IamRequest, ...]:
    """The IAM requests of one call, boto3 style (service, operation, params).

    ``extras`` gives what the call does not carry but the caller knows: ``task_role_arn``,
    ``execution_role_arn`` (RunTask), ``kms_key_arn`` (the customer managed key of a secret or
    SecureString parameter).
    """
    mappings = mappings or default_call_mappings()
    catalog = catalog or get_catalog()
    params = params or {}
    mapped = mappings.operation(service, operation)
    if mapped is None:
        return _derived_requests(service, operation, params, mappings, catalog, account=account, region=region)
    required: frozenset[str] = frozenset()
    if mapped.in_botocore:
        required = _check_params(service, operation, params)
    else:
        unknown = sorted(set(params) - set(mapped.parameters))
        if unknown:
            raise UsageError(f"'{operation}' of '{service}' takes no parameter '{unknown[0]}'")
    variables = {"Partition": partition_of(region), "Region": region, "Account": account}
    requests: list[IamRequest] = []
    for spec in mapped.requests:
        requests.extend(resolve_request_spec(spec, params, variables, extras or {}, catalog,
                                             operation=operation, required=required))
    return _unique(requests)


def _unique(requests: Iterable[IamRequest]) -> tuple[IamRequest, ...]:
    seen: dict[str, IamRequest] = {}
    for request in requests:
        seen.setdefault(json.dumps(request.to_json(), sort_keys=True), request)
    return tuple(seen.values())


def resolve_request_spec(spec: RequestSpec, params: Mapping[str, Any], variables: Mapping[str, str],
                         extras: Mapping[str, str], catalog: ServiceCatalog, *,
                         operation: str, required: frozenset[str] = frozenset()) -> list[IamRequest]:
    """The requests one mapping entry gives for the call's parameters (none if it does not apply).

    A resource the call does not name is an error when the parameter naming it is ``required``
    (botocore refuses such a call), else the request is unresolved."""
    if spec.when_present and not _present(_lookup(params, spec.when_present)):
        return []
    if spec.when_absent and _present(_lookup(params, spec.when_absent)):
        return []
    template = resource_template(spec, catalog)
    needed = [v for v in template_variables(template or "") if v not in _GLOBALS]
    values: dict[str, list[str]] = {}
    for binding in spec.bindings:
        try:
            found = _binding_values(binding, params, extras)
        except NotKnownOffline as unknown:
            assert template is not None
            pattern = fill_template(template, {**{v: "*" for v in template_variables(template)}, **variables})
            return [IamRequest(action=spec.action, resource="*", context={k: (v,) for k, v in unknown.context.items()},
                               note=_join(spec.note, unknown.reason), unresolved=unknown.reason,
                               resource_pattern=pattern)]
        if found is not None:
            values[binding.variable] = found
    missing = [v for v in needed if v not in values]
    if missing:
        if spec.optional:
            return []
        needed_binding = next((b for b in spec.bindings if b.variable == missing[0]), None)
        where = f"parameter '{needed_binding.sources[0]}'" if needed_binding and needed_binding.sources else f"'{missing[0]}'"
        if needed_binding and needed_binding.sources and needed_binding.sources[0].split(".")[0].removesuffix("[]") in required:
            raise UsageError(f"'{operation}' needs {where} to name the resource of {spec.action}")
        # AWS still checks a resource (a key named inside the ciphertext, the caller's own user):
        # the request says it is not known, and the decision is undetermined where that matters.
        reason = f"the resource of {spec.action} is not known: the call does not give {where}"
        assert template is not None
        pattern = fill_template(template, {**{v: "*" for v in template_variables(template)}, **variables})
        return [IamRequest(action=spec.action, resource="*", note=_join(spec.note, reason), unresolved=reason,
                           resource_pattern=pattern)]
    names = list(values)
    requests: list[IamRequest] = []
    for combination in itertools.product(*(values[n] for n in names)):
        bound = dict(variables)
        bound.update(zip(names, combination))
        for name, value in zip(names, combination):
            _merge_arn(bound, spec, name, value, catalog)
        resource = fill_template(template, bound) if template else "*"
        context: dict[str, tuple[str, ...]] = {}
        for key, templates in spec.context:
            try:
                context[key] = tuple(dict.fromkeys(fill_template(t, bound) for t in templates))
            except KeyError:  # a context key whose value the request does not carry is absent
                continue
        note = spec.note
        if template and "*" in resource and "*" not in (spec.resource or "") and "'*'" not in note:
            note = _join(note, "'*' stands for a part of the ARN the request does not name")
        requests.append(IamRequest(action=spec.action, resource=resource, context=context, note=note))
    return requests


def resource_template(spec: RequestSpec, catalog: ServiceCatalog) -> str | None:
    """The ARN template of a mapping entry: its own, else its resource type's; None for ``"*"``."""
    if spec.resource == "*":
        return None
    if spec.resource is not None:
        return spec.resource
    ref = spec.resource_type_ref()
    if ref is None:
        return None
    found = catalog.resource_type(*ref)
    if found is None:
        raise LookupError(f"mapping of {spec.action} names unknown resource type '{spec.resource_type}'")
    return found.arn_template


def _merge_arn(bound: dict[str, str], spec: RequestSpec, name: str, value: str, catalog: ServiceCatalog) -> None:
    binding = next(b for b in spec.bindings if b.variable == name)
    if binding.arn_of is None or not value.startswith("arn:"):
        return
    service, colon, type_name = binding.arn_of.partition(":")
    if not colon:
        service, type_name = spec.action.partition(":")[0], binding.arn_of
    resource_type = catalog.resource_type(service, type_name)
    parsed = parse_arn(resource_type.arn_template, value) if resource_type else None
    if parsed is None:
        raise UsageError(f"'{value}' is not {type_name} ARN of {service}")
    bound.update(parsed)


def _binding_values(binding: Binding, params: Mapping[str, Any], extras: Mapping[str, str]) -> list[str] | None:
    for source in binding.sources:
        raw = extras.get(source[1:]) if source.startswith("$") else _lookup(params, source)
        if _present(raw):
            found = [_as_text(v) for v in (raw if isinstance(raw, list) else [raw])]
            break
    else:
        return list(binding.default) if binding.default is not None else None
    if binding.transform:
        transform = TRANSFORMS[binding.transform]
        found = [v if (binding.arn_of and v.startswith("arn:")) else transform(v) for v in found]
        found = [v for v in found if v != ""]  # a transform that finds nothing leaves the default in place
        if not found:
            return list(binding.default) if binding.default is not None else None
    return list(dict.fromkeys(found))


def _lookup(params: Mapping[str, Any], path: str) -> Any:
    """Follow ``a.b``, ``list[]`` (every element) and ``map.@keys`` through request parameters."""
    current: list[Any] = [params]
    for segment in path.split("."):
        following: list[Any] = []
        for item in current:
            if segment == "@keys":
                following.extend(item.keys() if isinstance(item, Mapping) else ())
                continue
            name, flatten = (segment[:-2], True) if segment.endswith("[]") else (segment, False)
            value = item.get(name) if isinstance(item, Mapping) else None
            if value is None:
                continue
            following.extend(value if flatten and isinstance(value, list) else [value])
        current = following
    if not current:
        return None
    return current if (len(current) != 1 or "[]" in path or "@keys" in path) else current[0]


def _present(value: Any) -> bool:
    return value is not None and value is not False and value != [] and value != ""


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _join(first: str, second: str) -> str:
    return f"{first}; {second}" if first else second


def _check_params(service: str, operation: str, params: Mapping[str, Any]) -> frozenset[str]:
    """Refuse parameters the operation does not take; its required parameters."""
    from accesspath.catalog.botocore_models import check_operation

    model = check_operation(service, operation)
    members = model.input_shape.members if model.input_shape is not None else {}
    for name in params:
        if name not in members:
            raise UsageError(f"'{operation}' of '{service}' takes no parameter '{name}'")
    return frozenset(model.input_shape.required_members) if model.input_shape is not None else frozenset()


def _derived_requests(service: str, operation: str, params: Mapping[str, Any], mappings: CallMappings,
                      catalog: ServiceCatalog, *, account: str, region: str) -> tuple[IamRequest, ...]:
    """An operation with no curated mapping: its same-name action, resources and context keys derived
    from botocore's model and the Service Authorization Reference (:mod:`derived_requests`)."""
    from accesspath.catalog.botocore_models import check_operation, signing_prefix
    from accesspath.catalog.derived_requests import derive_requests

    mapped_service = mappings.services.get(service)
    model = check_operation(service, operation)  # a real operation, or a clear error
    members = tuple(model.input_shape.members) if model.input_shape is not None else ()
    for name in params:
        if name not in members:
            raise UsageError(f"'{operation}' of '{service}' takes no parameter '{name}'")
    prefix = mapped_service.iam_prefix if mapped_service else signing_prefix(service)
    names = mappings.operation_actions.get(service, {}).get(operation) or (f"{prefix}:{operation}",)
    variables = {"Partition": partition_of(region), "Region": region, "Account": account}
    requests: list[IamRequest] = []
    for name in names:
        action = catalog.find_action(name)
        if action is None:
            reason = (f"no curated mapping, and the Service Authorization Reference has no action {name}:"
                      " the action AWS checks for this call is not known")
            requests.append(IamRequest(action=name, resource="*", inferred=True, note=reason, unresolved=reason,
                                       resource_pattern="*"))
            continue
        requests.extend(
            IamRequest(action=d.action, resource=d.resource, context=d.context, inferred=True,
                       note=_join("no curated mapping: same-name action" if len(names) == 1 and name.endswith(
                           ":" + operation) else f"no curated mapping: {operation} needs {name}", d.note or d.unresolved),
                       unresolved=d.unresolved, resource_pattern=d.template)
            for d in derive_requests(action, operation, params, members, variables, catalog))
    return _unique(requests)


def iam_requests_for_calls(calls: Iterable[ApiCall], **options: Any) -> tuple[IamRequest, ...]:
    """The requests of several calls, in order."""
    return tuple(r for call in calls for r in iam_requests_for_call(call.service, call.operation, call.params, **options))


def sequence_requests(name: str, params: Mapping[str, Any], *, account: str = DEFAULT_ACCOUNT,
                      region: str = DEFAULT_REGION, mappings: CallMappings | None = None,
                      catalog: ServiceCatalog | None = None) -> tuple[tuple[str, tuple[IamRequest, ...]], ...]:
    """The steps of a named sequence (``ecr-image-pull``), each with its requests.

    ``params`` holds the parameters of every step; each step takes the ones its operation knows.
    """
    mappings = mappings or default_call_mappings()
    catalog = catalog or get_catalog()
    sequence = mappings.sequences.get(name)
    if sequence is None:
        raise UsageError(f"unknown call sequence '{name}'")
    from accesspath.catalog.botocore_models import check_operation

    variables = {"Partition": partition_of(region), "Region": region, "Account": account}
    steps: list[tuple[str, tuple[IamRequest, ...]]] = []
    for step in sequence.steps:
        if step.request is not None:
            found = resolve_request_spec(step.request, params, variables, {}, catalog, operation=name)
            steps.append((step.request.action, tuple(found)))
            continue
        assert step.service is not None and step.operation is not None
        model = check_operation(step.service, step.operation)
        members = model.input_shape.members if model.input_shape is not None else {}
        own = {k: v for k, v in params.items() if k in members}
        requests = iam_requests_for_call(step.service, step.operation, own, account=account, region=region,
                                         mappings=mappings, catalog=catalog)
        steps.append((f"{step.service}:{step.operation}", requests))
    return tuple(steps)


def image_pull_requests(image: str, *, account: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION,
                        ) -> tuple[tuple[str, tuple[IamRequest, ...]], ...]:
    """The steps of pulling a private ECR image ``ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO[:TAG|@DIGEST]``
    (or a bare ``REPO[:TAG]`` in the given account and region)."""
    from accesspath.catalog.image_references import parse_ecr_image

    reference = parse_ecr_image(image)
    params: dict[str, Any] = {"repositoryName": reference.repository,
                              "imageIds": [reference.image_id], "layerDigest": "sha256:" + "0" * 64}
    if reference.registry_id:
        params["registryId"] = reference.registry_id
    return sequence_requests("ecr-image-pull", params, account=reference.registry_id or account,
                             region=reference.region or region)

