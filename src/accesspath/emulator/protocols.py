"""Which AWS API call an HTTP request is: service, operation and parameters, read with botocore's models.

The service comes from the SigV4 credential scope (the signing name), the operation from the wire
protocol of that service's model:

* JSON (``awsJson1_0`` / ``awsJson1_1``: ECS, CloudWatch Logs, SQS, DynamoDB): ``X-Amz-Target:
  PREFIX.Operation``, parameters in the JSON body;
* query (STS, IAM): ``Action=`` in the form body (POST, ``application/x-www-form-urlencoded``) or
  the query string (GET), never both; parameters flattened (``Tags.member.1.Key``);
* REST-XML (S3) and REST-JSON (Lambda): the operation whose ``http.method`` and ``http.requestUri``
  match, with labels (``{Bucket}``, ``{Key+}``), query-string and header members taken from where the
  model's ``location`` says. S3 virtual-hosted requests (``bucket.`` before one of the endpoint's
  names, see ``request_reader.EndpointNames``) are read, and forwarded, as path style.

Whatever another server could read as another call is refused (``UnknownCall`` of kind
``ambiguous``): docs/emulator.md lists each case and why.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

from accesspath.catalog.botocore_models import available_services, service_model
from accesspath.emulator.request_reader import media_type

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
    forward_body: bytes | None = None     # the body the upstream gets, re-serialised from what was decided
    forward_path: str | None = None       # S3 virtual-hosted: the same request in path style


class UnknownCall(Exception):
    """The request names no operation we can find (``kind``: ``service``, ``operation`` or ``body``),
    or one another server could read as another call (``ambiguous``)."""

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
    if media_type(headers.get("content-type", ""))[0] == _FORM:
        return WireStyle("query")
    return GENERIC_STYLE


def identify(signing_name: str, method: str, raw_path: str, query_pairs: Sequence[tuple[str, str]],
             headers: Mapping[str, str], body: bytes | None, *, virtual_host_label: str | None = None) -> ServiceCall:
    """The call a request makes; ``body`` is None when it is streamed (S3), so not read here.

    ``headers`` are lower-case names, each sent once (``request_reader`` refuses repeats); the query
    pairs are decoded, each name once. ``virtual_host_label``: the label ``Host`` put before one of the
    endpoint's names (S3's virtual-hosted style; refused for every other service). Raises
    :class:`UnknownCall` for a request that names no call, or one that another server could read as
    another call (kind ``ambiguous``)."""
    models = models_for_signing_name(signing_name)
    if not models:
        raise UnknownCall("service", f"unknown service '{signing_name}' in the credential scope",
                          style_for_signing_name(None, headers))
    first_problem: UnknownCall | None = None
    for model in models:
        try:
            return _identify_in(model, method, raw_path, query_pairs, headers, body, virtual_host_label)
        except UnknownCall as problem:
            if problem.kind == "ambiguous":
                raise
            first_problem = first_problem or problem
    assert first_problem is not None
    raise first_problem


# Media types a JSON-protocol body may be sent as (botocore sends application/x-amz-json-1.0 or 1.1).
_JSON_MEDIA_TYPES = frozenset({"application/x-amz-json-1.0", "application/x-amz-json-1.1", "application/json"})
_FORM = "application/x-www-form-urlencoded"


def _identify_in(model: Any, method: str, raw_path: str, query_pairs: Sequence[tuple[str, str]],
                 headers: Mapping[str, str], body: bytes | None, virtual_host_label: str | None) -> ServiceCall:
    style = style_of(model)
    protocol = model.metadata.get("protocol")
    name = model.service_name
    content_type, content_parameters = media_type(headers.get("content-type", ""))
    if protocol in ("json", "query", "ec2"):
        _check_rpc_request(name, method, raw_path, virtual_host_label, style)
    if protocol == "json":
        target = headers.get("x-amz-target", "")
        prefix, _, operation = target.rpartition(".")
        if not target:
            raise UnknownCall("operation", "missing X-Amz-Target header", style)
        if prefix != model.metadata.get("targetPrefix") or operation not in model.operation_names:
            raise UnknownCall("operation", f"unknown operation '{target[:120]}'", style)
        extra = [key for key, _ in query_pairs if not key.startswith("X-Amz-")]
        if extra:
            raise UnknownCall("ambiguous", f"a JSON-protocol call carries its operation in X-Amz-Target and its"
                                           f" parameters in the body; the query parameter '{extra[0][:60]}' is refused"
                                           " (other servers read an 'Action' there as the operation)", style)
        if content_type not in _JSON_MEDIA_TYPES:
            raise UnknownCall("ambiguous", f"the body of a JSON-protocol call must be sent as"
                                           f" application/x-amz-json-{style.json_version}, not"
                                           f" '{content_type[:60] or 'no Content-Type'}' (other servers read a form"
                                           " body as parameters and an Action)", style)
        document = _json_body(body, style)
        params = _known_members(model, operation, document)
        return ServiceCall(name, operation, params, style, forward_body=json_for_forwarding(params))
    if protocol in ("query", "ec2"):
        form = list(query_pairs)
        if method == "POST":
            if any(not key.startswith("X-Amz-") for key, _ in query_pairs):
                raise UnknownCall("ambiguous", "a query-protocol POST carries its parameters in the form body only;"
                                               " parameters in the URL too are read differently by other servers"
                                               " (some ignore them, some merge them)", style)
            if body and content_type != _FORM:
                raise UnknownCall("ambiguous", f"a query-protocol body must be {_FORM}, not"
                                               f" '{content_type[:60] or 'no Content-Type'}'", style)
            if content_parameters.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
                raise UnknownCall("ambiguous", f"form bodies are read as UTF-8, not"
                                               f" '{content_parameters['charset'][:40]}'", style)
            form = form_pairs(body or b"", style)
        elif method != "GET":
            raise UnknownCall("operation", f"the query protocol takes GET or POST, not {method}", style)
        elif body:
            raise UnknownCall("ambiguous", "a query-protocol GET has no body", style)
        names = [key for key, _ in form]
        repeated = next((key for index, key in enumerate(names) if key in names[:index]), None)
        if repeated is not None:
            raise UnknownCall("ambiguous", f"parameter '{repeated[:60]}' is given more than once: servers disagree"
                                           " on which value counts", style)
        values = dict(form)
        operation = values.get("Action", "")
        if operation not in model.operation_names:
            raise UnknownCall("operation", f"could not find operation '{operation[:120]}' for version"
                                           f" {values.get('Version', '')[:20]}" if operation else
                              "no Action given", style)
        return ServiceCall(name, operation, _known_members(model, operation, unflatten(form)), style)
    if protocol in ("rest-xml", "rest-json"):
        if content_type == _FORM or content_type.startswith("multipart/"):
            raise UnknownCall("ambiguous", f"'{content_type[:60]}' bodies are refused for {name}: it takes none, and"
                                           " other servers read their fields as parameters", style)
        path = raw_path or "/"
        if virtual_host_label is not None:
            if name != "s3":
                raise UnknownCall("ambiguous", f"{name} is not addressed by host name: call the endpoint itself",
                                  style)
            if not _S3_BUCKET.fullmatch(virtual_host_label):
                raise UnknownCall("ambiguous", f"'{virtual_host_label[:70]}' is not a bucket name", style)
            path = "/" + virtual_host_label + (path if path != "/" else "")
        elif name == "s3":
            bucket = raw_path.split("/")[1] if raw_path.count("/") >= 1 else ""
            if bucket and not _S3_BUCKET.fullmatch(bucket):
                raise UnknownCall("ambiguous", f"'{unquote(bucket)[:70]}' is not a bucket name (bucket names are"
                                               " never percent-encoded)", style)
        if name == "s3" and "x-amz-copy-source" in headers:
            _check_copy_source(headers["x-amz-copy-source"], style)
        operation, params = _match_route(model, method, path, query_pairs, headers)
        members = model.operation_model(operation).input_shape
        if protocol == "rest-json" and body and members is not None and not members.serialization.get("payload"):
            # The body holds the input's body members (a payload member, e.g. Invoke's, is opaque bytes).
            for key, value in _json_body(body, style).items():
                if key in members.members:
                    params.setdefault(key, value)
        return ServiceCall(name, operation, params, style,
                           forward_path=path if virtual_host_label is not None else None)
    raise UnknownCall("service", f"the '{protocol}' protocol of '{name}' is not supported", style)


# S3 bucket names, with the legacy us-east-1 rules (upper case, underscores, up to 255 characters):
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_S3_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{1,253}[A-Za-z0-9]")


# x-amz-copy-source: "bucket/key" or "/bucket/key", URL-encoded, optionally "?versionId=ID" (Amazon S3
# API Reference, CopyObject). Servers that read it as a URL take "//a/b" as host "a", and end the key
# at any "?" or "#": only the documented form is accepted.
_COPY_SOURCE = re.compile(r"/?(?P<bucket>[A-Za-z0-9][A-Za-z0-9._\-]{1,253}[A-Za-z0-9])/(?P<key>[^?#]+)"
                          r"(?:\?versionId=[^&#?=]+)?")


def _check_copy_source(value: str, style: WireStyle) -> None:
    if _COPY_SOURCE.fullmatch(value) is None:
        raise UnknownCall("ambiguous", f"x-amz-copy-source '{value[:100]}' is not 'bucket/key' (URL-encoded) with an"
                                       " optional '?versionId=': other readers take it apart differently (access"
                                       " point ARNs are not supported)", style)


def _check_rpc_request(service: str, method: str, raw_path: str, virtual_host_label: str | None,
                       style: WireStyle) -> None:
    """JSON and query services answer on the endpoint's root only (every operation's requestUri is '/')."""
    if virtual_host_label is not None:
        raise UnknownCall("ambiguous", f"{service} is not addressed by host name: call the endpoint itself", style)
    if raw_path != "/":
        raise UnknownCall("ambiguous", f"{service} answers on '/' only, not '{raw_path[:80]}' (other servers route"
                                       " by path)", style)
    allowed = ("POST",) if style.kind == "json" else ("POST", "GET")
    if method not in allowed:
        raise UnknownCall("operation", f"{service} takes {' or '.join(allowed)}, not {method}", style)


def json_for_forwarding(document: Mapping[str, Any]) -> bytes:
    """The decided JSON document as the upstream gets it: no '&' or '=' outside escapes, so a server
    that falls back to reading the body as a form finds no parameters in it."""
    text = _FORWARDED_JSON.encode(document)
    return text.replace("&", "\\u0026").replace("=", "\\u003d").encode("ascii")


def _json_body(body: bytes | None, style: WireStyle) -> dict[str, Any]:
    """The body as one JSON object, read strictly: UTF-8, no NaN or Infinity, no name twice in an
    object (RFC 8259 §4: parsers disagree on which value counts)."""
    if not body:
        return {}
    try:
        document = _STRICT_JSON.decode(body.decode("utf-8"))
    except _RepeatedName as repeated:
        raise UnknownCall("ambiguous", f"the JSON body names '{str(repeated)[:60]}' twice in one object: servers"
                                       " disagree on which value counts", style) from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise UnknownCall("body", "the request body is not valid JSON", style) from None
    if not isinstance(document, dict):
        raise UnknownCall("body", "Start of list found where not expected: the request body must be a JSON"
                                  " object", style)
    return document


class _RepeatedName(ValueError):
    pass


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for name, value in pairs:
        if name in document:
            raise _RepeatedName(name)
        document[name] = value
    return document


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_STRICT_JSON = json.JSONDecoder(object_pairs_hook=_unique_names, parse_constant=_no_constant)
_FORWARDED_JSON = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def form_pairs(body: bytes, style: WireStyle) -> list[tuple[str, str]]:
    """An application/x-www-form-urlencoded body (WHATWG URL §5.1: '&' separates, '+' is a space),
    read strictly: malformed percent-escapes and text that is not UTF-8 are refused."""
    pairs: list[tuple[str, str]] = []
    for item in body.split(b"&"):
        if not item:
            continue
        name, _, value = item.partition(b"=")
        pairs.append((_form_decoded(name, style), _form_decoded(value, style)))
    return pairs


def _form_decoded(raw: bytes, style: WireStyle) -> str:
    if _BAD_PERCENT.search(raw):
        raise UnknownCall("ambiguous", "malformed percent-escape in the form body", style)
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise UnknownCall("body", "the request body is not UTF-8 form data", style) from None


_BAD_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")


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
