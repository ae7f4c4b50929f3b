"""Which AWS API call an HTTP request is: service, operation and parameters, read with botocore's models.

The service comes from the SigV4 credential scope (the signing name), the operation from the wire
protocol of that service's model:

* JSON (``awsJson1_0`` / ``awsJson1_1``: ECS, CloudWatch Logs, SQS, DynamoDB): ``X-Amz-Target:
  PREFIX.Operation``, parameters in the JSON body;
* query (STS): ``Action=`` in the form body or the query string, parameters flattened
  (``Tags.member.1.Key``);
* REST-XML (S3) and REST-JSON (Lambda): the operation whose ``http.method`` and ``http.requestUri``
  match, with labels (``{Bucket}``, ``{Key+}``), query-string and header members taken from where the
  model's ``location`` says. S3 virtual-host requests (``bucket.localhost``, ``bucket.127.0.0.1``,
  ``bucket.s3.REGION.amazonaws.com``) are read as path style.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from accesspath.catalog.botocore_models import available_services, service_model

# Signing names (the credential scope's service) that differ from botocore's service names, and the
# services that share one signing name. A signing name not listed here is taken as the service name.
SIGNING_NAME_SERVICES: Mapping[str, tuple[str, ...]] = {
    "dynamodb": ("dynamodb", "dynamodbstreams"),
    "s3": ("s3", "s3control"),
    "monitoring": ("cloudwatch",),
    "email": ("ses", "sesv2"),
    "states": ("stepfunctions",),
    "elasticloadbalancing": ("elbv2", "elb"),
    "es": ("opensearch", "es"),
    "execute-api": ("apigatewaymanagementapi",),
    "ecr": ("ecr",),
    "servicediscovery": ("servicediscovery",),
    "events": ("events",),
    "iam": ("iam",),
}

_S3_VIRTUAL_HOST = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.\-]*?)\.(?:localhost|127\.0\.0\.1|s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?)$")


@dataclass(frozen=True)
class WireStyle:
    """How a service answers errors: ``json``, ``query``, ``rest-json``, ``rest-xml`` or ``s3``."""

    kind: str
    json_version: str = "1.1"
    xml_namespace: str | None = None


GENERIC_STYLE = WireStyle("json")


@dataclass(frozen=True)
class ServiceCall:
    service: str              # botocore's name: ecs, logs, s3...
    operation: str
    params: Mapping[str, Any] = field(default_factory=dict)
    style: WireStyle = GENERIC_STYLE


class UnknownCall(Exception):
    """The request names no operation we can find (``kind``: ``service``, ``operation`` or ``body``)."""

    def __init__(self, kind: str, message: str, style: WireStyle) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.style = style


def style_of(model: Any) -> WireStyle:
    metadata = model.metadata
    protocol = metadata.get("protocol")
    if protocol == "rest-xml" and model.service_name == "s3":
        return WireStyle("s3")
    if protocol in ("query", "ec2"):
        return WireStyle("query", xml_namespace=_xml_namespace(model))
    if protocol == "rest-xml":
        return WireStyle("rest-xml", xml_namespace=_xml_namespace(model))
    if protocol == "rest-json":
        return WireStyle("rest-json")
    return WireStyle("json", json_version=str(metadata.get("jsonVersion") or "1.1"))


def _xml_namespace(model: Any) -> str | None:
    namespace = model.metadata.get("xmlNamespace")
    if isinstance(namespace, Mapping):
        namespace = namespace.get("uri")
    return str(namespace) if namespace else None


@functools.lru_cache(maxsize=512)
def models_for_signing_name(signing_name: str) -> tuple[Any, ...]:
    """botocore service models a credential scope's service may stand for (empty: none we know)."""
    names = SIGNING_NAME_SERVICES.get(signing_name, (signing_name,))
    known = set(available_services())
    return tuple(service_model(name) for name in names if name in known)


def is_streaming_service(signing_name: str) -> bool:
    """Whether bodies of this service are streamed rather than buffered (S3 object bodies)."""
    return signing_name == "s3"


