"""Write the N-service environment that the scale figures are measured on.

Run:  python benchmarks/gen_environment.py 500 -o /tmp/env500.yaml
      accesspath audit /tmp/env500.yaml        (or report, env show, launch-check --service Service7)

One VPC with two private subnets and no route to the internet; seven interface endpoints (ecr.api,
ecr.dkr, logs, secretsmanager, sqs, ecs, kms), each with an endpoint policy, and an S3 gateway
endpoint. Each of the N Fargate services has a task role with three or four inline policies, an
execution role, a secret, a log group, an SQS queue, a task definition and the service itself.
The output is deterministic: the same N always writes the same template.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

INTERFACE_SERVICES = ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "sqs", "ecs", "kms"]


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def _endpoint_policy(service: str) -> dict[str, Any]:
    prefix = service.split(".")[0]
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "SameAccount", "Effect": "Allow", "Principal": "*", "Action": f"{prefix}:*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalAccount": _sub("${AWS::AccountId}")}}},
        {"Sid": "NoOtherAccounts", "Effect": "Deny", "Principal": "*", "Action": f"{prefix}:*",
         "NotResource": _sub(f"arn:${{AWS::Partition}}:{prefix}:*:${{AWS::AccountId}}:*"),
         "Condition": {"StringNotEquals": {"aws:PrincipalAccount": _sub("${AWS::AccountId}")}}},
    ]}


def _network() -> dict[str, Any]:
    resources: dict[str, Any] = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {
            "CidrBlock": "10.20.0.0/16", "EnableDnsSupport": True, "EnableDnsHostnames": True}},
        "RouteTable": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": _ref("Vpc")}},
        "EndpointSecurityGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "HTTPS from the private subnets", "VpcId": _ref("Vpc"),
            "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                      "CidrIp": "10.20.0.0/16"}]}},
        "TaskSecurityGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "the tasks", "VpcId": _ref("Vpc")}},
        "S3Gateway": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
            "VpcId": _ref("Vpc"), "ServiceName": _sub("com.amazonaws.${AWS::Region}.s3"),
            "VpcEndpointType": "Gateway", "RouteTableIds": [_ref("RouteTable")]}},
        "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": "scale"}},
    }
    for index in (1, 2):
        resources[f"PrivateSubnet{index}"] = {"Type": "AWS::EC2::Subnet", "Properties": {
            "VpcId": _ref("Vpc"), "CidrBlock": f"10.20.{index}.0/24"}}
        resources[f"PrivateSubnet{index}Routes"] = {"Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {
            "SubnetId": _ref(f"PrivateSubnet{index}"), "RouteTableId": _ref("RouteTable")}}
    for service in INTERFACE_SERVICES:
        logical_id = "".join(part.capitalize() for part in service.split(".")) + "Endpoint"
        resources[logical_id] = {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
            "VpcId": _ref("Vpc"), "ServiceName": _sub(f"com.amazonaws.${{AWS::Region}}.{service}"),
            "VpcEndpointType": "Interface", "PrivateDnsEnabled": True,
            "SubnetIds": [_ref("PrivateSubnet1"), _ref("PrivateSubnet2")],
            "SecurityGroupIds": [_ref("EndpointSecurityGroup")],
            "PolicyDocument": _endpoint_policy(service)}}
    return resources


def _service(index: int) -> dict[str, Any]:
    name = f"svc{index:04d}"
    queue, secret, logs = f"Queue{index}", f"Secret{index}", f"LogGroup{index}"
    policies = [
        {"PolicyName": "queue", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
             "Resource": {"Fn::GetAtt": [queue, "Arn"]}}]}},
        {"PolicyName": "data", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
             "Resource": _sub(f"arn:${{AWS::Partition}}:s3:::data-${{AWS::AccountId}}/{name}/*"),
             "Condition": {"StringEquals": {"aws:SourceVpc": _ref("Vpc")}}},
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]}},
        {"PolicyName": "config", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParametersByPath"],
             "Resource": _sub(f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{name}/*")},
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
             "Condition": {"StringEquals": {"kms:ViaService": _sub("ssm.${AWS::Region}.amazonaws.com")}}}]}},
    ]
    if index % 2 == 0:
        policies.append({"PolicyName": "events", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["events:PutEvents"], "Resource": "*"}]}})
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    return {
        queue: {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"{name}-work"}},
        secret: {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": f"{name}/database"}},
        logs: {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": f"/ecs/{name}"}},
        f"TaskRole{index}": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": f"{name}-task", "AssumeRolePolicyDocument": trust, "Policies": policies}},
        f"ExecutionRole{index}": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": f"{name}-execution", "AssumeRolePolicyDocument": trust,
            "ManagedPolicyArns": [_sub("arn:${AWS::Partition}:iam::aws:policy/service-role/"
                                       "AmazonECSTaskExecutionRolePolicy")],
            "Policies": [{"PolicyName": "secret", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": _ref(secret)}]}}]}},
        f"TaskDefinition{index}": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
            "Family": name, "RequiresCompatibilities": ["FARGATE"], "NetworkMode": "awsvpc",
            "Cpu": "256", "Memory": "512",
            "TaskRoleArn": {"Fn::GetAtt": [f"TaskRole{index}", "Arn"]},
            "ExecutionRoleArn": {"Fn::GetAtt": [f"ExecutionRole{index}", "Arn"]},
            "ContainerDefinitions": [{
                "Name": "app", "Essential": True,
                "Image": _sub(f"${{AWS::AccountId}}.dkr.ecr.${{AWS::Region}}.amazonaws.com/{name}:latest"),
                "Secrets": [{"Name": "DB", "ValueFrom": _ref(secret)}],
                "LogConfiguration": {"LogDriver": "awslogs", "Options": {
                    "awslogs-group": _ref(logs), "awslogs-region": _ref("AWS::Region"),
                    "awslogs-stream-prefix": "app"}}}]}},
        f"Service{index}": {"Type": "AWS::ECS::Service", "Properties": {
            "ServiceName": name, "Cluster": _ref("Cluster"), "LaunchType": "FARGATE",
            "PlatformVersion": "1.4.0", "DesiredCount": 1, "TaskDefinition": _ref(f"TaskDefinition{index}"),
            "NetworkConfiguration": {"AwsvpcConfiguration": {
                "AssignPublicIp": "DISABLED", "SecurityGroups": [_ref("TaskSecurityGroup")],
                "Subnets": [_ref("PrivateSubnet1"), _ref("PrivateSubnet2")]}}}},
    }


def environment(count: int) -> dict[str, Any]:
    resources = _network()
    for index in range(1, count + 1):
        resources.update(_service(index))
    return {"AWSTemplateFormatVersion": "2010-09-09",
            "Description": f"accesspath scale benchmark: {count} Fargate services behind VPC endpoints",
            "Resources": resources}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of ECS services (N)")
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("N must be at least 1")
    text = yaml.safe_dump(environment(args.count), sort_keys=False, width=120)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
