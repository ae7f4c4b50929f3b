"""The network path of an API call: from the caller's subnet to the service's endpoint.

In order (VPC user guide, PrivateLink: "Access an AWS service using an interface VPC endpoint",
"Gateway endpoints"; ECS guide, "Amazon ECS interface VPC endpoints", seed 001):
1. an interface endpoint of the service in the caller's VPC and region, with private DNS on and
   the VPC's DNS support and DNS hostnames on, reachable on 443 (its security groups admit the
   caller; the caller's egress allows it): the API host name resolves to it;
2. a gateway endpoint (S3, DynamoDB) on the subnet's route table;
3. a route to a NAT gateway (in a subnet with an internet gateway route) or, for a caller with a
   public IP, to an internet gateway: the public endpoint;
4. otherwise the call is unreachable: it times out.
An endpoint in another region is never used (endpoints do not serve cross-region requests).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from ipaddress import ip_address, ip_network

from accesspath.catalog.endpoint_services import EndpointService
from accesspath.environment.model import (
    Environment,
    Gateway,
    SecurityGroup,
    Subnet,
    VpcEndpoint,
)
from accesspath.environment.unknowns import Unknown

HTTPS = 443


class PathKind(str, Enum):
    INTERFACE_ENDPOINT = "interface-endpoint"
    GATEWAY_ENDPOINT = "gateway-endpoint"
    NAT_GATEWAY = "nat-gateway"
    INTERNET_GATEWAY = "internet-gateway"
    UNREACHABLE = "unreachable"
    UNDETERMINED = "undetermined"      # the caller's subnet or VPC is not in the inputs


@dataclass(frozen=True, slots=True)
class CallerPlacement:
    """Where a caller sits: its subnet, security groups, address and whether it has a public IP."""

    subnet_id: str
    security_group_ids: tuple[str, ...] = ()
    public_ip: bool = False
    address: str | None = None


@dataclass(frozen=True, slots=True)
class NetworkPath:
    kind: PathKind
    service: str                         # the endpoint service id, e.g. "ecs", "ecr.dkr"
    endpoint: VpcEndpoint | None = None
    gateway: Gateway | None = None
    vpc_id: str | None = None
    reason: str = ""                     # why this path (and, when unreachable, why nothing else)
    notes: tuple[str, ...] = ()          # endpoints that exist but were not used, and why
    # When unreachable, what blocked it, as data for fixes: "endpoint-security-groups" (the endpoint's
    # groups do not admit 443 from the caller), "endpoint-without-security-group", "caller-egress",
    # "no-public-ip" (an internet gateway route, but no public IP), "no-route", "unknown-subnet".
    blocked_by: str = ""
    # What the path had to assume (a security group defined outside the inputs was taken to let
    # HTTPS through): an allow on such a path is undetermined, a denial holds either way.
    unknowns: tuple[Unknown, ...] = ()

    @property
    def reachable(self) -> bool:
        return self.kind not in (PathKind.UNREACHABLE, PathKind.UNDETERMINED)

    def describe(self) -> str:
        # The template's logical id stands beside the synthetic id, which the user never wrote.
        if self.kind is PathKind.INTERFACE_ENDPOINT and self.endpoint:
            return f"interface endpoint {self.endpoint.id}{_logical(self.endpoint)} ({self.endpoint.service_name})"
        if self.kind is PathKind.GATEWAY_ENDPOINT and self.endpoint:
            return f"gateway endpoint {self.endpoint.id}{_logical(self.endpoint)} ({self.endpoint.service_name})"
        if self.kind is PathKind.NAT_GATEWAY and self.gateway:
            return f"NAT gateway {self.gateway.id}{_logical(self.gateway)} to the public {self.service} endpoint"
        if self.kind is PathKind.INTERNET_GATEWAY and self.gateway:
            return (f"internet gateway {self.gateway.id}{_logical(self.gateway)} to the public {self.service}"
                    " endpoint")
        if self.kind is PathKind.UNDETERMINED:
            return f"undetermined: {self.reason}"
        return f"unreachable: {self.reason}"


def _logical(obj: VpcEndpoint | Gateway) -> str:
    return f" [{obj.logical_id}]" if obj.logical_id and obj.logical_id != obj.id else ""


def find_path(env: Environment, placement: CallerPlacement, services: tuple[EndpointService, ...],
              region: str) -> NetworkPath:
    """The path a call to ``services`` (most specific first) takes from ``placement``."""
    path = _find_path(env, placement, services, region)
    unknowns = _unknown_groups(env, placement, path)
    if unknowns and path.reachable:
        return replace(path, unknowns=unknowns)
    return path


def _unknown_groups(env: Environment, placement: CallerPlacement, path: NetworkPath) -> tuple[Unknown, ...]:
    """Security groups on the path that the inputs do not define."""
    groups = list(placement.security_group_ids)
    if path.kind is PathKind.INTERFACE_ENDPOINT and path.endpoint is not None:
        groups += path.endpoint.security_group_ids
    return tuple(Unknown(f"the rules of security group '{g}', which the inputs do not define (HTTPS was taken to"
                         " pass)", "load the template that defines it, or give --security-group with one that"
                         " the templates define")
                 for g in dict.fromkeys(groups) if g not in env.security_groups)


def _find_path(env: Environment, placement: CallerPlacement, services: tuple[EndpointService, ...],
               region: str) -> NetworkPath:
    service_id = services[0].id if services else "unknown"
    subnet = env.subnets.get(placement.subnet_id)
    if subnet is None:
        # Not given is not unreachable: the subnet may route anywhere.
        return NetworkPath(PathKind.UNDETERMINED, service_id,
                           reason=f"subnet '{placement.subnet_id}' is not in the environment",
                           blocked_by="unknown-subnet", unknowns=(Unknown(
                               f"subnet '{placement.subnet_id}', which the inputs do not define (its route table,"
                               " VPC and endpoints decide the path)",
                               "load the template that defines it, or give --subnet with a subnet of the templates"
                               " (LogicalId or Stack/LogicalId)"),))
    if not subnet.vpc_id:
        return NetworkPath(PathKind.UNDETERMINED, service_id, reason=f"the VPC of subnet {subnet.id} is not resolved",
                           blocked_by="unknown-vpc", unknowns=(Unknown(
                               f"the VPC of subnet {subnet.id} (its VpcId is not resolved)",
                               "load the template that defines the VPC, or give it with --param", subnet.position),))
    vpc = env.vpcs.get(subnet.vpc_id)
    notes: list[str] = []
    caller_address = placement.address or subnet.sample_address()

    for service in services:
        if "Interface" not in service.types:
            continue
        wanted = service.service_name(region)
        for endpoint in _endpoints_in(env, subnet.vpc_id, "Interface"):
            if endpoint.short_service != service.id:
                continue
            # A service the table does not list may use another AWS-owned name shape (aws.api.REGION.NAME).
            if endpoint.service_name != wanted and not (service.general and endpoint.region == region):
                notes.append(f"{endpoint.id} serves {endpoint.service_name}; calls to {region} do not use it"
                             " (VPC endpoints do not serve other regions)")
                continue
            if not endpoint.private_dns:
                notes.append(f"{endpoint.id} has private DNS off: the {service.id} host name still resolves to"
                             " the public endpoint")
                continue
            if vpc is not None and not (vpc.dns_support and vpc.dns_hostnames):
                notes.append(f"{endpoint.id} has private DNS on, but VPC {vpc.id} has DNS support or DNS"
                             " hostnames off, so the private name does not resolve")
                continue
            blocked, blocker = _interface_blocked(env, placement, subnet, caller_address, endpoint)
            if blocked:
                return NetworkPath(PathKind.UNREACHABLE, service.id, endpoint=endpoint, vpc_id=subnet.vpc_id,
                                   reason=blocked, notes=tuple(notes), blocked_by=blocker)
            return NetworkPath(PathKind.INTERFACE_ENDPOINT, service.id, endpoint=endpoint, vpc_id=subnet.vpc_id,
                               reason=f"private DNS of {endpoint.id} answers for the {service.id} host name",
                               notes=tuple(notes))

    route_table = env.route_table_for(subnet)
    for service in services:
        if "Gateway" not in service.types:
            continue
        wanted = service.service_name(region)
        for endpoint in _endpoints_in(env, subnet.vpc_id, "Gateway"):
            if endpoint.service_name != wanted:
                if endpoint.short_service == service.id:
                    notes.append(f"{endpoint.id} serves {endpoint.service_name}; calls to {region} do not use it")
                continue
            if route_table is None or route_table.id not in endpoint.route_table_ids:
                notes.append(f"gateway endpoint {endpoint.id} is not associated with the route table of"
                             f" subnet {subnet.id}")
                continue
            if not _egress_allows(env, placement.security_group_ids, None, any_destination=True):
                return NetworkPath(PathKind.UNREACHABLE, service.id, endpoint=endpoint, vpc_id=subnet.vpc_id,
                                   reason="the caller's security groups allow no outbound HTTPS (443)",
                                   notes=tuple(notes), blocked_by="caller-egress")
            return NetworkPath(PathKind.GATEWAY_ENDPOINT, service.id, endpoint=endpoint, vpc_id=subnet.vpc_id,
                               reason=f"route table {route_table.id} routes {service.id} through {endpoint.id}",
                               notes=tuple(notes))

    internet = _internet_route(env, subnet, placement.public_ip)
    if isinstance(internet, Gateway):
        if not _egress_allows(env, placement.security_group_ids, None, any_destination=True):
            return NetworkPath(PathKind.UNREACHABLE, service_id, vpc_id=subnet.vpc_id,
                               reason="the caller's security groups allow no outbound HTTPS (443)", notes=tuple(notes),
                               blocked_by="caller-egress")
        kind = PathKind.NAT_GATEWAY if internet.kind == "nat" else PathKind.INTERNET_GATEWAY
        return NetworkPath(kind, service_id, gateway=internet, vpc_id=subnet.vpc_id,
                           reason=f"the default route of subnet {subnet.id} leads to {internet.id}", notes=tuple(notes))
    names = ", ".join(s.service_name(region) for s in services)
    # No services: a host that is not AWS (transparent mode's CONNECT), which only the internet reaches.
    missing = f"no usable VPC endpoint for {names} and no route" if names else "no route"
    return NetworkPath(PathKind.UNREACHABLE, service_id, vpc_id=subnet.vpc_id,
                       reason=f"{missing} to the internet from subnet {subnet.id}{': ' + internet if internet else ''};"
                              " the call times out",
                       notes=tuple(notes), blocked_by="no-public-ip" if internet.endswith(_NO_PUBLIC_IP) else "no-route")


def _endpoints_in(env: Environment, vpc_id: str, endpoint_type: str) -> list[VpcEndpoint]:
    return [e for e in env.endpoints.values() if e.vpc_id == vpc_id and e.endpoint_type == endpoint_type]


_NO_PUBLIC_IP = ", but the caller has no public IP"


def _internet_route(env: Environment, subnet: Subnet, public_ip: bool) -> Gateway | str:
    """The gateway the subnet's default route leads to, or why there is none."""
    route_table = env.route_table_for(subnet)
    if route_table is None:
        return "it has no route table with a default route"
    for route in route_table.routes:
        if route.destination not in ("0.0.0.0/0", "::/0"):
            continue
        gateway = env.gateways.get(route.target_id or "")
        if route.target_kind == "nat" and gateway is not None:
            nat_subnet = env.subnets.get(gateway.subnet_id or "")
            if nat_subnet is not None and isinstance(_internet_route(env, nat_subnet, True), Gateway):
                return gateway
            return f"NAT gateway {gateway.id} is in a subnet without an internet gateway route"
        if route.target_kind == "igw" and gateway is not None:
            if public_ip:
                return gateway
            return f"the default route leads to internet gateway {gateway.id}{_NO_PUBLIC_IP}"
    return "its route table has no default route to a NAT or internet gateway"


