"""Can containers on an EC2 container instance reach the instance role's credentials through IMDS?

This rule reads instance configuration (user data, MetadataOptions), not policies. Sources: ECS
developer guide, "Task IAM role", additional configuration for EC2 instances (seed 002): awsvpc tasks
are kept from IMDS by ECS_AWSVPC_BLOCK_IMDS=true in the agent configuration, bridge-mode tasks by an
iptables rule dropping traffic from docker+ to 169.254.169.254; EC2 user guide, "Configure the
instance metadata options" (IMDSv2 required and a PUT response hop limit of 1 keep the token from
reaching containers behind the extra network hop).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

from accesspath.audit.context import AuditContext
from accesspath.audit.rule import AuditFinding, AuditRule, RuleInfo
from accesspath.environment.model import Environment, Instance
from accesspath.lint.findings import Severity

_AWSVPC_BLOCK = re.compile(r"ECS_AWSVPC_BLOCK_IMDS\s*=\s*\"?true", re.IGNORECASE)
_IMDS_ADDRESS = "169.254.169.254"


class InstanceMetadataCredentials(AuditRule):
    info = RuleInfo(
        id="instance-metadata-credentials",
        severity=Severity.WARNING,
        title="tasks on the container instance can reach the instance role through IMDS",
        rationale=("Containers on an EC2 container instance that can reach the instance metadata service get the"
                   " instance profile's credentials, usually broader than their task role (ECS agent"
                   " permissions). The ECS guide blocks IMDS for awsvpc tasks with ECS_AWSVPC_BLOCK_IMDS=true and"
                   " for bridge tasks with an iptables DROP rule; IMDSv2 with a hop limit of 1 also keeps"
                   " bridge-mode containers out."),
        fix=("require IMDSv2 with a hop limit of 1 (MetadataOptions HttpTokens: required,"
             " HttpPutResponseHopLimit: 1), and in the user data set ECS_AWSVPC_BLOCK_IMDS=true in"
             " /etc/ecs/ecs.config and run: iptables --insert DOCKER-USER 1 --in-interface docker+ --destination"
             " 169.254.169.254/32 --jump DROP"),
        doc_urls=("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html",
                  "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-options.html"),
    )

    def check(self, audit: AuditContext) -> Iterator[AuditFinding]:
        env = audit.env
        modes = ec2_network_modes(env)
        for instance in env.instances.values():
            user_data = decoded_user_data(instance.user_data)
            instance_modes = set(modes)
            if not instance_modes and "ECS_CLUSTER" in user_data:
                instance_modes.add("bridge")  # an instance joining a cluster runs bridge tasks unless told otherwise
            if not instance_modes:
                continue
            gaps = instance_gaps(instance, user_data, instance_modes)
            if gaps:
                name = instance.logical_id or instance.id
                yield self.finding(
                    f"instance '{name}' runs ECS tasks ({', '.join(sorted(instance_modes))} network mode) that can"
                    f" reach its instance role through IMDS: {'; '.join(gaps)}",
                    subject=f"instance {name}", position=instance.position)


def ec2_network_modes(env: Environment) -> set[str]:
    """The network modes of task definitions that run on EC2 capacity (NetworkMode absent: bridge)."""
    ec2_services = [s for s in env.services.values() if (s.launch_type or "").upper() == "EC2"]
    used_on_ec2 = {s.task_definition for s in ec2_services}
    referenced = {s.task_definition for s in env.services.values()}
    modes: set[str] = set()
    for task in env.task_definitions.values():
        names = {task.family, task.logical_id, task.arn}
        on_ec2 = bool(names & used_on_ec2) or (not (names & referenced) and "FARGATE" not in task.compatibilities)
        if on_ec2:
            modes.add((task.network_mode or "bridge").lower())
    if ec2_services and not modes:
        modes.add("bridge")
    return modes


def instance_gaps(instance: Instance, user_data: str, modes: set[str]) -> list[str]:
    """Why tasks of ``modes`` on ``instance`` can reach IMDS (empty when they cannot)."""
    tokens_required = (instance.http_tokens or "").lower() == "required"
    hop_limit = instance.hop_limit if instance.hop_limit is not None else 1
    metadata_blocks = tokens_required and hop_limit <= 1
    metadata_gaps = []
    if not tokens_required:
        metadata_gaps.append(f"MetadataOptions allow IMDSv1 (HttpTokens is {instance.http_tokens or 'not set'!r})")
    if hop_limit > 1:
        metadata_gaps.append(f"HttpPutResponseHopLimit is {hop_limit}, so IMDSv2 tokens reach containers")
    gaps: list[str] = []
    bridge_blocked = metadata_blocks or has_iptables_block(user_data)
    awsvpc_blocked = metadata_blocks or bool(_AWSVPC_BLOCK.search(user_data))
    if ({"bridge", "default"} & modes) and not bridge_blocked:
        gaps.append("the user data has no iptables rule dropping container traffic to 169.254.169.254"
                    + (" (ECS_AWSVPC_BLOCK_IMDS protects only awsvpc tasks)" if _AWSVPC_BLOCK.search(user_data) else ""))
    if "awsvpc" in modes and not awsvpc_blocked:
        gaps.append("the user data does not set ECS_AWSVPC_BLOCK_IMDS=true")
    if gaps:
        gaps.extend(metadata_gaps)
    if "host" in modes:
        gaps.append("host network mode tasks share the instance's network and always reach IMDS")
    return gaps


def has_iptables_block(user_data: str) -> bool:
    return any("iptables" in line and _IMDS_ADDRESS in line and "DROP" in line.upper()
               for line in user_data.splitlines())


def decoded_user_data(user_data: str | None) -> str:
    """User data as text: CloudFormation's Fn::Base64 is decoded; plain text (native files) is kept."""
    if not user_data:
        return ""
    compact = "".join(user_data.split())
    try:
        return base64.b64decode(compact, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return user_data
