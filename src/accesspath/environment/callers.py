"""Who is calling: an ECS service's task, a task definition's task, an EC2 instance, or a role.

The principal AWS sees is the role's session (reference_identifiers.md, assumed-role ARNs):
an ECS task's role session is named after the task id, an instance profile's after the instance
id (seed 004: ``assumed-role/ec2-logs-fullaccess-role/i-...``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from accesspath.engine.request import RequestPrincipal, principal_from_arn
from accesspath.environment.container_credentials import (
    ImdsReach,
    instance_role_reach,
    network_mode,
    service_instances,
    uses_ec2,
)
from accesspath.environment.model import (
    EcsService,
    Environment,
    Instance,
    Role,
    TaskDefinition,
)
from accesspath.environment.network import CallerPlacement
from accesspath.errors import UsageError

T = TypeVar("T")


@dataclass(frozen=True)
class Caller:
    kind: str                       # "ecs-service", "task-definition", "instance", "role", "arn"
    id: str
    role: Role | None
    principal: RequestPrincipal
    placement: CallerPlacement | None
    task_definition: TaskDefinition | None = None
    service: EcsService | None = None
    instance: Instance | None = None

    def describe(self) -> str:
        where = f" in subnet {self.placement.subnet_id}" if self.placement else " (no network placement)"
        return f"{self.kind} {self.id} as {self.principal.arn}{where}"


def task_id_for(name: str) -> str:
    """A stable, task-id-shaped session name for a task of ``name`` (32 hex digits, as ECS uses)."""
    return hashlib.sha256(name.encode()).hexdigest()[:32]


def resolve_caller(env: Environment, ref: str, *, subnet: str | None = None,
                   security_groups: tuple[str, ...] = ()) -> Caller:
    """Find ``--from``: an ECS service, task definition, instance or role, by logical id, name or ARN."""
    # --subnet and --security-group take an id, a LogicalId or Stack/LogicalId; one that names nothing
    # of the inputs is kept (its path is undetermined) and said by the CLI (unknown_network_references).
    if subnet:
        subnet = env.network_object("subnet", subnet) or subnet
    security_groups = tuple(env.network_object("security-group", g) or g for g in security_groups)
    override = CallerPlacement(subnet, security_groups) if subnet else None

    service = find_service(env, ref, "--from")
    if service is not None:
            task = _task_definition(env, service.task_definition)
            role = _role(env, task.task_role_name if task else None)
            host = service_host(env, service, task)
            placement = override or service_placement(service, task, host)
            if role is None and host is not None:
                raise UsageError(f"'{service.name}' has no task role: its containers get the instance role of"
                                 f" {host.logical_id or host.id} through IMDS where it is not blocked (ask with"
                                 " --credentials instance), or set TaskRoleArn on the task definition")
            return Caller("ecs-service", ref, role, _task_principal(env, role, service.name), placement,
                          task_definition=task, service=service, instance=host)
    task = find_task_definition(env, ref, "--from")
    if task is not None:
            role = _role(env, task.task_role_name)
            return Caller("task-definition", ref, role, _task_principal(env, role, task.family), override,
                          task_definition=task)
    for instance in env.instances.values():
        if ref in (instance.logical_id, instance.id):
            role = _role(env, instance.role_name)
            placement = override or (CallerPlacement(instance.subnet_id, instance.security_group_ids,
                                                     instance.public_ip) if instance.subnet_id else None)
            if role is None:
                raise UsageError(f"instance '{ref}' has no instance profile role: it cannot sign AWS requests")
            return Caller("instance", ref, role,
                          principal_from_arn(f"arn:{env.partition}:sts::{role.account}:assumed-role/{role.name}/{instance.id}"),
                          placement, instance=instance)
    role = env.role_by_name_or_arn(ref)
    if role is not None:
        return Caller("role", ref, role,
                      principal_from_arn(f"arn:{env.partition}:sts::{role.account}:assumed-role/{role.name}/accesspath"),
                      override)
    if ref.startswith("arn:") or ref.endswith(".amazonaws.com"):
        try:
            principal = principal_from_arn(ref)
        except ValueError as error:
            raise UsageError(str(error)) from None
        return Caller("arn", ref, None, principal, override)
    raise UsageError(f"--from '{ref}' is not a caller of the environment; candidates: {', '.join(candidates(env)) or 'none'}")


def service_host(env: Environment, service: EcsService, task: TaskDefinition | None) -> Instance | None:
    """The container instance an EC2 launch-type or capacity-provider service's tasks run on (the first
    placed one: the instances of a group share their configuration), or None."""
    if not uses_ec2(service, task):
        return None
    placed, _ = service_instances(env, service)
    return placed[0] if placed else None


def service_placement(service: EcsService, task: TaskDefinition | None,
                      host: Instance | None) -> CallerPlacement | None:
    """Where a service's task sits in the network: its awsvpc subnet, or its container instance's."""
    if host is not None and network_mode(task) != "awsvpc":
        # bridge and host tasks use the container instance's network.
        return CallerPlacement(host.subnet_id, host.security_group_ids, host.public_ip) if host.subnet_id else None
    if not service.subnet_ids:
        return None
    # An awsvpc task on EC2 gets an ENI in the service's subnets, never a public IP.
    public = service.assign_public_ip and host is None
    return CallerPlacement(service.subnet_ids[0], service.security_group_ids, public)


def instance_credentials_caller(env: Environment, ref: str, *, subnet: str | None = None,
                                security_groups: tuple[str, ...] = ()) -> tuple[Caller, ImdsReach]:
    """``--credentials instance``: a container of service ``ref`` using the instance role it gets from IMDS,
    and whether it can reach it (ECS guide, "Task IAM role"; see ``container_credentials``)."""
    service = find_service(env, ref, "--from")
    if service is None:
        raise UsageError(f"--credentials instance needs --from to name an ECS service of the EC2 launch type;"
                         f" '{ref}' is not a service")
    task = _task_definition(env, service.task_definition)
    host = service_host(env, service, task)
    if host is None:
        raise UsageError(f"service '{ref}' runs on no container instance of the templates (Fargate, or no instance"
                         " joins its cluster): there is no instance role to reach")
    role = _role(env, host.role_name)
    if role is None:
        raise UsageError(f"container instance '{host.logical_id or host.id}' has no instance profile role in the"
                         " templates")
    placement = (CallerPlacement(subnet, security_groups) if subnet else service_placement(service, task, host))
    principal = principal_from_arn(f"arn:{env.partition}:sts::{role.account}:assumed-role/{role.name}/{host.id}")
    caller = Caller("ecs-service", ref, role, principal, placement, task_definition=task, service=service,
                    instance=host)
    return caller, instance_role_reach(host, network_mode(task))


def unknown_network_references(env: Environment, subnet: str | None, security_groups: tuple[str, ...]) -> list[str]:
    """Warnings for --subnet / --security-group values that name nothing of the inputs."""
    out = []
    if subnet and env.network_object("subnet", subnet) is None:
        out.append(f"--subnet '{subnet}' is not a subnet of the inputs (subnets: "
                   f"{', '.join(env.label(s) for s in env.subnets.values()) or 'none'}); its path is undetermined")
    for group in security_groups:
        if env.network_object("security-group", group) is None:
            out.append(f"--security-group '{group}' is not a security group of the inputs; what it allows is"
                       " undetermined")
    return out


def candidates(env: Environment) -> list[str]:
    names = [f"{s.logical_id or s.name} (ECS service)" for s in env.services.values()]
    names += [f"{t.logical_id or t.family} (task definition)" for t in env.task_definitions.values()]
    names += [f"{i.logical_id or i.id} (instance)" for i in env.instances.values()]
    names += [f"{r.logical_id or r.name} (role)" for r in env.roles.values()]
    return names


def _qualified(stack: str | None, logical_id: str | None, name: str) -> str:
    return f"{stack}/{logical_id}" if stack and logical_id else name


def find_service(env: Environment, ref: str, option: str) -> EcsService | None:
    """The ECS service named ``ref`` (logical id, name or Stack/LogicalId); two stacks' services of one
    logical id are never merged: naming only the logical id is then an error listing both."""
    found = [s for s in env.services.values()
             if ref in (s.logical_id, s.name, _qualified(s.stack, s.logical_id, s.name))]
    return _one(found, ref, option, "ECS services", lambda s: _qualified(s.stack, s.logical_id, s.name))


def find_task_definition(env: Environment, ref: str, option: str) -> TaskDefinition | None:
    """The task definition named ``ref`` (logical id, family, ARN or Stack/LogicalId), as :func:`find_service`."""
    found = [t for t in env.task_definitions.values()
             if ref in (t.logical_id, t.family, t.arn, _qualified(t.stack, t.logical_id, t.family))]
    return _one(found, ref, option, "task definitions", lambda t: _qualified(t.stack, t.logical_id, t.family))


def _one(found: list[T], ref: str, option: str, what: str, qualified: Callable[[T], str]) -> T | None:
    if len(found) > 1:
        names = ", ".join(sorted(qualified(item) for item in found))
        raise UsageError(f"{option} '{ref}' names {len(found)} {what}: {names}; give one as Stack/LogicalId")
    return found[0] if found else None


def _task_definition(env: Environment, ref: str) -> TaskDefinition | None:
    # A service's TaskDefinition is the ARN (Ref), so two stacks' task definitions are told apart.
    for task in env.task_definitions.values():
        if ref == task.arn:
            return task
    for task in env.task_definitions.values():
        if ref in (task.logical_id, task.family):
            return task
    return None


def _role(env: Environment, ref: str | None) -> Role | None:
    return env.role_by_name_or_arn(ref) if ref else None


def _task_principal(env: Environment, role: Role | None, name: str) -> RequestPrincipal:
    if role is None:
        raise UsageError(f"'{name}' has no task role: its containers have no AWS credentials"
                         " (set TaskRoleArn on the task definition)")
    return principal_from_arn(f"arn:{env.partition}:sts::{role.account}:assumed-role/{role.name}/{task_id_for(name)}")
