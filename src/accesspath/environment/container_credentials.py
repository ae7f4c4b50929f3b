"""ECS on EC2: where a task runs, which role does ECS's work for it, and which credentials its containers get.

Facts, each from its page:
- Placement: an EC2 launch-type task runs on a container instance registered with the service's
  cluster; a capacity-provider service on the instances of its providers' Auto Scaling groups (ECS
  developer guide, "Amazon ECS capacity providers"). With none, ECS's service event says
  ``... was unable to place a task because no container instance met all of its requirements.
  Reason: No Container Instances were found in your cluster.`` ("Amazon ECS service event messages").
- Network: an awsvpc task on EC2 gets its own ENI in the service's subnets and security groups, and
  never a public IP ("Amazon ECS task networking options for EC2": awsvpc; ``assignPublicIp`` is for
  Fargate only); bridge, host and default tasks use the instance's network.
- Image pulls and awslogs: on EC2 the agent (on the instance, on the instance's path) uses the task
  execution role when the task definition has one, else the container instance role (ECR user guide,
  "Using Amazon ECR images with Amazon ECS"; ECS guide, "Amazon ECS task execution IAM role").
  Secrets need an execution role on every launch type (same page).
- Task role: delivered by the agent's credentials endpoint (169.254.170.2) when the task definition
  has one; on an instance that does not enable it (``ECS_ENABLE_TASK_IAM_ROLE`` for bridge/default,
  ``ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST`` for host; the ECS-optimized AMIs turn both on) the SDKs fall
  back to the instance role (ECS guide, "Task IAM role", seed 002).
- Instance role through IMDS (169.254.169.254): every container reaches it unless something blocks
  it — for bridge/default tasks the iptables DROP on ``docker+`` (seed 002) or IMDSv2 required with a
  PUT response hop limit of 1 (EC2 user guide, "Configure the instance metadata options": the
  container is one more hop away); for awsvpc tasks ``ECS_AWSVPC_BLOCK_IMDS=true`` (seed 002: the
  iptables rule does not affect awsvpc or host tasks); for host tasks nothing short of turning IMDS
  off (``HttpEndpoint: disabled``), which also cuts off the agent's own credentials.
"""

from __future__ import annotations

from dataclasses import dataclass

from accesspath.environment.model import EcsService, Environment, Instance, TaskDefinition

TASK_ROLE_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html"
IMDS_OPTIONS_DOC = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-options.html"
NO_INSTANCES_MESSAGE = ("service {service} was unable to place a task because no container instance met all of its"
                        " requirements. Reason: No Container Instances were found in your cluster.")
IPTABLES_FIX = ("iptables --insert DOCKER-USER 1 --in-interface docker+ --destination 169.254.169.254/32 --jump DROP"
                " in the user data (seed 002), or MetadataOptions HttpTokens: required with HttpPutResponseHopLimit: 1")


def network_mode(task: TaskDefinition | None) -> str:
    """The task's network mode on EC2 Linux: absent is ``bridge`` (``default`` is Docker's bridge too)."""
    mode = ((task.network_mode if task else None) or "bridge").lower()
    return "bridge" if mode == "default" else mode


@dataclass(frozen=True, slots=True)
class ImdsReach:
    """Whether a container of a network mode on an instance reaches the instance role through IMDS."""

    status: str          # "reachable", "blocked" or "undetermined"
    reason: str
    fix: str = ""        # the setting that closes it for this network mode (when reachable or undetermined)

    @property
    def reachable(self) -> bool:
        return self.status == "reachable"


def instance_role_reach(instance: Instance, mode: str) -> ImdsReach:
    """Can a container in ``mode`` on ``instance`` get the instance role's credentials from IMDS?"""
    name = instance.logical_id or instance.id
    if (instance.http_endpoint or "").lower() == "disabled":
        return ImdsReach("blocked", f"IMDS is turned off on {name} (MetadataOptions HttpEndpoint: disabled)")
    tokens_required = (instance.http_tokens or "").lower() == "required"
    # CloudFormation's documented default hop limit is 1.
    hop_limit = instance.hop_limit if instance.hop_limit is not None else 1
    if mode == "host":
        return ImdsReach("reachable", f"host network mode shares the network of {name}: its containers reach IMDS"
                                      " like the instance itself (no agent setting or iptables rule on docker+"
                                      " blocks them)",
                         "run the task in awsvpc mode with ECS_AWSVPC_BLOCK_IMDS=true in /etc/ecs/ecs.config, or in"
                         " bridge mode with " + IPTABLES_FIX)
    if mode == "awsvpc":
        if (instance.agent_setting("ECS_AWSVPC_BLOCK_IMDS") or "").lower() == "true":
            return ImdsReach("blocked", f"{name} sets ECS_AWSVPC_BLOCK_IMDS=true: awsvpc tasks cannot reach IMDS")
        reason = (f"{name} does not set ECS_AWSVPC_BLOCK_IMDS=true, so awsvpc containers reach IMDS through their own"
                  " ENI (the iptables rule on docker+ and the hop limit do not stop them)")
        fix = "set ECS_AWSVPC_BLOCK_IMDS=true in /etc/ecs/ecs.config in the user data of " + name
    elif mode == "bridge":
        if instance.imds_iptables_block:
            return ImdsReach("blocked", f"the user data of {name} drops docker+ traffic to 169.254.169.254 (iptables)")
        if tokens_required and hop_limit <= 1:
            return ImdsReach("blocked", f"{name} requires IMDSv2 with a PUT response hop limit of 1: the token does"
                                        " not reach a bridge container, one hop further")
        gaps = []
        if not tokens_required:
            gaps.append(f"IMDSv1 is allowed (HttpTokens is {instance.http_tokens or 'not set'!r})")
        if hop_limit > 1:
            gaps.append(f"HttpPutResponseHopLimit is {hop_limit}, so IMDSv2 tokens reach containers")
        reason = (f"bridge containers on {name} reach IMDS: no iptables rule drops docker+ traffic to"
                  f" 169.254.169.254, and {' and '.join(gaps)}")
        fix = IPTABLES_FIX
    else:
        return ImdsReach("undetermined", f"network mode '{mode}' is not modelled on EC2",
                         "use bridge or awsvpc network mode")
    if instance.unread:
        return ImdsReach("undetermined", f"{reason}; but {'; '.join(instance.unread)}, which may block it", fix)
    return ImdsReach("reachable", reason, fix)


