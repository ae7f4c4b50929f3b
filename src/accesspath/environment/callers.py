"""Who is calling: an ECS service's task, a task definition's task, an EC2 instance, or a role.

The principal AWS sees is the role's session (reference_identifiers.md, assumed-role ARNs):
an ECS task's role session is named after the task id, an instance profile's after the instance
id (seed 004: ``assumed-role/ec2-logs-fullaccess-role/i-...``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from accesspath.engine.request import RequestPrincipal, principal_from_arn
from accesspath.environment.model import (
    EcsService,
    Environment,
    Instance,
    Role,
    TaskDefinition,
)
from accesspath.environment.network import CallerPlacement
from accesspath.errors import UsageError


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
    override = CallerPlacement(subnet, security_groups) if subnet else None
    if subnet and subnet not in env.subnets:
        raise UsageError(f"--subnet '{subnet}' is not a subnet of the environment"
                         f" (subnets: {', '.join(sorted(env.subnets)) or 'none'})")

    for service in env.services.values():
        if ref in (service.logical_id, service.name):
            task = _task_definition(env, service.task_definition)
            role = _role(env, task.task_role_name if task else None)
            placement = override or (CallerPlacement(service.subnet_ids[0], service.security_group_ids,
                                                     service.assign_public_ip) if service.subnet_ids else None)
            return Caller("ecs-service", ref, role, _task_principal(env, role, service.name), placement,
                          task_definition=task, service=service)
    for task in env.task_definitions.values():
        if ref in (task.logical_id, task.family, task.arn):
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


def candidates(env: Environment) -> list[str]:
    names = [f"{s.logical_id or s.name} (ECS service)" for s in env.services.values()]
    names += [f"{t.logical_id or t.family} (task definition)" for t in env.task_definitions.values()]
    names += [f"{i.logical_id or i.id} (instance)" for i in env.instances.values()]
    names += [f"{r.logical_id or r.name} (role)" for r in env.roles.values()]
    return names


def _task_definition(env: Environment, ref: str) -> TaskDefinition | None:
    for task in env.task_definitions.values():
        if ref in (task.logical_id, task.family, task.arn):
            return task
    return None


def _role(env: Environment, ref: str | None) -> Role | None:
    return env.role_by_name_or_arn(ref) if ref else None


def _task_principal(env: Environment, role: Role | None, name: str) -> RequestPrincipal:
    if role is None:
        raise UsageError(f"'{name}' has no task role: its containers have no AWS credentials"
                         " (set TaskRoleArn on the task definition)")
    return principal_from_arn(f"arn:{env.partition}:sts::{role.account}:assumed-role/{role.name}/{task_id_for(name)}")
