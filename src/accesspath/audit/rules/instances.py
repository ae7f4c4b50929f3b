"""Can containers on an EC2 container instance reach the instance role's credentials through IMDS?

This rule reads instance configuration (user data, cfn-init files, MetadataOptions), not policies;
what blocks IMDS for each network mode is decided once, in
:mod:`accesspath.environment.container_credentials` (ECS developer guide, "Task IAM role" — seed 002:
``ECS_AWSVPC_BLOCK_IMDS=true`` for awsvpc tasks, the iptables DROP on ``docker+`` for bridge tasks;
EC2 user guide, "Configure the instance metadata options": IMDSv2 required with a hop limit of 1
keeps bridge containers out). Container instances come from plain instances, Auto Scaling groups
(launch configurations and launch templates) and spot fleets. The network modes checked on an
instance are those of the services placed on it; an instance no service of the templates is placed
on is checked for bridge mode, the default.
"""

from __future__ import annotations

from collections.abc import Iterator

from accesspath.audit.context import AuditContext
from accesspath.audit.rule import AuditFinding, AuditRule, RuleInfo
from accesspath.environment.container_credentials import (
    instance_role_reach,
    network_mode,
    service_instances,
    uses_ec2,
)
from accesspath.environment.model import Environment
from accesspath.lint.findings import Severity


class InstanceMetadataCredentials(AuditRule):
    info = RuleInfo(
        id="instance-metadata-credentials",
        severity=Severity.WARNING,
        title="tasks on the container instance can reach the instance role through IMDS",
        rationale=("Containers on an EC2 container instance that can reach the instance metadata service get the"
                   " instance profile's credentials, usually broader than their task role (ECS agent"
                   " permissions). The ECS guide blocks IMDS for awsvpc tasks with ECS_AWSVPC_BLOCK_IMDS=true and"
                   " for bridge tasks with an iptables DROP rule; IMDSv2 with a hop limit of 1 also keeps"
                   " bridge-mode containers out; host-mode containers always reach it."),
        fix=("bridge tasks: require IMDSv2 with a hop limit of 1 (MetadataOptions HttpTokens: required,"
             " HttpPutResponseHopLimit: 1) or run in the user data: iptables --insert DOCKER-USER 1 --in-interface"
             " docker+ --destination 169.254.169.254/32 --jump DROP; awsvpc tasks: set ECS_AWSVPC_BLOCK_IMDS=true"
             " in /etc/ecs/ecs.config"),
        doc_urls=("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html",
                  "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-options.html"),
    )

    def check(self, audit: AuditContext) -> Iterator[AuditFinding]:
        env = audit.env
        modes = modes_by_instance(env)
        for instance in env.instances.values():
            instance_modes = modes.get(instance.id)
            if not instance_modes:
                if instance.cluster is None:
                    continue   # not a container instance (or its cluster cannot be read: nothing is placed on it)
                instance_modes = {"bridge"}
            name = instance.logical_id or instance.id
            kind = {"auto-scaling-group": "Auto Scaling group", "spot-fleet": "spot fleet"}.get(instance.source,
                                                                                              "instance")
            for mode in sorted(instance_modes):
                reach = instance_role_reach(instance, mode)
                if reach.status == "blocked":
                    continue
                verdict = "can reach" if reach.reachable else "may reach (undetermined)"
                yield self.finding(
                    f"{kind} '{name}' runs ECS tasks in {mode} network mode that {verdict} its instance role"
                    f" through IMDS: {reach.reason}", subject=f"instance {name}", position=instance.position,
                    fix=reach.fix or None)


def modes_by_instance(env: Environment) -> dict[str, set[str]]:
    """The network modes of the tasks placed on each container instance (by instance id)."""
    out: dict[str, set[str]] = {}
    tasks = {key: t for t in env.task_definitions.values() for key in (t.family, t.logical_id, t.arn) if key}
    for service in env.services.values():
        task = tasks.get(service.task_definition)
        if not uses_ec2(service, task):
            continue
        placed, _ = service_instances(env, service)
        for instance in placed:
            out.setdefault(instance.id, set()).add(network_mode(task))
    # Task definitions for EC2 that no service runs: any container instance of the default cluster may run them.
    referenced = {s.task_definition for s in env.services.values()}
    loose = {network_mode(t) for t in env.task_definitions.values()
             if not ({t.family, t.logical_id, t.arn} & referenced) and "FARGATE" not in t.compatibilities}
    if loose:
        for instance in env.instances.values():
            if instance.cluster == "default":
                out.setdefault(instance.id, set()).update(loose)
    return out
