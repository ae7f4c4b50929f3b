"""Fuzz the policy parser and `simulate` with hostile input.

`accesspath.policy.parse_policy` promises never to raise for bad content: every problem becomes
a PolicyIssue on the returned Policy. `simulate` reports such policies in `Errors` and never
allows while they apply (docs/evaluation.md, "Fail closed"); the only exception it may raise is
`accesspath.errors.UsageError` for a malformed request.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from accesspath.errors import UsageError
from accesspath.policy import Policy, PolicyType, parse_policy
from accesspath.simulate import simulate
from policy_strategies import ACCOUNT, USER, policy, request

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

POLICY_WORDS = ["Version", "Statement", "Sid", "Effect", "Allow", "Deny", "Action", "NotAction", "Resource",
                "NotResource", "Principal", "NotPrincipal", "Condition", "AWS", "Service", "*", "2012-10-17",
                "StringEquals", "ForAllValues:StringLike", "NumericLessThan", "Null", "aws:username",
                "${aws:username}", "s3:GetObject", "arn:aws:s3:::b/*", "BoolIfExists", "DateEquals"]
ODD_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)  # NUL, RTL, emoji, combining marks
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**40, max_value=10**40),
                    st.floats(allow_nan=False), st.sampled_from(POLICY_WORDS), ODD_TEXT)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.sampled_from(POLICY_WORDS), ODD_TEXT), inner, max_size=4)),
    max_leaves=25)
PolicyKinds = st.sampled_from(list(PolicyType))


def check_policy(parsed):
    assert isinstance(parsed, Policy)
    if not parsed.is_valid:
        assert parsed.errors, "an invalid policy says why"


def simulate_with(document, slot="PolicyInputList"):
    req = {"CallerArn": USER, "ActionNames": ["s3:GetObject", "ecs:ListClusters"],
           "ResourceArns": ["arn:aws:s3:::b/k", f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/dev"],
           "PolicyInputList": [{"Version": "2012-10-17",
                                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]}
    if slot == "PolicyInputList":
        req["PolicyInputList"].append(document)
    elif slot == "PermissionsBoundaryPolicyInputList":
        req[slot] = [document]
    elif slot == "ServiceControlPolicies":
        req[slot] = [[req["PolicyInputList"][0], document]]
    else:
        req[slot] = document
    try:
        return simulate(req)
    except UsageError:
        return None


SLOTS = {PolicyType.IDENTITY: "PolicyInputList", PolicyType.RESOURCE: "ResourcePolicy",
         PolicyType.VPC_ENDPOINT: "VpcEndpointPolicy", PolicyType.SCP: "ServiceControlPolicies",
         PolicyType.PERMISSIONS_BOUNDARY: "PermissionsBoundaryPolicyInputList"}


def assert_fail_closed(document, policy_type=PolicyType.IDENTITY, *, invalid=False):
    """A policy with errors is never used to allow; ``invalid``: the document must have errors, and
    simulate must take it (report it, not refuse the request)."""
    parsed = parse_policy(document, policy_type=policy_type)
    check_policy(parsed)
    if invalid:
        assert not parsed.is_valid, (document, parsed.issues)
    if parsed.is_valid:
        return
    slot = SLOTS[policy_type]
    result = simulate_with(document, slot)
    if invalid:
        assert result is not None, "a policy with errors is reported in the result, not refused"
    if result is None:
        return
    outcomes = [r["EvalDecision"] for r in result["EvaluationResults"]]
    assert "allowed" not in outcomes, (document, result)
    assert any(r.get("Errors") for r in result["EvaluationResults"]), "the policy errors are reported"


@FUZZ
@given(json_values, PolicyKinds)
def test_arbitrary_json_values(value, policy_type):
    check_policy(parse_policy(value, policy_type=policy_type))
    check_policy(parse_policy(json.dumps(value), policy_type=policy_type))


@FUZZ
@given(st.text(max_size=200), PolicyKinds)
@example("", PolicyType.IDENTITY)
@example("\ufeff{}", PolicyType.IDENTITY)
@example('{"Statement": "\\ud800"}', PolicyType.IDENTITY)
@example("\x00", PolicyType.RESOURCE)
@example("\u00b2", PolicyType.IDENTITY)  # a superscript two: str.isdigit() says yes, int() says no
@example("[1.\u00b2]", PolicyType.IDENTITY)
def test_arbitrary_text(text, policy_type):
    check_policy(parse_policy(text, policy_type=policy_type))


@st.composite
def garbled(draw):
    """A valid policy's text, then truncated, or with characters deleted, replaced or inserted."""
    doc = draw(policy("identity"))
    text = doc if isinstance(doc, str) else json.dumps(doc, indent=draw(st.sampled_from([None, 2])))
    how = draw(st.sampled_from(["truncate", "delete", "replace", "insert"]))
    i = draw(st.integers(0, max(len(text) - 1, 0)))
    if how == "truncate":
        return text[:i]
    if how == "delete":
        return text[:i] + text[i + draw(st.integers(1, 5)):]
    piece = draw(st.sampled_from(['"', "{", "}", "[", "]", ",", ":", "\\", "\\u12", "1e999", "\u202e", "\x00",
                                  '"Effect": "Allow"', '"Action": "*"', "null", "true"]))
    return text[:i] + piece + text[i + (1 if how == "replace" else 0):]