def _interface_blocked(env: Environment, placement: CallerPlacement, subnet: Subnet, caller_address: str | None,
                       endpoint: VpcEndpoint) -> tuple[str, str]:
    """Why HTTPS from the caller to an interface endpoint is blocked and by what, or ('', '') when it is not."""
    endpoint_groups = [env.security_groups.get(g) for g in endpoint.security_group_ids]
    if not endpoint.security_group_ids:
        return (f"{endpoint.id} has no security group in the template (the VPC's default group admits only its own"
                " members): HTTPS from the caller times out", "endpoint-without-security-group")
    admitted = False
    for group in endpoint_groups:
        if group is None:
            admitted = True  # a group defined elsewhere: not modelled, do not guess a block
            continue
        if _ingress_admits(group, placement.security_group_ids, caller_address):
            admitted = True
    if not admitted:
        return (f"the security groups of {endpoint.id} ({', '.join(endpoint.security_group_ids)}) do not admit HTTPS"
                f" (443) from the caller ({caller_address or subnet.id}): the connection times out",
                "endpoint-security-groups")
    endpoint_cidrs = [env.subnets[s].cidr for s in endpoint.subnet_ids if s in env.subnets and env.subnets[s].cidr]
    if not _egress_allows(env, placement.security_group_ids, endpoint_cidrs, endpoint_groups=endpoint.security_group_ids):
        return (f"the caller's security groups allow no outbound HTTPS (443) to {endpoint.id}: the connection times"
                " out", "caller-egress")
    return "", ""


