"""The ECS world a request travels through: network, endpoints, identities and resources.

Immutable objects built from CloudFormation templates (``environment.from_templates``) or from a
native environment file (``environment.native``). Every object keeps the position of the
template value it came from, so findings can point at file:line:col.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from ipaddress import ip_network
from typing import Any

from accesspath.policy import Policy, Position


@dataclass(frozen=True, slots=True)
class Vpc:
    id: str
    cidr: str | None
    dns_support: bool = True       # EnableDnsSupport defaults to true
    dns_hostnames: bool = False    # EnableDnsHostnames defaults to false for non-default VPCs
    position: Position | None = None
    # The DNS servers of the VPC's DHCP options when they are not AmazonProvidedDNS: whether those
    # answer an endpoint's private DNS name with its private addresses is outside the templates.
    dns_servers: tuple[str, ...] = ()
    logical_id: str | None = None     # the template's logical id, and its stack: what users name
    stack: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    destination: str               # a CIDR, or a prefix list for gateway endpoints
    target_kind: str               # "local", "igw", "nat", "vpce", "other"
    target_id: str | None = None
    position: Position | None = None


@dataclass(frozen=True, slots=True)
class RouteTable:
    id: str
    vpc_id: str
    routes: tuple[Route, ...] = ()
    position: Position | None = None
    logical_id: str | None = None     # the template's logical id, and its stack: what users name
    stack: str | None = None


@dataclass(frozen=True, slots=True)
class Subnet:
    id: str
    vpc_id: str
    cidr: str | None
    route_table_id: str | None = None   # None: the VPC's main route table (no explicit association)
    availability_zone: str | None = None
    map_public_ip: bool = False
    position: Position | None = None
    logical_id: str | None = None     # the template's logical id, and its stack: what users name
    stack: str | None = None

    def sample_address(self) -> str | None:
        """A representative private address in the subnet (the tenth host), for aws:VpcSourceIp."""
        if not self.cidr:
            return None
        try:
            network = ip_network(self.cidr, strict=False)
        except ValueError:
            return None
        return str(network.network_address + (10 if network.num_addresses > 16 else 1))


@dataclass(frozen=True, slots=True)
class SecurityGroupRule:
    protocol: str                  # "tcp", "udp", "icmp", "-1" (all)
    from_port: int | None
    to_port: int | None
    cidr: str | None = None
    group_id: str | None = None    # SourceSecurityGroupId / DestinationSecurityGroupId
    prefix_list: str | None = None
    position: Position | None = None

    def admits_port(self, port: int) -> bool:
        if self.protocol in ("-1", "all"):
            return True
        if self.protocol not in ("tcp", "6"):
            return False
        low = self.from_port if self.from_port is not None else 0
        high = self.to_port if self.to_port is not None else 65535
        if low == -1:
            return True
        return low <= port <= high


@dataclass(frozen=True, slots=True)
class SecurityGroup:
    id: str
    vpc_id: str | None
    ingress: tuple[SecurityGroupRule, ...] = ()
    # A security group without egress rules in the template allows all outbound traffic.
    egress: tuple[SecurityGroupRule, ...] = (SecurityGroupRule("-1", None, None, "0.0.0.0/0"),)
    position: Position | None = None
    logical_id: str | None = None     # the template's logical id, and its stack: what users name
    stack: str | None = None


@dataclass(frozen=True, slots=True)
class VpcEndpoint:
    id: str
    vpc_id: str
    service_name: str              # com.amazonaws.REGION.SERVICE
    endpoint_type: str             # "Interface", "Gateway" or "GatewayLoadBalancer"
    private_dns: bool = False
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    route_table_ids: tuple[str, ...] = ()
    policy: Policy | None = None   # None: the default policy, which allows everything
    logical_id: str | None = None
    position: Position | None = None
    stack: str | None = None

    @property
    def region(self) -> str | None:
        parts = self.service_name.split(".")
        # com.amazonaws.REGION.NAME, and AWS's other shapes such as aws.api.REGION.NAME
        return parts[2] if len(parts) > 3 and parts[0] in ("com", "aws") else None

    @property
    def short_service(self) -> str:
        """``ecs``, ``ecr.api``, ``s3`` ... (the part after the region)."""
        parts = self.service_name.split(".")
        return ".".join(parts[3:]) if len(parts) > 3 else self.service_name


@dataclass(frozen=True, slots=True)
class Gateway:
    """An internet gateway (kind "igw") or a NAT gateway (kind "nat")."""

    id: str
    kind: str
    vpc_id: str | None = None
    subnet_id: str | None = None   # NAT gateways live in a subnet
    position: Position | None = None
    logical_id: str | None = None     # the template's logical id, and its stack: what users name
    stack: str | None = None


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    arn: str
    trust_policy: Policy | None
    policies: tuple[Policy, ...] = ()            # inline, attached managed and AWS::IAM::Policy
    permissions_boundary: Policy | None = None
    managed_policy_arns: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()             # managed policies accesspath could not load
    logical_id: str | None = None
    position: Position | None = None
    external: bool = False                       # referenced by the inputs but defined outside them

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    @property
    def service_linked(self) -> bool:
        return ":role/aws-service-role/" in self.arn


@dataclass(frozen=True, slots=True)
class Instance:
    id: str
    subnet_id: str | None
    security_group_ids: tuple[str, ...] = ()
    role_name: str | None = None
    user_data: str | None = None
    http_tokens: str | None = None        # MetadataOptions.HttpTokens
    hop_limit: int | None = None          # MetadataOptions.HttpPutResponseHopLimit
    public_ip: bool = False
    logical_id: str | None = None
    position: Position | None = None
    # What makes it an ECS container instance (environment.container_instances); defaults: a plain instance.
    source: str = "instance"              # "instance", "auto-scaling-group" or "spot-fleet"
    subnet_ids: tuple[str, ...] = ()      # every subnet it launches in (an Auto Scaling group's VPCZoneIdentifier)
    cluster: str | None = None            # the cluster its ECS agent joins; None: not a container instance
    http_endpoint: str | None = None      # MetadataOptions.HttpEndpoint ("disabled" turns IMDS off)
    agent_config: tuple[tuple[str, str], ...] = ()  # ECS_* settings its boot configuration writes
    imds_iptables_block: bool = False     # an iptables DROP of docker+ traffic to 169.254.169.254 at boot
    capacity_providers: tuple[str, ...] = ()   # ECS capacity providers backed by its Auto Scaling group
    unread: tuple[str, ...] = ()          # parts of its configuration accesspath could not read, and why

    def agent_setting(self, name: str) -> str | None:
        return next((value for key, value in self.agent_config if key == name), None)


@dataclass(frozen=True, slots=True)
class Container:
    name: str
    image: str | None
    log_driver: str | None = None
    log_options: tuple[tuple[str, str], ...] = ()
    secrets: tuple[tuple[str, str], ...] = ()     # (name, valueFrom ARN or name)
    position: Position | None = None


@dataclass(frozen=True, slots=True)
class TaskDefinition:
    family: str
    arn: str
    task_role_name: str | None = None
    execution_role_name: str | None = None
    network_mode: str | None = None
    compatibilities: tuple[str, ...] = ()
    containers: tuple[Container, ...] = ()
    logical_id: str | None = None
    position: Position | None = None
    stack: str | None = None           # the stack (a nested one as PARENT/LOGICALID) that declares it


@dataclass(frozen=True, slots=True)
class EcsService:
    name: str
    cluster: str
    task_definition: str               # logical id or family
    launch_type: str | None = None     # "FARGATE", "EC2", None (capacity provider)
    platform_version: str | None = None
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    assign_public_ip: bool = False
    enable_execute_command: bool = False
    logical_id: str | None = None
    position: Position | None = None
    capacity_providers: tuple[str, ...] = ()   # its capacity provider strategy (or the cluster's default one)
    stack: str | None = None           # the stack (a nested one as PARENT/LOGICALID) that declares it


@dataclass(frozen=True, slots=True)
class ResourcePolicyHolder:
    """A resource that carries a resource-based policy (bucket, queue, key, secret, repository)."""

    kind: str                      # "s3-bucket", "sqs-queue", "kms-key", "secret", "ecr-repository"
    arn: str
    policy: Policy | None
    name: str | None = None
    logical_id: str | None = None
    position: Position | None = None
    kms_key: str | None = None     # a secret's KmsKeyId (key id, key ARN or alias), when customer managed


@dataclass(frozen=True)
class Environment:
    account: str
    region: str
    partition: str = "aws"
    organization_id: str | None = None
    vpcs: dict[str, Vpc] = field(default_factory=dict)
    subnets: dict[str, Subnet] = field(default_factory=dict)
    route_tables: dict[str, RouteTable] = field(default_factory=dict)
    security_groups: dict[str, SecurityGroup] = field(default_factory=dict)
    endpoints: dict[str, VpcEndpoint] = field(default_factory=dict)
    gateways: dict[str, Gateway] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    instances: dict[str, Instance] = field(default_factory=dict)
    task_definitions: dict[str, TaskDefinition] = field(default_factory=dict)
    services: dict[str, EcsService] = field(default_factory=dict)
    resources: dict[str, ResourcePolicyHolder] = field(default_factory=dict)   # by ARN
    scps: tuple[tuple[Policy, ...], ...] | None = None
    rcps: tuple[tuple[Policy, ...], ...] | None = None
    not_modelled: tuple[tuple[str, str], ...] = ()   # (logical id, type)
    issues: tuple[str, ...] = ()
    # Roles the inputs reference (a task role ARN, an instance profile) but do not define: their
    # policies are unknown (environment.unknowns), or come from --authorization-details.
    external_roles: dict[str, Role] = field(default_factory=dict)
    # KMS aliases the inputs define: "alias/name" → the key's ARN (names.py resolves calls by alias).
    kms_aliases: dict[str, str] = field(default_factory=dict)

    @cached_property
    def resources_by_logical_id(self) -> dict[str, tuple[ResourcePolicyHolder, ...]]:
        """The resources of each logical id, in declaration order. Built on first use: an environment
        never changes once built, and a per-request scan of every resource made large audits quadratic."""
        index: dict[str, list[ResourcePolicyHolder]] = {}
        for holder in self.resources.values():
            if holder.logical_id:
                index.setdefault(holder.logical_id, []).append(holder)
        return {logical: tuple(holders) for logical, holders in index.items()}

    @cached_property
    def delimited_logical_ids(self) -> tuple[str, ...]:
        """Logical ids of resources that contain ':' or '/' (a native environment file may give any)."""
        return tuple(logical for logical in self.resources_by_logical_id if ":" in logical or "/" in logical)

    def role_by_name_or_arn(self, ref: str) -> Role | None:
        for roles in (self.roles, self.external_roles):
            if ref in roles:
                return roles[ref]
            for role in roles.values():
                if role.arn == ref or role.logical_id == ref:
                    return role
        return None

    def network_object(self, kind: str, ref: str) -> str | None:
        """The id of a subnet, security group, route table or VPC named by its id, its logical id or
        ``Stack/LogicalId`` (``kind``: "subnet", "security-group", "route-table", "vpc"); None if nothing
        of the inputs has that name or the logical id is ambiguous."""
        tables: dict[str, dict[str, Any]] = {"subnet": self.subnets, "security-group": self.security_groups,
                                 "route-table": self.route_tables, "vpc": self.vpcs}
        table = tables[kind]
        if ref in table:
            return ref
        stack, _, logical = ref.rpartition("/")
        found = {obj.id for obj in table.values()
                 if obj.logical_id == logical and (not stack or obj.stack == stack)}
        return found.pop() if len(found) == 1 else None

    def label(self, obj: Any) -> str:
        """An object's id with the logical id the user wrote beside it (stack-qualified where ambiguous)."""
        logical = getattr(obj, "logical_id", None)
        if not logical or logical == obj.id:
            return str(obj.id)
        stacks = {getattr(o, "stack", None) for table in (self.subnets, self.security_groups, self.route_tables,
                                                          self.vpcs, self.gateways, self.endpoints)
                  for o in table.values() if getattr(o, "logical_id", None) == logical}
        stack = getattr(obj, "stack", None)
        name = f"{stack}/{logical}" if len(stacks) > 1 and stack else logical
        return f"{obj.id} ({name})"

    def main_route_table(self, vpc_id: str) -> RouteTable | None:
        """No explicit main table in templates: a subnet without association uses the VPC's own."""
        return None

    def route_table_for(self, subnet: Subnet) -> RouteTable | None:
        if subnet.route_table_id:
            return self.route_tables.get(subnet.route_table_id)
        return self.main_route_table(subnet.vpc_id)
