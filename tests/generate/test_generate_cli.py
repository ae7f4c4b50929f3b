"""``accesspath policy generate``: ECS calls, a denied call, S3 objects, two roles, files and formats."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from accesspath.cli import main

LOGS = Path(__file__).resolve().parent / "logs"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED_000 = str(EXAMPLES / "seed000-ecs-endpoint-policy" / "template.yaml")
SEED_001 = str(EXAMPLES / "seed001-fargate-private-subnet" / "template.yaml")
ECS_LOG = str(LOGS / "seed000-ecs.jsonl")
TWO_ROLES_LOG = str(LOGS / "seed001-two-roles.jsonl")
CLUSTER = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/test-dev-cluster"
ECS_ENDPOINT = "vpce-d3d63840433f1e4b6"


class _CfnLoader(yaml.SafeLoader):
    """PyYAML with CloudFormation's short tags read as {"Ref": ...} / {"Fn::GetAtt": ...}."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    value = loader.construct_scalar(node)  # type: ignore[arg-type]
    return {"Ref": value} if suffix == "Ref" else {f"Fn::{suffix}": value.split(".") if suffix == "GetAtt" else value}


_CfnLoader.add_multi_constructor("!", _tagged)


def generate(capsys, *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["policy", "generate", "--format", "json", *argv])
    return code, json.loads(capsys.readouterr().out)


def statements(policy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in policy["Statement"]}


def test_ecs_describe_and_list_calls_and_the_denied_call(capsys) -> None:
    code, report = generate(capsys, "--from-log", ECS_LOG)
    assert code == 0 and report["confirmation"] is None
    (identity,) = report["identityPolicies"]
    assert identity["role"] == "cm-chadain" and identity["policyName"] == "accesspath-generated-cm-chadain"
    policy = identity["policy"]
    assert policy["Version"] == "2012-10-17"
    by_sid = statements(policy)
    assert by_sid["EcsList"] == {"Sid": "EcsList", "Effect": "Allow",
                                 "Action": ["ecs:ListClusters", "ecs:ListServices"], "Resource": ["*"]}
    # The identity policy covers the call the endpoint policy denied in the log ...
    assert by_sid["EcsRead1"]["Action"] == ["ecs:DescribeClusters"] and by_sid["EcsRead1"]["Resource"] == [CLUSTER]
    assert by_sid["EcsRead2"]["Resource"] == [
        "arn:aws:ecs:ap-northeast-1:123456789012:service/test-dev-cluster/web",
        "arn:aws:ecs:ap-northeast-1:123456789012:service/test-dev-cluster/worker"]
    (endpoint,) = report["endpointPolicies"]
    assert endpoint["endpointId"] == ECS_ENDPOINT
    for statement in endpoint["policy"]["Statement"]:
        assert statement["Principal"] == {"AWS": ["arn:aws:iam::123456789012:role/cm-chadain"]}
    # ... the endpoint policy does not: the current endpoint policy refused it, which may be the intent.
    assert not any("ecs:DescribeClusters" in s["Action"] for s in endpoint["policy"]["Statement"])
    assert [(w["line"].rsplit(":", 1)[1], w["action"], w["decidingGate"]) for w in report["withheldDenied"]] == [
        ("2", "ecs:DescribeClusters", "vpc-endpoint")]
    assert report["broaderThanObserved"] == []
    code, report = generate(capsys, "--from-log", ECS_LOG, "--include-denied")
    (endpoint,) = report["endpointPolicies"]
    assert report["withheldDenied"] == []
    assert any(s["Action"] == ["ecs:DescribeClusters"] for s in endpoint["policy"]["Statement"])


