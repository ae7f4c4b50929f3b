"""launch-check names what actually blocked a step, and never guesses what the inputs do not say.

Variants of seed 001's template, each changing one thing. Pages: ECR user guide, "Amazon ECR interface
VPC endpoints (AWS PrivateLink)" (the layers come from S3 through the S3 *gateway* endpoint) and "Using
Amazon ECR images with Amazon ECS" (a pull needs ecr:BatchGetImage, ecr:GetDownloadUrlForLayer and
ecr:GetAuthorizationToken); ECS guide, "Pass sensitive data to an Amazon ECS container" (valueFrom
names one secret) and "Monitor Amazon ECS containers with ECS Exec"; VPC user guide, "DHCP option sets".
"""

from __future__ import annotations

import json
from pathlib import Path

from accesspath.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED_001 = (EXAMPLES / "seed001-fargate-private-subnet" / "template.yaml").read_text()
SEED_002 = (EXAMPLES / "seed002-task-role" / "template.yaml").read_text()


def variant(tmp_path: Path, text: str, *, replace: dict[str, str] | None = None, add: str = "") -> str:
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    if add:
        text = text.replace("\nResources:\n", "\nResources:\n" + add, 1)
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return str(path)


def check(capsys, template: str, *argv: str) -> tuple[int, dict, dict]:
    code = main(["launch-check", "--format", "json", template, "--service", "Service", *argv])
    report = json.loads(capsys.readouterr().out)
    return code, report, {s["step"]: s for s in report["steps"]}


def failing(steps: dict) -> set[str]:
    return {name for name, s in steps.items() if s["status"] != "ok"}


S3_INTERFACE = """  S3Interface:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcId: !Ref Vpc
      ServiceName: !Sub com.amazonaws.${AWS::Region}.s3
      VpcEndpointType: Interface
      PrivateDnsEnabled: true
      SubnetIds: [!Ref PrivateSubnet]
      SecurityGroupIds: [!Ref EndpointSecurityGroup]

"""


def test_an_s3_interface_endpoint_does_not_serve_the_ecr_layer_download(capsys, tmp_path) -> None:
    template = variant(tmp_path, SEED_001, add=S3_INTERFACE)
    code, report, steps = check(capsys, template, "--param", "S3GatewayEndpoint=false")
    assert code == 1 and report["verdict"] == "not ready"
    assert failing(steps) == {"layer download (S3)"}
    layer = steps["layer download (S3)"]
    assert layer["status"] == "unreachable" and layer["path"]["kind"] == "unreachable"
    assert "S3 gateway endpoint" in layer["fix"]
    assert "the S3 interface endpoint S3Interface does not serve ECR's layer download" in layer["fix"]


def test_an_endpoint_security_group_that_blocks_443_is_named_in_the_fix(capsys, tmp_path) -> None:
    template = variant(tmp_path, SEED_001, replace={"CidrIp: 10.2.1.0/24": "CidrIp: 10.9.9.0/24"})
    code, _, steps = check(capsys, template)
    assert code == 1
    auth = steps["registry auth"]
    assert auth["status"] == "unreachable" and auth["path"]["blockedBy"] == "endpoint-security-groups"
    assert auth["path"]["endpointLogicalId"] == "EcrApi"
    assert auth["fix"].startswith("let the security groups of endpoint EcrApi (")
    assert "admit HTTPS (443)" in auth["fix"] and "add an interface VPC endpoint" not in auth["fix"]


INTERNET = """  InternetGateway:
    Type: AWS::EC2::InternetGateway
  InternetAttachment:
    Type: AWS::EC2::VPCGatewayAttachment
    Properties:
      VpcId: !Ref Vpc
      InternetGatewayId: !Ref InternetGateway
  DefaultRoute:
    Type: AWS::EC2::Route
    Properties:
      RouteTableId: !Ref PrivateRouteTable
      DestinationCidrBlock: 0.0.0.0/0
      GatewayId: !Ref InternetGateway

"""
NO_ENDPOINTS = [a for name in ("EcrApiEndpoint", "EcrDkrEndpoint", "S3GatewayEndpoint", "LogsEndpoint",
                               "SecretsManagerEndpoint") for a in ("--param", f"{name}=false")]


def test_a_public_subnet_without_a_public_ip_says_assign_public_ip(capsys, tmp_path) -> None:
    template = variant(tmp_path, SEED_001, add=INTERNET)
    code, _, steps = check(capsys, template, *NO_ENDPOINTS)
    assert code == 1
    auth = steps["registry auth"]
    assert auth["path"]["blockedBy"] == "no-public-ip"
    assert "AssignPublicIp: ENABLED" in auth["fix"]
    assert "AssignPublicIp: ENABLED" in steps["layer download (S3)"]["fix"]
    # With the public IP the same service starts, every call through the internet gateway.
    template = variant(tmp_path, SEED_001, add=INTERNET,
                       replace={"AssignPublicIp: DISABLED": "AssignPublicIp: ENABLED"})
    code, report, steps = check(capsys, template, *NO_ENDPOINTS)
    assert code == 0 and report["verdict"] == "ready"
    assert steps["image manifest"]["path"]["kind"] == "internet-gateway"


