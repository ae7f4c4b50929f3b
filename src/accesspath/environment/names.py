"""Names in a call resolved to the resources the environment defines.

A call names a resource the way its API takes it — a secret's name or partial ARN, a KMS alias or
key id, a queue URL, a bucket's generated name, or the template's logical id — but AWS authorizes
the resource's ARN. :func:`resolve_request` rewrites an IAM request's resource to the ARN of the
resource the environment defines (``web/database`` → ``…:secret:web/database-MYXOU3``). Where AWS
authorizes on something the environment cannot know (a secret the templates do not define, whose
ARN ends in six random characters; the key behind an alias), the request becomes *unresolved*:
its resource is ``"*"`` with the pattern of what it could be, and the decision is ``undetermined``
wherever a resource-scoped statement could tell the difference.

Sources: Secrets Manager User Guide, "Find secrets" / reference_iam-permissions ("a secret ARN ends
with a hyphen and six random characters"; a policy naming the ARN without them does not match);
KMS Developer Guide, "Using aliases to control access" (IAM authorizes KMS operations on the key,
never on the alias, except for alias operations themselves).
"""

from __future__ import annotations

import re
from dataclasses import replace

from accesspath.catalog.calls import IamRequest
from accesspath.environment.model import Environment, ResourcePolicyHolder

# A complete secret ARN: the name, a hyphen and six characters Secrets Manager chose.
_SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")
# What separates the segments of an ARN in which a logical id may stand for a name.
_SEGMENT = re.compile(r"[:/]")


def resolve_request(env: Environment, request: IamRequest) -> IamRequest:
    """The request on the ARN the environment knows for the resource it names (unchanged when it
    already names one, or names something outside the environment that AWS authorizes as given)."""
    resource = request.resource
    alias = request.context.get("kms:RequestAlias", ())
    if request.unresolved and len(alias) == 1 and alias[0] in env.kms_aliases:
        key = env.kms_aliases[alias[0]]
        return replace(request, resource=key, unresolved="", resource_pattern="",
                       note=f"'{alias[0]}' is an alias of the templates' key {key}")
    if request.unresolved or not resource.startswith("arn:") or resource in env.resources:
        return request
    parts = resource.split(":", 5)
    if len(parts) < 6:
        return request
    service = parts[2]
    found = _by_logical_id(env, resource, service)
    if found is not None:
        return _resolved(request, found, f"'{resource}' names the template's resource {found}")
    if service == "secretsmanager" and parts[5].startswith("secret:"):
        return _secret(env, request, parts)
    return request


def _resolved(request: IamRequest, arn: str, why: str) -> IamRequest:
    return replace(request, resource=arn, note=_join(request.note, why))


def _secret(env: Environment, request: IamRequest, parts: list[str]) -> IamRequest:
    name = parts[5][len("secret:"):]
    prefix = ":".join(parts[:5]) + ":secret:"
    holders = [h for h in env.resources.values() if h.kind == "secret"]
    for holder in holders:
        if holder.name == name or (holder.arn.startswith(prefix + name) and
                                   _SECRET_SUFFIX.fullmatch(holder.arn[len(prefix + name):])):
            return _resolved(request, holder.arn, f"the secret '{name}' of the templates is {holder.arn}")
    if _SECRET_SUFFIX.search(name):
        return request  # a complete ARN (or a name that looks like one): AWS checks it as given
    reason = (f"the secret '{name}' is not defined in the templates: AWS checks its full ARN, which ends"
              " in six random characters the environment cannot know")
    return replace(request, resource="*", unresolved=reason, note=_join(request.note, reason),
                   resource_pattern=f"{prefix}{name}-??????")


def _by_logical_id(env: Environment, resource: str, service: str) -> str | None:
    """A resource named by its template logical id (``--secret-id DbSecret``, ``s3://Uploads/key``):
    the ARN the same request has with the resource's own name in its place."""
    index = env.resources_by_logical_id
    # A logical id is replaced only where it stands as one whole ':'/'-delimited segment, so only the
    # resources whose logical id is one of the segments (or spans a delimiter itself) can match.
    named = {segment for segment in _SEGMENT.split(resource) if segment in index}
    named.update(logical for logical in env.delimited_logical_ids if logical in resource)
    if not named:
        return None
    holders = (index[next(iter(named))] if len(named) == 1 else
               tuple(h for h in env.resources.values() if h.logical_id in named))  # declaration order
    for holder in holders:
        logical, name = holder.logical_id, _name_of(holder)
        if not logical or not name or logical == name or holder.arn.split(":")[2] != service:
            continue
        for candidate in _replacements(resource, logical, name):
            if candidate == holder.arn or candidate.startswith((holder.arn + "/", holder.arn + ":")):
                return candidate
    return None


def _name_of(holder: ResourcePolicyHolder) -> str | None:
    if holder.kind == "secret":  # the name, or the ARN's last part without its random suffix
        return holder.arn.split(":secret:", 1)[-1]
    return holder.name


def _replacements(resource: str, logical: str, name: str) -> list[str]:
    """``resource`` with the logical id standing as one whole name segment replaced by ``name``."""
    found = []
    for match in re.finditer(re.escape(logical), resource):
        before = resource[match.start() - 1] if match.start() else ""
        after = resource[match.end()] if match.end() < len(resource) else ""
        if before in (":", "/", "") and after in (":", "/", ""):
            found.append(resource[:match.start()] + name.lstrip("/") * (before == "/") +
                         name * (before != "/") + resource[match.end():])
    return found


def _join(first: str, second: str) -> str:
    return f"{first}; {second}" if first else second
