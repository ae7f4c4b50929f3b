"""Round trip with seed 004: a logs endpoint that confines writes to logs-test-allowed.

The instance's role has CloudWatchLogsFullAccess; the log shows it creating and writing four streams
of logs-test-allowed. The generated policies replace the managed policy and the endpoint policy;
every observed request still passes, and a write to logs-test-denied (never observed) stays denied.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from accesspath.catalog import IamRequest
from accesspath.cfn import load_stacks
from accesspath.environment import Decider, load_environment, resolve_caller
from accesspath.generate import (
    confirmed_environment, endpoint_policy_snippet, generate_from_log, identity_policy_snippet, read_decision_log,
)

LOGS = Path(__file__).resolve().parent / "logs"
SEED_004 = Path(__file__).resolve().parents[2] / "examples" / "seed004-logs-endpoint-policy" / "template.yaml"
ENDPOINT = "vpce-e7f79f36159935817"
ALLOWED_GROUP = "arn:aws:logs:ap-northeast-1:123456789012:log-group:logs-test-allowed"
DENIED_STREAM = "arn:aws:logs:ap-northeast-1:123456789012:log-group:logs-test-denied:log-stream:app-1"


@pytest.fixture(scope="module")
def env():
    return load_environment([str(SEED_004)], region="ap-northeast-1")


@pytest.fixture(scope="module")
def generated(env):
    log = read_decision_log((LOGS / "seed004-logs.jsonl").read_text(), "seed004-logs.jsonl")
    return generate_from_log(log, env=env, role="LogsRole",
                             template_sources=(str(SEED_004),))


def test_generated_policies_are_exact_and_grouped(generated) -> None:
    (identity,) = generated.identities
    assert identity.role.name == "ec2-logs-fullaccess-role" and identity.role.logical_id == "LogsRole"
    assert identity.document() == {"Version": "2012-10-17", "Statement": [
        {"Sid": "LogsList", "Effect": "Allow", "Action": ["logs:DescribeLogStreams"],
         "Resource": [f"{ALLOWED_GROUP}:log-stream:"]},
        {"Sid": "LogsWrite", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": [f"{ALLOWED_GROUP}:log-stream:*"]},
    ]}
    (endpoint,) = generated.endpoints
    assert endpoint.endpoint_id == ENDPOINT and endpoint.logical_id == "LogsEndpoint"
    principal = {"AWS": ["arn:aws:iam::123456789012:role/ec2-logs-fullaccess-role"]}
    assert [s["Principal"] for s in endpoint.document()["Statement"]] == [principal, principal]


def test_every_observed_request_is_allowed_with_the_generated_policies(generated) -> None:
    confirmation = generated.confirmation
    assert confirmation is not None and confirmation.all_allowed and generated.exit_status == 0
    assert len(confirmation.results) == 10
    assert all(not r.notes for r in confirmation.results)   # decided from the instance's subnet


def test_the_generated_policies_are_the_only_ones_and_deny_what_was_not_observed(env, generated) -> None:
    confirmed, notes = confirmed_environment(env, generated.identities, generated.endpoints)
    assert notes == ()
    role = confirmed.roles["ec2-logs-fullaccess-role"]
    assert [p.policy_id for p in role.policies] == ["accesspath-generated-ec2-logs-fullaccess-role"]
    assert env.roles["ec2-logs-fullaccess-role"].managed_policy_arns   # the original environment is untouched
    decider = Decider(confirmed)
    caller = resolve_caller(confirmed, "LogsInstance")
    denied = decider.decide(caller, IamRequest("logs:PutLogEvents", DENIED_STREAM))
    assert denied.decision == "implicitDeny"
    assert "because no VPC endpoint policy allows the logs:PutLogEvents action" in denied.message
    # A new stream of the allowed group is within the generated pattern (reported as broader than observed).
    new_stream = decider.decide(caller, IamRequest("logs:PutLogEvents", f"{ALLOWED_GROUP}:log-stream:app-9"))
    assert new_stream.decision == "allowed"
    assert {b.pattern for b in generated.broader} == {f"{ALLOWED_GROUP}:log-stream:*"}
    # Deleting the log group was never observed: the generated identity policy does not allow it.
    delete = decider.decide(resolve_caller(confirmed, "LogsRole"), IamRequest("logs:DeleteLogGroup", ALLOWED_GROUP))
    assert delete.decision == "implicitDeny" and delete.result is not None
    assert delete.result.deciding_gate is not None and delete.result.deciding_gate.value == "identity"


def test_the_cloudformation_snippets_load_in_the_template(tmp_path, generated) -> None:
    (identity,) = generated.identities
    (endpoint,) = generated.endpoints
    text = SEED_004.read_text()
    # Replace the endpoint's PolicyDocument with the generated one and the managed policy with the generated
    # AWS::IAM::Policy, as a user pasting the snippets would.
    start = text.index("      PolicyDocument:\n")
    end = text.index("\n  LogsRole:")
    endpoint_yaml = "".join(f"      {line}\n" for line in endpoint_policy_snippet(
        endpoint, generated.role_logical_ids).splitlines())
    text = text[:start] + endpoint_yaml + text[end:]
    text = text.replace("      ManagedPolicyArns:\n        - arn:aws:iam::aws:policy/CloudWatchLogsFullAccess\n", "")
    text += "\n" + "".join(f"  {line}\n" for line in identity_policy_snippet(identity).splitlines())
    template = tmp_path / "template.yaml"
    template.write_text(text)

    stacks = load_stacks([str(template)], account="123456789012", region="ap-northeast-1")
    assert stacks is not None
    env = load_environment([str(template)], region="ap-northeast-1")
    assert env.issues == ()
    role = env.roles["ec2-logs-fullaccess-role"]
    assert [p.policy_id for p in role.policies] == ["LogsRoleGeneratedPolicy.PolicyDocument"]
    assert role.policies[0].document.to_python() == identity.document()
    endpoint_policy = env.endpoints[ENDPOINT].policy
    assert endpoint_policy is not None and not endpoint_policy.errors
    assert endpoint_policy.document.to_python()["Statement"][0]["Principal"] == {
        "AWS": ["arn:aws:iam::123456789012:role/ec2-logs-fullaccess-role"]}

    decider = Decider(env)
    caller = resolve_caller(env, "LogsInstance")
    for observed in identity.requests:
        assert decider.decide(caller, IamRequest(observed.action, observed.resource)).allowed, observed.where
    assert decider.decide(caller, IamRequest("logs:PutLogEvents", DENIED_STREAM)).decision == "implicitDeny"


def test_cli_round_trip_with_files(capsys, tmp_path) -> None:
    from accesspath.cli import main

    code = main(["policy", "generate", "--from-log", str(LOGS / "seed004-logs.jsonl"), "--role",
                 "ec2-logs-fullaccess-role", str(SEED_004), "--region", "ap-northeast-1", "-o", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0 and "all 10 observed requests are allowed" in out
    assert (tmp_path / "ec2-logs-fullaccess-role-identity-policy.json").exists()
    assert (tmp_path / f"{ENDPOINT}-endpoint-policy.cfn.yaml").read_text().count("!GetAtt LogsRole.Arn") == 2


def test_a_boundary_that_still_denies_is_reported_with_its_reason(tmp_path, capsys) -> None:
    from accesspath.cli import main

    boundary = tmp_path / "template.yaml"
    boundary.write_text(SEED_004.read_text().replace(
        "      ManagedPolicyArns:\n",
        "      PermissionsBoundary: !Ref Boundary\n      ManagedPolicyArns:\n") + """
  Boundary:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Action: logs:PutLogEvents
            Resource: '*'
