"""The authorizer through the library API (AWS semantics are covered case by case in tests/conformance)."""

from __future__ import annotations

from dataclasses import replace

from accesspath import (
    AuthorizationRequest, Decision, PolicySet, PolicyType, RequestContext, authorize, parse_policy,
    principal_from_arn,
)
from accesspath.engine import GateStatus, PrincipalKind

ACCOUNT = "123456789012"
SESSION = principal_from_arn(f"arn:aws:sts::{ACCOUNT}:assumed-role/app-task/abc123")
ADMIN = parse_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
                     policy_id="admin")


def request(action: str, resource: str = "*", **context: str) -> AuthorizationRequest:
    return AuthorizationRequest(SESSION, action, resource, RequestContext.of(context))


def test_principal_arns_are_read_into_kinds() -> None:
    assert SESSION.kind is PrincipalKind.ROLE_SESSION
    assert SESSION.principal_arn == f"arn:aws:iam::{ACCOUNT}:role/app-task"
    role = principal_from_arn(f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS")
    assert role.service_linked and role.kind is PrincipalKind.ROLE_SESSION
    assert principal_from_arn("ecs-tasks.amazonaws.com").kind is PrincipalKind.SERVICE
    assert principal_from_arn("anonymous").kind is PrincipalKind.ANONYMOUS
    assert principal_from_arn(f"arn:aws:iam::{ACCOUNT}:root").kind is PrincipalKind.ROOT


def test_explanation_is_data_and_agrees_with_the_fast_path() -> None:
    # Seed 000: an ECS endpoint policy that allows only ListClusters stops DescribeClusters.
    endpoint = parse_policy({"Statement": [{"Principal": "*", "Effect": "Allow", "Action": ["ecs:ListClusters"],
                                            "Resource": "*"}]}, policy_type=PolicyType.VPC_ENDPOINT)
    policies = PolicySet.of(identity=[ADMIN], vpc_endpoint=[endpoint])
    cluster = f"arn:aws:ecs:ap-northeast-1:{ACCOUNT}:cluster/test-dev-cluster"
    fast = authorize(request("ecs:DescribeClusters", cluster), policies)
    slow = authorize(request("ecs:DescribeClusters", cluster), policies, explain=True)
    assert fast.decision is slow.decision is Decision.IMPLICIT_DENY
    assert fast.deciding_gate is PolicyType.VPC_ENDPOINT
    assert fast.gates == () and fast.policies == ()  # nothing recorded unless asked
    assert [(g.gate, g.status) for g in slow.gates] == [(PolicyType.VPC_ENDPOINT, GateStatus.NO_ALLOW)]
    endpoint_trace = next(o for o in slow.policies if o.policy is endpoint)
    assert endpoint_trace.statements is not None and not endpoint_trace.statements[0].action_matched


def test_condition_trace_carries_both_sides() -> None:
    policy = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"]}}}]})
    result = authorize(request("logs:PutLogEvents", aws_SourceVpce="vpce-9"), PolicySet.of(identity=[policy]),
                       explain=True)
    assert result.decision is Decision.IMPLICIT_DENY
    condition = result.policies[0].statements[0].conditions[0]
    assert condition.policy_values == ("vpce-1", "vpce-2")
    assert condition.request_values is None  # the key was given as aws_SourceVpce, so it is missing
    result = authorize(AuthorizationRequest(SESSION, "logs:PutLogEvents", "*",
                                            RequestContext.of({"aws:SourceVpce": "vpce-9"})),
                       PolicySet.of(identity=[policy]), explain=True)
    condition = result.policies[0].statements[0].conditions[0]
    assert condition.request_values == ("vpce-9",) and condition.outcome.value == "false"


def test_an_invalid_policy_never_allows_but_its_valid_deny_still_denies() -> None:
    broken = parse_policy({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
                                         {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}],
                           "Bogus": True}, policy_id="broken")
    assert not broken.is_valid
    allowed_elsewhere = authorize(request("s3:GetObject"), PolicySet.of(identity=[ADMIN, broken]))
    assert allowed_elsewhere.decision is Decision.IMPLICIT_DENY
    assert any("Bogus" in e for e in allowed_elsewhere.errors)
    denied = authorize(request("s3:DeleteBucket"), PolicySet.of(identity=[ADMIN, broken]))
    assert denied.decision is Decision.EXPLICIT_DENY


def test_unreadable_request_value_fails_closed_in_both_directions() -> None:
    allow = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
        "Condition": {"NumericLessThan": {"s3:max-keys": "100"}}}]})
    deny = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
        "Condition": {"NumericGreaterThan": {"s3:max-keys": "100"}}}]})
    context = RequestContext.of({"s3:max-keys": "many"})
    req = AuthorizationRequest(SESSION, "s3:ListBucket", "*", context)
    assert authorize(req, PolicySet.of(identity=[allow])).decision is Decision.IMPLICIT_DENY
    result = authorize(req, PolicySet.of(identity=[ADMIN, deny]))
    assert result.decision is Decision.EXPLICIT_DENY and result.errors