@dataclass(frozen=True, slots=True)
class TaskRoleDelivery:
    delivered: bool
    reason: str


def task_role_delivery(instance: Instance, mode: str) -> TaskRoleDelivery:
    """Does the agent on ``instance`` serve the task role to containers of ``mode``?"""
    if mode == "awsvpc":
        return TaskRoleDelivery(True, "the agent serves the task role to awsvpc tasks")
    setting = "ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST" if mode == "host" else "ECS_ENABLE_TASK_IAM_ROLE"
    value = (instance.agent_setting(setting) or "").lower()
    if value == "false":
        return TaskRoleDelivery(False, f"{instance.logical_id or instance.id} sets {setting}=false: {mode} containers"
                                       " get no task role credentials and fall back to the instance role")
    return TaskRoleDelivery(True, f"{setting} not set: on, as the ECS-optimized AMIs set it" if not value
                            else f"{setting}={value}")


def cluster_name(ref: str) -> str:
    """A cluster given by name or ARN (``arn:…:cluster/NAME``)."""
    return ref.rsplit("/", 1)[-1] if ref.startswith("arn:") else ref


def uses_ec2(service: EcsService, task: TaskDefinition | None) -> bool:
    """Whether the service's tasks run on EC2 container instances (launch type or capacity providers)."""
    if service.launch_type:
        return service.launch_type.upper() == "EC2"
    if service.capacity_providers:
        return any(p.upper() not in ("FARGATE", "FARGATE_SPOT") for p in service.capacity_providers)
    # Neither launch type nor strategy: ECS uses the EC2 launch type (CreateService's default).
    return True


def service_instances(env: Environment, service: EcsService) -> tuple[list[Instance], list[Instance]]:
    """The container instances the service's tasks can be placed on, and those whose cluster is unknown."""
    cluster = cluster_name(service.cluster)
    providers = {p for p in service.capacity_providers if p.upper() not in ("FARGATE", "FARGATE_SPOT")}
    placed: list[Instance] = []
    unknown: list[Instance] = []
    for instance in env.instances.values():
        if providers and not (providers & set(instance.capacity_providers)):
            continue
        if instance.cluster is None:
            if instance.unread:   # its cluster may be set in what could not be read
                unknown.append(instance)
            continue
        if instance.cluster == cluster:
            placed.append(instance)
    return placed, unknown


@dataclass(frozen=True, slots=True)
class CredentialSource:
    """One kind of credentials a container of an EC2 task can use, and whether it gets them."""

    kind: str            # "task role" or "instance role"
    role: str | None     # the role's name
    status: str          # task role: "delivered" or "none"; instance role: "reachable", "blocked", "undetermined"
    reason: str
    fix: str = ""

    def describe(self) -> str:
        role = f" {self.role}" if self.role else ""
        fix = f"; to close it: {self.fix}" if self.fix and self.status != "blocked" else ""
        return f"{self.kind}{role}: {self.status} — {self.reason}{fix}"


def container_credentials(task: TaskDefinition | None, instance: Instance) -> tuple[CredentialSource, ...]:
    """Both kinds of credentials a container of ``task`` on ``instance`` can use (ECS guide, "Task IAM role")."""
    mode = network_mode(task)
    out = []
    if task is not None and task.task_role_name:
        delivery = task_role_delivery(instance, mode)
        out.append(CredentialSource(
            "task role", task.task_role_name, "delivered" if delivery.delivered else "none",
            f"the agent serves it at 169.254.170.2 ({delivery.reason})" if delivery.delivered else delivery.reason))
    else:
        out.append(CredentialSource("task role", None, "none", "the task definition has no TaskRoleArn"))
    reach = instance_role_reach(instance, mode)
    out.append(CredentialSource("instance role", instance.role_name, reach.status, reach.reason, reach.fix))
    return tuple(out)