def style_for_signing_name(signing_name: str | None, headers: Mapping[str, str]) -> WireStyle:
    """The error format to answer in before the operation is known (e.g. for a bad signature)."""
    if signing_name:
        models = models_for_signing_name(signing_name)
        if models:
            return style_of(models[0])
    if headers.get("x-amz-target"):
        return WireStyle("json")
    if "x-www-form-urlencoded" in headers.get("content-type", ""):
        return WireStyle("query")
    return GENERIC_STYLE


def identify(signing_name: str, method: str, raw_path: str, query_pairs: Sequence[tuple[str, str]],
             headers: Mapping[str, str], body: bytes | None) -> ServiceCall:
    """The call a request makes; ``body`` is None when it is streamed (S3), so not read here."""
    models = models_for_signing_name(signing_name)
    if not models:
        raise UnknownCall("service", f"unknown service '{signing_name}' in the credential scope",
                          style_for_signing_name(None, headers))
    first_problem: UnknownCall | None = None
    for model in models:
        try:
            return _identify_in(model, method, raw_path, query_pairs, headers, body)
        except UnknownCall as problem:
            first_problem = first_problem or problem
    assert first_problem is not None
    raise first_problem


def _identify_in(model: Any, method: str, raw_path: str, query_pairs: Sequence[tuple[str, str]],
                 headers: Mapping[str, str], body: bytes | None) -> ServiceCall:
    style = style_of(model)
    protocol = model.metadata.get("protocol")
    name = model.service_name
    if protocol == "json":
        target = headers.get("x-amz-target", "")
        prefix, _, operation = target.rpartition(".")
        if not target:
            raise UnknownCall("operation", "missing X-Amz-Target header", style)
        if prefix != model.metadata.get("targetPrefix") or operation not in model.operation_names:
            raise UnknownCall("operation", f"unknown operation '{target[:120]}'", style)
        params = _json_body(body, style) if method == "POST" else {}
        return ServiceCall(name, operation, _known_members(model, operation, params), style)
    if protocol in ("query", "ec2"):
        form = list(query_pairs)
        if body and "x-www-form-urlencoded" in headers.get("content-type", ""):
            try:
                form += _form_pairs(body.decode("utf-8"))
            except UnicodeDecodeError:
                raise UnknownCall("body", "the request body is not UTF-8 form data", style) from None
        values = dict(form)
        operation = values.get("Action", "")
        if operation not in model.operation_names:
            raise UnknownCall("operation", f"could not find operation '{operation[:120]}' for version"
                                           f" {values.get('Version', '')[:20]}" if operation else
                              "no Action given", style)
        return ServiceCall(name, operation, _known_members(model, operation, unflatten(form)), style)
    if protocol in ("rest-xml", "rest-json"):
        host = headers.get("host", "").rsplit(":", 1)[0] if not headers.get("host", "").startswith("[") else ""
        path = raw_path or "/"
        if name == "s3":
            virtual = _S3_VIRTUAL_HOST.fullmatch(host.lower())
            if virtual is not None:
                path = "/" + virtual.group("bucket") + (path if path != "/" else "")
        operation, params = _match_route(model, method, path, query_pairs, headers)
        if protocol == "rest-json" and body:
            payload = _json_body(body, style)
            members = model.operation_model(operation).input_shape
            for key, value in payload.items():
                if members is not None and key in members.members:
                    params.setdefault(key, value)
        return ServiceCall(name, operation, params, style)
    raise UnknownCall("service", f"the '{protocol}' protocol of '{name}' is not supported", style)


def _json_body(body: bytes | None, style: WireStyle) -> dict[str, Any]:
    if not body:
        return {}
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise UnknownCall("body", "the request body is not valid JSON", style) from None
    if not isinstance(document, dict):
        raise UnknownCall("body", "Start of list found where not expected: the request body must be a JSON"
                                  " object", style)
    return document


