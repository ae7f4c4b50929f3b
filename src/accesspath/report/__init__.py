"""``accesspath report``: one self-contained HTML page of an environment.

The page shows a diagram of callers → subnets → endpoints and gateways → AWS services with each
edge coloured by the decisions of the requests over it, the launch check of every ECS service,
representative requests of every EC2 instance, the statement behind each denial and the audit's
findings. :func:`build_report` asks the engine; :func:`render_html` only draws.
"""

from accesspath.report.audit_findings import adapt_findings, collect_audit_findings
from accesspath.report.collect import build_report
from accesspath.report.model import (
    DenialEvidence,
    Edge,
    Flow,
    FlowStatus,
    InstanceRequests,
    Node,
    Report,
    ReportFinding,
    ServiceLaunch,
    StatementRef,
)
from accesspath.report.page import render_html

__all__ = [
    "DenialEvidence", "Edge", "Flow", "FlowStatus", "InstanceRequests", "Node", "Report", "ReportFinding",
    "ServiceLaunch", "StatementRef", "adapt_findings", "build_report", "collect_audit_findings", "render_html",
]