def test_ecs_log_confirmed_with_the_templates_the_denied_call_now_passes(capsys) -> None:
    code, report = generate(capsys, "--from-log", ECS_LOG, SEED_000, "--region", "ap-northeast-1",
                            "--include-denied")
    confirmation = report["confirmation"]
    assert code == 0 and confirmation["allAllowed"] and confirmation["allowed"] == 6
    assert confirmation["notAllowed"] == []
    (identity,) = report["identityPolicies"]
    assert identity["roleLogicalId"] == "AdminRole"
    (endpoint,) = report["endpointPolicies"]
    assert endpoint["logicalId"] == "EcsEndpoint"


def test_text_summary_is_the_default(capsys) -> None:
    code = main(["policy", "generate", "--from-log", ECS_LOG, SEED_000, "--region", "ap-northeast-1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "role cm-chadain (AdminRole): 6 observed requests, 1 of them not allowed in the log" in out
    assert f"endpoint {ECS_ENDPOINT} (EcsEndpoint, com.amazonaws.ap-northeast-1.ecs)" in out
    assert "EcsList: ecs:ListClusters, ecs:ListServices" in out
    assert "confirmed with " in out
    assert "all 5 observed requests are allowed with the generated policies; the 1 request left out stays denied" in out


def test_two_roles_give_one_policy_each_and_endpoint_principals_per_statement(capsys) -> None:
    code, report = generate(capsys, "--from-log", TWO_ROLES_LOG)
    assert code == 0
    identities = {i["role"]: i for i in report["identityPolicies"]}
    assert set(identities) == {"web-task-role", "web-execution-role"}
    task = statements(identities["web-task-role"]["policy"])
    assert task["S3Read"]["Resource"] == ["arn:aws:s3:::web-assets/reports/2026/*"]
    assert task["S3List"]["Resource"] == ["arn:aws:s3:::web-assets"]
    assert task["S3Write"]["Resource"] == ["arn:aws:s3:::web-assets/uploads/u-1.json"]
    execution = statements(identities["web-execution-role"]["policy"])
    assert execution["LogsWrite"]["Resource"] == [
        "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:log-stream:ecs/web/*"]
    assert execution["SecretsmanagerRead"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert not any(a.startswith("s3:") for s in execution.values() for a in s["Action"])

    endpoints = {e["endpointId"]: e for e in report["endpointPolicies"]}
    s3 = endpoints["vpce-dcc2eca405ef6bb13"]["policy"]["Statement"]
    assert {p for s in s3 for p in s["Principal"]["AWS"]} == {"arn:aws:iam::123456789012:role/web-task-role"}
    logs = endpoints["vpce-06e23cecb534a808d"]["policy"]["Statement"]
    assert {p for s in logs for p in s["Principal"]["AWS"]} == {"arn:aws:iam::123456789012:role/web-execution-role"}
    groups = {g["resource"]: g["observed"] for e in report["identityPolicies"] for g in e["groups"]}
    assert len(groups["arn:aws:s3:::web-assets/reports/2026/*"]) == 4
    broader = {(b["sid"], b["resource"]) for b in report["broaderThanObserved"]}
    assert ("S3Read", "arn:aws:s3:::web-assets/reports/2026/*") in broader


def test_two_roles_confirmed_and_an_unknown_owner_is_not_a_pass(capsys) -> None:
    # The bucket is not in the templates: its owner decides, and accesspath never guesses it.
    code, report = generate(capsys, "--from-log", TWO_ROLES_LOG, SEED_001)
    assert code == 1
    not_allowed = report["confirmation"]["notAllowed"]
    assert {r["decision"] for r in not_allowed} == {"undetermined"}
    assert all(r["resource"].startswith("arn:aws:s3:::web-assets") for r in not_allowed)
    assert not_allowed[0]["line"].endswith("seed001-two-roles.jsonl:7")
    code, report = generate(capsys, "--from-log", TWO_ROLES_LOG, SEED_001, "--resource-account", "123456789012")
    assert code == 0 and report["confirmation"]["allowed"] == 12
    # The execution role's requests are decided from the service's subnet, through the endpoints.
    assert report["confirmation"]["notes"] == []


def test_role_selection_by_logical_id_arn_or_session(capsys) -> None:
    for ref in ("TaskRole", "web-task-role", "arn:aws:iam::123456789012:role/web-task-role",
                "arn:aws:sts::123456789012:assumed-role/web-task-role/abc"):
        argv = ["--from-log", TWO_ROLES_LOG, "--role", ref]
        code, report = generate(capsys, *argv, SEED_001, "--resource-account", "123456789012") \
            if ref == "TaskRole" else generate(capsys, *argv)
        assert code == 0, ref
        assert [i["role"] for i in report["identityPolicies"]] == ["web-task-role"]
        assert [e["endpointId"] for e in report["endpointPolicies"]] == ["vpce-dcc2eca405ef6bb13"]
        assert any("6 requests of other roles (web-execution-role)" in n for n in report["notes"])


def test_unknown_role_lists_the_roles_of_the_log(capsys) -> None:
    code = main(["policy", "generate", "--from-log", TWO_ROLES_LOG, "--role", "nobody"])
    err = capsys.readouterr().err
    assert code == 2 and "--role 'nobody' made no request" in err
    assert "web-execution-role" in err and "web-task-role" in err


def test_output_directory_holds_json_and_cloudformation_files(capsys, tmp_path) -> None:
    out = tmp_path / "generated"
    code = main(["policy", "generate", "--from-log", TWO_ROLES_LOG, SEED_001, "--resource-account", "123456789012",
                 "-o", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([
        "web-task-role-identity-policy.json", "web-task-role-policy.cfn.yaml",
        "web-execution-role-identity-policy.json", "web-execution-role-policy.cfn.yaml",
        "vpce-dcc2eca405ef6bb13-endpoint-policy.json", "vpce-dcc2eca405ef6bb13-endpoint-policy.cfn.yaml",
        "vpce-06e23cecb534a808d-endpoint-policy.json", "vpce-06e23cecb534a808d-endpoint-policy.cfn.yaml",
        "vpce-2199b7b8c760ba7e7-endpoint-policy.json", "vpce-2199b7b8c760ba7e7-endpoint-policy.cfn.yaml"])
    assert "wrote " in text
    identity = json.loads((out / "web-task-role-identity-policy.json").read_text())
    assert identity["Version"] == "2012-10-17" and {s["Sid"] for s in identity["Statement"]} == {
        "S3List", "S3Read", "S3Write"}

    snippet = yaml.load((out / "web-task-role-policy.cfn.yaml").read_text(), Loader=_CfnLoader)
    resource = snippet["TaskRoleGeneratedPolicy"]
    assert resource["Type"] == "AWS::IAM::Policy"
    assert resource["Properties"]["PolicyName"] == "accesspath-generated-web-task-role"
    assert resource["Properties"]["Roles"] == [{"Ref": "TaskRole"}]
    assert resource["Properties"]["PolicyDocument"] == identity

    endpoint = yaml.load((out / "vpce-dcc2eca405ef6bb13-endpoint-policy.cfn.yaml").read_text(), Loader=_CfnLoader)
    principals = {json.dumps(p) for s in endpoint["PolicyDocument"]["Statement"] for p in s["Principal"]["AWS"]}
    assert principals == {json.dumps({"Fn::GetAtt": ["TaskRole", "Arn"]})}


def test_without_templates_the_role_is_named_by_its_name(capsys) -> None:
    code = main(["policy", "generate", "--from-log", ECS_LOG, "--format", "yaml"])
    text = capsys.readouterr().out
    assert code == 0
    identity, endpoint = list(yaml.load_all(text, Loader=_CfnLoader))
    assert identity["CmChadainGeneratedPolicy"]["Properties"]["Roles"] == ["cm-chadain"]
    assert endpoint["PolicyDocument"]["Statement"][0]["Principal"] == {
        "AWS": ["arn:aws:iam::123456789012:role/cm-chadain"]}


def test_policy_without_subcommand_shows_help(capsys) -> None:
    assert main(["policy"]) == 2
    assert "generate" in capsys.readouterr().err
