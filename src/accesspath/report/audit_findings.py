"""Audit findings for the report, from ``accesspath.audit`` (``run_audit``).

Findings are adapted by reading attributes (or keys): ``id``/``rule_id``, ``severity`` (text or an
enum), ``message``, ``fix``, ``subject``, and ``position``/``location`` or ``file``/``line``/``column``;
an audit finding that wraps a lint :class:`~accesspath.lint.findings.Finding` in ``.finding`` is
unwrapped. A missing or failing audit never stops the report from being written: the page says
why its findings are absent.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from enum import Enum
from typing import Any

from accesspath.report.model import ReportFinding

# Most severe first; unknown severities sort after the known ones.
SEVERITY_ORDER = ("critical", "high", "error", "medium", "warning", "low", "info")


def collect_audit_findings(env: Any, endpoint_services: Any = None) -> tuple[tuple[ReportFinding, ...] | None, str]:
    """The audit's findings for ``env`` (sorted), or None and why there are none."""
    try:
        audit = importlib.import_module("accesspath.audit")
    except ModuleNotFoundError as error:
        if error.name in ("accesspath.audit", "accesspath"):
            return None, "the audit is not available in this installation (accesspath.audit is not installed)"
        return None, f"the audit could not be loaded: {error}"
    except Exception as error:  # noqa: BLE001 - an audit that cannot load must not stop the report
        return None, f"the audit could not be loaded: {type(error).__name__}: {error}"
    run_audit = getattr(audit, "run_audit", None)
    if not callable(run_audit):
        return None, "accesspath.audit has no run_audit(env): its findings cannot be shown"
    try:
        result = run_audit(env, endpoint_services)
        return adapt_findings(result), ""
    except Exception as error:  # noqa: BLE001 - show the failure on the page, keep the rest of the report
        return None, f"the audit failed: {type(error).__name__}: {error}"


def adapt_findings(raw: Iterable[Any] | Any) -> tuple[ReportFinding, ...]:
    """Read findings of any shape into :class:`ReportFinding`, most severe first, then by position."""
    if not isinstance(raw, (list, tuple)) and hasattr(raw, "findings"):
        raw = raw.findings  # an audit report that carries its findings
    found = [finding if isinstance(finding, ReportFinding) else _adapt(finding) for finding in raw]
    return tuple(sorted(found, key=_sort_key))


def severity_rank(severity: str) -> int:
    lowered = severity.lower()
    return SEVERITY_ORDER.index(lowered) if lowered in SEVERITY_ORDER else len(SEVERITY_ORDER)


def _sort_key(finding: ReportFinding) -> tuple[int, str, str, str]:
    return severity_rank(finding.severity), finding.position, finding.id, finding.message


def _adapt(finding: Any) -> ReportFinding:
    inner = _field(finding, "finding")
    base = inner if inner is not None else finding
    return ReportFinding(
        id=_text(_field(base, "id", "rule_id", "check_id", "code")) or "-",
        severity=_text(_field(base, "severity", "level")) or "info",
        message=_text(_field(base, "message", "description", "title")),
        fix=_text(_field(base, "fix", "remediation", "recommendation")),
        position=_position(base),
        subject=_text(_field(finding, "subject")),
    )


def _field(finding: Any, *names: str) -> Any:
    for name in names:
        value = finding.get(name) if isinstance(finding, dict) else getattr(finding, name, None)
        if value is not None and value != "":
            return value
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        value = value.value
    return str(value)


def _position(finding: Any) -> str:
    source = _field(finding, "file", "source")
    if source is not None:
        parts = [str(source)]
        for name in ("line", "column"):
            part = _field(finding, name)
            if part is None:
                break
            parts.append(str(part))
        return ":".join(parts)
    value = _field(finding, "position", "location")
    return _text(value) if value is not None else ""
