"""What every audit rule shares: the environment, the engine's questions, and facts computed once.

Rules never read policy JSON: they ask the questions here, each answered by the one evaluator
(:func:`accesspath.engine.authorize`, directly or through :class:`~accesspath.environment.Decider`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from accesspath.catalog.arn_templates import fill_template, template_variables
from accesspath.catalog.calls import IamRequest
from accesspath.catalog.endpoint_services import (
    EndpointService,
    EndpointServiceTable,
    default_endpoint_services,
)
from accesspath.catalog.model import Action
from accesspath.catalog.service_catalog import ServiceCatalog, get_catalog
from accesspath.engine import (
    AuthorizationRequest,
    AuthorizationResult,
    ContextValue,
    PolicySet,
    RequestContext,
    RequestPrincipal,
    authorize,
    principal_from_arn,
)
from accesspath.environment.callers import Caller, task_id_for
from accesspath.environment.decide import DEFAULT_ENDPOINT_POLICY, CallDecision, Decider
from accesspath.environment.model import (
    Environment,
    ResourcePolicyHolder,
    Role,
    VpcEndpoint,
)
from accesspath.environment.network import CallerPlacement
from accesspath.policy import Policy, PolicyType, parse_policy

# An account the templates never mention (the documentation's example account, or another).
FOREIGN_ACCOUNTS = ("999999999999", "111122223333")
# The name used for made-up resources: never a name the templates declare.
UNDECLARED = "accesspath-undeclared"
AUDIT_SESSION = "accesspath-audit"

# With these two beside an endpoint policy, only the endpoint policy can deny: "is the request
# allowed" then asks "does the endpoint let it through" (the vpc-endpoint gate alone).
_ANY_IDENTITY_PERMISSION = parse_policy(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    policy_id="audit: any identity permission")
_ANY_RESOURCE_PERMISSION = parse_policy(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]},
    policy_type=PolicyType.RESOURCE, policy_id="audit: any resource-based permission")
_ANY_TRUST = parse_policy(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                             "Action": "sts:AssumeRole"}]},
    policy_type=PolicyType.ROLE_TRUST, policy_id="audit: any trust")

ECS_TASKS = "ecs-tasks.amazonaws.com"


@dataclass(frozen=True, slots=True)
class Placement:
    """A caller of the environment that sits in a subnet: an ECS service or an instance."""

    label: str                  # "ECS service web", "instance i-0123 (AppInstance)"
    vpc_id: str
    placement: CallerPlacement


@dataclass(frozen=True)
class AuditContext:
    """One audit's shared state; the caches only ever grow (policies and answers never change)."""

    env: Environment
    endpoint_services: EndpointServiceTable = field(default_factory=default_endpoint_services)
    catalog: ServiceCatalog = field(default_factory=get_catalog)
    # Policy sets compiled once per role trust policy and per endpoint (their decision caches persist).
    _trust_sets: dict[str, PolicySet] = field(default_factory=dict, init=False, repr=False)
    _endpoint_sets: dict[tuple[str, bool], PolicySet] = field(default_factory=dict, init=False, repr=False)
    _write_probes: dict[str, tuple[IamRequest, ...]] = field(default_factory=dict, init=False, repr=False)

    @cached_property
    def foreign_account(self) -> str:
        return next(a for a in FOREIGN_ACCOUNTS if a != self.env.account)

    @cached_property
    def decider(self) -> Decider:
        # Made-up S3 ARNs name no account: take them as the environment's own.
        return Decider(self.env, self.endpoint_services, resource_account=self.env.account)

    # -- principals ---------------------------------------------------------------------------------

    def role_session(self, role: Role) -> RequestPrincipal:
        return principal_from_arn(f"arn:{self.env.partition}:sts::{role.account}:assumed-role/{role.name}/{AUDIT_SESSION}")

    def account_session(self, account: str) -> RequestPrincipal:
        """A session of a role that is not in the templates, in ``account``."""
        return principal_from_arn(f"arn:{self.env.partition}:sts::{account}:assumed-role/{AUDIT_SESSION}/{AUDIT_SESSION}")

    @cached_property
    def own_principals(self) -> tuple[RequestPrincipal, ...]:
        """Sessions of every role of the templates (not service-linked) and of a role they do not declare."""
        roles = tuple(self.role_session(r) for r in self.env.roles.values() if not r.service_linked)
        return roles + (self.account_session(self.env.account),)

    def task_arn(self, account: str) -> str:
        env = self.env
        return f"arn:{env.partition}:ecs:{env.region}:{account}:task/{AUDIT_SESSION}/{task_id_for(AUDIT_SESSION)}"

    # -- role trust -----------------------------------------------------------------------------------

    def ecs_tasks_assume(self, role: Role, account: str) -> tuple[AuthorizationResult, dict[str, str]]:
        """May ECS assume ``role`` for a task of ``account`` (as ECS does: aws:SourceAccount, aws:SourceArn)?"""
        context = {"aws:SourceAccount": account, "aws:SourceArn": self.task_arn(account)}
        policies = self._trust_sets.get(role.name)
        if policies is None:
            policies = PolicySet.of(resource=(role.trust_policy,) if role.trust_policy else (),
                                    resource_owner=role.account, resource_policy_type=PolicyType.ROLE_TRUST)
            self._trust_sets[role.name] = policies
        result = authorize(AuthorizationRequest(principal_from_arn(ECS_TASKS), "sts:AssumeRole", role.arn,
                                                RequestContext.of(context)), policies)
        return result, context

    @cached_property
    def ecs_task_roles(self) -> tuple[Role, ...]:
        """Roles ECS may assume for tasks of this account (asked of the engine, trust policy by trust policy)."""
        return tuple(r for r in self.env.roles.values()
                     if not r.service_linked and self.ecs_tasks_assume(r, self.env.account)[0].allowed)

    @cached_property
    def task_roles(self) -> tuple[Role, ...]:
        """Roles containers run as: those named as TaskRoleArn, and roles ECS tasks may assume that no
        task definition uses as its execution role (templates that define the roles alone, seed 003)."""
        env = self.env
        named = [env.role_by_name_or_arn(t.task_role_name) for t in env.task_definitions.values() if t.task_role_name]
        execution = {r.name for t in env.task_definitions.values() if t.execution_role_name
                     for r in (env.role_by_name_or_arn(t.execution_role_name),) if r is not None}
        roles: dict[str, Role] = {r.name: r for r in named if r is not None}
        for role in self.ecs_task_roles:
            if role.name not in execution and role.name not in roles:
                roles[role.name] = role
        return tuple(roles.values())

    # -- identity questions ----------------------------------------------------------------------------

    def role_may(self, role: Role, action: str, resource: str) -> CallDecision:
        """Is ``role`` allowed ``action`` on ``resource``, wherever it calls from (no endpoint policy)?"""
        caller = Caller("role", role.name, role, self.role_session(role), None)
        return self.decider.decide(caller, IamRequest(action, resource))

    def role_may_each(self, role: Role, requests: Sequence[IamRequest]) -> list[CallDecision]:
        """:meth:`role_may` for each of ``requests``, asked as one batch of questions asked once."""
        caller = Caller("role", role.name, role, self.role_session(role), None)
        return self.decider.decide_many(caller, requests)

    def undeclared_write_requests(self, prefix: str) -> tuple[IamRequest, ...]:
        """A service's write actions (those that take a resource), each on a made-up resource of this
        account: the same for every role, so worked out once per service."""
        found = self._write_probes.get(prefix)
        if found is None:
            asked = []
            for action in self.catalog.actions_of(prefix):
                if action.takes_no_resource or not self.is_write(action):
                    continue
                resource = self.undeclared_arn(action, self.env.account)
                if resource is not None:
                    asked.append(IamRequest(action.full_name, resource))
            found = self._write_probes[prefix] = tuple(asked)
        return found

    # -- endpoint questions ----------------------------------------------------------------------------

    def endpoint_service(self, endpoint: VpcEndpoint) -> EndpointService | None:
        return self.endpoint_services.by_id(endpoint.short_service, endpoint.region or self.env.region)

    def endpoint_policy(self, endpoint: VpcEndpoint) -> Policy:
        return endpoint.policy or DEFAULT_ENDPOINT_POLICY

    def through_endpoint(self, endpoint: VpcEndpoint, principal: RequestPrincipal, action: str, resource: str,
                         owner: str) -> tuple[AuthorizationResult, dict[str, str]]:
        """Does ``endpoint``'s policy let ``principal`` call ``action`` on ``resource`` (owned by ``owner``)?

        Every other gate allows, so the answer is the vpc-endpoint gate's alone.
        """
        env = self.env
        region = endpoint.region or env.region
        shown: dict[str, str] = {"aws:SourceVpce": endpoint.id, "aws:SourceVpc": endpoint.vpc_id,
                                 "aws:RequestedRegion": region, "aws:ResourceAccount": owner}
        address = self._endpoint_source_address(endpoint)
        if address:
            shown["aws:VpcSourceIp"] = address
        if env.organization_id and principal.account == env.account:
            shown["aws:PrincipalOrgID"] = env.organization_id
        if env.organization_id and owner == env.account:
            shown["aws:ResourceOrgID"] = env.organization_id
        values: dict[str, ContextValue | str] = dict(shown)
        values["aws:SecureTransport"] = ContextValue(("true",), type_name="boolean")
        if address:
            values["aws:VpcSourceIp"] = ContextValue((address,), type_name="ip")
        request = AuthorizationRequest(principal, action, resource, RequestContext.of(values))
        return authorize(request, self._endpoint_set(endpoint, action)), shown

    def _endpoint_set(self, endpoint: VpcEndpoint, action: str) -> PolicySet:
        trust = action.lower().startswith("sts:assumerole")
        key = (endpoint.id, trust)
        found = self._endpoint_sets.get(key)
        if found is None:
            found = PolicySet.of(identity=(_ANY_IDENTITY_PERMISSION,),
                                 resource=(_ANY_TRUST if trust else _ANY_RESOURCE_PERMISSION,),
                                 vpc_endpoint=(self.endpoint_policy(endpoint),))
            self._endpoint_sets[key] = found
        return found

    def _endpoint_source_address(self, endpoint: VpcEndpoint) -> str | None:
        subnets = [self.env.subnets[s] for s in endpoint.subnet_ids if s in self.env.subnets]
        subnets = subnets or [s for s in self.env.subnets.values() if s.vpc_id == endpoint.vpc_id]
        for subnet in subnets:
            address = subnet.sample_address()
            if address:
                return address
        return None

    # -- resources -------------------------------------------------------------------------------------

    def declared(self, service_prefix: str) -> tuple[ResourcePolicyHolder, ...]:
        """The template's resources of a service (``sqs``, ``s3``, ``logs`` ...)."""
        return tuple(h for arn, h in self.env.resources.items() if _arn_service(arn) == service_prefix)

    def request_resource(self, holder: ResourcePolicyHolder) -> str:
        # Log-group operations are authorized on "log-group:NAME:log-stream:..." (see environment.access).
        return f"{holder.arn}:log-stream:{AUDIT_SESSION}" if holder.kind == "log-group" else holder.arn

    def undeclared_arn(self, action: Action, account: str) -> str | None:
        """A made-up ARN of the first resource type ``action`` is authorized against, in ``account``."""
        for _, resource_type in self.catalog.action_resource_types(action):
            template = resource_type.arn_template
            values = {name: UNDECLARED for name in template_variables(template)}
            values.update(Partition=self.env.partition, Region=self.env.region, Account=account)
            return fill_template(template, values)
        return None

    def declared_targets(self, action: Action) -> list[str]:
        """The template's resources ``action`` can be asked about."""
        return [self.request_resource(holder) for arn, holder in self.env.resources.items()
                if self.catalog.resource_types_for_request(action, arn)]

    def is_write(self, action: Action) -> bool:
        return bool({"Write", "Permissions management"} & set(action.access_levels or (action.access_level,)))

    # -- the network -----------------------------------------------------------------------------------

    @cached_property
    def placements(self) -> tuple[Placement, ...]:
        """Every subnet an ECS service or an instance of the templates runs in, with its security groups."""
        env = self.env
        found: list[Placement] = []
        for service in env.services.values():
            for subnet_id in service.subnet_ids:
                subnet = env.subnets.get(subnet_id)
                if subnet is not None:
                    found.append(Placement(f"ECS service {service.logical_id or service.name} in {subnet_id}",
                                           subnet.vpc_id, CallerPlacement(subnet_id, service.security_group_ids,
                                                                          service.assign_public_ip)))
        for instance in env.instances.values():
            subnet = env.subnets.get(instance.subnet_id or "")
            if subnet is not None:
                label = f"instance {instance.logical_id or instance.id} in {subnet.id}"
                found.append(Placement(label, subnet.vpc_id, CallerPlacement(subnet.id, instance.security_group_ids,
                                                                             instance.public_ip)))
        return tuple(found)

    @cached_property
    def runs_ec2_capacity(self) -> bool:
        """Whether the templates have EC2 instances or EC2-launch-type ECS services."""
        return bool(self.env.instances) or any((s.launch_type or "").upper() == "EC2"
                                                for s in self.env.services.values())


def _arn_service(arn: str) -> str:
    parts = arn.split(":", 3)
    return parts[2] if len(parts) > 2 else ""


def endpoint_label(endpoint: VpcEndpoint) -> str:
    name = f" ({endpoint.logical_id})" if endpoint.logical_id and endpoint.logical_id != endpoint.id else ""
    return f"VPC endpoint {endpoint.id}{name}, {endpoint.service_name}"


def role_label(role: Role) -> str:
    name = f" ({role.logical_id})" if role.logical_id and role.logical_id != role.name else ""
    return f"role {role.name}{name}"