def test_an_endpoint_policy_that_refuses_the_pull_is_named(capsys, tmp_path) -> None:
    policy = """      ServiceName: !Sub com.amazonaws.${AWS::Region}.ecr.dkr
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: '*'
            Action: ecr:GetAuthorizationToken
            Resource: '*'
"""
    template = variant(tmp_path, SEED_001, replace={"      ServiceName: !Sub com.amazonaws.${AWS::Region}.ecr.dkr\n": policy})
    code, _, steps = check(capsys, template)
    assert code == 1
    manifest = steps["image manifest"]
    assert manifest["status"] == "denied" and manifest["decidingGate"] == "vpc-endpoint"
    assert manifest["fix"] == ("allow ecr:BatchGetImage on arn:aws:ecr:us-east-1:123456789012:repository/web in the"
                               " endpoint policy of EcrDkr")


def test_a_cross_account_image_is_undetermined_on_its_repository_policy(capsys, tmp_path) -> None:
    image = "Image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/shared:latest"
    template = variant(tmp_path, SEED_001,
                       replace={"Image: !Sub ${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/web:1.0": image})
    code, report, steps = check(capsys, template)
    assert code == 3 and report["ready"] == "unknown" and report["verdict"] == "undetermined"
    manifest = steps["image manifest"]
    assert manifest["status"] == "undetermined" and manifest["stoppedReason"] is None
    assert "belongs to account 111122223333, whose repository policy is not in the inputs" in manifest["detail"]
    assert manifest["fix"].startswith("let the repository policy of arn:aws:ecr:us-east-1:111122223333:repository/"
                                      "shared allow ecr:BatchGetImage to arn:aws:iam::123456789012:role/"
                                      "web-execution-role")
    assert "in a policy of the role" not in manifest["fix"]


DHCP = """  DhcpOptions:
    Type: AWS::EC2::DHCPOptions
    Properties:
      DomainNameServers: [10.2.0.53]
  DhcpAssociation:
    Type: AWS::EC2::VPCDHCPOptionsAssociation
    Properties:
      VpcId: !Ref Vpc
      DhcpOptionsId: !Ref DhcpOptions

"""


def test_custom_dns_makes_private_dns_of_interface_endpoints_undetermined(capsys, tmp_path) -> None:
    code, report, steps = check(capsys, variant(tmp_path, SEED_001, add=DHCP))
    assert code == 3 and report["verdict"] == "undetermined"
    through_interface = {n for n, s in steps.items() if s["path"] and s["path"]["kind"] == "interface-endpoint"}
    assert {"registry auth", "image manifest", "image layers", "awslogs put events"} <= through_interface
    assert {n for n, s in steps.items() if s["status"] == "undetermined"} == through_interface
    assert "own DNS servers (10.2.0.53" in steps["registry auth"]["detail"]
    assert steps["layer download (S3)"]["status"] == "ok"   # a gateway endpoint is a route, not a name
    # AmazonProvidedDNS is the default resolver: nothing changes.
    template = variant(tmp_path, SEED_001, add=DHCP.replace("[10.2.0.53]", "[AmazonProvidedDNS]"))
    code, report, _ = check(capsys, template)
    assert code == 0 and report["verdict"] == "ready"


def test_a_wildcard_in_a_secrets_value_from_is_invalid(capsys, tmp_path) -> None:
    value = "ValueFrom: arn:aws:secretsmanager:us-east-1:123456789012:secret:web/*"
    code, report, steps = check(capsys, variant(tmp_path, SEED_001, replace={"ValueFrom: !Ref DatabaseSecret": value}))
    assert code == 1 and report["verdict"] == "not ready"
    secret = steps["secret DB_PASSWORD"]
    assert secret["status"] == "invalid" and "takes no wildcard" in secret["fix"]


PULL_ONLY = """      Policies:
        - PolicyName: pull-and-log
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: [ecr:GetAuthorizationToken, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer]
                Resource: '*'
              - Effect: Allow
                Action: [logs:CreateLogStream, logs:PutLogEvents]
                Resource: '*'
"""


def test_a_pull_needs_exactly_the_three_actions_the_ecr_guide_lists(capsys, tmp_path) -> None:
    template = variant(tmp_path, SEED_001, replace={
        "      ManagedPolicyArns:\n        - arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy\n"
        "      Policies:\n": PULL_ONLY})
    code, report, steps = check(capsys, template)
    assert code == 0 and report["verdict"] == "ready", failing(steps)
    pull = {s["action"] for s in steps.values() if s["action"] and s["action"].startswith("ecr:")}
    assert pull == {"ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}


def test_ecs_exec_without_ssmmessages_does_not_decide_whether_the_task_starts(capsys, tmp_path) -> None:
    # Seed 002's task pulls from ECR through a NAT gateway here, so that everything but Exec passes.
    start = SEED_002.index("        - PolicyName: ecs-exec\n")
    end = SEED_002.index("        - PolicyName: ecr-direct\n")
    without_exec = SEED_002[:start] + SEED_002[end:]
    with_internet = {"AssignPublicIp: DISABLED": "AssignPublicIp: ENABLED"}
    code, report, steps = check(capsys, variant(tmp_path, without_exec, replace=with_internet, add=INTERNET_002))
    assert code == 0 and report["ready"] is True and report["verdict"] == "ready", failing(steps)
    exec_steps = [s for name, s in steps.items() if name.startswith("ECS Exec")]
    assert len(exec_steps) == 4
    for step in exec_steps:
        assert step["status"] == "unavailable" and step["required"] is False and step["stoppedReason"] is None
        assert "execute-command fails (the task still starts)" in step["detail"]
        assert step["decision"] == "implicitDeny" and step["decidingGate"] == "identity"
    template = str(tmp_path / "template.yaml")
    code = main(["launch-check", template, "--service", "Service"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("launch-check of service Service (FARGATE): ready")
    assert "[unavailable] ECS Exec (OpenDataChannel)" in out


INTERNET_002 = INTERNET
