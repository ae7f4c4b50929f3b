"""``access`` lists every action a caller is allowed, on which resources, and what limits the rest;
each pair it reports is the answer ``can`` gives for it (Service Authorization Reference: the
resource types each action is authorized against and their ARN formats)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accesspath.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED_000 = str(EXAMPLES / "seed000-ecs-endpoint-policy" / "template.yaml")
SEED_003 = [str(p) for p in sorted((EXAMPLES / "seed003-task-role-policies").glob("*.yaml"))]
SEED_004 = str(EXAMPLES / "seed004-logs-endpoint-policy" / "template.yaml")
TOKYO = ["--region", "ap-northeast-1"]


def service(report: dict, prefix: str) -> dict:
    return next(s for s in report["services"] if s["service"] == prefix)


@pytest.fixture(scope="module")
def seed000() -> dict:
    return _run([SEED_000, *TOKYO, "--from", "AdminInstance"])


@pytest.fixture(scope="module")
def seed004() -> dict:
    return _run([SEED_004, *TOKYO, "--from", "LogsInstance", "--service", "logs"])


@pytest.fixture(scope="module")
def seed003() -> dict:
    return _run([*SEED_003, "--from", "BackendEcsTaskRole", "--service", "iam", "--service", "kms"])


def _run(argv: list[str]) -> dict:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["access", "--format", "json", *argv]) == 0
    return json.loads(out.getvalue())


def test_seed000_administrator_behind_an_ecs_endpoint_that_allows_one_action(seed000) -> None:
    assert any("every service" in note for note in seed000["notes"])
    ecs = service(seed000, "ecs")
    assert [(a["action"], a["resource"]) for a in ecs["allowed"]] == [("ecs:ListClusters", "*")]
    cluster = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/test-dev-cluster"
    describe = next(d for d in ecs["denied"] if d["action"] == "ecs:DescribeClusters" and d["resource"] == cluster)
    # The cluster the template declares is a resource of the environment, and the endpoint denies it.
    assert describe["basis"] == "declared" and describe["resourceType"] == "cluster"
    assert describe["decision"] == "implicitDeny" and describe["decidingGate"] == "vpc-endpoint"
    assert describe["path"]["endpointLogicalId"] == "EcsEndpoint"
    limits = {(g["gate"], g["decision"]): g for g in ecs["limits"]}
    assert "ecs:DescribeClusters" in limits[("vpc-endpoint", "implicitDeny")]["actions"]
    assert ecs["actions"] == {"total": ecs["actions"]["total"], "allowed": 1} and ecs["actions"]["total"] > 50


def test_seed004_lists_the_writes_the_seed_is_about(seed004) -> None:
    logs = service(seed004, "logs")
    allowed = {(a["action"], a["resource"]) for a in logs["allowed"]}
    streams = "arn:aws:logs:ap-northeast-1:123456789012:log-group:logs-test-allowed:log-stream:*"
    assert ("logs:PutLogEvents", streams) in allowed and ("logs:CreateLogStream", streams) in allowed
    assert all("logs-test-denied" not in resource for _, resource in allowed)
    assert {g["gate"] for g in logs["limits"]} == {"vpc-endpoint"}


def test_seed003_iam_and_kms_actions_the_role_is_granted(seed003) -> None:
    iam, kms = service(seed003, "iam"), service(seed003, "kms")
    assert "iam:GetRole" in {a["action"] for a in iam["allowed"]}
    describe = [d for d in kms["allowed"] + kms["denied"] if d["action"] == "kms:DescribeKey"]
    # kms:DescribeKey is asked about on any key; how an undeclared key's policy is read is the engine's
    # (the property test below checks access and can agree on it).
    assert describe and {d["resource"] for d in describe} >= {"arn:aws:kms:us-east-1:123456789012:key/*"}
    get_role = {a["resource"] for a in iam["allowed"] if a["action"] == "iam:GetRole"}
    assert "arn:aws:iam::123456789012:role/*" in get_role   # any role: the policy says "*"


def test_totals_add_up(seed000, seed003, seed004) -> None:
    for report in (seed000, seed003, seed004):
        for s in report["services"]:
            pairs = s["pairs"]
            assert pairs["total"] == len(s["allowed"]) + len(s["denied"])
            assert sum(v for k, v in pairs.items() if k != "total") == pairs["total"]
            assert pairs.get("allowed", 0) == len(s["allowed"])
            assert sum(g["pairs"] for g in s["limits"]) == len(s["denied"])
            assert s["actions"]["allowed"] == len({a["action"] for a in s["allowed"]})


def _pairs(report: dict) -> list[tuple[str, str, str]]:
    return [(p["action"], p["resource"], p["decision"]) for s in report["services"]
            for p in s["allowed"] + s["denied"]]


CASES = {"seed000": ([SEED_000, *TOKYO, "--from", "AdminInstance"], "seed000"),
         "seed004": ([SEED_004, *TOKYO, "--from", "LogsInstance"], "seed004"),
         "seed003": ([*SEED_003, "--from", "BackendEcsTaskRole"], "seed003")}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_pair_is_what_can_says(case, request, capsys) -> None:
    argv, fixture = CASES[case]
    report = request.getfixturevalue(fixture)
    pairs = _pairs(report)
    allowed = [p for p in pairs if p[2] == "allowed"]
    denied = [p for p in pairs if p[2] != "allowed"]

    @settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.sampled_from(allowed) | st.sampled_from(denied))
    def agrees(pair: tuple[str, str, str]) -> None:
        action, resource, decision = pair
        code = main(["can", "--format", "json", *argv, "--action", action, "--resource", resource])
        result = json.loads(capsys.readouterr().out)["results"][0]
        assert result["decision"] == decision
        assert (code == 0) == (decision == "allowed")

    agrees()
