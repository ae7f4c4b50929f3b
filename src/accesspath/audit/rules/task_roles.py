"""Rules about the roles ECS tasks run as: trust (confused deputy), breadth, task vs execution role."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from accesspath.audit.context import AuditContext, role_label
from accesspath.audit.probes import ALWAYS_PROBED_SERVICES
from accesspath.audit.rule import (
    AuditFinding,
    AuditRule,
    Evidence,
    RuleInfo,
    deciding_position,
)
from accesspath.catalog.calls import IamRequest
from accesspath.catalog.image_references import parse_ecr_image
from accesspath.environment.access import services_of_interest
from accesspath.environment.callers import Caller
from accesspath.environment.decide import CallDecision
from accesspath.environment.model import Container, Role, TaskDefinition
from accesspath.lint.findings import Severity

ECS_TASK_ROLE_PAGE = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html"
EXECUTION_ROLE_PAGE = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html"


def _decision_evidence(decision: CallDecision) -> Evidence:
    if decision.result is not None:
        return Evidence.of(decision.result, via=decision.path.describe() if decision.path else None)
    return Evidence(decision.caller.principal.arn, decision.request.action, decision.request.resource, (),
                    decision.decision, via=decision.path.describe() if decision.path else None)


class TaskRoleConfusedDeputy(AuditRule):
    info = RuleInfo(
        id="task-role-confused-deputy",
        severity=Severity.WARNING,
        title="ECS may assume the role for tasks of any account",
        rationale=("A role whose trust policy admits ecs-tasks.amazonaws.com without aws:SourceAccount or"
                   " aws:SourceArn can be handed to ECS on behalf of another account's tasks (the confused"
                   " deputy problem). The ECS developer guide recommends scoping task role trust with one of"
                   " these keys."),
        fix=("add a Condition to the trust statement: StringEquals aws:SourceAccount = your account id, and/or"
             " ArnLike aws:SourceArn = arn:aws:ecs:REGION:ACCOUNT:*"),
        doc_urls=(ECS_TASK_ROLE_PAGE,
                  "https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html",
                  "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"),
    )

    def check(self, audit: AuditContext) -> Iterator[AuditFinding]:
        foreign = audit.foreign_account
        for role in audit.ecs_task_roles:
            result, context = audit.ecs_tasks_assume(role, foreign)
            if not result.allowed:
                continue
            position = deciding_position(result) or role.position
            yield self.finding(
                f"ECS may assume '{role.name}' for a task of account {foreign}: the trust policy allows"
                f" sts:AssumeRole to {result.request.principal.arn} with aws:SourceAccount {foreign}",
                subject=role_label(role), position=position, evidence=(Evidence.of(result, context),),
                policy_id=role.trust_policy.policy_id if role.trust_policy else None,
                statement=result.deciding_statements[0].statement.label if result.deciding_statements else None,
                fix=(f"scope the trust statement of '{role.name}' with StringEquals aws:SourceAccount"
                     f" '{audit.env.account}' or ArnLike aws:SourceArn"
                     f" 'arn:{audit.env.partition}:ecs:{audit.env.region}:{audit.env.account}:*'"))


class TaskRoleOverbroad(AuditRule):
    info = RuleInfo(
        id="task-role-overbroad",
        severity=Severity.WARNING,
        title="a task role may write to resources the templates do not declare",
        rationale=("A task role allowed a service's write actions on resources the templates do not declare"
                   " ('service:*' or write actions on '*') lets a compromised container change or exfiltrate"
                   " data anywhere in the account. Task roles should grant only what the task uses, on the"
                   " resources it uses."),
        fix="replace '*' with the ARNs of the resources the task uses, and the actions with those it calls",
        doc_urls=(ECS_TASK_ROLE_PAGE,
                  "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege"),
    )

    def check(self, audit: AuditContext) -> Iterator[AuditFinding]:
        catalog = audit.catalog
        for role in audit.task_roles:
            caller = Caller("role", role.name, role, audit.role_session(role), None)
            prefixes = sorted(set(services_of_interest(audit.decider, caller)) | set(ALWAYS_PROBED_SERVICES))
            for prefix in prefixes:
                if not catalog.has_service(prefix):
                    continue
                asked = audit.role_may_each(role, audit.undeclared_write_requests(prefix))
                allowed = [d for d in asked if d.allowed]
                if not allowed:
                    continue
                yield self._finding(audit, role, prefix, allowed, len(asked))

    def _finding(self, audit: AuditContext, role: Role, prefix: str, allowed: list[CallDecision],
                 asked: int) -> AuditFinding:
        first = allowed[0]
        examples = ", ".join(d.request.action for d in allowed[:3]) + (", ..." if len(allowed) > 3 else "")
        scope = "every one" if len(allowed) == asked else f"{len(allowed)}"
        declared = sorted(h.arn for h in audit.declared(prefix))
        if declared:
            narrower = (f"grant '{role.name}' only the {prefix} actions the task calls, on the templates' {prefix}"
                        f" resources: {', '.join(declared)}")
        else:
            narrower = (f"the templates declare no {prefix} resources: name the {prefix} resources the task uses"
                        f" instead of '*', with only the actions it calls (or remove the grant)")
        statement = first.result.deciding_statements[0] if first.result and first.result.deciding_statements else None
        return self.finding(
            f"task role '{role.name}' may perform {scope} of the {asked} {prefix} write actions on resources the"
            f" templates do not declare ({examples}; e.g. {first.request.action} on {first.request.resource})",
            subject=role_label(role), position=deciding_position(first.result) or role.position,
            evidence=tuple(_decision_evidence(d) for d in allowed[:3]), fix=narrower,
            policy_id=statement.policy.policy_id if statement else None,
            statement=statement.statement.label if statement else None)


class RoleMixup(AuditRule):
    info = RuleInfo(
        id="role-mixup",
        severity=Severity.ERROR,
        title="the task role has permissions the execution role needs",
        rationale=("ECS pulls ECR images, creates awslogs streams and reads secrets with the task execution"
                   " role, not the task role. Granting those permissions to the task role instead leaves the"
                   " task unable to start (CannotPullContainerError, ResourceInitializationError)."),
        fix="move the registry, logs and secrets permissions to the execution role (ExecutionRoleArn)",
        doc_urls=(EXECUTION_ROLE_PAGE, ECS_TASK_ROLE_PAGE),
    )

    def check(self, audit: AuditContext) -> Iterator[AuditFinding]:
        env = audit.env
        for task in env.task_definitions.values():
            task_role = env.role_by_name_or_arn(task.task_role_name) if task.task_role_name else None
            if task_role is None:
                continue
            execution_role = (env.role_by_name_or_arn(task.execution_role_name)
                              if task.execution_role_name else None)
            misplaced: list[tuple[CallDecision, CallDecision | None]] = []
            for request in _execution_requests(audit, task):
                on_task = audit.role_may(task_role, request.action, request.resource)
                if not on_task.allowed:
                    continue
                on_execution = (audit.role_may(execution_role, request.action, request.resource)
                                if execution_role is not None else None)
                if on_execution is None or not on_execution.allowed:
                    misplaced.append((on_task, on_execution))
            if not misplaced:
                continue
            actions = ", ".join(dict.fromkeys(t.request.action for t, _ in misplaced))
            holder = f"execution role '{execution_role.name}'" if execution_role else "no execution role"
            evidence = [_decision_evidence(d) for pair in misplaced for d in pair if d is not None]
            yield self.finding(
                f"task definition '{task.family}': the task role '{task_role.name}' is allowed {actions}, which ECS"
                f" performs with the execution role, but {holder}"
                f"{' is not' if execution_role else ' is set'}",
                subject=f"task definition {task.family}", position=task.position, evidence=evidence,
                fix=(f"grant {actions} to the execution role"
                     f"{' ' + repr(execution_role.name) if execution_role else ' (set ExecutionRoleArn)'}"
                     f" and remove them from '{task_role.name}' unless the application calls them itself"))


def _execution_requests(audit: AuditContext, task: TaskDefinition) -> list[IamRequest]:
    """The requests ECS makes with the execution role to start ``task`` (launch-check's steps)."""
    env = audit.env
    requests: dict[tuple[str, str], IamRequest] = {}

    def add(action: str, resource: str) -> None:
        requests.setdefault((action, resource), IamRequest(action, resource))

    for container in task.containers:
        image = container.image or ""
        if ".dkr.ecr." in image:
            try:
                reference = parse_ecr_image(image)
            except Exception:  # noqa: BLE001 - an image the ECR parser rejects is launch-check's to report
                reference = None
            if reference is not None:
                add("ecr:GetAuthorizationToken", "*")
                add("ecr:BatchGetImage", f"arn:{env.partition}:ecr:{reference.region or env.region}:"
                                         f"{reference.registry_id or env.account}:repository/{reference.repository}")
        _log_request(audit, container, add)
        for _, value_from in container.secrets:
            if ":secretsmanager:" in value_from:
                add("secretsmanager:GetSecretValue", ":".join(value_from.split(":")[:7]))
            elif value_from:
                parameter = (value_from if value_from.startswith("arn:") else
                             f"arn:{env.partition}:ssm:{env.region}:{env.account}:parameter/{value_from.lstrip('/')}")
                add("ssm:GetParameters", parameter)
    return list(requests.values())


def _log_request(audit: AuditContext, container: Container, add: Callable[[str, str], None]) -> None:
    options = dict(container.log_options)
    group = options.get("awslogs-group")
    if container.log_driver != "awslogs" or not group:
        return
    env = audit.env
    region = options.get("awslogs-region") or env.region
    add("logs:CreateLogStream",
        f"arn:{env.partition}:logs:{region}:{env.account}:log-group:{group}:log-stream:{container.name}")
