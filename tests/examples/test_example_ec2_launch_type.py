"""examples/ec2-launch-type end to end: the commands of its README, working and broken.

Seed 001 (ECS guide, "Amazon ECS interface VPC endpoints", EC2 launch type: ecs-agent, ecs-telemetry
and ecs endpoints for the agent); seed 002 (ECS guide, "Task IAM role", additional configuration for
EC2 instances: ECS_AWSVPC_BLOCK_IMDS for awsvpc tasks, the iptables DROP on docker+ for bridge tasks);
EC2 guide, "Configure the instance metadata options" (IMDSv2 with hop limit 1).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accesspath.cli import main

TEMPLATE = str(Path(__file__).resolve().parents[2] / "examples" / "ec2-launch-type" / "template.yaml")
OPEN_IMDS = ("--param", "HttpTokens=optional", "--param", "BlockImds=false")


def run(capsys, *argv: str) -> tuple[int, dict]:
    code = main([argv[0], "--format", "json", *argv[1:]])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("service", ["WorkerService", "ApiService"])
def test_both_services_are_ready(capsys, service) -> None:
    code, report = run(capsys, "launch-check", TEMPLATE, "--service", service)
    assert code == 0 and report["ready"] is True


def test_readme_broken_variant_without_the_ecs_agent_endpoint(capsys) -> None:
    code, report = run(capsys, "launch-check", TEMPLATE, "--service", "WorkerService", "--param", "EcsAgentEndpoint=false")
    assert code == 1 and [s["step"] for s in report["steps"] if s["status"] != "ok"] == ["agent: poll (ecs-agent)"]


def test_the_task_role_decides_as_the_worker(capsys) -> None:
    code, out = run(capsys, "can", TEMPLATE, "--from", "WorkerService", "--action", "s3:PutObject",
                    "--resource", "arn:aws:s3:::example-worker-reports/a.txt")
    assert code == 0 and out["caller"]["principal"].startswith(
        "arn:aws:sts::123456789012:assumed-role/worker-task-role/")
    assert out["caller"]["instance"] == "ContainerInstances"


@pytest.mark.parametrize("service", ["WorkerService", "ApiService"])
def test_instance_role_is_blocked_for_both_network_modes(capsys, service) -> None:
    code, out = run(capsys, "can", TEMPLATE, "--from", service, "--credentials", "instance", "--",
                    "aws", "ecr", "get-authorization-token")
    [result] = out["results"]
    assert code == 1 and result["decision"] == "unreachable" and result["path"] is None
    assert ("iptables" if service == "WorkerService" else "ECS_AWSVPC_BLOCK_IMDS") in result["message"]


def test_open_imds_gives_bridge_containers_the_instance_role(capsys) -> None:
    code, out = run(capsys, "can", TEMPLATE, "--from", "WorkerService", "--credentials", "instance", *OPEN_IMDS,
                    "--", "aws", "ecr", "get-authorization-token")
    [result] = out["results"]
    assert code == 0 and result["decision"] == "allowed"
    assert out["caller"]["principal"].startswith("arn:aws:sts::123456789012:assumed-role/ecs-container-instance/i-")
    assert any("HttpTokens: required" in note for note in result["notes"])


def test_hop_limit_alone_does_not_protect_awsvpc_tasks(capsys) -> None:
    # IMDSv2 required with hop limit 1 stays on; only the user data's blocks are removed.
    code, out = run(capsys, "can", TEMPLATE, "--from", "ApiService", "--credentials", "instance",
                    "--param", "BlockImds=false", "--", "aws", "ecr", "get-authorization-token")
    assert code == 0 and out["results"][0]["decision"] == "allowed"
    code, out = run(capsys, "can", TEMPLATE, "--from", "WorkerService", "--credentials", "instance",
                    "--param", "BlockImds=false", "--", "aws", "ecr", "get-authorization-token")
    assert code == 1 and "hop limit of 1" in out["results"][0]["message"]


def test_audit_passes_the_protected_cluster_and_names_the_fix_per_mode(capsys) -> None:
    code, out = run(capsys, "audit", TEMPLATE)
    assert not [f for f in out["findings"] if f["ruleId"] == "instance-metadata-credentials"]
    code, out = run(capsys, "audit", TEMPLATE, *OPEN_IMDS)
    findings = {f["message"].split(" network mode")[0].rsplit(" ", 1)[-1]: f
                for f in out["findings"] if f["ruleId"] == "instance-metadata-credentials"}
    assert set(findings) == {"bridge", "awsvpc"}
    assert "ECS_AWSVPC_BLOCK_IMDS=true" in findings["awsvpc"]["fix"]
    assert "docker+" in findings["bridge"]["fix"] and "HttpPutResponseHopLimit: 1" in findings["bridge"]["fix"]
    assert all(f["message"].startswith("Auto Scaling group 'ContainerInstances'") for f in findings.values())


def test_a_script_fetched_at_boot_leaves_instance_credentials_undetermined(capsys, tmp_path) -> None:
    # The fetched script might block IMDS: accesspath cannot read it, so it says neither yes nor no.
    text = Path(TEMPLATE).read_text().replace(
        "echo ECS_CLUSTER=${Cluster} >> /etc/ecs/ecs.config\n",
        "echo ECS_CLUSTER=${Cluster} >> /etc/ecs/ecs.config\n              curl -s https://config.example.com/h.sh | bash\n")
    path = tmp_path / "template.yaml"
    path.write_text(text)
    code, out = run(capsys, "can", str(path), "--from", "WorkerService", "--credentials", "instance", *OPEN_IMDS,
                    "--", "aws", "ecr", "get-authorization-token")
    [result] = out["results"]
    assert code == 3 and result["decision"] == "undetermined"
    assert "fetches and runs configuration at boot" in json.dumps(result)


def test_access_shows_both_kinds_of_credentials(capsys) -> None:
    code, out = run(capsys, "access", TEMPLATE, "--from", "WorkerService", "--service", "s3")
    kinds = {c["kind"]: c for c in out["credentials"]}
    assert kinds["task role"]["status"] == "delivered" and kinds["task role"]["role"] == "worker-task-role"
    assert kinds["instance role"]["status"] == "blocked" and kinds["instance role"]["role"] == "ecs-container-instance"
    code, out = run(capsys, "access", TEMPLATE, "--from", "WorkerService", "--credentials", "instance")
    assert out["services"] == [] and "blocked" in out["notes"][0]
    code, out = run(capsys, "access", TEMPLATE, "--from", "WorkerService", "--credentials", "instance", *OPEN_IMDS,
                    "--service", "ecr")
    [ecr] = out["services"]
    assert any(a["action"] == "ecr:GetAuthorizationToken" for a in ecr["allowed"])
    assert out["caller"]["principal"].startswith("arn:aws:sts::123456789012:assumed-role/ecs-container-instance/")


def test_launch_check_notes_and_report_name_the_container_credentials(capsys, tmp_path) -> None:
    code, report = run(capsys, "launch-check", TEMPLATE, "--service", "ApiService", *OPEN_IMDS)
    assert code == 0
    assert any("instance role ecs-container-instance: reachable" in n and "ECS_AWSVPC_BLOCK_IMDS=true" in n
               for n in report["notes"])
    page = tmp_path / "report.html"
    assert main(["report", TEMPLATE, "-o", str(page)]) == 0
    html = page.read_text()
    assert "Auto Scaling group, container instance of cluster workers" in html
    assert "instance role ecs-container-instance: blocked" in html