""")
    code = main(["policy", "generate", "--from-log", str(LOGS / "seed004-logs.jsonl"), str(boundary),
                 "--region", "ap-northeast-1"])
    out = capsys.readouterr().out
    assert code == 1
    assert "5 of 10 observed requests would not be allowed" in out
    assert "logs:CreateLogStream on " in out and "implicitDeny (permissions-boundary)" in out
    assert "seed004-logs.jsonl:2:" in out


@pytest.fixture(scope="module")
def log_with_denied():
    # The seed's own experiment: writes to logs-test-denied, refused by the endpoint policy.
    return read_decision_log((LOGS / "seed004-logs-with-denied.jsonl").read_text(), "seed004-logs-with-denied.jsonl")


def test_denied_writes_stay_out_of_the_endpoint_policy_by_default(env, log_with_denied) -> None:
    generated = generate_from_log(log_with_denied, env=env, role="LogsRole", template_sources=(str(SEED_004),))
    assert [(r.action, r.resource) for r in generated.withheld] == [
        ("logs:CreateLogStream", DENIED_STREAM), ("logs:PutLogEvents", DENIED_STREAM)]
    (endpoint,) = generated.endpoints
    assert "logs-test-denied" not in endpoint.to_json_text()
    # The engine, with the generated policies in place, still refuses the writes the seed meant to refuse.
    confirmed, _ = confirmed_environment(env, generated.identities, generated.endpoints)
    caller = resolve_caller(confirmed, "LogsInstance")
    denied = Decider(confirmed).decide(caller, IamRequest("logs:PutLogEvents", DENIED_STREAM))
    assert denied.decision == "implicitDeny" and "no VPC endpoint policy allows" in denied.message
    confirmation = generated.confirmation
    assert confirmation is not None and confirmation.all_allowed and generated.exit_status == 0
    assert len(confirmation.results) == 10 and len(confirmation.withheld) == 2
    assert confirmation.withheld_now_allowed == ()


def test_include_denied_lets_them_through(env, log_with_denied) -> None:
    generated = generate_from_log(log_with_denied, env=env, role="LogsRole", template_sources=(str(SEED_004),),
                                  include_denied=True)
    assert generated.withheld == ()
    confirmed, _ = confirmed_environment(env, generated.identities, generated.endpoints)
    caller = resolve_caller(confirmed, "LogsInstance")
    assert Decider(confirmed).decide(caller, IamRequest("logs:PutLogEvents", DENIED_STREAM)).allowed
    assert generated.confirmation is not None and generated.confirmation.all_allowed


def test_cli_lists_the_withheld_requests(capsys) -> None:
    from accesspath.cli import main

    code = main(["policy", "generate", "--from-log", str(LOGS / "seed004-logs-with-denied.jsonl"), str(SEED_004),
                 "--region", "ap-northeast-1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "left out of the endpoint policies: 2 requests the log shows denied (--include-denied adds them):" in out
    assert f"logs:PutLogEvents on {DENIED_STREAM} through {ENDPOINT}: implicitDeny by vpc-endpoint" in out
