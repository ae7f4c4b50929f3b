"""launch-check: the seed 001 matrix (ECS guide, "Amazon ECS interface VPC endpoints"; ECR guide,
"Amazon ECR interface VPC endpoints"), role assumption (seed 002) and ECS Exec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accesspath.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED_001 = str(EXAMPLES / "seed001-fargate-private-subnet" / "template.yaml")
SEED_002 = str(EXAMPLES / "seed002-task-role" / "template.yaml")


def check(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["launch-check", "--format", "json", *argv])
    return code, json.loads(capsys.readouterr().out)


def steps(report: dict) -> dict[str, dict]:
    return {s["step"]: s for s in report["steps"]}


def test_all_endpoints_ready(capsys) -> None:
    code, report = check(capsys, SEED_001, "--service", "Service")
    assert code == 0 and report["ready"] is True
    names = set(steps(report))
    assert {"assume task role", "assume execution role", "registry auth", "image manifest", "image layers",
            "layer download (S3)", "awslogs create stream", "awslogs put events", "secret DB_PASSWORD"} <= names
    assert steps(report)["image manifest"]["path"]["description"].endswith("(com.amazonaws.us-east-1.ecr.dkr)")
    assert steps(report)["registry auth"]["path"]["description"].endswith("(com.amazonaws.us-east-1.ecr.api)")


@pytest.mark.parametrize("switch, failing", [
    ("EcrApiEndpoint", {"registry auth"}),
    ("EcrDkrEndpoint", {"image manifest", "image layers"}),
    ("S3GatewayEndpoint", {"layer download (S3)"}),
    ("LogsEndpoint", {"awslogs create stream", "awslogs put events"}),
    ("SecretsManagerEndpoint", {"secret DB_PASSWORD"}),
])
def test_each_missing_endpoint_stops_exactly_its_steps(capsys, switch, failing) -> None:
    code, report = check(capsys, SEED_001, "--service", "Service", "--param", f"{switch}=false")
    assert code == 1 and report["ready"] is False
    bad = {name for name, s in steps(report).items() if s["status"] != "ok"}
    assert bad == failing
    for name in failing:
        step = steps(report)[name]
        assert step["status"] == "unreachable"
        assert "i/o timeout" in step["stoppedReason"]
        assert step["fix"]


def test_no_endpoints_at_all(capsys) -> None:
    off = [f"{name}=false" for name in ("EcrApiEndpoint", "EcrDkrEndpoint", "S3GatewayEndpoint", "LogsEndpoint",
                                        "SecretsManagerEndpoint")]
    code, report = check(capsys, SEED_001, "--service", "Service", *[a for p in off for a in ("--param", p)])
    assert code == 1
    statuses = {name: s["status"] for name, s in steps(report).items()}
    assert statuses["assume task role"] == "ok"  # ECS assumes roles itself, not through the VPC
    assert all(status == "unreachable" for name, status in statuses.items() if not name.startswith("assume"))
    assert steps(report)["registry auth"]["stoppedReason"].startswith(
        "ResourceInitializationError: unable to pull secrets or registry auth")


def test_organization_only_s3_endpoint_policy_blocks_ecr_layer_downloads(capsys) -> None:
    # The layer download is presigned by ECR: its principal is not in the organization.
    code, report = check(capsys, SEED_001, "--service", "Service", "--org-id", "o-exampleorgid",
                         "--param", "S3EndpointPolicy=organization-only")
    assert code == 1
    step = steps(report)["layer download (S3)"]
    assert step["status"] == "denied" and "403 Forbidden" in step["stoppedReason"]
    assert step["decidingGate"] == "vpc-endpoint" and step["decision"] == "implicitDeny"
    assert step["path"]["kind"] == "gateway-endpoint" and step["path"]["serviceName"] == "com.amazonaws.us-east-1.s3"
    assert "presigned by ECR" in step["fix"]
    assert {n for n, s in steps(report).items() if s["status"] != "ok"} == {"layer download (S3)"}


def test_logs_endpoint_in_another_region_is_not_used(capsys) -> None:
    code, report = check(capsys, SEED_001, "--service", "Service", "--param", "LogsEndpointRegion=us-west-2")
    assert code == 1
    step = steps(report)["awslogs create stream"]
    assert step["status"] == "unreachable"
    assert any("do not serve other regions" in n for n in step["notes"])


def test_task_role_trust_and_ecs_exec(capsys) -> None:
    code, report = check(capsys, SEED_002, "--service", "Service")
    exec_steps = {n: s for n, s in steps(report).items() if n.startswith("ECS Exec")}
    assert len(exec_steps) == 4 and all(s["status"] == "ok" for s in exec_steps.values())
    assert steps(report)["assume task role"]["status"] == "ok"
    # seed 002's trust policy pins aws:SourceArn to this account's region; another region fails
    code, report = check(capsys, SEED_002, "--service", "Service", "--region", "eu-west-1")
    assert steps(report)["assume task role"]["status"] == "ok"  # the template follows AWS::Region


def test_text_output_and_bad_input(capsys) -> None:
    assert main(["launch-check", SEED_001, "--service", "Service"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "launch-check of service Service (FARGATE): ready" and out.endswith("ready: true\n")
    assert main(["launch-check", SEED_001, "--service", "Nope"]) == 2
    assert "--service 'Nope'" in capsys.readouterr().err
    assert main(["launch-check", SEED_001, "--task-definition", "web"]) == 2
    assert "needs --subnet" in capsys.readouterr().err


def test_task_role_without_ecs_tasks_in_its_trust_policy_cannot_be_assumed(capsys, tmp_path) -> None:
    # Edit the exported environment: the task role now trusts EC2 only.
    main(["env", "export", SEED_002])
    document = json.loads(capsys.readouterr().out)
    role = next(r for r in document["roles"] if r["name"] == "app-task-role")
    role["trustPolicy"]["document"]["Statement"][0]["Principal"] = {"Service": "ec2.amazonaws.com"}
    path = tmp_path / "env.json"
    path.write_text(json.dumps(document))
    code, report = check(capsys, str(path), "--service", "app")
    step = steps(report)["assume task role"]
    assert code == 1 and step["status"] == "denied"
    assert step["stoppedReason"].startswith("ECS was unable to assume the role "
                                            "'arn:aws:iam::123456789012:role/app-task-role'")
    assert "ecs-tasks.amazonaws.com" in step["fix"]


def test_secret_with_a_customer_managed_key_needs_kms_decrypt(capsys) -> None:
    # Secrets Manager decrypts with the caller's permissions, via the service (kms:ViaService).
    code, report = check(capsys, SEED_001, "--service", "Service", "--param", "SecretEncryption=customer-managed")
    step = steps(report)["secret DB_PASSWORD key"]
    assert code == 1 and step["status"] == "denied" and step["action"] == "kms:Decrypt"
    assert step["decidingGate"] == "identity" and "web-execution-role" in step["fix"]
    assert "ResourceInitializationError: unable to pull secrets" in step["stoppedReason"]
    code, report = check(capsys, SEED_001, "--service", "Service")
    assert "secret DB_PASSWORD key" not in steps(report)  # the AWS managed key needs no check
