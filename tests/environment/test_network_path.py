"""The network path of a call (PrivateLink guide; ECS guide "Amazon ECS interface VPC endpoints", seed 001)."""

from __future__ import annotations

from dataclasses import replace

from accesspath.catalog.endpoint_services import default_endpoint_services
from accesspath.environment.model import (
    Environment, Gateway, Route, RouteTable, SecurityGroup, SecurityGroupRule, Subnet, Vpc, VpcEndpoint,
)
from accesspath.environment.network import CallerPlacement, PathKind, find_path

REGION = "ap-northeast-1"
TABLE = default_endpoint_services()
HTTPS_FROM_VPC = SecurityGroupRule("tcp", 443, 443, "10.0.0.0/16")


def services(action: str):
    return TABLE.for_action(action, REGION)


def base(**changes) -> Environment:
    env = Environment(
        account="123456789012", region=REGION,
        vpcs={"vpc-1": Vpc("vpc-1", "10.0.0.0/16", True, True)},
        subnets={"subnet-a": Subnet("subnet-a", "vpc-1", "10.0.1.0/24", "rtb-private"),
                 "subnet-pub": Subnet("subnet-pub", "vpc-1", "10.0.0.0/24", "rtb-public")},
        route_tables={"rtb-private": RouteTable("rtb-private", "vpc-1", ()),
                      "rtb-public": RouteTable("rtb-public", "vpc-1", (Route("0.0.0.0/0", "igw", "igw-1"),))},
        gateways={"igw-1": Gateway("igw-1", "igw", "vpc-1")},
        security_groups={"sg-endpoint": SecurityGroup("sg-endpoint", "vpc-1", (HTTPS_FROM_VPC,)),
                         "sg-task": SecurityGroup("sg-task", "vpc-1")},
    )
    return replace(env, **changes)


def interface(service: str, **changes) -> VpcEndpoint:
    endpoint = VpcEndpoint(f"vpce-{service}", "vpc-1", f"com.amazonaws.{REGION}.{service}", "Interface", True,
                           ("subnet-a",), ("sg-endpoint",))
    return replace(endpoint, **changes)


TASK = CallerPlacement("subnet-a", ("sg-task",))


def test_no_endpoint_and_no_route_is_unreachable() -> None:
    path = find_path(base(), TASK, services("logs:PutLogEvents"), REGION)
    assert path.kind is PathKind.UNREACHABLE and "times out" in path.reason
    assert "com.amazonaws.ap-northeast-1.logs" in path.reason


def test_interface_endpoint_with_private_dns_is_used() -> None:
    env = base(endpoints={"vpce-logs": interface("logs")})
    path = find_path(env, TASK, services("logs:PutLogEvents"), REGION)
    assert path.kind is PathKind.INTERFACE_ENDPOINT and path.endpoint is not None
    assert path.endpoint.id == "vpce-logs"


def test_private_dns_off_or_vpc_dns_off_falls_back_to_the_internet_route() -> None:
    env = base(endpoints={"vpce-logs": interface("logs", private_dns=False)})
    path = find_path(env, TASK, services("logs:PutLogEvents"), REGION)
    assert path.kind is PathKind.UNREACHABLE and any("private DNS off" in n for n in path.notes)
    env = base(endpoints={"vpce-logs": interface("logs")}, vpcs={"vpc-1": Vpc("vpc-1", "10.0.0.0/16", True, False)})
    path = find_path(env, TASK, services("logs:PutLogEvents"), REGION)
    assert path.kind is PathKind.UNREACHABLE and any("DNS hostnames" in n for n in path.notes)


def test_endpoint_in_another_region_is_not_used() -> None:
    env = base(endpoints={"vpce-logs": interface("logs", service_name="com.amazonaws.us-east-1.logs")})
    path = find_path(env, TASK, services("logs:PutLogEvents"), REGION)
    assert path.kind is PathKind.UNREACHABLE
    assert any("do not serve other regions" in n for n in path.notes)