def _ingress_admits(group: SecurityGroup, caller_groups: tuple[str, ...], caller_address: str | None) -> bool:
    for rule in group.ingress:
        if not rule.admits_port(HTTPS):
            continue
        if rule.group_id and rule.group_id in caller_groups:
            return True
        if rule.cidr and caller_address and _contains(rule.cidr, caller_address):
            return True
    return False


def _egress_allows(env: Environment, caller_groups: tuple[str, ...], destination_cidrs: list[str | None] | None,
                   *, any_destination: bool = False, endpoint_groups: tuple[str, ...] = ()) -> bool:
    if not caller_groups:
        return True  # no security groups modelled for the caller: nothing to block
    for group_id in caller_groups:
        group = env.security_groups.get(group_id)
        if group is None:
            return True  # defined outside the templates: not modelled, do not guess a block
        for rule in group.egress:
            if not rule.admits_port(HTTPS):
                continue
            if rule.group_id and rule.group_id in endpoint_groups:
                return True
            if rule.prefix_list and any_destination:
                return True
            if rule.cidr:
                if any_destination and rule.cidr in ("0.0.0.0/0", "::/0"):
                    return True
                if destination_cidrs and any(c and _overlaps(rule.cidr, c) for c in destination_cidrs):
                    return True
                if not destination_cidrs and not any_destination and rule.cidr in ("0.0.0.0/0", "::/0"):
                    return True
    return False


def _contains(cidr: str, address: str) -> bool:
    try:
        return ip_address(address) in ip_network(cidr, strict=False)
    except ValueError:
        return False


def _overlaps(a: str, b: str) -> bool:
    try:
        return ip_network(a, strict=False).overlaps(ip_network(b, strict=False))
    except (ValueError, TypeError):
        return False
