"""End to end: the seed 000 and seed 004 transcripts, from CloudFormation templates to AWS's answer.

Seed 000 (ECS endpoint policy allowing only ecs:ListClusters; AdministratorAccess behind it) and
seed 004 (a logs endpoint policy confining writes to logs-test-allowed; CloudWatchLogsFullAccess).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accesspath.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED_000 = str(EXAMPLES / "seed000-ecs-endpoint-policy" / "template.yaml")
SEED_004 = str(EXAMPLES / "seed004-logs-endpoint-policy" / "template.yaml")
CLUSTER = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/test-dev-cluster"


def can(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["can", "--format", "json", *argv])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_seed000_list_clusters_is_allowed_through_the_ecs_endpoint(capsys) -> None:
    code, report = can(capsys, SEED_000, "--region", "ap-northeast-1", "--from", "AdminInstance",
                       "--", "aws", "ecs", "list-clusters")
    assert code == 0
    (result,) = report["results"]
    assert result["decision"] == "allowed"
    assert result["path"]["kind"] == "interface-endpoint"
    assert result["path"]["serviceName"] == "com.amazonaws.ap-northeast-1.ecs"
    assert report["caller"]["principal"].startswith("arn:aws:sts::123456789012:assumed-role/cm-chadain/")


def test_seed000_describe_clusters_is_denied_by_the_endpoint_policy(capsys) -> None:
    code, report = can(capsys, SEED_000, "--region", "ap-northeast-1", "--from", "AdminInstance",
                       "--", "aws", "ecs", "describe-clusters", "--clusters", "test-dev-cluster")
    assert code == 1
    (result,) = report["results"]
    assert result["decision"] == "implicitDeny" and result["decidingGate"] == "vpc-endpoint"
    assert result["resource"] == CLUSTER
    assert result["message"].endswith(f"is not authorized to perform: ecs:DescribeClusters on resource: {CLUSTER}"
                                      " because no VPC endpoint policy allows the ecs:DescribeClusters action")


@pytest.mark.parametrize("argv, expected", [
    (["aws", "ecs", "list-clusters"], "implicitDeny"),
    (["aws", "ecs", "describe-clusters", "--clusters", "test-dev-cluster"], "allowed"),
])
def test_seed000_swapped_policy_flips_both(capsys, argv, expected) -> None:
    _, report = can(capsys, SEED_000, "--region", "ap-northeast-1", "--param", "AllowedAction=ecs:DescribeClusters",
                    "--from", "AdminInstance", "--", *argv)
    assert report["results"][0]["decision"] == expected


def test_seed000_bad_parameter_value_is_a_clear_error(capsys) -> None:
    code = main(["can", SEED_000, "--param", "AllowedAction=ecs:RunTask", "--from", "AdminInstance",
                 "--", "aws", "ecs", "list-clusters"])
    err = capsys.readouterr().err
    assert code == 2 and "AllowedAction" in err and "Traceback" not in err


def test_seed000_unknown_caller_lists_the_candidates(capsys) -> None:
    code = main(["can", SEED_000, "--from", "Nobody", "--", "aws", "ecs", "list-clusters"])
    err = capsys.readouterr().err
    assert code == 2 and "--from 'Nobody'" in err and "AdminInstance (instance)" in err and "AdminRole" in err


@pytest.mark.parametrize("group, expected, code", [("logs-test-allowed", "allowed", 0),
                                                    ("logs-test-denied", "implicitDeny", 1)])
def test_seed004_put_log_events(capsys, group, expected, code) -> None:
    exit_code, report = can(capsys, SEED_004, "--region", "ap-northeast-1", "--from", "LogsInstance", "--",
                            "aws", "logs", "put-log-events", "--log-group-name", group, "--log-stream-name",
                            "log-stream", "--log-events", "timestamp=1550295898001,message=ExampleEvent1")
    assert exit_code == code
    (result,) = report["results"]
    stream = f"arn:aws:logs:ap-northeast-1:123456789012:log-group:{group}:log-stream:log-stream"
    assert result["resource"] == stream and result["decision"] == expected
    assert result["path"]["serviceName"] == "com.amazonaws.ap-northeast-1.logs"
    if expected != "allowed":
        assert result["message"].endswith(f"on resource: {stream} because no VPC endpoint policy allows the"
                                          " logs:PutLogEvents action")
        assert "assumed-role/ec2-logs-fullaccess-role/" in result["message"]


def test_seed004_from_another_region_uses_no_endpoint(capsys) -> None:
    # The endpoint serves ap-northeast-1 only; a call to us-west-2 has no route out of the VPC.
    _, report = can(capsys, SEED_004, "--region", "ap-northeast-1", "--from", "LogsInstance", "--", "aws", "logs",
                    "put-log-events", "--region", "us-west-2", "--log-group-name", "logs-test-allowed",
                    "--log-stream-name", "s", "--log-events", "timestamp=1,message=x")
    result = report["results"][0]
    assert result["decision"] == "unreachable" and result["path"]["kind"] == "unreachable"


def test_env_export_round_trips(capsys, tmp_path) -> None:
    target = tmp_path / "env.json"
    assert main(["env", "export", SEED_004, "--region", "ap-northeast-1", "-o", str(target)]) == 0
    capsys.readouterr()
    for group, expected in (("logs-test-allowed", "allowed"), ("logs-test-denied", "implicitDeny")):
        _, report = can(capsys, str(target), "--from", "LogsInstance", "--", "aws", "logs", "put-log-events",
                        "--log-group-name", group, "--log-stream-name", "log-stream", "--log-events",
                        "timestamp=1,message=x")
        assert report["results"][0]["decision"] == expected
    document = json.loads(target.read_text())
    assert document["accesspath-environment"] == 1 and document["region"] == "ap-northeast-1"
