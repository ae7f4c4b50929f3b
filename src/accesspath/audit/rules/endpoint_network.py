"""Rules about how VPC endpoints sit in the network: security groups, siblings, private DNS, region.

Sources: PrivateLink guide, "Access an AWS service using an interface VPC endpoint" (security
groups must admit HTTPS from the clients; private DNS needs the VPC's DNS support and DNS
hostnames; an endpoint serves its own region); ECS developer guide, "Amazon ECS interface VPC
endpoints (AWS PrivateLink)" (container instances need ecs-agent and ecs-telemetry besides ecs).
"""

from __future__ import annotations

from collections.abc import Iterator

from accesspath.audit.context import AuditContext, endpoint_label
from accesspath.audit.rule import AuditFinding, AuditRule, RuleInfo
from accesspath.environment.network import PathKind, find_path
from accesspath.lint.findings import Severity

INTERFACE_ENDPOINT_PAGE = "https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html"
PRIVATE_DNS_PAGE = "https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html"
ECS_ENDPOINTS_PAGE = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html"
ECS_SIBLINGS = ("ecs-agent", "ecs-telemetry")


class EndpointSecurityGroup(AuditRule):
    info = RuleInfo(
        id="endpoint-security-group",
        severity=Severity.ERROR,
        title="the endpoint's security groups do not admit HTTPS from the subnets that use it",
        rationale=("An interface endpoint answers on its network interfaces; when its security groups do not"
                   " admit TCP 443 from a caller (or the caller's security groups do not allow it out), the"
                   " private DNS name still resolves to the endpoint and every call times out."),
        fix="add an ingress rule for TCP 443 from the callers' subnets (CIDR) or security groups",
        doc_urls=(INTERFACE_ENDPOINT_PAGE, ECS_ENDPOINTS_PAGE),
    )

    def check(self, audit: AuditContext) -> Iterator[AuditFinding]:
        env = audit.env
        for endpoint in env.endpoints.values():
            if endpoint.endpoint_type != "Interface":
                continue
            service = audit.endpoint_service(endpoint)
            if service is None:
                continue
            region = endpoint.region or env.region
            blocked: list[tuple[str, str]] = []
            for caller in audit.placements:
                if caller.vpc_id != endpoint.vpc_id:
                    continue
                path = find_path(env, caller.placement, (service,), region)
                if path.kind is PathKind.UNREACHABLE and path.endpoint is not None and path.endpoint.id == endpoint.id:
                    blocked.append((caller.label, path.reason))
            if blocked:
                who = "; ".join(f"{label}: {reason}" for label, reason in blocked[:3])
                more = f" (and {len(blocked) - 3} more)" if len(blocked) > 3 else ""
                yield self.finding(
                    f"{endpoint.id} ({endpoint.short_service}) cannot be reached on 443 from"
                    f" {len(blocked)} caller(s) in {endpoint.vpc_id}: {who}{more}",
                    subject=endpoint_label(endpoint), position=endpoint.position,
                    fix=(f"let the security groups of {endpoint.id} ({', '.join(endpoint.security_group_ids) or 'none'})"
                         " admit TCP 443 from the callers' subnets or security groups"))


class EcsEndpointSiblings(AuditRule):
    info = RuleInfo(
        id="ecs-endpoint-siblings",
        severity=Severity.WARNING,
        title="an ecs endpoint without its ecs-agent and ecs-telemetry siblings",
        rationale=("The container agent on EC2 container instances talks to ECS through ecs-agent and"
                   " ecs-telemetry as well as ecs. In a VPC with only the ecs endpoint, instances without another"
                   " route to ECS cannot register or report task state."),
        fix="add interface endpoints for com.amazonaws.REGION.ecs-agent and com.amazonaws.REGION.ecs-telemetry",
        doc_urls=(ECS_ENDPOINTS_PAGE,),
    )

    def check(self, audit: AuditContext) -> Iterator[AuditFinding]:
        if not audit.runs_ec2_capacity:
            return
        endpoints = list(audit.env.endpoints.values())
        for endpoint in endpoints:
            if endpoint.short_service != "ecs" or endpoint.endpoint_type != "Interface":
                continue
            present = {e.short_service for e in endpoints if e.vpc_id == endpoint.vpc_id and e.region == endpoint.region}
            missing = [s for s in ECS_SIBLINGS if s not in present]
            if missing:
                yield self.finding(
                    f"{endpoint.id} serves ecs in {endpoint.vpc_id}, which has no {' or '.join(missing)} endpoint,"
                    " while the templates run EC2 capacity for ECS",
                    subject=endpoint_label(endpoint), position=endpoint.position,
                    fix="add " + " and ".join(f"an interface endpoint for com.amazonaws.{endpoint.region}.{s}"
                                              for s in missing) + f" in {endpoint.vpc_id}")


class EndpointPrivateDnsOff(AuditRule):
    info = RuleInfo(
        id="endpoint-private-dns-off",
        severity=Severity.WARNING,
        title="the interface endpoint's private DNS name does not resolve",
        rationale=("With private DNS off (or the VPC's DNS support or DNS hostnames off), the service's default"
                   " host name still resolves to its public endpoint: SDK calls bypass the endpoint and its"
                   " policy, and time out in subnets without a route to the internet."),
        fix="set PrivateDnsEnabled: true on the endpoint, and EnableDnsSupport and EnableDnsHostnames on the VPC",
        doc_urls=(PRIVATE_DNS_PAGE,),
    )

    def check(self, audit: AuditContext) -> Iterator[AuditFinding]:
        env = audit.env
        for endpoint in env.endpoints.values():
            if endpoint.endpoint_type != "Interface":
                continue
            vpc = env.vpcs.get(endpoint.vpc_id)
            if not endpoint.private_dns:
                reason = "has PrivateDnsEnabled off"
            elif vpc is not None and not (vpc.dns_support and vpc.dns_hostnames):
                off = [name for name, on in (("EnableDnsSupport", vpc.dns_support),
                                             ("EnableDnsHostnames", vpc.dns_hostnames)) if not on]
                reason = f"has private DNS on, but VPC {vpc.id} has {' and '.join(off)} off"
            else:
                continue
            yield self.finding(
                f"{endpoint.id} ({endpoint.short_service}) {reason}: calls to the {endpoint.short_service} host name"
                " do not go through it",
                subject=endpoint_label(endpoint), position=endpoint.position)


class EndpointOtherRegion(AuditRule):
    info = RuleInfo(
        id="endpoint-other-region",
        severity=Severity.WARNING,
        title="the endpoint's service is in another region than the environment",
        rationale=("A VPC endpoint serves the region in its service name. An endpoint named for another region"
                   " than the one the stack is deployed in (a hard-coded region) is never used by the"
                   " workload's calls, which go to the public endpoint or time out."),
        fix="build the service name with ${AWS::Region}: !Sub com.amazonaws.${AWS::Region}.SERVICE",
        doc_urls=(PRIVATE_DNS_PAGE,),
    )

    def check(self, audit: AuditContext) -> Iterator[AuditFinding]:
        env = audit.env
        for endpoint in env.endpoints.values():
            if endpoint.region is not None and endpoint.region != env.region:
                yield self.finding(
                    f"{endpoint.id} serves {endpoint.service_name} (region {endpoint.region}), but the environment"
                    f" is in {env.region}: calls from the VPC to {env.region} do not use it",
                    subject=endpoint_label(endpoint), position=endpoint.position,
                    fix=f"use com.amazonaws.{env.region}.{endpoint.short_service} (!Sub com.amazonaws.${{AWS::Region}}."
                        f"{endpoint.short_service})")