@FUZZ
@given(garbled(), st.sampled_from(sorted(SLOTS, key=str)))
def test_garbled_valid_policies_fail_closed(text, policy_type):
    assert_fail_closed(text, policy_type)


@FUZZ
@given(json_values)
def test_arbitrary_documents_fail_closed(value):
    assert_fail_closed(value)
    assert_fail_closed(json.dumps(value), PolicyType.RESOURCE)


@pytest.mark.parametrize("depth", [50, 1000, 100_000])
def test_deep_nesting(depth):
    for text in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth,
                 '{"Version":"2012-10-17","Statement":' + "[" * depth + "]" * depth + "}"):
        check_policy(parse_policy(text))
        check_policy(parse_policy(text[: len(text) // 2]))


def test_deeply_nested_python_object():
    # A depth that Python's own json.loads still decodes: the parser must take it as an object too.
    text = '{"Version": "2012-10-17", "Statement": ' + "[" * 900 + "]" * 900 + "}"
    check_policy(parse_policy(json.loads(text)))


@pytest.mark.parametrize("number", ["\u0663", "-\u0663", "1\u00b2", "1.\u00b2", "1e\u00b2", "\uff11"])
def test_only_ascii_digits_make_json_numbers(number):
    # RFC 8259: digit = %x30-39. Other Unicode digits are not JSON, and must not crash the decoder.
    parsed = parse_policy('{"Version": "2012-10-17", "Statement": [], "Id": %s}' % number)
    assert any(issue.code == "json-syntax" for issue in parsed.errors), parsed.issues


HUGE = ["1" * 5000, "1e999999", "-1e999999", "1e-999999", "0." + "0" * 4000 + "1", "123456789012345678901234567890"]


@pytest.mark.parametrize("number", HUGE)
def test_huge_numbers(number):
    for condition in ('{"NumericLessThan": {"s3:max-keys": %s}}', '{"NumericEquals": {"s3:max-keys": "%s"}}',
                      '{"DateLessThan": {"aws:CurrentTime": %s}}', '{"StringEquals": {"aws:username": %s}}'):
        text = ('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", '
                '"Condition": ' + condition % number + "}}")
        assert_fail_closed(text)
    assert_fail_closed('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": %s, "Resource": "*"}}'
                       % number)


DUPLICATES = [
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Effect": "Allow", "Action": "*", "Resource": "*"}]}',
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Action": "*", "Resource": "*"}]}',
    '{"Version": "2012-10-17", "Statement": [], "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}',
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", '
    '"Condition": {"StringEquals": {"aws:username": "a"}, "StringEquals": {"aws:username": "b"}}}]}',
]


@pytest.mark.parametrize("text", DUPLICATES)
def test_duplicate_keys(text):
    # IAM rejects duplicate keys; reading "the last key wins" would make the first two allow.
    assert_fail_closed(text, invalid=True)
    parsed = parse_policy(text)
    assert any(issue.code == "duplicate-key" for issue in parsed.errors), parsed.issues


ODD_POLICIES = [
    '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:\u0130*", "Resource": "*"}}',
    '{"Version": "2012-10-17", "Statement": {"Effect": "\u0391llow", "Action": "*", "Resource": "*"}}',
    '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", '
    '"Condition": {"IpAddress": {"aws:SourceIp": "999.1.1.1/99"}}}}',
    '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", '
    '"Condition": {"ForAllValues:Null": {"aws:username": "maybe"}}}}',
    '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": []}}',
    '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": [], "Resource": "*"}}',
    '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["*", ["s3:*"]], "Resource": "*"}}',
    '{"Version": 20121017, "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}',
    '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}} trailing',
]


@pytest.mark.parametrize("text", ODD_POLICIES)
def test_odd_policies(text):
    # Each of these breaks the grammar: it must be reported, and never allow.
    assert_fail_closed(text, invalid=True)
    assert_fail_closed(text, PolicyType.RESOURCE, invalid=True)


def _decisions(statement, resources):
    result = simulate({"CallerArn": USER, "ActionNames": ["s3:GetObject"], "ResourceArns": resources,
                       "PolicyInputList": [{"Version": "2012-10-17", "Statement": statement}]})
    return {r["EvalResourceName"]: (r["EvalDecision"], r["Errors"]) for r in result["EvaluationResults"]}


def test_a_lone_surrogate_is_a_value_no_request_has():
    # JSON allows the escape; the value is text no caller's name can equal, so it matches nothing.
    text = ('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", '
            '"Condition": {"StringEquals": {"aws:username": "\\ud800"}}}}')
    assert parse_policy(text).is_valid
    assert _decisions(json.loads(text)["Statement"], ["arn:aws:s3:::b/k"]) == {
        "arn:aws:s3:::b/k": ("implicitDeny", [])}


def test_unclosed_and_empty_variables():
    # reference_policies_variables.md: a variable is ${key}; an unclosed "${" is literal text, and
    # a variable naming no key has no value: "will not match any resource" (docs/evaluation.md).
    literal = {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::${"}
    assert _decisions(literal, ["arn:aws:s3:::${", "arn:aws:s3:::x"]) == {
        "arn:aws:s3:::${": ("allowed", []), "arn:aws:s3:::x": ("implicitDeny", [])}
    empty = {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::${aws:}"}
    assert _decisions(empty, ["arn:aws:s3:::${aws:}", "arn:aws:s3:::"]) == {
        "arn:aws:s3:::${aws:}": ("implicitDeny", []), "arn:aws:s3:::": ("implicitDeny", [])}


@FUZZ
@given(st.sampled_from(POLICY_WORDS + ["", "*", "Permit", "allow", "ALLOW", " Allow"]), json_values)
def test_statement_element_values(element, value):
    statement = {"Effect": "Allow", "Action": "*", "Resource": "*", element: value}
    doc = {"Version": "2012-10-17", "Statement": [statement]}
    assume(json.dumps(doc, default=str))
    assert_fail_closed(doc)


REQUEST_FIELDS = ["PolicyInputList", "PermissionsBoundaryPolicyInputList", "ResourcePolicy", "ResourcePolicyType",
                  "ResourceOwner", "CallerArn", "ActionNames", "ResourceArns", "ContextEntries",
                  "SessionPolicyInputList", "VpcEndpointPolicy", "ServiceControlPolicies",
                  "ResourceControlPolicies", "ServiceLinkedRole", "ManagementAccount"]


@FUZZ
@given(request(), st.sampled_from(REQUEST_FIELDS), json_values, st.booleans())
def test_simulate_takes_any_value_in_any_field(req, field, value, as_text):
    # A request with one field replaced by anything: a result, or a UsageError that says why.
    req[field] = value
    try:
        result = simulate(json.dumps(req) if as_text else req)
    except UsageError as error:
        assert str(error)
        return
    for r in result["EvaluationResults"]:
        assert r["EvalDecision"] in ("allowed", "explicitDeny", "implicitDeny")
