"""Terraform's JSON output (``terraform show -json``) as an environment (issue 16, item 2).

The fixtures are written for these tests in the shapes Terraform documents for its JSON output
format (developer.hashicorp.com/terraform/internals/json-format): a state (``values.root_module``
with a child module) and a plan (``planned_values``, ``resource_changes[].change.after_unknown`` and
``configuration`` references, with a module whose inputs come from ``var.`` references).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accesspath.cli import main
from accesspath.environment.load import load_environment

FIXTURES = Path(__file__).resolve().parent / "fixtures"
STATE = str(FIXTURES / "logs-state.json")
PLAN = str(FIXTURES / "orders-plan.json")
GROUP = "arn:aws:logs:ap-northeast-1:210987654321:log-group:{}:log-stream:s"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_state_is_an_environment() -> None:
    env = load_environment([STATE])
    # Account and region come from the state's own ARNs; the network from a child module.
    assert (env.account, env.region) == ("210987654321", "ap-northeast-1")
    assert set(env.subnets) == {"subnet-0aa11bb22cc33dd44"}
    assert env.subnets["subnet-0aa11bb22cc33dd44"].route_table_id == "rtb-0f1e2d3c4b5a69788"
    endpoint = env.endpoints["vpce-0logs000000000001"]
    assert endpoint.policy is not None and endpoint.logical_id == "module.network.aws_vpc_endpoint.logs"
    # Terraform removes the default allow-all egress of the groups it manages: none is added back.
    assert env.security_groups["sg-0endpoints00000001"].egress == ()
    role = env.roles["app-logs"]
    assert any("CloudWatchLogsFullAccess" in p.policy_id for p in role.policies)
    assert env.instances["i-0a1b2c3d4e5f60718"].role_name == "app-logs"
    assert ("aws_sns_topic.alerts", "aws_sns_topic") in env.not_modelled


def test_seed004_shape_from_a_state(capsys) -> None:
    """Seed 004 as Terraform manages it: the logs endpoint policy confines writes to one log group."""
    code, out, _ = run(["can", STATE, "--from", "aws_instance.app", "--action", "logs:PutLogEvents",
                        "--resource", GROUP.format("app-allowed"), "--format", "json"], capsys)
    assert code == 0 and json.loads(out)["results"][0]["decision"] == "allowed"
    code, out, _ = run(["can", STATE, "--from", "aws_instance.app", "--action", "logs:PutLogEvents",
                        "--resource", GROUP.format("app-denied")], capsys)
    assert code == 1 and "because no VPC endpoint policy allows the logs:PutLogEvents action" in out


def test_a_plan_wires_unknown_ids_through_configuration_references() -> None:
    env = load_environment([PLAN])
    assert env.region == "eu-west-1"            # the provider configuration's region
    (subnet,) = env.subnets.values()
    (vpc,) = env.vpcs.values()
    assert subnet.vpc_id == vpc.id and subnet.route_table_id in env.route_tables
    (endpoint,) = env.endpoints.values()
    assert endpoint.subnet_ids == (subnet.id,) and endpoint.vpc_id == vpc.id
    # The configuration does not set the endpoint policy: AWS applies its default (full access).
    assert endpoint.policy is None
    # A service in a module: its task definition and subnets come from the module call's inputs.
    (service,) = env.services.values()
    assert service.task_definition == "orders" and service.subnet_ids == (subnet.id,)
    (task,) = env.task_definitions.values()
    assert task.task_role_name == "orders-task"


def test_a_value_known_only_after_apply_is_undetermined_not_denied(capsys) -> None:
    queue = "arn:aws:sqs:eu-west-1:123456789012:orders"
    code, out, _ = run(["can", PLAN, "--from", "orders", "--action", "sqs:DeleteQueue", "--resource", queue,
                        "--format", "json"], capsys)
    decision = json.loads(out)["results"][0]
    assert code == 3 and decision["decision"] == "undetermined"
    assert "aws_iam_role_policy.write_bucket.policy is known only after apply" in out
    assert "terraform show -json" in out


def test_not_a_state_or_a_plan(tmp_path: Path, capsys) -> None:
    odd = tmp_path / "odd.json"
    odd.write_text('{"format_version": "1.0", "terraform_version": "1.9.5", "outputs": {}}\n', encoding="utf-8")
    code, _, err = run(["env", "show", str(odd)], capsys)
    assert code == 2 and "'values' (a state) or 'planned_values' (a plan)" in err and len(err.splitlines()) == 1
