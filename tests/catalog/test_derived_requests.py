"""Uncurated operations are decided on the resource AWS checks, never on '*' (issue 17, observation 4).

The resource types and ARN formats come from the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html);
where the request does not name its resource, a decision a resource-scoped statement could change
is ``undetermined``.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from accesspath.catalog import iam_requests_for_call
from accesspath.catalog.botocore_models import service_model
from accesspath.catalog.service_catalog import get_catalog
from accesspath.engine.unknown_resource import covers, overlaps
from accesspath.simulate import simulate

ACCOUNT = "123456789012"
CALLER = f"arn:aws:iam::{ACCOUNT}:user/alice"


def decide(statements: list[dict[str, Any]], call: str | dict[str, Any]) -> list[tuple[str, str, str]]:
    output = simulate({"PolicyInputList": [json.dumps({"Version": "2012-10-17", "Statement": statements})],
                       "CallerArn": CALLER, "Call": call})
    return [(r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"]) for r in output["EvaluationResults"]]


def test_create_user_is_denied_by_a_deny_scoped_to_user_names() -> None:
    # Observed: with iam:* allowed and iam:CreateUser denied on user/admin*, create-user admin-evil was allowed.
    policy = [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
              {"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "arn:aws:iam::*:user/admin*"}]
    assert decide(policy, "aws iam create-user --user-name admin-evil") == [
        ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/admin-evil", "explicitDeny")]
    assert decide(policy, "aws iam create-user --user-name bob") == [
        ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/bob", "allowed")]
    # A path is part of the user's ARN (IAM User Guide, reference_identifiers.md).
    assert decide(policy, "aws iam create-user --user-name admin-x --path /ops/") == [
        ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/ops/admin-x", "allowed")]


def test_upload_part_copy_reads_its_source_with_get_object() -> None:
    # Observed: UploadPartCopy from a bucket where s3:GetObject is denied copied the object.
    policy = [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
              {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::lab-denied/*"}]
    results = decide(policy, "aws s3api upload-part-copy --bucket lab-allowed --key k --copy-source lab-denied/victim"
                             " --part-number 1 --upload-id u1")
    assert results == [("s3:GetObject", "arn:aws:s3:::lab-denied/victim", "explicitDeny"),
                       ("s3:PutObject", "arn:aws:s3:::lab-allowed/k", "allowed")]


def test_request_tags_and_service_keys_come_from_the_parameters() -> None:
    [request] = iam_requests_for_call("iam", "CreateRole", {
        "RoleName": "r", "AssumeRolePolicyDocument": "{}", "PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/b",
        "Tags": [{"Key": "team", "Value": "red"}]})
    assert request.resource == f"arn:aws:iam::{ACCOUNT}:role/r"
    assert dict(request.context) == {"aws:TagKeys": ("team",), "aws:RequestTag/team": ("red",),
                                     "iam:PermissionsBoundary": (f"arn:aws:iam::{ACCOUNT}:policy/b",)}
    policy = [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
              {"Effect": "Deny", "Action": "iam:CreateRole", "Resource": "*",
               "Condition": {"StringNotEquals": {"aws:RequestTag/team": "blue"}}}]
    call = {"Service": "iam", "Operation": "CreateRole", "Parameters": {
        "RoleName": "r", "AssumeRolePolicyDocument": "{}", "Tags": [{"Key": "team", "Value": "red"}]}}
    assert decide(policy, call)[0][2] == "explicitDeny"


def test_operations_named_otherwise_in_iam_take_their_real_action() -> None:
    [invoke] = iam_requests_for_call("lambda", "Invoke", {"FunctionName": "f"})
    assert (invoke.action, invoke.resource) == ("lambda:InvokeFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f")
    [versions] = iam_requests_for_call("s3", "ListObjectVersions", {"Bucket": "b"})
    assert (versions.action, versions.resource) == ("s3:ListBucketVersions", "arn:aws:s3:::b")
    deleted = iam_requests_for_call("s3", "DeleteObjects", {"Bucket": "b", "Delete": {"Objects": [{"Key": "x"}, {"Key": "y"}]}})
    assert [(r.action, r.resource) for r in deleted] == [("s3:DeleteObject", "arn:aws:s3:::b/x"),
                                                         ("s3:DeleteObject", "arn:aws:s3:::b/y")]


def test_every_operation_action_named_exists_in_the_catalog() -> None:
    from accesspath.catalog.call_mappings import default_call_mappings

    catalog = get_catalog()
    for service, table in default_call_mappings().operation_actions.items():
        model = service_model(service)
        for operation, actions in table.items():
            assert operation in model.operation_names, (service, operation)
            for action in actions:
                assert catalog.find_action(action) is not None, action


def test_an_unknown_resource_is_undetermined_where_a_scoped_statement_could_decide() -> None:
    # ReEncrypt reads its source key from the ciphertext: the request does not name it.
    call = "aws kms re-encrypt --ciphertext-blob aGVsbG8= --destination-key-id k2"
    scoped = [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
              {"Effect": "Deny", "Action": "kms:ReEncrypt*", "Resource": "arn:aws:kms:*:*:key/secret"}]
    assert {d for _, _, d in decide(scoped, call)} == {"undetermined"}
    # Every statement applies to every key, or to none: the answer on '*' stands. (It is a denial: a KMS
    # key's own policy must allow too, and none is given here; KMS developer guide, "Key policies".)
    unscoped = [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "kms:*", "Resource": "arn:aws:s3:::bucket/*"}]
    assert {d for _, _, d in decide(unscoped, call)} == {"implicitDeny"}
    # A Deny on every resource denies whichever key it is.
    denied = [{"Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:kms:*:*:key/a"},
              {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}]
    assert {d for _, _, d in decide(denied, call)} == {"explicitDeny"}
    # Only an Allow scoped to some keys: never 'allowed' on a key not seen.
    allow_some = [{"Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:kms:*:*:key/a"}]
    assert {d for _, _, d in decide(allow_some, call)} == {"undetermined"}


def _arn(service: str, operation: str) -> str | None:
    """An ARN of the first resource type of the operation's same-name action, as a user would pass it."""
    catalog = get_catalog()
    action = catalog.find_action(f"{service}:{operation}")
    if action is None or action.takes_no_resource:
        return None
    from accesspath.catalog.arn_templates import fill_template, template_variables

    template = catalog.action_resource_types(action)[0][1].arn_template
    values = {v: "name-1" for v in template_variables(template)}
    values.update(Partition="aws", Region="us-east-1", Account=ACCOUNT)
    return fill_template(template, values)