def _form_pairs(text: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(text, keep_blank_values=True)


def unflatten(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Query-protocol parameters (``Tags.member.1.Key=a``) as nested values (``{"Tags": [{"Key": "a"}]}``)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        if key in ("Action", "Version") or key.startswith("X-Amz-"):
            continue
        parts = key.split(".")
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
    return _lists(root)


def _lists(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if set(value) == {"member"} or set(value) == {"entry"}:
        return _lists(next(iter(value.values())))
    if value and all(k.isdigit() for k in value):
        return [_lists(value[k]) for k in sorted(value, key=int)]
    return {k: _lists(v) for k, v in value.items()}


def _known_members(model: Any, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Only the input members the operation has (the IAM mapping rejects others; AWS ignores them)."""
    shape = model.operation_model(operation).input_shape
    members = shape.members if shape is not None else {}
    return {key: value for key, value in params.items() if key in members}


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    pattern: re.Pattern[str]
    labels: Mapping[str, str]                 # group name → member name
    literal_query: tuple[tuple[str, str | None], ...]
    query_members: Mapping[str, str]          # query name → member name
    header_members: Mapping[str, str]         # lowercase header → member name
    required_query: tuple[str, ...]
    required_headers: tuple[str, ...]
    literal_length: int


@functools.lru_cache(maxsize=64)
def _routes(service: str) -> tuple[_Route, ...]:
    model = service_model(service)
    routes: list[_Route] = []
    for operation in model.operation_names:
        op = model.operation_model(operation)
        uri = op.http.get("requestUri", "/")
        path, _, query = uri.partition("?")
        shape = op.input_shape
        members = shape.members if shape is not None else {}
        required = set(shape.required_members) if shape is not None else set()
        by_location_name = {member.serialization.get("name", name): name for name, member in members.items()
                            if member.serialization.get("location") == "uri"}
        labels: dict[str, str] = {}
        regex = ""
        literal = 0
        for piece in re.split(r"(\{[^}]+\})", path):
            if piece.startswith("{"):
                label = piece[1:-1]
                greedy = label.endswith("+")
                label = label.rstrip("+")
                group = f"g{len(labels)}"
                labels[group] = by_location_name.get(label, label)
                regex += f"(?P<{group}>.+)" if greedy else f"(?P<{group}>[^/]+)"
            else:
                literal += len(piece)
                regex += re.escape(piece)
        if regex.endswith("/") and len(regex) > 1:
            regex = regex[:-1]
        literal_query = tuple((k, v if sep else None) for k, sep, v in
                              (item.partition("=") for item in query.split("&") if item))
        query_members = {m.serialization.get("name", n): n for n, m in members.items()
                         if m.serialization.get("location") == "querystring"}
        header_members = {m.serialization.get("name", n).lower(): n for n, m in members.items()
                          if m.serialization.get("location") == "header"}
        routes.append(_Route(
            operation, op.http.get("method", "POST"), re.compile(regex + "/?"), labels, literal_query, query_members,
            header_members, tuple(q for q, n in query_members.items() if n in required),
            tuple(h for h, n in header_members.items() if n in required), literal))
    return tuple(routes)


def _match_route(model: Any, method: str, path: str, query_pairs: Sequence[tuple[str, str]],
                 headers: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    query = {name: value for name, value in query_pairs}
    best: tuple[tuple[int, int, int], _Route, re.Match[str]] | None = None
    for route in _routes(model.service_name):
        if route.method != method:
            continue
        match = route.pattern.fullmatch(path)
        if match is None:
            continue
        if any(name not in query or (value is not None and query[name] != value)
               for name, value in route.literal_query):
            continue
        if any(name not in query for name in route.required_query):
            continue
        if any(not headers.get(name) for name in route.required_headers):
            continue
        score = (len(route.literal_query) + len(route.required_query) + len(route.required_headers),
                 route.literal_length, -len(route.labels))
        if best is None or score > best[0]:
            best = (score, route, match)
    if best is None:
        raise UnknownCall("operation", f"no operation of '{model.service_name}' answers {method} {path[:200]}",
                          style_of(model))
    _, route, match = best
    params: dict[str, Any] = {member: unquote(match.group(group)) for group, member in route.labels.items()}
    for name, member in route.query_members.items():
        if name in query:
            params[member] = query[name]
    for name, member in route.header_members.items():
        if headers.get(name) is not None and not name.endswith("*"):
            params[member] = headers[name]
    return route.operation, params