def test_messages_follow_aws_wording() -> None:
    deny = parse_policy({"Statement": [{"Effect": "Deny", "Action": "ecs:*", "Resource": "*"}]},
                        policy_type=PolicyType.SCP)
    scp_allow = parse_policy({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
                             policy_type=PolicyType.SCP)
    cluster = f"arn:aws:ecs:ap-northeast-1:{ACCOUNT}:cluster/c"
    result = authorize(request("ecs:DescribeClusters", cluster), PolicySet.of(identity=[ADMIN], scps=[[scp_allow, deny]]))
    assert result.message == (f"User: {SESSION.arn} is not authorized to perform: ecs:DescribeClusters on resource:"
                              f" {cluster} with an explicit deny in a service control policy")
    result = authorize(request("ecs:ListClusters"), PolicySet.of())
    assert result.message == (f"User: {SESSION.arn} is not authorized to perform: ecs:ListClusters because no"
                              " identity-based policy allows the ecs:ListClusters action")


def test_scps_do_not_apply_to_service_linked_roles_or_the_management_account() -> None:
    nothing = parse_policy({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
                           policy_type=PolicyType.SCP)
    policies = PolicySet.of(identity=[ADMIN], scps=[[nothing]])
    assert authorize(request("ecs:ListClusters"), policies).decision is Decision.IMPLICIT_DENY
    linked = replace(SESSION, service_linked=True)
    assert authorize(AuthorizationRequest(linked, "ecs:ListClusters", "*"), policies).decision is Decision.ALLOWED
    managed = replace(policies, management_account=ACCOUNT, decision_cache={})
    assert authorize(request("ecs:ListClusters"), managed).decision is Decision.ALLOWED


def test_decision_cache_returns_the_same_answer_and_can_be_turned_off() -> None:
    policies = PolicySet.of(identity=[ADMIN])
    first = authorize(request("s3:GetObject", "arn:aws:s3:::b/k"), policies)
    again = authorize(request("s3:GetObject", "arn:aws:s3:::b/k"), policies)
    assert again is first and len(policies.decision_cache) == 1
    uncached = replace(policies, decision_cache_size=0, decision_cache={})
    other = authorize(request("s3:GetObject", "arn:aws:s3:::b/k"), uncached)
    assert other is not first and other.decision is first.decision and not uncached.decision_cache
    different_context = authorize(request("s3:GetObject", "arn:aws:s3:::b/k", **{"aws:SourceVpce": "v"}), policies)
    assert different_context is not first and len(policies.decision_cache) == 2


def test_ignore_case_compares_character_by_character() -> None:
    # StringEqualsIgnoreCase is "exact matching, ignoring case" (reference_policies_elements_condition_operators.md):
    # 'ß' has no single-character upper case, so it does not equal 'SS'.
    policy = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEqualsIgnoreCase": {"aws:PrincipalTag/city": "STRASSE"}}}]})
    for city, expected in (("strasse", Decision.ALLOWED), ("StRaSsE", Decision.ALLOWED), ("straße", Decision.IMPLICIT_DENY)):
        result = authorize(request("s3:GetObject", **{"aws:PrincipalTag/city": city}), PolicySet.of(identity=[policy]))
        assert result.decision is expected, city


def test_compiled_policies_keep_callers_apart() -> None:
    # A compiled resource policy remembers outcomes per action, resource and caller: one caller's
    # grant must never answer for another (the decision cache is off, so only that memo is in play).
    bucket_policy = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}, policy_type=PolicyType.RESOURCE)
    policies = replace(PolicySet.of(resource=[bucket_policy]), decision_cache_size=0)
    alice = principal_from_arn(f"arn:aws:iam::{ACCOUNT}:user/alice")
    bob = principal_from_arn(f"arn:aws:iam::{ACCOUNT}:user/bob")
    for caller, expected in ((alice, Decision.ALLOWED), (bob, Decision.IMPLICIT_DENY), (alice, Decision.ALLOWED)):
        result = authorize(AuthorizationRequest(caller, "s3:GetObject", "arn:aws:s3:::b/k"), policies)
        assert result.decision is expected, caller.arn


def test_not_principal_with_deny_needs_the_whole_chain() -> None:
    # reference_policies_elements_notprincipal.md, "NotPrincipal with Deny": name the assumed-role
    # session, the role and the account; leave one out and the Deny may still reach the caller.
    session = "arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/cross-account-audit-app"
    role = "arn:aws:iam::444455556666:role/cross-account-read-only-role"
    root = "arn:aws:iam::444455556666:root"
    caller = principal_from_arn(session)

    def decide(not_principals: list[str]) -> Decision:
        bucket = parse_policy({"Version": "2012-10-17", "Statement": [
            {"Sid": "Auditor", "Effect": "Allow", "Principal": {"AWS": session}, "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::b/*"},
            {"Sid": "EveryoneElse", "Effect": "Deny", "NotPrincipal": {"AWS": not_principals}, "Action": "s3:*",
             "Resource": "arn:aws:s3:::b/*"}]}, policy_type=PolicyType.RESOURCE)
        identity = parse_policy({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
        policies = PolicySet.of(identity=[identity], resource=[bucket], resource_owner="111122223333")
        return authorize(AuthorizationRequest(caller, "s3:GetObject", "arn:aws:s3:::b/k"), policies).decision

    assert decide([session, role, root]) is Decision.ALLOWED
    assert decide([session, root]) is Decision.EXPLICIT_DENY
    assert decide([session, role]) is Decision.EXPLICIT_DENY


def test_service_linked_role_sessions_are_recognised_by_name() -> None:
    # Service-linked roles are named AWSServiceRoleFor...; SCPs do not apply to them.
    session = principal_from_arn(f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSServiceRoleForECS/ecs-service-scheduler")
    assert session.service_linked and not SESSION.service_linked
    nothing = parse_policy({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
                           policy_type=PolicyType.SCP)
    policies = PolicySet.of(identity=[ADMIN], scps=[[nothing]])
    assert authorize(AuthorizationRequest(session, "ec2:DescribeInstances", "*"), policies).allowed
