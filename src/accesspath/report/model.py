"""What the HTML report shows, as immutable data: built by ``report.collect``, drawn by ``report.html``.

Keeping the report as plain data (strings, tuples, no engine objects) keeps the renderer a pure
function of it, so the page is deterministic and the content can be tested without a browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class FlowStatus(str, Enum):
    """What happened to one request; also the colour of an edge that carries requests."""

    ALLOWED = "allowed"
    DENIED = "denied"
    UNDETERMINED = "undetermined"   # the engine needs a fact the templates do not give (the resource owner)
    UNREACHABLE = "unreachable"
    UNCHECKED = "unchecked"         # an edge no checked request travels over

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    FlowStatus.ALLOWED: "allowed",
    FlowStatus.DENIED: "denied",
    FlowStatus.UNDETERMINED: "undetermined",
    FlowStatus.UNREACHABLE: "unreachable",
    FlowStatus.UNCHECKED: "no checked request",
}

# An edge shows the worst decision made on it: one denied request makes it red; it is dashed only
# when every request over it times out.
EDGE_PRECEDENCE = (FlowStatus.DENIED, FlowStatus.UNDETERMINED, FlowStatus.ALLOWED, FlowStatus.UNREACHABLE,
                   FlowStatus.UNCHECKED)
# A caller shows its worst outcome: one request that times out is a failure too.
CALLER_PRECEDENCE = (FlowStatus.DENIED, FlowStatus.UNDETERMINED, FlowStatus.UNREACHABLE, FlowStatus.ALLOWED,
                     FlowStatus.UNCHECKED)


class Column(int, Enum):
    CALLERS = 0
    SUBNETS = 1
    HOPS = 2          # VPC endpoints, NAT and internet gateways, "no path"
    SERVICES = 3      # AWS services (endpoint services) and the public internet


@dataclass(frozen=True, slots=True)
class StatementRef:
    """One statement behind a denial: the Deny that matched, or a statement of the gate that did not allow."""

    policy_id: str
    policy_kind: str          # "VPC endpoint policy", "identity-based policy", ...
    statement: str            # the Sid or "Statement[N]"
    effect: str               # "Allow" or "Deny"
    location: str             # file:line:col, or "" when the policy has no source position


@dataclass(frozen=True, slots=True)
class DenialEvidence:
    decision: str             # explicitDeny, implicitDeny, undetermined
    gate: str                 # the policy kind that decided, as AWS's messages name it
    message: str              # AWS's access denied message
    relation: str             # "denied by" or "no statement allows the request in"
    statements: tuple[StatementRef, ...]
    note: str = ""            # e.g. "the role has no identity-based policy"


@dataclass(frozen=True, slots=True)
class Flow:
    """One request from one caller (a launch-check step or a representative request) and its hops."""

    index: int
    caller: str               # node id of the caller
    origin: str               # "launch-check" or "representative"
    step: str
    principal: str
    action: str | None
    resource: str | None
    status: FlowStatus
    path: str                 # the network path, described
    hops: tuple[str, ...]     # node ids from the caller to the AWS service; () when no network is involved
    stopped_reason: str = ""
    fix: str = ""
    denial: DenialEvidence | None = None
    notes: tuple[str, ...] = ()

    @property
    def anchor(self) -> str:
        return f"flow-{self.index}"


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    column: Column
    kind: str                 # ecs-service, instance, subnet, interface-endpoint, gateway-endpoint, nat-gateway,
                              # internet-gateway, no-path, aws-service, internet
    kind_label: str           # the small first line: "ECS service", "subnet · 10.0.1.0/24"
    label: str                # the bold second line
    detail: str               # the small third line (an id)
    aws_id: str               # the AWS id (vpce-..., subnet-...) or name, for data-id
    tooltip: str
    status: FlowStatus | None = None   # callers: the worst status of their requests


@dataclass(frozen=True, slots=True)
class Edge:
    id: str
    source: str
    target: str
    status: FlowStatus
    flows: tuple[int, ...]    # indices of the flows travelling over it


@dataclass(frozen=True, slots=True)
class ServiceLaunch:
    """The launch check of one ECS service."""

    node: str
    name: str
    launch_type: str
    ready: bool
    flows: tuple[Flow, ...]
    notes: tuple[str, ...] = ()
    error: str = ""           # why the check could not run (no awsvpc subnets, no task definition)
    service_name: str = ""    # the ECS service's own name, when it differs from the logical id


@dataclass(frozen=True, slots=True)
class InstanceRequests:
    """The representative requests of one EC2 instance (what its role does through each endpoint)."""

    node: str
    name: str
    principal: str
    flows: tuple[Flow, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReportFinding:
    """An audit finding as the report shows it; any audit finding type is adapted to this."""

    id: str
    severity: str
    message: str
    fix: str
    position: str
    subject: str = ""         # what the finding is about: "role web-task-role", "endpoint vpce-..."


@dataclass(frozen=True)
class Report:
    title: str
    sources: tuple[str, ...]
    account: str
    region: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    launches: tuple[ServiceLaunch, ...]
    instances: tuple[InstanceRequests, ...]
    findings: tuple[ReportFinding, ...] | None   # None: no audit is available
    audit_note: str
    issues: tuple[str, ...]

    @property
    def flows(self) -> tuple[Flow, ...]:
        found = [f for launch in self.launches for f in launch.flows]
        found += [f for instance in self.instances for f in instance.flows]
        return tuple(sorted(found, key=lambda f: f.index))
