"""Parsing and validation of policy documents (what IAM rejects as MalformedPolicyDocument).

Docs: reference_policies_grammar.md, reference_policies_elements_*.md in the IAM User Guide.
"""

from __future__ import annotations

import json

import pytest

from accesspath.policy import PolicyType, Position, Severity, decode_json, parse_policy
from accesspath.policy.source import JsonSyntaxError


def codes(policy) -> list[str]:
    return [i.code for i in policy.issues if i.severity is Severity.ERROR]


def test_positions_point_at_the_statement_and_condition() -> None:
    text = '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Sid": "A", "Effect": "Allow",\n' \
           '     "Action": "s3:GetObject", "Resource": "*",\n' \
           '     "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}\n  ]\n}\n'
    policy = parse_policy(text, source="p.json")
    assert policy.is_valid
    statement = policy.statements[0]
    assert statement.start == Position(4, 5, "p.json")
    assert statement.conditions[0].position == Position(6, 37, "p.json")
    assert statement.action.position == Position(5, 16, "p.json")


def test_statement_may_be_a_single_object_and_version_may_be_missing() -> None:
    policy = parse_policy({"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}})
    assert policy.is_valid and policy.version is None and len(policy.statements) == 1
    assert not policy.supports_variables


@pytest.mark.parametrize("document, code", [
    ({"Version": "2012-10-17", "Statement": [], "Extra": 1}, "unknown-element"),
    ({"Version": "2012-10-17"}, "missing-statement"),
    ({"Version": "2013-01-01", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}, "bad-version"),
    ({"Statement": {"Effect": "allow", "Action": "*", "Resource": "*"}}, "bad-effect"),
    ({"Statement": {"Action": "*", "Resource": "*"}}, "missing-effect"),
    ({"Statement": {"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"}},
     "action-and-notaction"),
    ({"Statement": {"Effect": "Allow", "Resource": "*"}}, "missing-action"),
    ({"Statement": {"Effect": "Allow", "Action": "s3:*"}}, "missing-resource"),
    ({"Statement": {"Effect": "Allow", "Action": "GetObject", "Resource": "*"}}, "bad-action"),
    ({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "bucket"}}, "bad-resource"),
    ({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"}},
     "unexpected-principal"),
    ({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                    "Condition": {"StringEqualz": {"aws:SourceVpce": "x"}}}}, "bad-operator"),
    ({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                    "Condition": {"NullIfExists": {"aws:SourceVpce": "true"}}}}, "bad-operator"),
    ({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                    "Condition": {"NumericLessThan": {"s3:max-keys": "ten"}}}}, "bad-condition-value"),
    ({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                    "Condition": {"DateGreaterThan": {"aws:CurrentTime": "yesterday"}}}}, "bad-condition-value"),
    ({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                    "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}}}}, "bad-condition-value"),
    ({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                    "Condition": {"Bool": {"aws:SecureTransport": "yes"}}}}, "bad-condition-value"),
    ({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                    "Condition": {"Null": {"aws:SourceVpce": "maybe"}}}}, "bad-condition-value"),
    ({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                    "Condition": {"ForSomeValues:StringLike": {"aws:TagKeys": "a"}}}}, "bad-operator"),
    ({"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                    {"Sid": "A", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}, "duplicate-sid"),
])
def test_malformed_policies_are_reported(document, code) -> None:
    policy = parse_policy(document)
    assert code in codes(policy)
    assert not policy.is_valid


def test_duplicate_keys_are_reported_with_their_position() -> None:
    policy = parse_policy('{"Statement": {"Effect": "Allow", "Effect": "Deny", "Action": "*", "Resource": "*"}}')
    issue = next(i for i in policy.issues if i.code == "duplicate-key")
    assert issue.position is not None and (issue.position.line, issue.position.column) == (1, 35)
    assert "Effect" in issue.message


def test_resource_policies_need_a_principal_and_endpoint_policies_do_not() -> None:
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    assert "missing-principal" in codes(parse_policy({"Statement": statement}, policy_type=PolicyType.RESOURCE))
    assert parse_policy({"Statement": statement}, policy_type=PolicyType.VPC_ENDPOINT).is_valid


def test_trust_policies_need_no_resource() -> None:
    policy = parse_policy({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sts:AssumeRole",
                                                                  "Principal": {"Service": "ecs-tasks.amazonaws.com"}}},
                          policy_type=PolicyType.ROLE_TRUST)
    assert policy.is_valid


@pytest.mark.parametrize("principal", [
    {"AWS": "arn:aws:iam::*:role/x"}, {"AWS": "bob"}, {"Robot": "x"}, "everyone",
])
def test_invalid_principals_are_rejected(principal) -> None:
    policy = parse_policy({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                                         "Principal": principal}}, policy_type=PolicyType.RESOURCE)
    assert not policy.is_valid


def test_json_syntax_errors_become_issues_with_positions() -> None:
    policy = parse_policy('{"Statement": [\n  {"Effect": "Allow",}\n]}', source="bad.json")
    assert not policy.is_valid
    issue = policy.issues[0]
    assert issue.code == "json-syntax" and issue.position == Position(2, 22, "bad.json")


def test_seed_003_resource_without_arn_prefix_is_a_warning_and_still_parses() -> None:
    # Seed 003 ships "*arn:aws:iam::*:role/..." (a stray leading '*'): AWS accepted the template.
    policy = parse_policy({"Statement": {"Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
                                         "Resource": "*arn:aws:iam::*:role/aws-service-role/x"}})
    assert policy.is_valid
    assert [i.code for i in policy.issues] == ["resource-not-arn"]


def test_decoder_handles_escapes_and_rejects_garbage() -> None:
    node = decode_json('{"a": "\\u00e9\\n\\ud83d\\ude00", "b": [1, 2.5e3, true, null]}')
    assert node.to_python() == {"a": "é\n😀", "b": [1, 2500.0, True, None]}
    for bad in ['{"a": 1,}', '[1 2]', '{"a": tru}', '"unterminated', '{"a": 01}', '']:
        with pytest.raises(JsonSyntaxError):
            decode_json(bad)
    assert json.loads('{"a": [1]}') == decode_json('{"a": [1]}').to_python()


def test_numbers_and_booleans_in_conditions_are_read_as_text() -> None:
    policy = parse_policy({"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
        "Condition": {"NumericLessThanEquals": {"s3:max-keys": 10}, "Bool": {"aws:SecureTransport": True}}}})
    assert policy.is_valid
    values = {c.key: c.values for c in policy.statements[0].conditions}
    assert values == {"s3:max-keys": ("10",), "aws:SecureTransport": ("true",)}