def test_security_group_that_does_not_admit_443_blocks() -> None:
    closed = SecurityGroup("sg-endpoint", "vpc-1", (SecurityGroupRule("tcp", 80, 80, "10.0.0.0/16"),))
    env = base(endpoints={"vpce-logs": interface("logs")},
               security_groups={"sg-endpoint": closed, "sg-task": SecurityGroup("sg-task", "vpc-1")})
    path = find_path(env, TASK, services("logs:PutLogEvents"), REGION)
    assert path.kind is PathKind.UNREACHABLE and "do not admit HTTPS (443)" in path.reason
    by_group = SecurityGroup("sg-endpoint", "vpc-1", (SecurityGroupRule("tcp", 443, 443, group_id="sg-task"),))
    env = replace(env, security_groups={"sg-endpoint": by_group, "sg-task": SecurityGroup("sg-task", "vpc-1")})
    assert find_path(env, TASK, services("logs:PutLogEvents"), REGION).kind is PathKind.INTERFACE_ENDPOINT


def test_caller_egress_must_allow_443() -> None:
    no_egress = SecurityGroup("sg-task", "vpc-1", (), (SecurityGroupRule("tcp", 5432, 5432, "10.0.0.0/16"),))
    env = base(endpoints={"vpce-logs": interface("logs")},
               security_groups={"sg-endpoint": SecurityGroup("sg-endpoint", "vpc-1", (HTTPS_FROM_VPC,)),
                                "sg-task": no_egress})
    path = find_path(env, TASK, services("logs:PutLogEvents"), REGION)
    assert path.kind is PathKind.UNREACHABLE and "outbound HTTPS" in path.reason


def test_gateway_endpoint_on_the_route_table() -> None:
    gateway = VpcEndpoint("vpce-s3", "vpc-1", f"com.amazonaws.{REGION}.s3", "Gateway", route_table_ids=("rtb-private",))
    path = find_path(base(endpoints={"vpce-s3": gateway}), TASK, services("s3:GetObject"), REGION)
    assert path.kind is PathKind.GATEWAY_ENDPOINT
    other_table = replace(gateway, route_table_ids=("rtb-public",))
    path = find_path(base(endpoints={"vpce-s3": other_table}), TASK, services("s3:GetObject"), REGION)
    assert path.kind is PathKind.UNREACHABLE and any("not associated" in n for n in path.notes)


def test_nat_gateway_and_internet_gateway_routes() -> None:
    nat_routes = RouteTable("rtb-private", "vpc-1", (Route("0.0.0.0/0", "nat", "nat-1"),))
    env = base(route_tables={**base().route_tables, "rtb-private": nat_routes},
               gateways={**base().gateways, "nat-1": Gateway("nat-1", "nat", None, "subnet-pub")})
    path = find_path(env, TASK, services("ecs:ListClusters"), REGION)
    assert path.kind is PathKind.NAT_GATEWAY and path.gateway is not None and path.gateway.id == "nat-1"
    public = CallerPlacement("subnet-pub", ("sg-task",), public_ip=True)
    assert find_path(base(), public, services("ecs:ListClusters"), REGION).kind is PathKind.INTERNET_GATEWAY
    private_ip_only = CallerPlacement("subnet-pub", ("sg-task",), public_ip=False)
    path = find_path(base(), private_ip_only, services("ecs:ListClusters"), REGION)
    assert path.kind is PathKind.UNREACHABLE and "no public IP" in path.reason


def test_ecs_agent_calls_go_through_the_ecs_agent_endpoint() -> None:
    env = base(endpoints={"vpce-ecs": interface("ecs"), "vpce-ecs-agent": interface("ecs-agent")})
    path = find_path(env, TASK, services("ecs:Poll"), REGION)
    assert path.kind is PathKind.INTERFACE_ENDPOINT and path.endpoint is not None
    assert path.endpoint.id == "vpce-ecs-agent"
    path = find_path(env, TASK, services("ecs:DescribeClusters"), REGION)
    assert path.endpoint is not None and path.endpoint.id == "vpce-ecs"
