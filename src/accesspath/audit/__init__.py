"""``accesspath audit``: findings about an ECS environment, each a question put to the one engine.

Rules (``accesspath.audit.rules``) are small classes with their data beside the check
(:class:`RuleInfo`: id, severity, rationale, fix, AWS documentation pages); they ask the engine
(role trust, identity policies, the vpc-endpoint gate, the network path) and never re-read policy
JSON. Output formats are views over one :class:`AuditReport`.
"""

from accesspath.audit.rule import AuditFinding, AuditRule, Evidence, RuleInfo
from accesspath.audit.run import AuditReport, rule_catalog, run_audit, select_rules

__all__ = ["AuditFinding", "AuditReport", "AuditRule", "Evidence", "RuleInfo", "rule_catalog", "run_audit",
           "select_rules"]
