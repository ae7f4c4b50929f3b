"""Every rule: a policy that triggers it and one that does not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accesspath.lint import POLICY_RULES, RULES, Finding, Severity, lint_policy
from accesspath.policy import PolicyType, parse_policy


def lint(statements: list[dict[str, Any]] | dict[str, Any], policy_type: PolicyType = PolicyType.IDENTITY,
         raw: str | None = None) -> tuple[Finding, ...]:
    text = raw if raw is not None else json.dumps(
        {"Version": "2012-10-17", "Statement": statements}, indent=2)
    policy = parse_policy(text, policy_type=policy_type, policy_id="p.json", source="p.json")
    return lint_policy(policy, file="p.json")


def ids(findings: tuple[Finding, ...]) -> list[str]:
    return [f.rule_id for f in findings]


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


BUCKET_OBJECTS = "arn:aws:s3:::bucket/*"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:jobs"

# rule id -> (statements that trigger it, statements that do not)
CASES: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {
    "malformed-policy": ([{"Effect": "Permit", "Action": "s3:GetObject", "Resource": BUCKET_OBJECTS}],
                         [allow("s3:GetObject", BUCKET_OBJECTS)]),
    # reference_iam-quotas.md: an inline role policy is at most 10,240 characters, white space not counted
    "policy-too-large": ([allow("s3:GetObject", f"arn:aws:s3:::bucket/{'k' * 100}{i}") for i in range(90)],
                         [allow("s3:GetObject", f"arn:aws:s3:::bucket/{'k' * 100}{i}") for i in range(40)]),
    "policy-element-warning": ([allow("s3:GetObject", "arn:aws:s*:::bucket/*")],
                               [allow("s3:GetObject", BUCKET_OBJECTS)]),
    "unknown-service": ([allow("ecss:ListClusters")], [allow("ecs:ListClusters")]),
    "unknown-action": ([allow("ecs:DescribeCluster", "arn:aws:ecs:us-east-1:123456789012:cluster/prod")],
                       [allow("ecs:DescribeClusters", "arn:aws:ecs:us-east-1:123456789012:cluster/prod")]),
    "action-pattern-matches-nothing": ([allow("ecs:Descr*xyz")], [allow("ecs:Describe*")]),
    "malformed-arn": ([allow("s3:GetObject", "arn:aws:s3")], [allow("s3:GetObject", BUCKET_OBJECTS)]),
    "resource-type-mismatch": ([allow("s3:GetObject", "arn:aws:s3:::bucket")],
                               [allow(["s3:GetObject", "s3:ListBucket"], ["arn:aws:s3:::bucket", BUCKET_OBJECTS])]),
    "unknown-condition-key": (
        [allow("s3:GetObject", BUCKET_OBJECTS, Condition={"StringEquals": {"aws:SourceVpcee": "vpce-1"}})],
        [allow("s3:GetObject", BUCKET_OBJECTS, Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}})]),
    "condition-key-not-applicable": (
        [allow("s3:GetObject", BUCKET_OBJECTS, Condition={"StringLike": {"s3:prefix": "home/*"}})],
        [allow("s3:ListBucket", "arn:aws:s3:::bucket", Condition={"StringLike": {"s3:prefix": "home/*"}})]),
    "condition-operator-type-mismatch": (
        [allow("s3:GetObject", BUCKET_OBJECTS, Condition={"NumericLessThan": {"aws:SourceVpce": "3"}})],
        [allow("s3:GetObject", BUCKET_OBJECTS, Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}})]),
    "set-operator-on-single-valued-key": (
        [allow("s3:GetObject", BUCKET_OBJECTS, Condition={"ForAllValues:StringEquals": {"aws:SourceVpc": "vpc-1"}})],
        [allow("s3:GetObject", BUCKET_OBJECTS, Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}})]),
    "multivalued-key-without-set-operator": (
        [allow("sqs:TagQueue", QUEUE, Condition={"StringEquals": {"aws:TagKeys": "team"}})],
        [allow("sqs:TagQueue", QUEUE, Condition={"ForAllValues:StringEquals": {"aws:TagKeys": "team"}})]),
    "full-service-access": ([allow("sqs:*")], [allow("sqs:*", QUEUE)]),
    "permissions-management-on-all-resources": ([allow("sqs:SetQueueAttributes")],
                                                [allow("sqs:SetQueueAttributes", QUEUE)]),
    "write-on-all-resources": ([allow("sqs:SendMessage")], [allow("sqs:SendMessage", QUEUE)]),
}


def test_every_policy_rule_has_cases() -> None:
    assert set(CASES) == {rule.id for rule in POLICY_RULES}


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_on_the_failing_policy(rule_id: str) -> None:
    failing, _ = CASES[rule_id]
    assert rule_id in ids(lint(failing))


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_is_silent_on_the_passing_policy(rule_id: str) -> None:
    _, passing = CASES[rule_id]
    assert rule_id not in ids(lint(passing))


def test_rule_metadata_is_complete_and_ids_are_stable_words() -> None:
    seen = set()
    for rule in RULES:
        assert rule.id not in seen
        seen.add(rule.id)
        assert rule.id == rule.id.lower() and " " not in rule.id
        assert rule.doc_url.startswith("https://docs.aws.amazon.com/")
        assert rule.description and rule.fix
        assert isinstance(rule.severity, Severity)


def test_finding_carries_position_policy_statement_fix_and_link() -> None:
    text = """{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Read", "Effect": "Allow",
     "Action": ["ecs:DescribeCluster"],
     "Resource": "*"}
  ]
}"""
    (finding,) = [f for f in lint([], raw=text) if f.rule_id == "unknown-action"]
    assert (finding.file, finding.line, finding.column) == ("p.json", 5, 17)
    assert finding.severity is Severity.ERROR
    assert finding.message == "unknown action 'ecs:DescribeCluster' (did you mean 'ecs:DescribeClusters'?)"
    assert finding.statement == "Read" and finding.policy_id == "p.json"
    assert finding.fix == "replace 'ecs:DescribeCluster' with 'ecs:DescribeClusters'"
    assert finding.doc_url.startswith("https://docs.aws.amazon.com/service-authorization/")
    with pytest.raises(AttributeError):
        finding.message = "changed"  # type: ignore[misc]


def test_parser_issues_are_reused_with_their_codes() -> None:
    findings = lint([{"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": BUCKET_OBJECTS},
                     {"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": BUCKET_OBJECTS}])
    (duplicate,) = [f for f in findings if f.rule_id == "malformed-policy"]
    assert duplicate.code == "duplicate-sid" and duplicate.severity is Severity.ERROR
    broken = lint([], raw='{"Version": "2012-10-17", "Statement": [')
    assert [(f.rule_id, f.code) for f in broken] == [("malformed-policy", "json-syntax")]


def test_log_group_without_star_for_put_log_events() -> None:
    group = "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/app"
    (finding,) = lint([allow("logs:PutLogEvents", group)])
    assert finding.rule_id == "resource-type-mismatch"
    assert finding.fix == f"write '{group}:*'"
    assert not lint([allow("logs:PutLogEvents", group + ":*")])


def test_log_group_operations_match_the_star_form_aws_evaluates() -> None:
    # DescribeLogStreams is authorized on 'log-group:NAME:log-stream:' (the call mappings), so ':*' fits.
    group = "arn:aws:logs:us-east-1:123456789012:log-group:app:*"
    assert not lint([allow(["logs:DescribeLogStreams", "logs:PutLogEvents"], group)])


def test_action_no_resource_fits_is_named_when_other_resources_fit() -> None:
    findings = lint([allow(["s3:GetObject", "s3:ListBucket"], "arn:aws:s3:::bucket")])
    assert [(f.rule_id, f.message.split(":")[0]) for f in findings] == [
        ("resource-type-mismatch", "action 's3")]
    assert "s3:GetObject" in findings[0].message


def test_wildcards_in_resources_are_judged_soundly() -> None:
    # '*' in the account segment or across the resource part may fit; 'bucket/*' can never be a bucket.
    assert not lint([allow("s3:ListBucket", "arn:aws:s3:::*")])
    assert not lint([allow("sqs:SendMessage", "arn:aws:sqs:*:*:jobs-*")])
    assert not lint([allow("iam:PassRole", "arn:aws:iam::*:role/${aws:username}-*")])
    assert ids(lint([allow("s3:ListBucket", "arn:aws:s3:::bucket/*")])) == ["resource-type-mismatch"]
    # The region segment of a regional resource cannot be empty.
    assert ids(lint([allow("sqs:SendMessage", "arn:aws:sqs::123456789012:jobs")])) == ["resource-type-mismatch"]


def test_malformed_arn_prefix_is_a_warning_and_suggests_the_arn() -> None:
    resource = "*arn:aws:iam::*:role/aws-service-role/elasticache.amazonaws.com/AWSServiceRoleForElastiCache"
    (finding,) = lint([allow("iam:CreateServiceLinkedRole", resource)])
    assert finding.rule_id == "malformed-arn" and finding.severity is Severity.WARNING
    assert finding.fix == f"write '{resource[1:]}'"


def test_unknown_partition_is_an_error() -> None:
    (finding,) = [f for f in lint([allow("s3:GetObject", "arn:awz:s3:::b/*")]) if f.rule_id == "malformed-arn"]
    assert finding.severity is Severity.ERROR and "'awz'" in finding.message


def test_string_operators_on_arn_keys_and_arn_operators_on_tags_are_fine() -> None:
    assert not lint([allow("s3:GetObject", BUCKET_OBJECTS, Condition={
        "StringEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/app"},
        "ArnLike": {"aws:ResourceTag/Creator": "arn:aws:iam::*:role/*"}})])


def test_federation_and_service_context_keys_are_not_unknown() -> None:
    trust = [{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/x"},
              "Action": "sts:AssumeRoleWithWebIdentity",
              "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:org/*",
                                           "saml:aud": "https://signin.aws.amazon.com/saml"}}}]
    assert not lint(trust, PolicyType.ROLE_TRUST)
    volume = lint([allow("ec2:AttachVolume", "*", Condition={
        "ArnEquals": {"ec2:SourceInstanceARN": "arn:aws:ec2:us-east-1:123456789012:instance/i-1"}})])
    assert not [f for f in volume if "condition" in f.rule_id]


def test_overbroad_grant_counts_access_levels() -> None:
    (finding,) = lint([allow("sqs:*")])
    assert finding.message.startswith("'sqs:*' on '*' opens ")
    assert "Write" in finding.message and "Permissions management" in finding.message


def test_broad_grants_are_not_judged_in_policies_that_only_limit() -> None:
    for policy_type in (PolicyType.SCP, PolicyType.PERMISSIONS_BOUNDARY, PolicyType.KMS_KEY):
        statement = allow("*") if policy_type is not PolicyType.KMS_KEY else {
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*",
            "Resource": "*"}
        assert "full-service-access" not in ids(lint([statement], policy_type))


def test_deny_statements_are_not_overbroad_grants() -> None:
    assert not lint([{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}])
