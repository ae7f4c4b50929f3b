"""Gather what the report shows: every ECS service's launch check, representative requests from every
EC2 instance, the network hops of each request, and the statements behind each denial.

Every decision comes from the one evaluator (``Decider`` / ``LaunchChecker``); this module only
traces where each request travelled and which policy a denial came from, so the diagram's colours
and the tables can never disagree with ``accesspath launch-check`` or ``accesspath can``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from accesspath.catalog.calls import IamRequest
from accesspath.engine import AuthorizationResult, Decision, StatementMatch
from accesspath.environment.callers import Caller, resolve_caller, service_host, service_placement
from accesspath.environment.decide import CallDecision, Decider
from accesspath.environment.model import (
    EcsService,
    Environment,
    Instance,
)
from accesspath.environment.network import CallerPlacement, NetworkPath, find_path
from accesspath.errors import UsageError
from accesspath.launch.steps import LaunchChecker, LaunchStep
from accesspath.policy import Policy, PolicyType
from accesspath.report.audit_findings import adapt_findings, collect_audit_findings
from accesspath.report.model import (
    CALLER_PRECEDENCE,
    EDGE_PRECEDENCE,
    Column,
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

INTERNET = "svc:internet"

# What an instance's role is asked to do through each endpoint when there is no launch check to
# walk: one request per resource of the environment the endpoint serves (at most three), or one
# account-wide read when the environment declares none.
_PER_RESOURCE: dict[str, tuple[str, str, Callable[[str], str]]] = {
    "logs": ("log-group", "logs:PutLogEvents", lambda arn: f"{arn}:log-stream:accesspath-report"),
    "secretsmanager": ("secret", "secretsmanager:GetSecretValue", lambda arn: arn),
    "ecr.dkr": ("ecr-repository", "ecr:BatchGetImage", lambda arn: arn),
    "ecr.api": ("ecr-repository", "ecr:DescribeImages", lambda arn: arn),
    "s3": ("s3-bucket", "s3:GetObject", lambda arn: f"{arn}/*"),
    "sqs": ("sqs-queue", "sqs:SendMessage", lambda arn: arn),
    "kms": ("kms-key", "kms:Decrypt", lambda arn: arn),
    "dynamodb": ("dynamodb-table", "dynamodb:GetItem", lambda arn: arn),
    "ssm": ("ssm-parameter", "ssm:GetParameters", lambda arn: arn),
}
_ACCOUNT_WIDE: dict[str, tuple[str, str]] = {
    "ecs": ("ecs:ListClusters", "*"),
    "ecs-agent": ("ecs:Poll", "*"),
    "ecs-telemetry": ("ecs:StartTelemetrySession", "*"),
    "ecr.api": ("ecr:GetAuthorizationToken", "*"),
    "ecr.dkr": ("ecr:BatchGetImage", "*"),
    "ssmmessages": ("ssmmessages:CreateControlChannel", "*"),
    "sts": ("sts:GetCallerIdentity", "*"),
    "s3": ("s3:ListAllMyBuckets", "*"),
    "logs": ("logs:DescribeLogGroups", "*"),
    "secretsmanager": ("secretsmanager:ListSecrets", "*"),
    "ssm": ("ssm:DescribeParameters", "*"),
    "sqs": ("sqs:ListQueues", "*"),
    "kms": ("kms:ListKeys", "*"),
    "dynamodb": ("dynamodb:ListTables", "*"),
}
_MAX_RESOURCES_PER_SERVICE = 3
_MAX_STATEMENTS_SHOWN = 20


def build_report(env: Environment, decider: Decider, *, sources: Sequence[str], title: str | None = None,
                 findings: Iterable[ReportFinding] | None = None) -> Report:
    """Check every ECS service and instance of ``env`` and lay the results out for the page.

    ``findings``: audit findings to show; by default ``accesspath.audit.run_audit`` is asked
    (``report.audit_findings``).
    """
    builder = _Builder(env, decider)
    launches = tuple(builder.launch(service) for service in _sorted_services(env))
    instances = tuple(builder.instance(instance) for instance in _sorted_instances(env))
    nodes, edges = builder.graph(launches, instances)
    if findings is None:
        found, audit_note = collect_audit_findings(env, decider.endpoint_services)
    else:
        found, audit_note = adapt_findings(findings), ""
    return Report(
        title=title or f"accesspath report: {', '.join(sources)}",
        sources=tuple(sources), account=env.account, region=env.region,
        nodes=nodes, edges=edges, launches=launches, instances=instances,
        findings=found, audit_note=audit_note, issues=tuple(env.issues),
    )


def _sorted_services(env: Environment) -> list[EcsService]:
    return sorted(env.services.values(), key=lambda s: (s.logical_id or s.name, s.name))


def _sorted_instances(env: Environment) -> list[Instance]:
    return sorted(env.instances.values(), key=lambda i: (i.logical_id or i.id, i.id))


def service_node_id(service: EcsService) -> str:
    # Service names are unique within a cluster; logical ids need not exist (native environment files).
    return f"caller:service:{service.cluster}/{service.name}"


def instance_node_id(instance: Instance) -> str:
    return f"caller:instance:{instance.id}"


@dataclass
class _Builder:
    env: Environment
    decider: Decider
    _next_index: int = 0
    _services_seen: set[str] = field(default_factory=set)

    # -- callers --------------------------------------------------------------------------------

    def launch(self, service: EcsService) -> ServiceLaunch:
        node = service_node_id(service)
        name = service.logical_id or service.name
        checker = LaunchChecker(self.env, self.decider)
        try:
            report = checker.for_service(name)
        except UsageError as error:
            return ServiceLaunch(node, name, service.launch_type or "-", False, (), error=str(error),
                                 service_name=service.name)
        task = next((t for t in self.env.task_definitions.values()
                     if service.task_definition in (t.logical_id, t.family, t.arn)), None)
        # An EC2 service's bridge or host tasks sit on their container instance's network.
        placement = service_placement(service, task, service_host(self.env, service, task))
        if placement is None:
            return ServiceLaunch(node, name, report.launch_type, report.ready, (), report.notes,
                                 error="the service's tasks have no network placement in the templates",
                                 service_name=service.name)
        flows = tuple(self._step_flow(node, step, placement) for step in report.steps)
        return ServiceLaunch(node, name, report.launch_type, report.ready, flows, report.notes,
                             service_name=service.name)

    def instance(self, instance: Instance) -> InstanceRequests:
        node = instance_node_id(instance)
        name = instance.logical_id or instance.id
        try:
            caller = resolve_caller(self.env, name)
        except UsageError as error:
            return InstanceRequests(node, name, "-", (), (str(error),))
        notes: list[str] = []
        flows: list[Flow] = []
        if caller.placement is None:
            notes.append("the instance has no subnet: it is not placed in the network")
            return InstanceRequests(node, name, caller.principal.arn, (), tuple(notes))
        for service_id, request in self._representative_requests(caller):
            try:
                decision = self.decider.decide(caller, request, via=service_id)
            except UsageError as error:
                notes.append(str(error))
                continue
            flows.append(self._decision_flow(node, f"via {service_id}", decision, caller.placement))
        if not flows:
            notes.append("no VPC endpoint in the instance's VPC serves a service accesspath has a representative"
                         " request for")
        return InstanceRequests(node, name, caller.principal.arn, tuple(flows), tuple(notes))

    def _representative_requests(self, caller: Caller) -> list[tuple[str, IamRequest]]:
        assert caller.placement is not None
        subnet = self.env.subnets.get(caller.placement.subnet_id)
        if subnet is None:
            return []
        known = {s.id for s in self.decider.endpoint_services.in_region(self.env.region)}
        services = sorted({e.short_service for e in self.env.endpoints.values()
                           if e.vpc_id == subnet.vpc_id and e.short_service in known})
        requests: list[tuple[str, IamRequest]] = []
        for service_id in services:
            per_resource = _PER_RESOURCE.get(service_id)
            arns: list[str] = []
            if per_resource is not None:
                kind, action, to_resource = per_resource
                arns = sorted(h.arn for h in self.env.resources.values() if h.kind == kind)
                arns = arns[:_MAX_RESOURCES_PER_SERVICE]
                requests.extend((service_id, IamRequest(action, to_resource(arn))) for arn in arns)
            if not arns and service_id in _ACCOUNT_WIDE:
                action, resource = _ACCOUNT_WIDE[service_id]
                requests.append((service_id, IamRequest(action, resource)))
        return requests

    # -- flows ---------------------------------------------------------------------------------

    def _index(self) -> int:
        self._next_index += 1
        return self._next_index

    def _step_flow(self, node: str, step: LaunchStep, placement: CallerPlacement) -> Flow:
        decision = step.decision
        status = _step_status(step)
        path = self._step_path(step, placement)
        hops = self._hops(node, placement, path) if path is not None else ()
        if path is not None:
            path_text = path.describe()
        elif step.request is not None and step.request.action.lower().startswith("sts:assumerole"):
            path_text = "none: ECS assumes the role, not the task"
        else:
            path_text = "-"
        notes: list[str] = list(decision.notes) if decision is not None else []
        if step.ok and step.detail and path is None:
            notes.insert(0, f"allowed by the {step.detail}" if step.detail.startswith("trust policy") else step.detail)
        return Flow(
            index=self._index(), caller=node, origin="launch-check", step=step.name, principal=step.principal,
            action=step.request.action if step.request else None,
            resource=step.request.resource if step.request else None,
            status=status, path=path_text, hops=hops, stopped_reason=step.stopped_reason, fix=step.fix,
            denial=self._step_evidence(step, path) if status in (FlowStatus.DENIED, FlowStatus.UNDETERMINED) else None,
            notes=tuple(notes),
        )

    def _decision_flow(self, node: str, step: str, decision: CallDecision, placement: CallerPlacement) -> Flow:
        status = _decision_status(decision.decision)
        path = decision.path
        fix = ""
        if status is FlowStatus.UNREACHABLE and path is not None:
            fix = (f"add an interface VPC endpoint for com.amazonaws.{self.env.region}.{path.service} with private"
                   " DNS and a security group admitting HTTPS (443), or a route to a NAT gateway")
        evidence = _decision_evidence(decision, self.env, self.decider) if status in (
            FlowStatus.DENIED, FlowStatus.UNDETERMINED) else None
        if evidence is not None and status is FlowStatus.DENIED:
            fix = _allow_fix(decision, evidence)
        return Flow(
            index=self._index(), caller=node, origin="representative", step=step,
            principal=decision.caller.principal.arn, action=decision.request.action,
            resource=decision.request.resource, status=status,
            path=path.describe() if path is not None else "-",
            hops=self._hops(node, placement, path) if path is not None else (),
            stopped_reason="", fix=fix, denial=evidence, notes=decision.notes,
        )

    def _step_path(self, step: LaunchStep, placement: CallerPlacement) -> NetworkPath | None:
        """The network path of a launch step; recomputed for the steps the launch check decides itself."""
        if step.decision is not None:
            return step.decision.path
        env = self.env
        if step.request is None:
            # A public image pull is the only network step without a request.
            return find_path(env, placement, (), env.region) if step.name.startswith("pull ") else None
        if step.request.action.lower().startswith("sts:assumerole"):
            return None
        services = self.decider.endpoint_services.for_action(step.request.action, env.region)
        return find_path(env, placement, services, env.region)

    def _hops(self, node: str, placement: CallerPlacement, path: NetworkPath) -> tuple[str, ...]:
        if placement.subnet_id not in self.env.subnets:
            return ()
        target = INTERNET if path.service == "unknown" else f"svc:{path.service}"
        if path.service != "unknown":
            self._services_seen.add(path.service)
        if path.endpoint is not None:
            hop = f"vpce:{path.endpoint.id}"
        elif path.gateway is not None:
            hop = f"gw:{path.gateway.id}"
        else:
            hop = f"nopath:{path.vpc_id or '-'}"
        return node, f"subnet:{placement.subnet_id}", hop, target

    def _step_evidence(self, step: LaunchStep, path: NetworkPath | None) -> DenialEvidence | None:
        if step.decision is not None and step.decision.result is not None:
            return _decision_evidence(step.decision, self.env, self.decider)
        if step.result is None:
            return None
        # Steps the launch check decides itself (assuming a role, ECR's presigned layer download):
        # their result carries the engine's explanation.
        return _result_evidence(step.result, step.detail or step.result.message or "")

    # -- the graph ---------------------------------------------------------------------------------

    def graph(self, launches: Sequence[ServiceLaunch],
              instances: Sequence[InstanceRequests]) -> tuple[tuple[Node, ...], tuple[Edge, ...]]:
        env = self.env
        nodes: dict[str, Node] = {}
        flows = [f for launch in launches for f in launch.flows] + [f for i in instances for f in i.flows]

        for launch, service in zip(launches, _sorted_services(env)):
            status: FlowStatus | None = FlowStatus.ALLOWED if launch.ready else _worst((f.status for f in launch.flows), CALLER_PRECEDENCE)
            if status is FlowStatus.ALLOWED and not launch.ready:
                status = FlowStatus.DENIED   # the check could not run (launch.error)
            subnets = ", ".join(service.subnet_ids) or "none"
            nodes[launch.node] = Node(
                launch.node, Column.CALLERS, "ecs-service", f"ECS service · {launch.launch_type}", service.name,
                f"{launch.name} · cluster {service.cluster}" if launch.name != service.name
                else f"cluster {service.cluster}", service.name,
                f"ECS service {service.name} (task definition {service.task_definition}) in {subnets}:"
                f" {'ready' if launch.ready else 'NOT READY'}", status)
        for requests, instance in zip(instances, _sorted_instances(env)):
            status = _worst((f.status for f in requests.flows), CALLER_PRECEDENCE) if requests.flows else None
            kind = {"auto-scaling-group": "Auto Scaling group", "spot-fleet": "spot fleet"}.get(instance.source,
                                                                                              "EC2 instance")
            if instance.cluster is not None:
                kind = f"{kind}, container instance of cluster {instance.cluster}"
            nodes[requests.node] = Node(
                requests.node, Column.CALLERS, "instance", kind, requests.name,
                instance.role_name or "no instance profile", instance.id,
                f"{kind} {instance.id} in {instance.subnet_id or 'no subnet'} as {requests.principal}", status)
        for subnet in env.subnets.values():
            nodes[f"subnet:{subnet.id}"] = Node(
                f"subnet:{subnet.id}", Column.SUBNETS, "subnet", f"subnet · {subnet.cidr or 'no CIDR'}", subnet.id,
                " · ".join(x for x in (subnet.vpc_id, subnet.availability_zone) if x), subnet.id,
                f"subnet {subnet.id} ({subnet.cidr}) of {subnet.vpc_id}, route table {subnet.route_table_id or 'none'}")
        for endpoint in env.endpoints.values():
            kind = "interface-endpoint" if endpoint.endpoint_type == "Interface" else "gateway-endpoint"
            policy = endpoint.policy.policy_id if endpoint.policy else "default policy (full access)"
            where = f" at {endpoint.position}" if endpoint.position else ""
            kind_label = f"{endpoint.endpoint_type.lower()} endpoint"
            if endpoint.logical_id:
                kind_label += f" · {endpoint.logical_id}"
            nodes[f"vpce:{endpoint.id}"] = Node(
                f"vpce:{endpoint.id}", Column.HOPS, kind, kind_label,
                endpoint.short_service, endpoint.id, endpoint.id,
                f"{endpoint.endpoint_type} endpoint {endpoint.id} for {endpoint.service_name}{where}; policy: {policy}")
            self._services_seen.add(endpoint.short_service)
        for gateway in env.gateways.values():
            nat = gateway.kind == "nat"
            nodes[f"gw:{gateway.id}"] = Node(
                f"gw:{gateway.id}", Column.HOPS, "nat-gateway" if nat else "internet-gateway",
                "NAT gateway" if nat else "internet gateway", gateway.id,
                f"in {gateway.subnet_id}" if nat and gateway.subnet_id else (gateway.vpc_id or ""), gateway.id,
                (f"NAT gateway {gateway.id} in {gateway.subnet_id}: to the public service endpoints" if nat else
                 f"internet gateway {gateway.id}: to the public service endpoints (callers with a public IP)"))
        for flow in flows:
            for hop in flow.hops:
                if hop.startswith("nopath:") and hop not in nodes:
                    vpc = hop.split(":", 1)[1]
                    nodes[hop] = Node(hop, Column.HOPS, "no-path", "no path", "no endpoint, no route", vpc, vpc,
                                      f"in {vpc}: no usable VPC endpoint and no route to the internet; calls time out")
        if any(INTERNET in f.hops for f in flows) or any(g.kind in ("nat", "igw") for g in env.gateways.values()):
            nodes[INTERNET] = Node(INTERNET, Column.SERVICES, "internet", "public internet", "internet",
                                   "image registries, public endpoints", "internet",
                                   "the public internet (images outside Amazon ECR)")
        for service_id in sorted(self._services_seen):
            known = self.decider.endpoint_services.by_id(service_id, env.region)
            name = known.service_name(env.region) if known else f"com.amazonaws.{env.region}.{service_id}"
            nodes[f"svc:{service_id}"] = Node(f"svc:{service_id}", Column.SERVICES, "aws-service", "AWS service",
                                              service_id, name, service_id, f"{name}")

        carried: dict[tuple[str, str], list[Flow]] = {}
        for key in self._structural_edges(launches, instances):
            if key[0] in nodes and key[1] in nodes:
                carried.setdefault(key, [])
        for flow in flows:
            for source, target in zip(flow.hops, flow.hops[1:]):
                carried.setdefault((source, target), []).append(flow)
        edges = []
        for number, (source, target) in enumerate(sorted(carried), start=1):
            over = carried[(source, target)]
            status = _worst(f.status for f in over) if over else FlowStatus.UNCHECKED
            edges.append(Edge(f"e{number}", source, target, status, tuple(f.index for f in over)))
        ordered = tuple(sorted(nodes.values(), key=lambda n: (n.column, n.id)))
        return ordered, tuple(edges)

    def _structural_edges(self, launches: Sequence[ServiceLaunch],
                          instances: Sequence[InstanceRequests]) -> list[tuple[str, str]]:
        """Edges that exist whether or not a checked request uses them."""
        env = self.env
        found: list[tuple[str, str]] = []
        for launch, service in zip(launches, _sorted_services(env)):
            found.extend((launch.node, f"subnet:{s}") for s in service.subnet_ids)
        for requests, instance in zip(instances, _sorted_instances(env)):
            if instance.subnet_id:
                found.append((requests.node, f"subnet:{instance.subnet_id}"))
        for endpoint in env.endpoints.values():
            found.append((f"vpce:{endpoint.id}", f"svc:{endpoint.short_service}"))
            if endpoint.endpoint_type == "Interface":
                found.extend((f"subnet:{s}", f"vpce:{endpoint.id}") for s in endpoint.subnet_ids)
            else:
                found.extend((f"subnet:{s.id}", f"vpce:{endpoint.id}") for s in env.subnets.values()
                             if s.route_table_id and s.route_table_id in endpoint.route_table_ids)
        for subnet in env.subnets.values():
            table = env.route_table_for(subnet)
            for route in table.routes if table is not None else ():
                if route.destination in ("0.0.0.0/0", "::/0") and route.target_id in env.gateways:
                    found.append((f"subnet:{subnet.id}", f"gw:{route.target_id}"))
        for gateway in env.gateways.values():
            found.append((f"gw:{gateway.id}", INTERNET))
        return found


# -- statuses ------------------------------------------------------------------------------------

def _step_status(step: LaunchStep) -> FlowStatus:
    if step.ok:
        return FlowStatus.ALLOWED
    if step.status == "unreachable":
        return FlowStatus.UNREACHABLE
    if step.decision is not None and step.decision.decision == "undetermined":
        return FlowStatus.UNDETERMINED
    return FlowStatus.DENIED


def _decision_status(decision: str) -> FlowStatus:
    return {"allowed": FlowStatus.ALLOWED, "unreachable": FlowStatus.UNREACHABLE,
            "undetermined": FlowStatus.UNDETERMINED}.get(decision, FlowStatus.DENIED)


def _worst(statuses: Iterable[FlowStatus], precedence: tuple[FlowStatus, ...] = EDGE_PRECEDENCE) -> FlowStatus:
    present = set(statuses)
    return next((s for s in precedence if s in present), FlowStatus.UNCHECKED)


# -- the statements behind a denial ----------------------------------------------------------------

def _decision_evidence(decision: CallDecision, env: Environment, decider: Decider) -> DenialEvidence | None:
    if decision.result is None:
        return None
    if decision.decision == "undetermined":
        return DenialEvidence("undetermined", "resource owner", decision.message, "", (),
                              "the decision depends on which account owns the resource")
    explained = decider.explained(decision)
    if explained is None:
        return None
    return _result_evidence(explained, decision.message)


def _result_evidence(result: AuthorizationResult, message: str) -> DenialEvidence:
    """The statements behind a denial, from what the engine evaluated (its explanation), never re-derived."""
    if result.decision is Decision.EXPLICIT_DENY:
        gate = result.deciding_gate.label if result.deciding_gate else "policy"
        return DenialEvidence("explicitDeny", gate, message, "denied by",
                              tuple(_match_ref(m) for m in result.deciding_statements))
    gate_type = result.deciding_gate or PolicyType.IDENTITY
    evaluated = _evaluated_policies(result, gate_type)
    note = "" if evaluated else f"the engine evaluated no {gate_type.label} for this request"
    return DenialEvidence("implicitDeny", gate_type.label, message,
                          f"no statement allows the request in the {gate_type.label}",
                          _policy_statements(evaluated, only_deny=False), note)


def _evaluated_policies(result: AuthorizationResult, gate: PolicyType) -> tuple[Policy, ...]:
    """The policies of ``gate`` the engine evaluated (a resource gate covers trust and key policies)."""
    types = {gate}
    if gate is PolicyType.RESOURCE:
        types |= {PolicyType.ROLE_TRUST, PolicyType.KMS_KEY}
    return tuple(dict.fromkeys(o.policy for o in result.policies if o.policy.policy_type in types))


def _match_ref(match: StatementMatch) -> StatementRef:
    statement = match.statement
    return StatementRef(match.policy.policy_id, match.policy.policy_type.label, statement.label,
                        statement.effect.value, str(statement.start) if statement.start else "")


def _policy_statements(policies: Sequence[Policy], *, only_deny: bool) -> tuple[StatementRef, ...]:
    refs = [StatementRef(p.policy_id, p.policy_type.label, s.label, s.effect.value,
                         str(s.start) if s.start else "")
            for p in policies for s in p.statements if not only_deny or s.effect.value == "Deny"]
    return tuple(refs[:_MAX_STATEMENTS_SHOWN])


def _allow_fix(decision: CallDecision, evidence: DenialEvidence) -> str:
    request = decision.request
    if evidence.decision == "explicitDeny" and evidence.statements:
        first = evidence.statements[0]
        where = f" at {first.location}" if first.location else ""
        return f"narrow the Deny {first.statement} of {first.policy_id}{where}"
    policies = sorted({s.policy_id for s in evidence.statements})
    target = f" ({', '.join(policies)})" if policies else ""
    return f"allow {request.action} on {request.resource} in the {evidence.gate}{target}"
