"""launch-check of EC2 launch-type and capacity-provider services on container instances.

Pages: ECS guide, "Amazon ECS interface VPC endpoints" (seed 001, EC2 launch type: the agent needs the
ecs-agent, ecs-telemetry and ecs endpoints); ECR guide, "Using Amazon ECR images with Amazon ECS" (on
EC2 the container instance role pulls images); ECS guide, "Amazon ECS task execution IAM role" (the
agent uses the execution role when the task has one; secrets need one on every launch type); ECS
guide, "Amazon ECS service event messages" (no container instance in the cluster); "Amazon ECS task
networking options for EC2" (awsvpc tasks get an ENI in the service's subnets, no public IP).
"""

from __future__ import annotations

import json
from pathlib import Path

from accesspath.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "ec2-launch-type" / "template.yaml")
LAUNCH_CONFIGURATION = Path(__file__).parent / "fixtures" / "ec2_launch_configuration.yaml"
INSTANCE_ROLE = "arn:aws:sts::123456789012:assumed-role/ecs-container-instance/i-"


def check(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["launch-check", "--format", "json", *argv])
    return code, json.loads(capsys.readouterr().out)


def steps(report: dict) -> dict[str, dict]:
    return {s["step"]: s for s in report["steps"]}


def variant(tmp_path: Path, source: Path | str, *replacements: tuple[str, str]) -> str:
    text = Path(source).read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return str(path)


def test_bridge_service_without_execution_role_pulls_and_logs_as_the_instance_role(capsys) -> None:
    code, report = check(capsys, EXAMPLE, "--service", "WorkerService")
    assert code == 0 and report["ready"] is True and report["launchType"] == "EC2"
    by_name = steps(report)
    for name in ("registry auth", "image manifest", "image layers", "awslogs create stream", "awslogs put events"):
        assert by_name[name]["principal"].startswith(INSTANCE_ROLE), name
    assert "execution role" not in by_name   # on EC2, ECR images and awslogs need no execution role
    agent = {n for n in by_name if n.startswith("agent:")}
    assert agent == {"agent: discover poll endpoint", "agent: register container instance", "agent: poll (ecs-agent)",
                     "agent: telemetry (ecs-telemetry)", "agent: submit task state"}
    assert by_name["agent: poll (ecs-agent)"]["path"]["description"].endswith("(com.amazonaws.us-east-1.ecs-agent)")
    assert by_name["agent: telemetry (ecs-telemetry)"]["path"]["description"].endswith("(com.amazonaws.us-east-1.ecs-telemetry)")
    assert by_name["agent: register container instance"]["resource"].endswith(":cluster/workers")


def test_capacity_provider_service_with_execution_role(capsys) -> None:
    # The cluster's default capacity provider strategy places ApiService on the Auto Scaling group.
    code, report = check(capsys, EXAMPLE, "--service", "ApiService")
    assert code == 0 and report["launchType"] == "EC2, capacity provider workers-ec2"
    by_name = steps(report)
    assert by_name["registry auth"]["principal"].startswith(
        "arn:aws:sts::123456789012:assumed-role/api-execution-role/")
    assert by_name["agent: register container instance"]["principal"].startswith(INSTANCE_ROLE)


def test_without_the_ecs_agent_endpoint_only_poll_fails(capsys) -> None:
    code, report = check(capsys, EXAMPLE, "--service", "WorkerService", "--param", "EcsAgentEndpoint=false")
    bad = {n: s for n, s in steps(report).items() if s["status"] != "ok"}
    assert code == 1 and set(bad) == {"agent: poll (ecs-agent)"}
    assert bad["agent: poll (ecs-agent)"]["status"] == "unreachable"
    assert "com.amazonaws.us-east-1.ecs-agent" in bad["agent: poll (ecs-agent)"]["fix"]


def test_without_the_logs_endpoint_the_instance_role_cannot_send_logs(capsys) -> None:
    code, report = check(capsys, EXAMPLE, "--service", "WorkerService", "--param", "LogsEndpoint=false")
    bad = {n: s for n, s in steps(report).items() if s["status"] != "ok"}
    assert code == 1 and set(bad) == {"awslogs create stream", "awslogs put events"}
    assert all(s["principal"].startswith(INSTANCE_ROLE) and s["status"] == "unreachable" for s in bad.values())


def test_launch_configuration_cluster_joined_through_cfn_init_via_nat(capsys) -> None:
    code, report = check(capsys, str(LAUNCH_CONFIGURATION), "--service", "Service")
    assert code == 0
    register = steps(report)["agent: register container instance"]
    assert register["resource"].endswith(":cluster/ec2-launch-configuration-ECSCluster-GD2RQYT5FUAMV")
    assert register["path"]["description"].startswith("NAT gateway nat-")


def test_private_instances_without_nat_cannot_register(capsys) -> None:
    code, report = check(capsys, str(LAUNCH_CONFIGURATION), "--service", "Service", "--param", "Nat=false")
    assert code == 1
    assert steps(report)["agent: register container instance"]["status"] == "unreachable"


def test_instances_in_a_public_subnet_get_a_public_ip_from_map_public_ip_on_launch(capsys) -> None:
    # EC2 user guide, "Amazon EC2 instance IP addressing": MapPublicIpOnLaunch gives the instance a public IP.
    code, report = check(capsys, str(LAUNCH_CONFIGURATION), "--service", "Service", "--param", "Nat=false",
                         "--param", "HostSubnets=public")
    assert code == 0
    assert steps(report)["agent: register container instance"]["path"]["description"].startswith("internet gateway igw-")


