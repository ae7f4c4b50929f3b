"""``accesspath snapshot`` against moto's server on 127.0.0.1 (issue 16, item 1).

boto3 honours AWS_ENDPOINT_URL, so the snapshot reads moto exactly as it would read an account; the
environment it writes is then decided by ``can`` like any other (seed 004's shape: a logs endpoint whose
policy confines writes to one log group).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from accesspath.cli import main

REGION = "eu-west-1"
ALLOWED = "app-allowed"


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    patch = pytest.MonkeyPatch()
    for key, value in {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": "/dev/null",
                       "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}.items():
        patch.setenv(key, value)
    patch.delenv("AWS_PROFILE", raising=False)
    try:
        yield _build(url)
    finally:
        patch.undo()
        server.stop()


def _build(url: str) -> dict[str, str]:
    ec2, iam = boto3.client("ec2", region_name=REGION), boto3.client("iam", region_name=REGION)
    account_id = boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]
    vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.60.1.0/24")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    group = ec2.create_security_group(GroupName="endpoints", Description="https", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.60.0.0/16"}]}])
    policy = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                             "Resource": f"arn:aws:logs:{REGION}:{account_id}:log-group:{ALLOWED}:*"}]}
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.logs", VpcEndpointType="Interface",
                                       SubnetIds=[subnet], SecurityGroupIds=[group], PrivateDnsEnabled=True,
                                       PolicyDocument=json.dumps(policy))["VpcEndpoint"]["VpcEndpointId"]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="app-logs", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="app-logs", PolicyName="logs", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}))
    profile = iam.create_instance_profile(InstanceProfileName="app-logs")["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName="app-logs", RoleName="app-logs")
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=subnet,
                                 IamInstanceProfile={"Arn": profile["Arn"]})["Instances"][0]["InstanceId"]
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="app-exports", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_policy(Bucket="app-exports", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::app-exports/*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
    for name in (ALLOWED, "app-denied"):
        boto3.client("logs", region_name=REGION).create_log_group(logGroupName=name)
    return {"account": account_id, "vpc": vpc, "subnet": subnet, "endpoint": endpoint, "instance": instance}


def test_snapshot_reads_the_account_and_can_decides_on_it(account: dict[str, str], tmp_path: Path, capsys) -> None:
    target = tmp_path / "env.json"
    assert main(["snapshot", "-o", str(target), "--region", REGION]) == 0
    out = capsys.readouterr().out
    assert f"wrote {target}: account {account['account']}, {REGION}" in out
    document = json.loads(target.read_text(encoding="utf-8"))
    endpoint = next(e for e in document["vpcEndpoints"] if e["id"] == account["endpoint"])
    assert endpoint["policy"]["document"]["Statement"][0]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    subnet = next(s for s in document["subnets"] if s["id"] == account["subnet"])
    assert subnet["routeTableId"] is not None
    bucket = next(r for r in document["resources"] if r["name"] == "app-exports")
    assert bucket["policy"]["document"]["Statement"][0]["Effect"] == "Deny"
    assert next(i for i in document["instances"] if i["id"] == account["instance"])["roleName"] == "app-logs"

    group = f"arn:aws:logs:{REGION}:{account['account']}:log-group:{{}}:log-stream:s"
    code = main(["can", str(target), "--from", account["instance"], "--action", "logs:PutLogEvents",
                 "--resource", group.format(ALLOWED)])
    assert code == 0, capsys.readouterr().out
    capsys.readouterr()
    code = main(["can", str(target), "--from", account["instance"], "--action", "logs:PutLogEvents",
                 "--resource", group.format("app-denied")])
    assert code == 1 and "because no VPC endpoint policy allows the logs:PutLogEvents action" in capsys.readouterr().out


def test_the_snapshot_policy_is_read_only_and_valid(tmp_path: Path, capsys) -> None:
    assert main(["snapshot", "--print-policy"]) == 0
    policy = tmp_path / "snapshot-policy.json"
    policy.write_text(capsys.readouterr().out, encoding="utf-8")
    document = json.loads(policy.read_text(encoding="utf-8"))
    actions = document["Statement"][0]["Action"]
    assert all(a.split(":")[1].startswith(("Describe", "List", "Get")) for a in actions)
    assert main(["validate", str(policy), "--fail-on", "warning"]) == 0, capsys.readouterr().out


def test_snapshot_needs_an_output(capsys) -> None:
    assert main(["snapshot"]) == 2
    assert "give -o FILE" in capsys.readouterr().err
