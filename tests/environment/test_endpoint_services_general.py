"""Every VPC endpoint service, not only the curated table (issue 9 item 8).

AWS PrivateLink guide, "AWS services that integrate with AWS PrivateLink": an AWS service's
endpoint service is named com.amazonaws.REGION.NAME (a few use other AWS-owned shapes such as
aws.api.REGION.NAME) and, with private DNS, answers for the service's regional host name.
"""

from __future__ import annotations

import json
from pathlib import Path

from accesspath.catalog.endpoint_services import default_endpoint_services
from accesspath.cli import main

SEED_001 = Path(__file__).resolve().parents[2] / "examples" / "seed001-fargate-private-subnet" / "template.yaml"

EXTRA = """
  CloudFormationEndpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcId: !Ref Vpc
      ServiceName: !Sub com.amazonaws.${AWS::Region}.cloudformation
      VpcEndpointType: Interface
      PrivateDnsEnabled: true
      SubnetIds: [!Ref PrivateSubnet]
      SecurityGroupIds: [!Ref EndpointSecurityGroup]
      PolicyDocument:
        Statement:
          - {Effect: Allow, Principal: "*", Action: "cloudformation:DescribeStacks", Resource: "*"}
  StackReader:
    Type: AWS::IAM::Role
    Properties:
      RoleName: stack-reader
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: ecs-tasks.amazonaws.com}, Action: sts:AssumeRole}]
      Policies:
        - PolicyName: read-stacks
          PolicyDocument:
            Statement: [{Effect: Allow, Action: ["cloudformation:Describe*", "cloudformation:List*"], Resource: "*"}]
"""


def _template(tmp_path: Path) -> str:
    text = SEED_001.read_text()
    assert "\nResources:\n" in text
    path = tmp_path / "cfn-endpoint.yaml"
    path.write_text(text.replace("\nResources:\n", "\nResources:\n" + EXTRA.lstrip("\n"), 1))
    return str(path)


def _can(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["can", "--format", "json", *argv])
    return code, json.loads(capsys.readouterr().out)["results"][0]


def test_a_cloudformation_endpoint_carries_cloudformation_calls(capsys, tmp_path) -> None:
    template = _template(tmp_path)
    code, result = _can(capsys, template, "--from", "StackReader", "--subnet", "PrivateSubnet",
                        "--security-group", "TaskSecurityGroup", "--", "aws", "cloudformation", "describe-stacks")
    assert (code, result["decision"]) == (0, "allowed")
    assert "cloudformation" in json.dumps(result["path"])
    # The endpoint's policy applies: ListStacks passes the role but not the endpoint.
    code, result = _can(capsys, template, "--from", "StackReader", "--subnet", "PrivateSubnet",
                        "--security-group", "TaskSecurityGroup", "--", "aws", "cloudformation", "list-stacks")
    assert (code, result["decision"], result["decidingGate"]) == (1, "implicitDeny", "vpc-endpoint")


def test_general_rule_for_services_outside_the_table() -> None:
    table = default_endpoint_services()
    assert "cloudformation" not in {s.id for s in table.services}   # the table keeps only what needs curating
    (service,) = table.for_action("cloudformation:DescribeStacks", "eu-west-1")
    assert service.general and service.iam_prefixes == ("cloudformation",)
    assert service.service_name("eu-west-1") == "com.amazonaws.eu-west-1.cloudformation"
    assert service.private_dns_names("eu-west-1") == ("cloudformation.eu-west-1.amazonaws.com",)
    assert service.private_dns_names("cn-north-1") == ("cloudformation.cn-north-1.amazonaws.com.cn",)
    assert service.endpoint_policy_supported is None   # unknown, never "no policy applies"
    assert table.for_action("notaservice:DoThing", "eu-west-1") == ()


def test_describe_output_adds_any_service_with_its_prefix_dns_and_policy_support() -> None:
    described = {"ServiceDetails": [
        {"ServiceName": "com.amazonaws.us-east-1.bedrock-runtime", "ServiceType": [{"ServiceType": "Interface"}],
         "PrivateDnsNames": [{"PrivateDnsName": "bedrock-runtime.us-east-1.amazonaws.com"}],
         "VpcEndpointPolicySupported": True},
        {"ServiceName": "aws.api.us-east-1.qbusiness", "ServiceType": [{"ServiceType": "Interface"}],
         "PrivateDnsNames": [{"PrivateDnsName": "qbusiness.us-east-1.api.aws"}],
         "VpcEndpointPolicySupported": False}]}
    table = default_endpoint_services().with_describe_output(json.dumps(described))
    (bedrock,) = table.for_action("bedrock:InvokeModel", "us-east-1")
    assert bedrock.id == "bedrock-runtime" and bedrock.endpoint_policy_supported is True
    assert table.for_host("bedrock-runtime.us-east-1.amazonaws.com", "us-east-1") == bedrock
    (qbusiness,) = table.for_action("qbusiness:ListApplications", "us-east-1")
    assert qbusiness.service_name("us-east-1") == "aws.api.us-east-1.qbusiness"
    assert qbusiness.endpoint_policy_supported is False