def test_no_container_instance_in_the_cluster_is_ecs_own_message(capsys, tmp_path) -> None:
    path = variant(tmp_path, EXAMPLE, ("echo ECS_CLUSTER=${Cluster} >>", "echo ECS_CLUSTER=other >>"))
    code, report = check(capsys, path, "--service", "WorkerService")
    assert code == 1 and report["ready"] is False and report["undetermined"] is False
    placement = steps(report)["placement"]
    assert placement["status"] == "denied"
    assert placement["stoppedReason"] == ("service worker was unable to place a task because no container instance"
                                          " met all of its requirements. Reason: No Container Instances were found"
                                          " in your cluster.")
    assert "ECS_CLUSTER=workers" in placement["fix"]


def test_an_instance_of_another_cluster_given_explicitly(capsys, tmp_path) -> None:
    path = variant(tmp_path, EXAMPLE, ("echo ECS_CLUSTER=${Cluster} >>", "echo ECS_CLUSTER=other >>"))
    code, report = check(capsys, path, "--service", "WorkerService", "--instance", "ContainerInstances")
    assert code == 1 and steps(report)["agent: cluster"]["status"] == "denied"


def test_user_data_fetched_at_boot_leaves_placement_undetermined(capsys, tmp_path) -> None:
    path = variant(tmp_path, EXAMPLE, ("echo ECS_CLUSTER=${Cluster} >> /etc/ecs/ecs.config",
                                       "curl -s https://config.example.com/bootstrap.sh | bash"))
    code, report = check(capsys, path, "--service", "WorkerService")
    assert code == 3 and report["ready"] == "unknown" and report["undetermined"] is True   # exit 3: undetermined
    placement = steps(report)["placement"]
    assert placement["status"] == "undetermined" and "fetches and runs configuration at boot" in \
        json.dumps(report)
    main(["launch-check", path, "--service", "WorkerService"])
    assert "UNDETERMINED" in capsys.readouterr().out.splitlines()[0]


def test_imds_turned_off_stops_the_agent(capsys, tmp_path) -> None:
    path = variant(tmp_path, EXAMPLE, ("HttpEndpoint: enabled", "HttpEndpoint: disabled"))
    code, report = check(capsys, path, "--service", "WorkerService")
    step = steps(report)["agent: instance role credentials"]
    assert code == 1 and step["status"] == "denied" and "HttpEndpoint: enabled" in step["fix"]


def test_awsvpc_on_ec2_cannot_assign_a_public_ip(capsys, tmp_path) -> None:
    path = variant(tmp_path, EXAMPLE, ("          SecurityGroups: [!Ref TaskSecurityGroup]\n",
                                       "          SecurityGroups: [!Ref TaskSecurityGroup]\n"
                                       "          AssignPublicIp: ENABLED\n"))
    code, report = check(capsys, path, "--service", "ApiService")
    step = steps(report)["network configuration"]
    assert code == 1 and step["stoppedReason"] == ("InvalidParameterException: Assign public IP is not supported"
                                                   " for this launch type.")


def test_secrets_without_an_execution_role_on_ec2(capsys, tmp_path) -> None:
    path = variant(tmp_path, EXAMPLE, ("          Memory: 256\n          LogConfiguration:\n            LogDriver: awslogs\n"
                                       "            Options:\n              awslogs-group: !Ref WorkerLogs",
                                       "          Memory: 256\n          Secrets:\n            - Name: TOKEN\n"
                                       "              ValueFrom: /worker/token\n          LogConfiguration:\n"
                                       "            LogDriver: awslogs\n"
                                       "            Options:\n              awslogs-group: !Ref WorkerLogs"))
    code, report = check(capsys, path, "--service", "WorkerService")
    step = steps(report)["execution role"]
    assert code == 1 and "you must also specify a value for 'executionRoleArn'" in step["stoppedReason"]


def test_task_definition_on_ec2_without_execution_role_uses_a_default_cluster_instance(capsys) -> None:
    # The case: an EC2 task without an execution role is not "missing an execution role".
    main(["env", "export", str(LAUNCH_CONFIGURATION)])
    instance = json.loads(capsys.readouterr().out)["instances"][0]
    code, report = check(capsys, str(LAUNCH_CONFIGURATION), "--task-definition", "product-service",
                         "--launch-type", "EC2", "--subnet", instance["subnetId"], "--instance", "ECSAutoScalingGroup")
    assert "execution role" not in steps(report)
    assert steps(report)["registry auth"]["status"] == "ok"


def test_service_cluster_from_a_stack_not_loaded_is_undetermined(capsys, tmp_path) -> None:
    # An unresolved Cluster is never read as the default cluster.
    path = variant(tmp_path, EXAMPLE, ("      Cluster: !Ref Cluster\n      TaskDefinition: !Ref WorkerTaskDefinition",
                                       "      Cluster: !ImportValue cluster-stack:ClusterName\n"
                                       "      TaskDefinition: !Ref WorkerTaskDefinition"))
    code, report = check(capsys, path, "--service", "WorkerService")
    assert code == 3 and report["undetermined"] is True and steps(report)["placement"]["status"] == "undetermined"
