"""Policy documents given as JSON strings: decoded once by the loader, positions in the template.

CloudFormation accepts a policy document as a JSON string as well as an object
(aws-resource-iam-role.md: "AssumeRolePolicyDocument ... Type: Json"; the ECS reference architecture
writes its roles with ``PolicyDocument: |`` and JSON). Every command reads the decoded document.
"""

from __future__ import annotations

from accesspath.cfn import Symbolic, load_stacks, policy_nodes
from accesspath.environment.from_templates import build_environment
from accesspath.policy import PolicyType, Position, parse_policy
from accesspath.policy.model import Severity

from .loading import TEMPLATES

FOLDER = TEMPLATES / "string-policies"
ROLES = str(FOLDER / "roles.yaml")
ENDPOINT = str(FOLDER / "endpoint.json")


def documents(path: str) -> dict[str, object]:
    return {f"{loc.resource.logical_id}.{loc.path}": loc for loc in policy_nodes(load_stacks([path]))}


def test_a_yaml_block_string_is_decoded_with_exact_positions() -> None:
    trust = documents(ROLES)["TaskRole.Properties.AssumeRolePolicyDocument"].node  # type: ignore[attr-defined]
    assert trust.is_object and trust.start == Position(12, 9, ROLES)
    statement = trust.member("Statement").value[0]
    assert statement.start == Position(13, 27, ROLES)  # the '{' after '"Statement": ['
    action = statement.member("Action")
    assert action.value == "sts:AssumeRole" and action.start == Position(16, 27, ROLES)
    policy = parse_policy(trust, policy_type=PolicyType.ROLE_TRUST, source=ROLES)
    assert not [i for i in policy.issues if i.severity is Severity.ERROR]


def test_fn_sub_variables_resolve_inside_the_string_and_an_unresolved_one_stays_local() -> None:
    document = documents(ROLES)["TaskRole.Properties.Policies[0].PolicyDocument"].node  # type: ignore[attr-defined]
    read, audit = document.member("Statement").value
    assert read.member("Resource").value == "arn:aws:s3:::app-assets/*"
    assert read.member("Resource").start == Position(26, 30, ROLES)
    # ${AuditBucket} names a resource accesspath does not model: only that value is unresolved.
    unresolved = audit.member("Resource").value
    assert isinstance(unresolved, Symbolic) and "AuditBucket" in unresolved.reason
    assert audit.member("Action").value == "s3:PutObject" and read.member("Sid").value == "Read"


def test_fn_join_parts_fill_the_string() -> None:
    document = documents(ROLES)["TaskRole.Properties.Policies[1].PolicyDocument"].node  # type: ignore[attr-defined]
    statement = document.member("Statement").value[0]
    assert statement.member("Resource").value == "arn:aws:sqs:us-east-1:123456789012:string-policy-queue"
    assert statement.start == Position(34, 33, ROLES)


def test_a_json_template_string_with_escapes_maps_to_the_right_column() -> None:
    document = documents(ENDPOINT)["SqsEndpoint.Properties.PolicyDocument"].node  # type: ignore[attr-defined]
    assert document.start == Position(10, 28, ENDPOINT)
    statement = document.member("Statement").value[0]
    assert statement.start == Position(10, 49, ENDPOINT)
    assert statement.member("Action").value == "sqs:SendMessage"


def test_a_string_that_is_not_json_is_one_error_at_the_character() -> None:
    stacks = load_stacks([ROLES])
    bad = [issue for issue in stacks.issues if issue.code == "bad-policy-json"]
    assert len(bad) == 1 and bad[0].position == Position(51, 69, ROLES)
    assert bad[0].severity is Severity.ERROR


def test_the_environment_reads_the_decoded_documents() -> None:
    env = build_environment(load_stacks([ROLES]))
    role = env.roles["string-policy-task"]
    assert role.trust_policy is not None and role.trust_policy.statements
    assert not [i for i in role.trust_policy.issues if i.severity is Severity.ERROR]
    queue = next(p for p in role.policies if p.policy_id == "TaskRole.queue")
    assert not [i for i in queue.issues if i.severity is Severity.ERROR]
    key = next(h for h in env.resources.values() if h.kind == "kms-key")
    assert key.policy is not None and key.policy.statements[0].start == Position(46, 34, ROLES)
    endpoint_env = build_environment(load_stacks([ENDPOINT]))
    endpoint = next(iter(endpoint_env.endpoints.values()))
    assert endpoint.policy is not None and [s.start for s in endpoint.policy.statements] == [
        Position(10, 49, ENDPOINT)]
