"""Reading the decision log the endpoint emulator writes (``accesspath serve``/``run``): JSON lines.

One line per API call::

    {"time": "...", "principal": "arn:aws:sts::123456789012:assumed-role/ROLE/SESSION",
     "caller": {"kind": "ecs-service", "id": "Service"}, "call": {"service": "ecs", "operation": "..."},
     "requests": [{"action": "ecs:DescribeClusters", "resource": "arn:...", "decision": "allowed",
                   "gate": null, "message": null,
                   "path": {"kind": "interface-endpoint", "endpointId": "vpce-...", "serviceName": "com.amazonaws..."},
                   "statements": [...]}],
     "decision": "allowed", "status": 200}

A line that is not such an object is an input error (every bad line is named with file:line, and
nothing is generated from a log with bad lines). A good line that cannot be used (no principal, a
principal that is not a role session, no IAM requests) is skipped and counted with its reason, so
nothing is ever dropped silently. Fields this reader does not use are ignored: the emulator may add
some, and older readers must keep working.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from accesspath.engine.request import (
    PrincipalFormatError,
    PrincipalKind,
    principal_from_arn,
)
from accesspath.errors import UsageError

# How many bad lines an error message names before it only counts the rest.
MAX_REPORTED_BAD_LINES = 10


@dataclass(frozen=True, slots=True)
class ObservedPath:
    """The network path the emulator saw: ``interface-endpoint``, ``gateway-endpoint``, ``nat-gateway``..."""

    kind: str
    endpoint_id: str | None = None
    service_name: str | None = None

    @property
    def region(self) -> str | None:
        """The region of the endpoint service (``com.amazonaws.REGION.SERVICE``), if the log names one."""
        parts = (self.service_name or "").split(".")
        return parts[2] if len(parts) > 3 and parts[0] == "com" else None

    @property
    def short_service(self) -> str | None:
        """``ecs``, ``ecr.dkr``, ``s3``...: the endpoint service id after the region."""
        parts = (self.service_name or "").split(".")
        return ".".join(parts[3:]) if len(parts) > 3 and parts[0] == "com" else None


@dataclass(frozen=True, slots=True)
class ObservedRequest:
    """One IAM request of one logged call, with the role that made it."""

    source: str
    line: int
    principal: str                 # the session ARN AWS saw
    role_name: str
    role_arn: str                  # arn:PARTITION:iam::ACCOUNT:role/NAME (the session ARN carries no path)
    caller_kind: str | None
    caller_id: str | None
    call: str | None               # "ecs DescribeClusters"
    action: str
    resource: str
    decision: str | None           # allowed, explicitDeny, implicitDeny, unreachable (as logged)
    gate: str | None
    message: str | None
    path: ObservedPath | None

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"

    @property
    def endpoint_id(self) -> str | None:
        return self.path.endpoint_id if self.path is not None else None


@dataclass(frozen=True, slots=True)
class SkippedLines:
    """Lines that were read but not used, and why."""

    reason: str
    lines: tuple[int, ...]

    def describe(self, source: str) -> str:
        shown = ", ".join(str(n) for n in self.lines[:5]) + (", ..." if len(self.lines) > 5 else "")
        plural = "line" if len(self.lines) == 1 else "lines"
        return f"{len(self.lines)} {plural} skipped, {self.reason}: {source}:{shown}"


@dataclass(frozen=True, slots=True)
class DecisionLog:
    source: str
    lines: int                                # lines in the file
    calls: int                                # lines that were used
    requests: tuple[ObservedRequest, ...]
    skipped: tuple[SkippedLines, ...] = ()

    def roles(self) -> tuple[str, ...]:
        """The role names of the log, in order of first appearance."""
        return tuple(dict.fromkeys(r.role_name for r in self.requests))

    def of_role(self, role_name: str) -> tuple[ObservedRequest, ...]:
        return tuple(r for r in self.requests if r.role_name == role_name)


class _BadLine(Exception):
    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


def read_decision_log(text: str, source: str) -> DecisionLog:
    """Parse a decision log; raise :class:`UsageError` naming every bad line (file:line) if there is one."""
    requests: list[ObservedRequest] = []
    skipped: dict[str, list[int]] = {}
    bad: list[tuple[int, _BadLine]] = []
    calls = 0
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            skipped.setdefault("blank", []).append(number)
            continue
        try:
            found, reason = _read_line(line, source, number)
        except _BadLine as error:
            bad.append((number, error))
            continue
        if reason is not None:
            skipped.setdefault(reason, []).append(number)
            continue
        calls += 1
        requests.extend(found)
    if bad:
        raise _bad_lines_error(source, bad)
    return DecisionLog(source, len(lines), calls, tuple(requests),
                       tuple(SkippedLines(reason, tuple(numbers)) for reason, numbers in skipped.items()))


def _bad_lines_error(source: str, bad: list[tuple[int, _BadLine]]) -> UsageError:
    (first_line, first), rest = bad[0], bad[1:]
    message = first.message
    for number, error in rest[:MAX_REPORTED_BAD_LINES - 1]:
        column = f":{error.column}" if error.column is not None else ""
        message += f"\n  {source}:{number}{column}: {error.message}"
    if len(rest) >= MAX_REPORTED_BAD_LINES:
        message += f"\n  ... and {len(rest) - MAX_REPORTED_BAD_LINES + 1} more bad lines"
    plural = "line is" if len(bad) == 1 else "lines are"
    message += f"\n  ({len(bad)} {plural} not decision-log entries; nothing was generated)"
    return UsageError(message, source=source, line=first_line, column=first.column)


def _read_line(line: str, source: str, number: int) -> tuple[list[ObservedRequest], str | None]:
    try:
        entry = json.loads(line)
    except json.JSONDecodeError as error:
        raise _BadLine(f"not valid JSON: {error.msg}", error.colno) from None
    if not isinstance(entry, dict):
        raise _BadLine(f"a decision-log entry must be a JSON object, not {_kind(entry)}")
    principal = entry.get("principal")
    if principal is not None and not isinstance(principal, str):
        raise _BadLine(f"'principal' must be a string, not {_kind(principal)}")
    caller = _optional_object(entry, "caller")
    caller_kind = _optional_text(caller, "kind", "caller.kind") if caller else None
    caller_id = _optional_text(caller, "id", "caller.id") if caller else None
    call = _optional_object(entry, "call")
    call_name = None
    if call:
        service = _optional_text(call, "service", "call.service")
        operation = _optional_text(call, "operation", "call.operation")
        call_name = " ".join(part for part in (service, operation) if part) or None
    if "requests" not in entry:
        raise _BadLine("'requests' is missing (the IAM requests of the call)")
    raw_requests = entry["requests"]
    if not isinstance(raw_requests, list):
        raise _BadLine(f"'requests' must be a list, not {_kind(raw_requests)}")
    parsed = [_request(item, index) for index, item in enumerate(raw_requests)]

    # The line is well formed; now, can it be used?
    if not principal:
        return [], "no principal: an unsigned call has no role to generate a policy for"
    try:
        who = principal_from_arn(principal)
    except PrincipalFormatError:
        return [], "the principal is not an ARN accesspath understands"
    if who.kind is not PrincipalKind.ROLE_SESSION or not who.role_name or not who.role_arn:
        return [], "the principal is not a role session: only roles get generated policies"
    if not parsed:
        return [], "the call has no IAM requests"
    return [ObservedRequest(source, number, principal, who.role_name, who.role_arn, caller_kind, caller_id,
                            call_name, action, resource, decision, gate, message, path)
            for action, resource, decision, gate, message, path in parsed], None


def _request(item: Any, index: int) -> tuple[str, str, str | None, str | None, str | None, ObservedPath | None]:
    where = f"requests[{index}]"
    if not isinstance(item, dict):
        raise _BadLine(f"'{where}' must be an object, not {_kind(item)}")
    action = item.get("action")
    if not isinstance(action, str) or ":" not in action or action.startswith(":") or action.endswith(":"):
        raise _BadLine(f"'{where}.action' must be an IAM action such as 'ecs:DescribeClusters', not {_show(action)}")
    resource = item.get("resource")
    if not isinstance(resource, str) or not resource:
        raise _BadLine(f"'{where}.resource' must be an ARN or \"*\", not {_show(resource)}")
    decision = _optional_text(item, "decision", f"{where}.decision")
    gate = _optional_text(item, "gate", f"{where}.gate")
    message = _optional_text(item, "message", f"{where}.message")
    raw_path = _optional_object(item, "path", f"{where}.path")
    path = None
    if raw_path is not None:
        kind = _optional_text(raw_path, "kind", f"{where}.path.kind")
        if kind is None:
            raise _BadLine(f"'{where}.path.kind' is missing")
        path = ObservedPath(kind, _optional_text(raw_path, "endpointId", f"{where}.path.endpointId"),
                            _optional_text(raw_path, "serviceName", f"{where}.path.serviceName"))
    return action, resource, decision, gate, message, path


def _optional_object(entry: dict[str, Any], key: str, name: str | None = None) -> dict[str, Any] | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, dict):
        raise _BadLine(f"'{name or key}' must be an object or null, not {_kind(value)}")
    return value


def _optional_text(entry: dict[str, Any], key: str, name: str) -> str | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, str):
        raise _BadLine(f"'{name}' must be a string or null, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else _kind(value)


def roles_of(requests: Iterable[ObservedRequest]) -> dict[str, str]:
    """Role name → role ARN as the log shows them (first seen)."""
    found: dict[str, str] = {}
    for request in requests:
        found.setdefault(request.role_name, request.role_arn)
    return found
