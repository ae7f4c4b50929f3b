"""The decision log (one JSON object per line, format in docs/emulator.md) and the live summary.

``accesspath policy generate --from-log LOG`` reads this format: keep it stable, add fields only.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import IO, Any

from accesspath.environment.callers import Caller
from accesspath.environment.decide import CallDecision

LOG_FORMAT_VERSION = 1


def _path_json(decision: CallDecision) -> dict[str, Any] | None:
    path = decision.path
    if path is None:
        return None
    return {"kind": path.kind.value,
            "endpointId": path.endpoint.id if path.endpoint is not None else None,
            "serviceName": path.endpoint.service_name if path.endpoint is not None else None}


def _statements_json(decision: CallDecision) -> list[dict[str, Any]]:
    if decision.result is None:
        return []
    out = []
    for match in decision.result.deciding_statements:
        start = match.statement.start
        out.append({"policyId": match.policy.policy_id, "sid": match.statement.sid,
                    "source": (start.source if start is not None and start.source else match.policy.source),
                    "line": start.line if start is not None else None,
                    "column": start.column if start is not None else None})
    return out


def request_json(decision: CallDecision) -> dict[str, Any]:
    result = decision.result
    return {
        "action": decision.request.action,
        "resource": decision.request.resource,
        "decision": decision.decision,
        "gate": result.deciding_gate.value if result is not None and result.deciding_gate is not None else None,
        "message": decision.message or None,
        "path": _path_json(decision),
        "statements": _statements_json(decision),
    }


def log_entry(*, caller: Caller | None, service: str | None, operation: str | None,
              decisions: Sequence[CallDecision], decision: str, status: int, time: datetime | None = None,
              error: str | None = None, request_id: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "time": (time or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "principal": caller.principal.arn if caller is not None else None,
        "caller": {"kind": caller.kind, "id": caller.id} if caller is not None else None,
        "call": {"service": service, "operation": operation},
        "requests": [request_json(d) for d in decisions],
        "decision": decision,
        "status": status,
    }
    if error is not None:
        entry["error"] = error
    if request_id is not None:
        entry["requestId"] = request_id
    return entry


class DecisionLog:
    """Writes entries as JSON lines (``--log FILE``) and keeps per-action counts for the live summary,
    shown on ``summary_stream`` only when it is a terminal."""

    def __init__(self, stream: IO[str] | None = None, *, summary_stream: IO[str] | None = None,
                 live_summary: bool | None = None) -> None:
        self._stream = stream
        self._summary_stream = summary_stream if summary_stream is not None else sys.stderr
        if live_summary is None:
            isatty = getattr(self._summary_stream, "isatty", None)
            live_summary = bool(isatty and isatty())
        self._live = live_summary
        self._lock = threading.Lock()
        self.counts: Counter[tuple[str, str]] = Counter()

    def record(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self._lock:
            for request in entry["requests"]:
                outcome = "allowed" if request["decision"] == "allowed" else "denied"
                self.counts[(request["action"], outcome)] += 1
            if self._stream is not None:
                self._stream.write(line)
                self._stream.flush()
            if self._live:
                self._summary_stream.write(self._summary_line(entry) + "\n")
                self._summary_stream.flush()

    def _summary_line(self, entry: dict[str, Any]) -> str:
        actions = sorted({action for action, _ in self.counts})
        totals = "  ".join(f"{a} {self.counts[(a, 'allowed')]}✓ {self.counts[(a, 'denied')]}✗" for a in actions)
        call = entry["call"]
        return f"accesspath: {entry['status']} {call['service']}:{call['operation']} {entry['decision']} | {totals}"

    def summary(self) -> dict[str, dict[str, int]]:
        with self._lock:
            out: dict[str, dict[str, int]] = {}
            for (action, outcome), count in sorted(self.counts.items()):
                out.setdefault(action, {"allowed": 0, "denied": 0})[outcome] = count
            return out

    def close(self) -> None:
        if self._stream is not None:
            self._stream.flush()
