"""AWS's size limits are part of a policy's validity (issue 17, observation 5).

Pages: reference_iam-quotas.md (inline user 2,048 / group 5,120 / role 10,240 characters, managed
6,144, "IAM doesn't count white space", role trust policy 2,048 by default and 4,096 at most);
orgs_reference_limits (SCP and RCP 5,120 characters); vpc-endpoints-access (20,480 characters,
including white space); using-iam-policies (S3 bucket policies 20 KB); key-policy-overview (KMS
32,768 bytes).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accesspath import AuthorizationRequest, PolicySet, RequestContext, authorize, principal_from_arn
from accesspath.cli import main
from accesspath.policy import PolicyType, Severity, parse_policy
from accesspath.policy.limits import SIZE_LIMITS, limit_for, measure, size_limit

CALLER = principal_from_arn("arn:aws:sts::123456789012:assumed-role/app/s")
BUCKET = "arn:aws:s3:::data"


def padded_statements(count: int, *, effect: str = "Allow") -> list[dict[str, object]]:
    return [{"Effect": effect, "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::data/{'k' * 80}{i}"}
            for i in range(count)]


def document(statements: list[dict[str, object]]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": statements}


def size_errors(policy) -> list[str]:
    return [i.message for i in policy.issues if i.code == "policy-too-large" and i.severity is Severity.ERROR]


def decide(identity, action: str = "s3:GetObject", resource: str = BUCKET + "/x", **gates) -> str:
    request = AuthorizationRequest(CALLER, action, resource, RequestContext.of({}))
    return authorize(request, PolicySet.of(identity=identity, **gates)).decision.value


def test_an_identity_policy_of_11760_characters_is_refused_and_never_allows() -> None:
    statements = [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}] + padded_statements(74)
    policy = parse_policy(json.dumps(document(statements)))
    assert 10_240 < measure(policy.document, size_limit("iam-role-inline")) < 12_000
    assert size_errors(policy) and "10,240" in size_errors(policy)[0]
    assert not policy.is_valid
    assert decide([policy]) == "implicitDeny"


def test_the_deny_statements_of_an_oversized_policy_still_deny() -> None:
    allow = parse_policy(json.dumps(document([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])))
    big_deny = parse_policy(json.dumps(document(
        [{"Effect": "Deny", "Action": "s3:GetObject", "Resource": BUCKET + "/x"}] + padded_statements(120, effect="Deny"))))
    assert size_errors(big_deny)
    assert decide([allow, big_deny]) == "explicitDeny"


def test_iam_does_not_count_white_space() -> None:
    statements = padded_statements(60)
    pretty = json.dumps(document(statements), indent=8)
    assert len(pretty) > 10_240
    assert parse_policy(pretty).is_valid


def test_a_32_kb_endpoint_policy_and_a_6_kb_scp_are_refused() -> None:
    endpoint = document([{**s, "Principal": "*"} for s in padded_statements(300)])
    vpce = parse_policy(endpoint, policy_type=PolicyType.VPC_ENDPOINT)
    assert size_errors(vpce) and "20,480" in size_errors(vpce)[0]
    identity = parse_policy(document([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]))
    assert decide([identity], vpc_endpoint=[vpce]) == "implicitDeny"
    scp = parse_policy(document(padded_statements(38)), policy_type=PolicyType.SCP)
    assert 5_120 < measure(scp.document, size_limit("organizations-scp")) < 8_000
    assert size_errors(scp) and "5,120" in size_errors(scp)[0]
    assert decide([identity], scps=[[scp]]) == "implicitDeny"


def test_a_role_trust_policy_over_the_default_quota_warns_and_over_the_maximum_is_refused() -> None:
    def trust(count: int):
        return parse_policy(document([{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::123456789012:role/{'r' * 60}{i}"},
                                       "Action": "sts:AssumeRole"} for i in range(count)]), policy_type=PolicyType.ROLE_TRUST)
    assert trust(5).is_valid
    over_default = trust(20)
    assert over_default.is_valid and [i.severity for i in over_default.issues if i.code == "policy-too-large"] == [
        Severity.WARNING]
    assert size_errors(trust(60))


def test_the_attachment_decides_the_limit() -> None:
    statements = padded_statements(20)  # about 3,100 characters
    assert parse_policy(document(statements)).is_valid  # a role's inline policy may be 10,240
    assert size_errors(parse_policy(document(statements), attachment="iam-user-inline"))
    bucket = document([{**s, "Principal": "*"} for s in padded_statements(200)])
    assert size_errors(parse_policy(bucket, policy_type=PolicyType.RESOURCE, attachment="s3-bucket"))
    assert not size_errors(parse_policy(bucket, policy_type=PolicyType.RESOURCE))  # service unknown: no limit


def test_every_limit_names_its_page_and_every_policy_type_but_resource_has_one() -> None:
    assert all(limit.page.startswith("https://docs.aws.amazon.com/") for limit in SIZE_LIMITS)
    assert all(limit_for(kind) is not None for kind in PolicyType if kind is not PolicyType.RESOURCE)
    assert size_limit("kms-key").maximum == 32_768 and size_limit("vpc-endpoint").maximum == 20_480


def test_validate_reports_an_oversized_bucket_policy_in_a_template_at_its_position(tmp_path: Path, capsys) -> None:
    statements = "".join(
        f"          - Effect: Allow\n            Principal: '*'\n            Action: s3:GetObject\n"
        f"            Resource: arn:aws:s3:::data/{'k' * 100}{i}\n" for i in range(200))
    template = tmp_path / "bucket.yaml"
    template.write_text("Resources:\n  Data:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: data\n"
                        "  DataPolicy:\n    Type: AWS::S3::BucketPolicy\n    Properties:\n      Bucket: !Ref Data\n"
                        "      PolicyDocument:\n        Version: '2012-10-17'\n        Statement:\n" + statements)
    code = main(["validate", str(template), "--format", "json"])
    out = capsys.readouterr().out
    findings = [f for f in json.loads(out)["findings"] if f["ruleId"] == "policy-too-large"]
    assert code == 1 and findings and findings[0]["location"]["line"] == 11 and findings[0]["severity"] == "error"


def test_a_43_mb_policy_file_is_an_input_error(tmp_path: Path, capsys) -> None:
    big = tmp_path / "big.json"
    with big.open("w") as handle:
        handle.write('{"Version": "2012-10-17", "Statement": [')
        handle.write(",".join(['{"Effect": "Allow", "Action": "*", "Resource": "*"}'] * 360_000))
        handle.write("]}")
    assert big.stat().st_size > 16 * 1024 * 1024
    code = main(["validate", str(big)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "MiB" in err and "big.json" in err


@pytest.mark.parametrize("actions, resources, refused", [(100, 100, False), (101, 100, True)])
def test_simulate_bounds_the_action_resource_pairs(tmp_path: Path, capsys, actions: int, resources: int,
                                                   refused: bool) -> None:
    request = {"PolicyInputList": [json.dumps(document([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]))],
               "ActionNames": [f"s3:GetObject{i}" for i in range(actions)],
               "ResourceArns": [f"{BUCKET}/{i}" for i in range(resources)]}
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    code = main(["simulate", str(path)])
    captured = capsys.readouterr()
    if refused:
        assert code == 2 and len(captured.err.strip().splitlines()) == 1 and "10,000" in captured.err
    else:
        assert code == 0 and len(json.loads(captured.out)["EvaluationResults"]) == 10_000
