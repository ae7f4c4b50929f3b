"""One JSON vocabulary for every command: the same object has the same shape wherever it appears.

A network path, a caller, a decided IAM request and a deciding statement are written by these
functions only; docs/schemas/ holds the JSON Schema of each command's ``--format json`` output and
``$defs`` for these shared objects (tests validate every command's output against them).
"""

from __future__ import annotations

import re
from typing import Any

from accesspath.engine.authorize import AuthorizationResult
from accesspath.engine.evaluate import StatementMatch


def path_json(path: Any) -> dict[str, Any] | None:
    """A :class:`~accesspath.environment.network.NetworkPath`: how the request reaches AWS, or why it cannot."""
    if path is None:
        return None
    return {
        "kind": path.kind.value, "service": path.service, "description": path.describe(), "reason": path.reason,
        "endpointId": path.endpoint.id if path.endpoint is not None else None,
        "endpointLogicalId": path.endpoint.logical_id if path.endpoint is not None else None,
        "serviceName": path.endpoint.service_name if path.endpoint is not None else None,
        "gatewayId": path.gateway.id if path.gateway is not None else None,
        "blockedBy": path.blocked_by or None,
    }


def caller_json(caller: Any) -> dict[str, Any]:
    instance = getattr(caller, "instance", None)
    return {"kind": caller.kind, "id": caller.id, "principal": caller.principal.arn,
            "instance": (instance.logical_id or instance.id) if instance is not None else None,
            "subnet": caller.placement.subnet_id if caller.placement else None}


def statement_json(match: StatementMatch) -> dict[str, Any]:
    from accesspath.simulate import _match_to_json

    return _match_to_json(match)


def result_fields(result: AuthorizationResult | None) -> dict[str, Any]:
    """What the engine decided: the deciding gate, the deciding statements, errors."""
    return {
        "decidingGate": result.deciding_gate.value if result is not None and result.deciding_gate else None,
        "matchedStatements": [statement_json(m) for m in result.deciding_statements] if result is not None else [],
        "errors": list(result.errors) if result is not None else [],
    }


def decision_json(decision: Any) -> dict[str, Any]:
    """A :class:`~accesspath.environment.decide.CallDecision`: one IAM request decided on its path."""
    return {
        "action": decision.request.action, "resource": decision.request.resource,
        "decision": decision.decision, **result_fields(decision.result),
        "path": path_json(decision.path), "message": decision.message or None,
        "resourceOwner": decision.resource_owner, "notes": list(decision.notes),
        "unknowns": [{"what": u.what, "supply": u.supply, "position": str(u.position) if u.position else None}
                     for u in getattr(decision, "unknowns", ())],
    }


# The loader's issues are kept as "FILE:LINE:COL: SEVERITY: MESSAGE [CODE]" lines (environment.issues);
# the severity and code are absent from some.
_ISSUE = re.compile(r"^(?:(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): )?(?:(?P<severity>error|warning|info): )?"
                    r"(?P<message>.*?)(?: \[(?P<code>[a-z0-9-]+)\])?$", re.DOTALL)


def template_error_json(issue: str) -> dict[str, Any]:
    """One problem met while loading the templates, with its location as data."""
    match = _ISSUE.match(issue)
    assert match is not None  # the pattern accepts any text
    return {
        "severity": match["severity"] or "warning", "code": match["code"], "message": match["message"],
        "location": {"file": match["file"], "line": int(match["line"]) if match["line"] else None,
                     "column": int(match["column"]) if match["column"] else None},
    }


def witness_json(witness: Any) -> dict[str, Any]:
    """A :class:`~accesspath.prove.witness.Witness` of ``prove`` or ``diff``: a decided request (the same
    object as ``decision``) with the caller that makes it, its context values and the actions it stands for."""
    origin = witness.origin
    result = witness.result
    return {
        "caller": caller_json(origin) if origin is not None else
        {"kind": "outsider", "id": witness.caller, "principal": witness.principal, "instance": None, "subnet": None},
        "action": witness.action, "resource": witness.resource, "context": witness.context,
        "decision": witness.decision, **result_fields(result),
        "path": path_json(witness.network_path),
        "message": (result.message or None) if result is not None else None,
        "resourceOwner": witness.resource_owner, "notes": list(witness.notes), "unknowns": [],
        "actionsAlike": witness.actions_alike, "otherActions": list(witness.examples),
    }


def property_result_json(result: Any) -> dict[str, Any]:
    """A :class:`~accesspath.prove.properties.PropertyResult`: proved, fails (with witnesses) or unknown."""
    return {"property": result.spec.title, "kind": result.spec.name, "status": result.status,
            "witnesses": [witness_json(w) for w in result.witnesses], "reasons": list(result.reasons),
            "callers": list(result.callers), "cases": result.cases, "seconds": round(result.seconds, 3)}


def diff_json(result: Any) -> dict[str, Any]:
    """A :class:`~accesspath.prove.diff.DiffResult`: each caller's new and removed access, as witnesses."""
    def caller(entry: Any) -> dict[str, Any]:
        return {"caller": caller_json(entry.origin) if entry.origin is not None else
                {"kind": "unknown", "id": entry.caller, "principal": "", "instance": None, "subnet": None},
                "status": entry.status, "newAccess": [witness_json(w) for w in entry.gained],
                "removedAccess": [witness_json(w) for w in entry.lost], "reasons": list(entry.reasons)}
    return {"status": result.status, "callers": [caller(c) for c in result.callers],
            "seconds": round(result.seconds, 3)}
