"""Findings: what ``accesspath validate`` reports, as immutable data every output format reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    """How bad a finding is; ``--fail-on`` compares by :attr:`rank`."""

    ERROR = "error"      # AWS rejects the policy, or the policy cannot do what was written
    WARNING = "warning"  # AWS accepts it, but it probably does not mean what was written
    INFO = "info"        # worth a look: broad, but possibly intended

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at one place.

    ``code`` is the policy parser's or template loader's own issue code when the finding comes
    from them (``duplicate-sid``, ``missing-import``), so nothing they say is lost.
    """

    rule_id: str
    severity: Severity
    message: str
    file: str | None
    line: int | None
    column: int | None
    policy_id: str | None
    statement: str | None
    fix: str
    doc_url: str
    code: str | None = None

    @property
    def location(self) -> str:
        """``file:line:col`` as far as known."""
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file or "", self.line or 0, self.column or 0, self.rule_id, self.message)


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    """``{"error": n, "warning": n, "info": n}``, every severity present."""
    counts = {severity.value: 0 for severity in Severity}
    for finding in findings:
        counts[finding.severity.value] += 1
    return counts


def reaches(findings: Iterable[Finding], threshold: Severity) -> bool:
    """Whether any finding is at least as severe as ``threshold`` (``--fail-on``)."""
    return any(finding.severity.rank >= threshold.rank for finding in findings)
