"""The compiled engine's shortcuts decide as the policy elements say.

Resource/NotResource: reference_policies_elements_resource.md, reference_policies_elements_notresource.md
("NotResource ... matches every resource except those specified"); IpAddress on IPv4 and IPv6:
reference_policies_elements_condition_operators.md (IP address condition operators).
"""

from __future__ import annotations

import pytest

from accesspath import AuthorizationRequest, PolicySet, RequestContext, authorize, parse_policy
from accesspath.engine import principal_from_arn
from accesspath.engine.evaluate import compile_policy

CALLER = principal_from_arn("arn:aws:iam::111122223333:user/alice")
OBJECT = "arn:aws:s3:::b/k"


def decide(statement: dict, resource: str = OBJECT, context: dict | None = None) -> str:
    policy = parse_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", **statement}]})
    request = AuthorizationRequest(CALLER, "s3:GetObject", resource, RequestContext.of(context or {}))
    return authorize(request, PolicySet.of(identity=[policy])).decision.value


@pytest.mark.parametrize(("element", "value", "expected"), [
    ("Resource", "*", "allowed"),
    ("Resource", ["arn:aws:s3:::x/*", "arn:aws:s3:::b/*"], "allowed"),   # the second alternative
    ("Resource", ["arn:aws:s3:::x/*", "arn:aws:s3:::y/*"], "implicitDeny"),
    ("Resource", ["arn:aws:s3:::x/*", "*"], "allowed"),
    ("NotResource", "*", "implicitDeny"),                                # excludes every resource
    ("NotResource", ["arn:aws:s3:::x/*", "*"], "implicitDeny"),
    ("NotResource", ["arn:aws:s3:::x/*", "arn:aws:s3:::b/k"], "implicitDeny"),
    ("NotResource", ["arn:aws:s3:::x/*", "arn:aws:s3:::y/*"], "allowed"),
])
def test_resource_elements(element: str, value: object, expected: str) -> None:
    assert decide({element: value}) == expected


def test_static_and_variable_patterns_in_one_element() -> None:
    statement = {"Resource": ["arn:aws:s3:::x/*", "arn:aws:s3:::${aws:PrincipalTag/team}/*"]}
    assert decide(statement, "arn:aws:s3:::blue/k", {"aws:PrincipalTag/team": "blue"}) == "allowed"
    assert decide(statement, "arn:aws:s3:::blue/k", {"aws:PrincipalTag/team": "red"}) == "implicitDeny"
    assert decide(statement, "arn:aws:s3:::x/k", {}) == "allowed"
    assert decide(statement, "arn:aws:s3:::blue/k", {}) == "implicitDeny"  # the variable has no value
    not_statement = {"NotResource": ["arn:aws:s3:::x/*", "arn:aws:s3:::${aws:PrincipalTag/team}/*"]}
    assert decide(not_statement, "arn:aws:s3:::blue/k", {"aws:PrincipalTag/team": "blue"}) == "implicitDeny"
    assert decide(not_statement, "arn:aws:s3:::green/k", {"aws:PrincipalTag/team": "blue"}) == "allowed"


@pytest.mark.parametrize(("address", "expected"), [
    ("10.0.3.7", "allowed"), (" 10.0.3.7 ", "allowed"), ("10.1.0.1", "implicitDeny"),
    ("10.0.255.255", "allowed"), ("2001:db8::1", "allowed"), ("2001:db9::1", "implicitDeny"),
    ("010.0.3.7", "implicitDeny"),   # not an address ipaddress reads: the Allow does not apply
    ("10.0.3.256", "implicitDeny"),
])
def test_ip_conditions_read_addresses_as_before(address: str, expected: str) -> None:
    statement = {"Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/16", "2001:db8::/32"]}}}
    assert decide(statement, context={"aws:SourceIp": address}) == expected


def test_a_policy_is_compiled_once_for_every_policy_set_that_holds_it() -> None:
    policy = parse_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                                   "Resource": "*"}]})
    first, second = PolicySet.of(identity=[policy]), PolicySet.of(identity=[policy], vpc_endpoint=None)
    assert first.identity[0] is second.identity[0] is compile_policy(policy)
    twin = parse_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                                 "Resource": "*"}]}, policy_id="twin")
    assert compile_policy(twin) is not first.identity[0]   # another parsed policy: its own positions and id


def test_the_decision_cache_answers_repeats_and_steps_aside_on_new_requests() -> None:
    policy = parse_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                                   "Resource": "*"}]})
    policies = PolicySet.of(identity=[policy])
    request = AuthorizationRequest(CALLER, "s3:GetObject", OBJECT, RequestContext())
    assert authorize(request, policies) is authorize(request, policies)
    use = policies.decision_cache_use
    for i in range(use.WINDOW + 1):
        authorize(AuthorizationRequest(CALLER, "s3:GetObject", f"{OBJECT}{i}", RequestContext()), policies)
    assert use.skip > 0    # no repeats in a whole window: the next requests skip the cache
    skipped = AuthorizationRequest(CALLER, "s3:GetObject", "arn:aws:s3:::b/other", RequestContext())
    assert authorize(skipped, policies).allowed and authorize(skipped, policies).allowed


# -- the size bound that lets parsing skip measuring (policy/limits.py) -----------------------------

import json  # noqa: E402
from dataclasses import replace  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from accesspath.policy.limits import BYTES, CHARACTERS, SIZE_LIMITS, measure, surely_within  # noqa: E402
from accesspath.policy.source import decode_json_counting_floats  # noqa: E402

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(_JSON, st.sampled_from([CHARACTERS, BYTES]), st.booleans(), st.booleans(), st.integers(2, 200))
def test_a_document_said_to_be_within_its_limit_is_within_it(value, unit, whitespace, ascii_only, maximum) -> None:
    text = json.dumps(value, indent=1 if whitespace else None, ensure_ascii=ascii_only)
    text = text.replace("1e", "1E")  # spellings whose compact form is longer
    node, floats = decode_json_counting_floats(text)
    limit = replace(SIZE_LIMITS[0], maximum=maximum, unit=unit, counts_whitespace=whitespace, default_quota=None)
    if surely_within(text, floats, limit):
        assert measure(node, limit) <= maximum
