"""Exactness, round two, beyond the conformance cases: what `validate` reports for the grammar AWS
rejects, the environment's choice for a key the templates do not define, notes beyond policy, and
explanations as a tracer over the one walk (docs/evaluation.md cites the page behind each)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accesspath.cli import main
from accesspath.engine import AuthorizationRequest, PolicySet, RequestContext, authorize, principal_from_arn
from accesspath.engine.evaluate import CompiledPolicy
from accesspath.policy import PolicyType, parse_policy

HERE = Path(__file__).resolve().parent
UNRESOLVED = str(HERE / "environment" / "templates" / "unresolved-statement.yaml")
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def validate(capsys, tmp_path: Path, document: dict, kind: str) -> list[dict]:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    main(["validate", "--format", "json", "--type", kind, str(path)])
    return json.loads(capsys.readouterr().out)["findings"]


def statement(**elements: object) -> dict:
    return {"Version": "2012-10-17", "Statement": [dict({"Effect": "Allow", "Resource": "*"}, **elements)]}


@pytest.mark.parametrize(("kind", "document", "code"), [
    # reference_policies_elements_principal.md: no wildcard inside a principal name or ARN.
    ("resource", statement(Principal={"AWS": "arn:aws:iam::111122223333:role/*"}, Action="s3:GetObject"),
     "wildcard-in-principal"),
    # reference_policies_elements_action.md: the prefix is a service namespace.
    ("identity", statement(Action="s*:GetObject"), "wildcard-in-service-prefix"),
    # orgs_manage_policies_rcps_syntax.html
    ("rcp", statement(Principal="*", Action="s3:*"), "rcp-allow"),
    ("rcp", {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "NotAction": "s3:Get*",
                                                     "Resource": "*"}]}, "rcp-element"),
    ("rcp", {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}, "rcp-version"),
    # reference_policies_elements_notprincipal.md: not in a role trust policy.
    ("trust", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotPrincipal": {"AWS": "111122223333"},
                                                       "Action": "sts:AssumeRole"}]}, "trust-notprincipal"),
])
def test_validate_reports_grammar_aws_rejects(capsys, tmp_path, kind, document, code) -> None:
    findings = validate(capsys, tmp_path, document, kind)
    assert [(f["ruleId"], f["severity"]) for f in findings if f.get("code") == code] == [("malformed-policy", "error")], \
        findings


def test_validate_accepts_what_aws_accepts(capsys, tmp_path) -> None:
    full_access = statement(Principal="*", Action="*")
    assert [f for f in validate(capsys, tmp_path, full_access, "rcp") if f["severity"] == "error"] == []
    anyone = statement(Principal={"AWS": "*"}, Action="s3:GetObject")
    assert [f for f in validate(capsys, tmp_path, anyone, "resource") if f["severity"] == "error"] == []


def test_validate_warns_on_a_multivalued_key_without_set_operator(capsys, tmp_path) -> None:
    document = statement(Action="ec2:CreateTags", Condition={"StringEquals": {"aws:TagKeys": "env"}})
    findings = validate(capsys, tmp_path, document, "identity")
    (warning,) = [f for f in findings if f["ruleId"] == "multivalued-key-without-set-operator"]
    assert warning["severity"] == "warning" and "cannot be evaluated" in warning["message"]


def can(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["can", "--format", "json", *argv])
    return code, json.loads(capsys.readouterr().out)["results"][0]


def test_a_key_the_templates_do_not_define_can_be_given_the_default_key_policy(capsys) -> None:
    # Without the option the key policy is unknown (undetermined, tests/environment/test_unknowns.py);
    # with it, AWS's default key policy lets the account's IAM policies decide, and AppRole's allow
    # no kms: action (KMS developer guide, key-policy-default.html).
    code, result = can(capsys, UNRESOLVED, "--from", "AppRole", "--action", "kms:Decrypt", "--resource", KEY)
    assert (code, result["decision"]) == (3, "undetermined")
    code, result = can(capsys, UNRESOLVED, "--from", "AppRole", "--action", "kms:Decrypt", "--resource", KEY,
                       "--assume-default-key-policy")
    assert (code, result["decision"]) == (1, "implicitDeny")


def test_refusal_notes_leave_the_decision_alone() -> None:
    admin = parse_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    caller = principal_from_arn("arn:aws:iam::111122223333:user/alice")
    result = authorize(AuthorizationRequest(caller, "iam:DeletePolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess",
                                            RequestContext()), PolicySet.of(identity=[admin]))
    assert result.allowed and any("AWS managed policies" in note for note in result.notes)
    mine = authorize(AuthorizationRequest(caller, "iam:DeletePolicy", "arn:aws:iam::111122223333:policy/mine",
                                          RequestContext()), PolicySet.of(identity=[admin]))
    assert mine.allowed and mine.notes == ()


class _CountingTracer:
    """Counts the walk's calls (the tracer's interface)."""

    def __init__(self) -> None:
        self.calls = 0
        from accesspath.engine.evaluate import StatementTracer
        self.inner = StatementTracer()

    def __getattr__(self, name: str):  # noqa: ANN204 - a pass-through for the tracer's methods
        method = getattr(self.inner, name)

        def counted(*args, **kwargs):
            self.calls += 1
            return method(*args, **kwargs)
        return counted


def test_the_explanation_is_recorded_by_the_deciding_walk() -> None:
    # One walk: a tracer handed to CompiledPolicy.evaluate sees the conditions the decision read,
    # and the outcome with a tracer equals the outcome without one.
    policy = CompiledPolicy(parse_policy({"Version": "2012-10-17", "Statement": [
        {"Sid": "Tagged", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "a"}}},
        {"Sid": "Other", "Effect": "Deny", "Action": "ecs:*", "Resource": "*"}]}))
    caller = principal_from_arn("arn:aws:iam::111122223333:user/alice")
    request = AuthorizationRequest(caller, "s3:GetObject", "arn:aws:s3:::b/k", RequestContext.of({"aws:PrincipalTag/team": "a"}))
    plain = policy.evaluate(request, lambda key: None)
    tracer = _CountingTracer()
    traced = policy.evaluate(request, lambda key: None, tracer=tracer)  # type: ignore[arg-type]
    assert tracer.calls >= 2  # the condition and the statement's outcome
    assert (traced.allows, traced.denies, traced.runtime_errors) == (plain.allows, plain.denies, plain.runtime_errors)
    assert plain.statements is None
    assert [(t.statement.sid, t.action_matched, t.applies) for t in traced.statements] == [
        ("Tagged", True, True), ("Other", False, False)]
    (condition,) = traced.statements[0].conditions
    assert (condition.request_values, condition.policy_values, condition.outcome.value) == (("a",), ("a",), "true")


def test_a_kms_policy_type_is_inferred_in_the_library_too() -> None:
    # PolicySet without a resource_policy_type: a key policy naming only bob keeps alice out.
    key_policy = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/bob"}, "Action": "kms:*",
        "Resource": "*"}]}, policy_type=PolicyType.RESOURCE)
    admin = parse_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    caller = principal_from_arn("arn:aws:iam::123456789012:user/alice")
    result = authorize(AuthorizationRequest(caller, "kms:Decrypt", KEY, RequestContext()),
                       PolicySet.of(identity=[admin], resource=[key_policy]))
    assert result.decision.value == "allowed"  # the policy itself says it is an ordinary resource policy
    result = authorize(AuthorizationRequest(caller, "kms:Decrypt", KEY, RequestContext()), PolicySet.of(identity=[admin]))
    assert (result.decision.value, result.deciding_gate) == ("implicitDeny", PolicyType.KMS_KEY)
