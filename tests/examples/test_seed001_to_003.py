"""End to end: seeds 001 (Fargate in a private subnet), 002 (task role trust policy) and 003 (task-role
policy stacks with EnvType and cross-stack imports), from CloudFormation templates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accesspath.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED_001 = str(EXAMPLES / "seed001-fargate-private-subnet" / "template.yaml")
SEED_002 = str(EXAMPLES / "seed002-task-role" / "template.yaml")
SEED_003 = EXAMPLES / "seed003-task-role-policies"
SEED_003_ALL = [str(SEED_003 / n) for n in ("ecs-task-roles.yaml", "backend-task-role-policies.yaml",
                                             "frontend-task-role-policies.yaml")]
TASK_ROLE = "arn:aws:iam::123456789012:role/app-task-role"


def can(capsys, *argv: str) -> tuple[int, dict, str]:
    code = main(["can", "--format", "json", *argv])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out else {}, captured.err


# -- seed 001: every endpoint a Fargate task needs, and what happens without one -------------------

@pytest.mark.parametrize("switch, action, resource, via, path_kind", [
    ("EcrApiEndpoint", "ecr:GetAuthorizationToken", "*", "ecr.api", "interface-endpoint"),
    ("EcrDkrEndpoint", "ecr:BatchGetImage", "arn:aws:ecr:us-east-1:123456789012:repository/web", "ecr.dkr",
     "interface-endpoint"),
    ("S3GatewayEndpoint", "s3:GetObject", "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/layer", "s3",
     "gateway-endpoint"),
    ("LogsEndpoint", "logs:PutLogEvents",
     "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:log-stream:web/web/1", "logs", "interface-endpoint"),
    ("SecretsManagerEndpoint", "secretsmanager:GetSecretValue", "*", "secretsmanager", "interface-endpoint"),
])
def test_seed001_each_endpoint_is_on_the_path_and_missing_it_is_unreachable(capsys, switch, action, resource, via,
                                                                            path_kind) -> None:
    base = [SEED_001, "--from", "Service", "--action", action, "--resource", resource, "--via", via,
            "--resource-account", "123456789012"]
    _, report, _ = can(capsys, *base)
    assert report["results"][0]["path"]["kind"] == path_kind
    code, report, _ = can(capsys, *base, "--param", f"{switch}=false")
    result = report["results"][0]
    assert code == 1 and result["decision"] == "unreachable"
    assert "times out" in result["path"]["reason"]


def test_seed001_execution_role_may_read_the_secret_and_the_task_role_may_not(capsys) -> None:
    _, report, _ = can(capsys, SEED_001, "--from", "web-execution-role", "--subnet",
                       _subnet_of(capsys, SEED_001), "--action", "secretsmanager:GetSecretValue", "--resource",
                       _secret_arn(capsys))
    assert report["results"][0]["decision"] == "allowed"
    _, report, _ = can(capsys, SEED_001, "--from", "Service", "--action", "secretsmanager:GetSecretValue",
                       "--resource", _secret_arn(capsys))
    result = report["results"][0]
    assert result["decision"] == "implicitDeny" and result["decidingGate"] == "identity"


def _subnet_of(capsys, template: str) -> str:
    main(["env", "export", template])
    document = json.loads(capsys.readouterr().out)
    return document["subnets"][0]["id"]


def _secret_arn(capsys) -> str:
    main(["env", "export", SEED_001])
    document = json.loads(capsys.readouterr().out)
    return next(r["arn"] for r in document["resources"] if r["kind"] == "secret")


# -- seed 002: the task role's trust policy against the confused deputy ----------------------------

@pytest.mark.parametrize("account, source_arn, expected", [
    ("123456789012", "arn:aws:ecs:us-east-1:123456789012:task/app-cluster/0123456789abcdef", "allowed"),
    ("999999999999", "arn:aws:ecs:us-east-1:999999999999:task/other/0123456789abcdef", "implicitDeny"),
    ("123456789012", "arn:aws:ecs:us-west-2:123456789012:task/app-cluster/0123456789abcdef", "implicitDeny"),
])
def test_seed002_trust_policy_admits_only_this_accounts_tasks(capsys, account, source_arn, expected) -> None:
    _, report, _ = can(capsys, SEED_002, "--from", "ecs-tasks.amazonaws.com", "--action", "sts:AssumeRole",
                       "--resource", TASK_ROLE, "--context", f"aws:SourceAccount={account}",
                       "--context", f"aws:SourceArn={source_arn}")
    result = report["results"][0]
    assert result["decision"] == expected
    if expected != "allowed":
        assert result["decidingGate"] == "role-trust"
        assert "because no role trust policy allows the sts:AssumeRole action" in result["message"]


def test_seed002_trust_policy_without_the_context_keys_denies(capsys) -> None:
    _, report, _ = can(capsys, SEED_002, "--from", "ecs-tasks.amazonaws.com", "--action", "sts:AssumeRole",
                       "--resource", TASK_ROLE)
    assert report["results"][0]["decision"] == "implicitDeny"


@pytest.mark.parametrize("action", ["ssmmessages:CreateControlChannel", "ssmmessages:OpenDataChannel"])
def test_seed002_ecs_exec_channels_go_through_the_ssmmessages_endpoint(capsys, action) -> None:
    code, report, _ = can(capsys, SEED_002, "--from", "Service", "--action", action)
    result = report["results"][0]
    assert code == 0 and result["decision"] == "allowed"
    assert result["path"]["serviceName"] == "com.amazonaws.us-east-1.ssmmessages"


def test_seed002_ecr_api_call_from_the_task_uses_the_ecr_api_endpoint(capsys) -> None:
    code, report, _ = can(capsys, SEED_002, "--from", "Service", "--", "aws", "ecr", "get-authorization-token")
    assert code == 0 and report["results"][0]["path"]["serviceName"] == "com.amazonaws.us-east-1.ecr.api"


# -- seed 003: policy stacks attached through Fn::ImportValue, with EnvType --------------------------

def test_seed003_broken_resource_is_reported_with_its_line_and_the_rest_loads(capsys) -> None:
    code, report, err = can(capsys, *SEED_003_ALL, "--from", "BackendEcsTaskRole", "--action", "sqs:SendMessage",
                            "--resource", "arn:aws:sqs:us-east-1:123456789012:orders")
    assert code == 0 and report["results"][0]["decision"] == "allowed"
    assert "backend-task-role-policies.yaml:" in err and "'SSMAccessPolicy' has no Type" in err
    line = next(l for l in err.splitlines() if "'SSMAccessPolicy' has no Type" in l)
    assert "backend-task-role-policies.yaml:83:3" in line


def test_seed003_broken_ssm_policy_grants_nothing(capsys) -> None:
    _, report, _ = can(capsys, *SEED_003_ALL, "--from", "BackendEcsTaskRole", "--action", "ssm:GetParameter",
                       "--resource", "arn:aws:ssm:us-east-1:123456789012:parameter/app/db")
    assert report["results"][0]["decision"] == "implicitDeny"


def test_seed003_env_type_changes_the_imported_role(capsys) -> None:
    code, report, _ = can(capsys, *SEED_003_ALL, "--param", "EnvType=Production", "--from",
                          "mynavi-sample-frontend-task-role-Production", "--action", "s3:PutObject", "--resource",
                          "arn:aws:s3:::assets/index.html", "--resource-account", "123456789012")
    assert code == 0 and report["results"][0]["decision"] == "allowed"
    code = main(["can", *SEED_003_ALL, "--param", "EnvType=Test", "--from", "BackendEcsTaskRole",
                 "--action", "sqs:SendMessage"])
    assert code == 2 and "EnvType" in capsys.readouterr().err


def test_seed003_missing_exporting_stack_is_named(capsys) -> None:
    code, report, err = can(capsys, SEED_003_ALL[1], "--from", "anything", "--action", "sqs:SendMessage")
    assert "mynavi-sample-BackendEcsTaskRole-Dev" in err
    assert code == 2  # no role can be found once the imports are missing