def _value(shape: Any, name: str, depth: int = 0, arn: str | None = None) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return {m: _value(shape.members[m], m, depth + 1, arn) for m in shape.required_members} if depth < 4 else {}
    if kind == "list":
        return [_value(shape.member, name, depth + 1, arn)]
    if kind == "map":
        return {}
    if kind in ("integer", "long"):
        return 1
    if kind in ("float", "double"):
        return 1.0
    if kind == "boolean":
        return True
    if kind == "blob":
        return b"x"
    if kind == "timestamp":
        return "2026-01-01T00:00:00Z"
    if name.lower().endswith("arn") and arn:
        return arn
    if name.endswith("Url"):
        return f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/name-1"
    return "name-1"


@pytest.mark.parametrize("service", ["iam", "ec2", "lambda", "s3", "kms", "dynamodb", "secretsmanager", "sqs",
                                     "sns", "logs", "ecr", "ecs", "ssm", "events"])
def test_no_request_is_on_star_where_aws_checks_a_resource(service: str) -> None:
    """Every operation with its required parameters: each request is on a resource of the action's
    resource types, or on '*' where the action takes none, or says it is unresolved."""
    catalog = get_catalog()
    model = service_model(service)
    resolved = unresolved = 0
    for operation in model.operation_names:
        shape = model.operation_model(operation).input_shape
        arn = _arn(service, operation)
        params = {m: _value(shape.members[m], m, 0, arn) for m in shape.required_members} if shape is not None else {}
        try:
            requests = iam_requests_for_call(service, operation, params, account=ACCOUNT)
        except Exception as error:  # noqa: BLE001 - a clear UsageError is acceptable, anything else is a bug
            from accesspath.errors import UsageError

            assert isinstance(error, UsageError), (operation, error)
            continue
        for request in requests:
            action = catalog.find_action(request.action)
            if request.resource == "*" and not request.unresolved:
                # '*' where the action takes no resource, or a curated mapping saying why AWS checks '*'
                assert action is not None and (action.takes_no_resource or (not request.inferred and request.note)), \
                    (operation, request)
            elif request.unresolved:
                assert request.resource == "*" and request.resource_pattern, (operation, request)
                unresolved += 1
            elif request.inferred:  # curated mappings may name what AWS really checks (logs: "...:log-stream:")
                assert action is not None, (operation, request)
                types = {rt.name for _, rt in catalog.action_resource_types(action) if rt.matches(request.resource)}
                assert types, (operation, request.action, request.resource)
                resolved += 1
            else:
                resolved += 1
    # The derivation names the resource of most operations; the rest are honest about it.
    assert resolved > unresolved, (resolved, unresolved)


@pytest.mark.parametrize("first,second", [("ab*", "a*b"), ("a?c", "abc"), ("*", ""), ("a*", "b*"), ("x", "y"),
                                          ("arn:aws:iam::*:user/admin*", "arn:aws:iam::1:user/*")])
def test_overlap_and_cover_agree_with_brute_force(first: str, second: str) -> None:
    import fnmatch

    def strings(alphabet: str, limit: int) -> list[str]:
        return ["".join(p) for n in range(limit + 1) for p in itertools.product(alphabet, repeat=n)]

    def matches(pattern: str, text: str) -> bool:
        return fnmatch.fnmatchcase(text, pattern.replace("[", "[[]"))

    alphabet = "".join(sorted({c for c in first + second if c not in "*?"} | {"z"}))
    if len(alphabet) > 4:  # the long ARN case: check on its meaning only
        assert overlaps(first, second) and not covers(first, second) and not covers(second, first)
        return
    universe = strings(alphabet, 5)
    both = any(matches(first, s) and matches(second, s) for s in universe)
    assert overlaps(first, second) == both
    if covers(first, second):   # sufficient: never claims a cover that does not hold
        assert all(matches(first, s) for s in universe if matches(second, s))
