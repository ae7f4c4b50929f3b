"""The native environment file: strict reading with positions (docs/environment.md)."""

from __future__ import annotations

import pytest

from accesspath.environment.native import from_text, is_native
from accesspath.errors import UsageError

HEAD = '{"accesspath-environment": 1, "account": "123456789012", "region": "us-east-1",\n'


@pytest.mark.parametrize("body, message, line", [
    (' "vpcs": [{"id": "vpc-1", "dnsHostname": true}]}', "unknown field 'dnsHostname' in a VPC", 2),
    (' "gateways": [{"id": "g", "kind": "vpn"}]}', "gateway kind 'vpn' must be \"igw\" or \"nat\"", 2),
    (' "resources": [{"kind": "bucket", "arn": "arn:aws:s3:::b"}]}', "unknown resource kind 'bucket'", 2),
    (' "subnets": [{"id": "s", "vpcId": "v", "mapPublicIp": "yes"}]}', "'mapPublicIp' must be true or false", 2),
    (' "roles": [{"name": "r"}]}', "a role has no 'arn'", None),
    (' "extra": 1}', "unknown field 'extra' in the environment file", 2),
])
def test_mistakes_are_reported_with_their_position(body, message, line) -> None:
    with pytest.raises(UsageError) as caught:
        from_text(HEAD + body, "env.json")
    assert message in caught.value.message
    assert caught.value.source == "env.json" and caught.value.line == line


def test_policies_in_the_file_keep_their_positions() -> None:
    text = HEAD + (' "roles": [{"name": "r", "arn": "arn:aws:iam::123456789012:role/r",\n'
                   '   "policies": [{"id": "p", "document": {"Statement": {"Effect": "Allow", "Action": "x"}}}]}]}')
    env = from_text(text, "env.json")
    policy = env.roles["r"].policies[0]
    assert not policy.is_valid
    assert [str(i.position) for i in policy.errors][0].startswith("env.json:3:")


def test_detection_and_version() -> None:
    assert is_native(HEAD + "}") and not is_native("Resources: {}")
    with pytest.raises(UsageError, match="not an accesspath environment file"):
        from_text('{"accesspath-environment": 2, "account": "1", "region": "r"}', "env.json")


def test_unresolved_template_values_export_as_markers_and_read_back_as_unknowns(tmp_path, capsys) -> None:
    """An exported unresolved value is still unknown when the file is read back: the request that depends
    on it is undetermined and names it, as it is from the template (never an allow, never a denial)."""
    from accesspath.cli import main

    template = tmp_path / "t.yaml"
    template.write_text(
        "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: r\n"
        "      AssumeRolePolicyDocument:\n        Statement:\n          - Effect: Allow\n"
        "            Principal: {Service: ecs-tasks.amazonaws.com}\n            Action: sts:AssumeRole\n"
        "      Policies:\n        - PolicyName: p\n          PolicyDocument:\n            Version: '2012-10-17'\n"
        "            Statement:\n              - Effect: Allow\n                Action: s3:GetObject\n"
        "                Resource: !ImportValue other-stack-bucket-arn\n")
    exported = tmp_path / "env.json"
    assert main(["env", "export", str(template), "-o", str(exported)]) == 0
    assert "accesspath-unresolved" in exported.read_text()
    capsys.readouterr()
    code = main(["can", str(exported), "--from", "r", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/k",
                 "--resource-account", "123456789012", "--format", "json"])
    import json
    result = json.loads(capsys.readouterr().out)["results"][0]
    assert code == 3 and result["decision"] == "undetermined"
    assert "other-stack-bucket-arn" in json.dumps(result)
    # A request the unknown cannot change is decided as usual.
    code = main(["can", str(exported), "--from", "r", "--action", "s3:PutObject", "--resource", "arn:aws:s3:::b/k",
                 "--resource-account", "123456789012", "--format", "json"])
    assert code == 1 and json.loads(capsys.readouterr().out)["results"][0]["decision"] == "implicitDeny"
