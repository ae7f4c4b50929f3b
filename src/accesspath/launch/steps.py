"""Will the task start? Every step ECS takes to start a task, each a question to the one evaluator.

Sources: the ECS developer guide — "Amazon ECS task execution IAM role", "Amazon ECS interface VPC
endpoints (AWS PrivateLink)" (seed 001), "Task IAM role" (seed 002), "Amazon ECS stopped tasks
errors" (CannotPullContainerError, ResourceInitializationError); the ECR user guide — "Amazon ECR
interface VPC endpoints" (image layers are served from the ``prod-REGION-starport-layer-bucket``
bucket through the S3 gateway endpoint, by URLs ECR presigns).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from accesspath.catalog.calls import IamRequest
from accesspath.catalog.image_references import parse_ecr_image
from accesspath.engine import (
    AuthorizationRequest,
    AuthorizationResult,
    PolicySet,
    RequestContext,
    authorize,
    principal_from_arn,
)
from accesspath.environment.callers import Caller, find_service, find_task_definition, task_id_for
from accesspath.environment.container_credentials import (
    NO_INSTANCES_MESSAGE,
    cluster_name,
    container_credentials,
    network_mode,
    service_instances,
    uses_ec2,
)
from accesspath.environment.decide import DEFAULT_ENDPOINT_POLICY, CallDecision, Decider
from accesspath.environment.model import (
    Container,
    EcsService,
    Environment,
    Instance,
    Role,
    TaskDefinition,
)
from accesspath.environment.network import (
    CallerPlacement,
    NetworkPath,
    PathKind,
    find_path,
)
from accesspath.environment.unknowns import bound, has_unknowns, unknowns_of
from accesspath.errors import UsageError
from accesspath.policy import PolicyType, parse_policy

# The presigned layer download is signed by ECR, not by the task: it reaches S3 as a principal of
# an AWS-owned account, which an endpoint policy scoped to the organization's principals rejects.
ECR_LAYER_SIGNER = "arn:aws:sts::000000000000:assumed-role/aws-ecr-layer-access/ecr"
_SIGNER_IDENTITY = parse_policy({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}, policy_id="ECR's own permissions")


@dataclass(frozen=True)
class LaunchStep:
    name: str                         # "registry auth", "image manifest", ...
    principal: str
    request: IamRequest | None        # None for purely network steps (a public image pull)
    status: str                       # ok, denied, unreachable, undetermined
    decision: CallDecision | None
    stopped_reason: str = ""          # what ECS would show, when the step fails
    fix: str = ""
    detail: str = ""
    result: AuthorizationResult | None = None  # for steps decided without a CallDecision
    path: NetworkPath | None = None
    # False for what does not decide whether the task starts (ECS Exec): a failure shows as
    # "unavailable" and leaves the report ready.
    required: bool = True

    @property
    def authorization(self) -> AuthorizationResult | None:
        return self.decision.result if self.decision is not None else self.result

    @property
    def network_path(self) -> NetworkPath | None:
        return self.decision.path if self.decision is not None else self.path

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class LaunchReport:
    subject: str
    launch_type: str
    steps: tuple[LaunchStep, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def verdict(self) -> str:
        """``ready``, ``not ready`` (a required step fails) or ``undetermined`` (none fails, but one
        depends on what the inputs do not say)."""
        required = [step for step in self.steps if step.required]
        if any(step.status not in ("ok", "undetermined") for step in required):
            return "not ready"
        if any(step.status == "undetermined" for step in required):
            return "undetermined"
        return "ready"

    @property
    def ready(self) -> bool:
        return self.verdict == "ready"

    @property
    def undetermined(self) -> bool:
        """Nothing failed, but a step depends on what accesspath was not given."""
        return self.verdict == "undetermined"

    @property
    def readiness(self) -> str:
        """``ready:`` as launch-check reports it: ``true``, ``false`` or ``unknown`` (undetermined)."""
        return {"ready": "true", "not ready": "false"}.get(self.verdict, "unknown")


class LaunchChecker:
    def __init__(self, env: Environment, decider: Decider) -> None:
        self.env = env
        self.decider = decider

    # -- entry points ------------------------------------------------------------------------

    def for_service(self, ref: str, instance: str | None = None) -> LaunchReport:
        service = find_service(self.env, ref, "--service")
        if service is None:
            names = ", ".join(s.logical_id or s.name for s in self.env.services.values()) or "none"
            raise UsageError(f"--service '{ref}' is not an ECS service of the environment (services: {names})")
        task = self._task(service.task_definition)
        if uses_ec2(service, task):
            return self._ec2_service(service, task, instance)
        if not service.subnet_ids:
            raise UsageError(f"service '{ref}' runs on Fargate but has no awsvpc subnets in the templates")
        placement = CallerPlacement(service.subnet_ids[0], service.security_group_ids, service.assign_public_ip)
        return self.check(task, placement, service=service)

    def _ec2_service(self, service: EcsService, task: TaskDefinition, instance_ref: str | None) -> LaunchReport:
        """An EC2 launch-type or capacity-provider service: placed on a container instance of its cluster."""
        subject = f"service {service.logical_id or service.name}"
        kind = _ec2_kind(service)
        notes: list[str] = []
        if instance_ref is not None:
            host = self._instance(instance_ref, None)
            assert host is not None
        elif not service.cluster:
            step = LaunchStep("placement", "ecs.amazonaws.com", None, "undetermined", None,
                              detail=f"the cluster of {subject} could not be resolved (see the warnings): its"
                                     " container instances are unknown",
                              fix="load the template that defines the cluster, or give --instance")
            return LaunchReport(subject, kind, (step,), ())
        else:
            placed, unknown = service_instances(self.env, service)
            if not placed:
                where = (f"capacity providers {', '.join(service.capacity_providers)} of cluster"
                         if service.capacity_providers else "cluster")
                if unknown:
                    names = ", ".join(i.logical_id or i.id for i in unknown)
                    step = LaunchStep("placement", "ecs.amazonaws.com", None, "undetermined", None,
                                      detail=(f"no container instance of the templates joins {where}"
                                              f" '{cluster_name(service.cluster)}', and the cluster of {names} cannot"
                                              f" be read: {'; '.join(u for i in unknown for u in i.unread)}"),
                                      fix="give --instance (the container instance the task runs on)")
                else:
                    step = LaunchStep("placement", "ecs.amazonaws.com", None, "denied", None,
                                      NO_INSTANCES_MESSAGE.format(service=service.name),
                                      f"launch container instances that join {where}"
                                      f" '{cluster_name(service.cluster)}' (ECS_CLUSTER={cluster_name(service.cluster)}"
                                      " in /etc/ecs/ecs.config in their user data)")
                return LaunchReport(subject, kind, (step,), ())
            host = placed[0]
            if len(placed) > 1:
                notes.append("the tasks can also be placed on " + ", ".join(i.logical_id or i.id for i in placed[1:])
                             + f"; checked on {host.logical_id or host.id} (give --instance for another)")
        mode = network_mode(task)
        pre: list[LaunchStep] = []
        if mode == "awsvpc":
            if not service.subnet_ids:
                raise UsageError(f"service '{service.logical_id or service.name}' uses awsvpc network mode but has no"
                                 " subnets in its NetworkConfiguration")
            if service.assign_public_ip:
                pre.append(LaunchStep("network configuration", "-", None, "denied", None,
                                      "InvalidParameterException: Assign public IP is not supported for this launch"
                                      " type.",
                                      "set AssignPublicIp: DISABLED (awsvpc tasks on EC2 never get a public IP;"
                                      " route through a NAT gateway or VPC endpoints)"))
            # An awsvpc task on EC2 gets its own ENI in the service's subnets, without a public IP.
            placement = CallerPlacement(service.subnet_ids[0], service.security_group_ids, False)
        else:
            if host.subnet_id is None:
                raise UsageError(f"container instance '{host.logical_id or host.id}' has no subnet in the templates")
            placement = CallerPlacement(host.subnet_id, host.security_group_ids, host.public_ip)
        report = self.check(task, placement, service=service, launch_type="EC2", host=host)
        # What the running containers can sign with: not a launch step, but what the task gets once started.
        notes += [f"credentials on {host.logical_id or host.id}: {source.describe()}"
                  for source in container_credentials(task, host)]
        return LaunchReport(subject, kind, tuple(pre) + report.steps, tuple(notes) + report.notes)

    def for_task_definition(self, ref: str, subnet: str, security_groups: tuple[str, ...] = (),
                            launch_type: str | None = None, instance: str | None = None) -> LaunchReport:
        task = self._task(ref)
        # A LogicalId or Stack/LogicalId names a subnet of the inputs; anything else leaves the path undetermined.
        subnet = self.env.network_object("subnet", subnet) or subnet
        security_groups = tuple(self.env.network_object("security-group", g) or g for g in security_groups)
        host = self._instance(instance, None)
        notes: list[str] = []
        kind = (launch_type or ("FARGATE" if "FARGATE" in task.compatibilities else "EC2")).upper()
        if kind == "EC2" and host is None:
            placed = [i for i in self.env.instances.values() if i.cluster == "default"]
            if placed:
                host = placed[0]
                notes.append(f"run on container instance {host.logical_id or host.id} of the default cluster"
                             " (give --instance for another)")
        report = self.check(task, CallerPlacement(subnet, security_groups), launch_type=launch_type, host=host)
        return LaunchReport(report.subject, report.launch_type, report.steps, tuple(notes) + report.notes)

    def _task(self, ref: str) -> TaskDefinition:
        task = find_task_definition(self.env, ref, "--task-definition")
        if task is None:
            names = ", ".join(t.logical_id or t.family for t in self.env.task_definitions.values()) or "none"
            raise UsageError(f"task definition '{ref}' is not in the environment (task definitions: {names})")
        return task

    # -- the walk --------------------------------------------------------------------------------

    def check(self, task: TaskDefinition, placement: CallerPlacement, *, service: EcsService | None = None,
              launch_type: str | None = None, host: Instance | None = None) -> LaunchReport:
        env = self.env
        kind = (launch_type or (service.launch_type if service else None)
                or ("FARGATE" if "FARGATE" in task.compatibilities else "EC2")).upper()
        steps: list[LaunchStep] = []
        notes: list[str] = []
        cluster = (cluster_name(service.cluster) or "default") if service else "default"
        task_id = task_id_for(service.name if service else task.family)
        task_arn = f"arn:{env.partition}:ecs:{env.region}:{env.account}:task/{cluster}/{task_id}"
        execution_role = env.role_by_name_or_arn(task.execution_role_name) if task.execution_role_name else None
        task_role = env.role_by_name_or_arn(task.task_role_name) if task.task_role_name else None

        for label, role, ref in (("task role", task_role, task.task_role_name),
                                 ("execution role", execution_role, task.execution_role_name)):
            if ref and role is None:
                steps.append(LaunchStep(f"assume {label}", "ecs-tasks.amazonaws.com", None, "denied", None,
                                        f"ECS was unable to assume the role '{ref}' that was provided for this task.",
                                        f"declare the role '{ref}' in the templates (it is not in the environment)"))
            elif role is not None:
                steps.append(self._assume(label, role, task_arn))

        pull_placement = placement
        pull_caller: Caller | None = None
        if kind == "EC2":
            if host is None:
                notes.append("EC2 launch type without a container instance (give --instance): the container agent's"
                             " calls are not checked, and image pulls and awslogs are checked as the execution role")
                pull_caller = self._caller(execution_role, placement, task_id) if execution_role else None
            else:
                steps.extend(self._agent_steps(host, cluster))
                if host.subnet_id:
                    # On EC2 the agent and Docker on the instance pull images, read secrets and send awslogs,
                    # from the instance's network.
                    pull_placement = CallerPlacement(host.subnet_id, host.security_group_ids, host.public_ip)
                instance_role = env.role_by_name_or_arn(host.role_name) if host.role_name else None
                # ECR user guide, "Using Amazon ECR images with Amazon ECS": the container instance role pulls
                # on EC2; the agent uses the task execution role instead when the task definition has one.
                if execution_role is not None:
                    pull_caller = self._caller(execution_role, pull_placement, task_id)
                elif instance_role is not None:
                    pull_caller = self._caller(instance_role, pull_placement, host.id)
            if execution_role is None and any(c.secrets for c in task.containers):
                steps.append(LaunchStep("execution role", "-", None, "denied", None,
                                        "ClientException: When you are specifying container secrets, you must also"
                                        " specify a value for 'executionRoleArn'.",
                                        "set ExecutionRoleArn on the task definition (secrets need an execution"
                                        " role on every launch type)"))
        else:
            if execution_role is None and any(_needs_execution_role(c) for c in task.containers):
                steps.append(LaunchStep("execution role", "-", None, "denied", None,
                                        "ResourceInitializationError: the task definition has no execution role, which"
                                        " ECR images, awslogs and secrets require on Fargate",
                                        "set ExecutionRoleArn on the task definition"))
            pull_caller = self._caller(execution_role, pull_placement, task_id) if execution_role else None
        secrets_caller = self._caller(execution_role, pull_placement, task_id) if execution_role else None
        for container in task.containers:
            if secrets_caller is not None:
                steps.extend(self._secret_steps(container, secrets_caller))
            if pull_caller is not None:
                steps.extend(self._image_steps(container, pull_caller, pull_placement))
                steps.extend(self._log_steps(container, pull_caller, task_id))
            elif container.image and not _is_ecr(container.image):
                steps.extend(self._image_steps(container, None, pull_placement))

        if service is not None and service.enable_execute_command:
            # ECS Exec does not decide whether the task starts: the SSM agent in the task opens its
            # channels after it runs (ECS guide, "Monitor Amazon ECS containers with ECS Exec": the
            # task role needs the ssmmessages actions). A failure leaves the task running without Exec.
            if task_role is None:
                steps.append(LaunchStep("ECS Exec", "-", None, "unavailable", None,
                                        detail="execute-command fails: ECS Exec needs a task role with the"
                                               " ssmmessages permissions",
                                        fix="set TaskRoleArn on the task definition", required=False))
            else:
                caller = self._caller(task_role, placement, task_id)
                for action in ("ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                               "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"):
                    step = self._step(f"ECS Exec ({action.split(':')[1]})", caller, IamRequest(action, "*"),
                                      via="ssmmessages", failure="")
                    if not step.ok:
                        reason = step.decision.message if step.decision is not None else ""
                        step = replace(step, status="unavailable", stopped_reason="", required=False,
                                       detail=f"execute-command fails (the task still starts): the SSM agent in the"
                                              f" task cannot open its channels: {reason}")
                    steps.append(replace(step, required=False))
        subject = f"service {service.logical_id or service.name}" if service else f"task definition {task.family}"
        return LaunchReport(subject, kind, tuple(steps), tuple(notes))

    # -- individual steps --------------------------------------------------------------------------

    def _assume(self, label: str, role: Role, task_arn: str) -> LaunchStep:
        env = self.env
        principal = principal_from_arn("ecs-tasks.amazonaws.com")
        context = RequestContext.of({"aws:SourceAccount": env.account, "aws:SourceArn": task_arn})
        def decide(permissive: bool | None) -> AuthorizationResult:
            trust = role.trust_policy
            if trust is not None and permissive is not None:
                trust = bound(trust, permissive)
            policies = PolicySet.of(resource=(trust,) if trust else (), resource_owner=role.account,
                                    resource_policy_type=PolicyType.ROLE_TRUST)
            # explain: the report shows the policies the engine evaluated for this step.
            return authorize(AuthorizationRequest(principal, "sts:AssumeRole", role.arn, context), policies,
                             explain=True)

        result = decide(None)
        request = IamRequest("sts:AssumeRole", role.arn, {"aws:SourceAccount": (env.account,),
                                                          "aws:SourceArn": (task_arn,)})
        if has_unknowns(role.trust_policy):
            permissive, restrictive = decide(True), decide(False)
            if permissive.allowed != restrictive.allowed:
                unknowns = unknowns_of((role.trust_policy,))
                return LaunchStep(f"assume {label}", principal.arn, request, "undetermined", None,
                                  fix="; ".join(f"{u.what}: {u.supply}" for u in unknowns),
                                  detail=f"the trust policy of {role.name} is not known to accesspath",
                                  result=permissive)
            result = restrictive if restrictive.allowed else permissive
        if result.allowed:
            allowing = result.deciding_statements[0] if result.deciding_statements else None
            detail = (f"trust policy of {role.name}, {allowing.statement.label}" if allowing else
                      f"trust policy of {role.name}")
            return LaunchStep(f"assume {label}", principal.arn, request, "ok", None, detail=detail, result=result)
        where = ""
        if role.trust_policy is not None and role.trust_policy.statements:
            start = role.trust_policy.statements[0].start
            where = f" ({start})" if start else ""
        return LaunchStep(
            f"assume {label}", principal.arn, request, "denied", None,
            f"ECS was unable to assume the role '{role.arn}' that was provided for this task. Please verify that the"
            " role being passed has the proper trust relationship and permissions and that your IAM user has"
            " permissions to pass this role.",
            f"let the trust policy of {role.name}{where} allow sts:AssumeRole to the service principal"
            f" ecs-tasks.amazonaws.com (scoped with aws:SourceAccount {env.account})",
            detail=result.message or "", result=result)

    def _unseen_resource_policy(self, decision: CallDecision, caller: Caller) -> str:
        result = decision.result
        if result is None or result.deciding_gate is not PolicyType.RESOURCE or decision.decision != "implicitDeny":
            return ""
        owner = decision.resource_owner
        if not owner or owner == (caller.principal.account or self.env.account):
            return ""
        if self.decider.resource_holder(decision.request.resource, decision.request.action) is not None:
            return ""
        what = "repository policy" if decision.request.action.startswith("ecr:") else "resource policy"
        return (f"undetermined: {decision.request.resource} belongs to account {owner}, whose {what} is not in the"
                f" inputs; the request is allowed only if that {what} allows {decision.request.action} to"
                f" {caller.role.arn if caller.role else caller.principal.arn} (the role's own policies allow it)")

    def _custom_dns(self, path: NetworkPath | None) -> str:
        """Why an interface endpoint's private DNS cannot be assumed to answer, or ''.

        Private DNS names are answered by the Amazon-provided resolver (PrivateLink guide, "Private DNS
        names"); a VPC whose DHCP options name other DNS servers resolves through them, and whether they
        forward to it is not in the inputs."""
        if path is None or path.kind is not PathKind.INTERFACE_ENDPOINT or path.endpoint is None:
            return ""
        vpc = self.env.vpcs.get(path.endpoint.vpc_id)
        if vpc is None or not vpc.dns_servers:
            return ""
        return (f"undetermined: VPC {vpc.id} resolves names with its own DNS servers ({', '.join(vpc.dns_servers)},"
                f" DHCP options); whether they answer the {path.service} host name with the private addresses of"
                f" {path.endpoint.id} is not in the templates")

    def _placement_caller(self, placement: CallerPlacement) -> Caller:
        """A stand-in caller for fixes that only need the placement (the layer download is ECR's own)."""
        return Caller("role", "ecr", None, principal_from_arn(ECR_LAYER_SIGNER), placement)

    def _caller(self, role: Role, placement: CallerPlacement, session: str) -> Caller:
        principal = principal_from_arn(f"arn:{self.env.partition}:sts::{role.account}:assumed-role/{role.name}/{session}")
        return Caller("role", role.name, role, principal, placement)

    def _step(self, name: str, caller: Caller, request: IamRequest, *, via: str | None, failure: str,
              region: str | None = None) -> LaunchStep:
        decision = self.decider.decide(caller, request, region=region, via=via)
        if decision.allowed:
            custom_dns = self._custom_dns(decision.path)
            if custom_dns:
                return LaunchStep(name, caller.principal.arn, request, "undetermined", decision,
                                  detail=custom_dns, fix=_CUSTOM_DNS_FIX)
            return LaunchStep(name, caller.principal.arn, request, "ok", decision,
                              detail=decision.path.describe() if decision.path else "")
        if decision.decision == "undetermined":
            # Not a failure ECS would report: accesspath lacks what decides it, and says what that is.
            missing = "; ".join(f"{u.what}: {u.supply}" for u in decision.unknowns) or decision.message
            return LaunchStep(name, caller.principal.arn, request, "undetermined", decision, "", missing,
                              detail=decision.message)
        status = "unreachable" if decision.decision == "unreachable" else "denied"
        fix = _fix(decision, caller, self.env, region, self.decider)
        unseen = self._unseen_resource_policy(decision, caller)
        if unseen:
            # A cross-account resource whose policy is not in the inputs: that policy decides, and
            # accesspath does not know it (IAM User Guide, "Cross-account policy evaluation logic").
            return LaunchStep(name, caller.principal.arn, request, "undetermined", decision, "", fix, detail=unseen)
        return LaunchStep(name, caller.principal.arn, request, status, decision,
                          _stopped_reason(failure, decision), fix)

    def _image_steps(self, container: Container, caller: Caller | None, placement: CallerPlacement) -> list[LaunchStep]:
        image = container.image
        if not image:
            return []
        env = self.env
        if not _is_ecr(image):
            path = find_path(env, placement, (), env.region)
            if path.kind in (PathKind.NAT_GATEWAY, PathKind.INTERNET_GATEWAY):
                return [LaunchStep(f"pull {image}", "-", None, "ok", None, detail=path.describe())]
            return [LaunchStep(f"pull {image}", "-", None, "unreachable", None,
                               f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed"
                               f" to resolve ref {image}: dial tcp: i/o timeout",
                               "images outside Amazon ECR need a route to the internet: add a NAT gateway route"
                               " (or copy the image to ECR)", detail=path.reason)]
        assert caller is not None
        reference = parse_ecr_image(image)
        region = reference.region or env.region
        account = reference.registry_id or env.account
        repository = f"arn:{env.partition}:ecr:{region}:{account}:repository/{reference.repository}"
        registry = f"{account}.dkr.ecr.{region}.amazonaws.com"
        steps = [
            self._step("registry auth", caller, IamRequest("ecr:GetAuthorizationToken", "*"), via="ecr.api",
                       region=region,
                       failure=("ResourceInitializationError: unable to pull secrets or registry auth: execution"
                                " resource retrieval failed: unable to retrieve ecr registry auth: service call has"
                                f" been retried 3 time(s): RequestError: send request failed caused by: Post"
                                f" \"https://api.ecr.{region}.amazonaws.com/\"")),
            self._step("image manifest", caller, IamRequest("ecr:BatchGetImage", repository), via="ecr.dkr",
                       region=region,
                       failure=(f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed"
                                f" to resolve ref {image}: failed to do request: Head \"https://{registry}/v2/"
                                f"{reference.repository}/manifests/{reference.tag or reference.digest or 'latest'}\"")),
            self._step("image layers", caller, IamRequest("ecr:GetDownloadUrlForLayer", repository), via="ecr.dkr",
                       region=region,
                       failure=(f"CannotPullContainerError: failed to copy: httpReadSeeker: failed open: failed to do"
                                f" request: Get \"https://{registry}/v2/{reference.repository}/blobs/sha256:...\"")),
        ]
        steps.append(self._layer_download(caller.placement or placement, region, image))
        return steps

    def _layer_download(self, placement: CallerPlacement, region: str, image: str) -> LaunchStep:
        env = self.env
        bucket = f"prod-{region}-starport-layer-bucket"
        request = IamRequest("s3:GetObject", f"arn:{env.partition}:s3:::{bucket}/*")
        # ECR's layer download goes to S3 through a gateway endpoint only: an S3 interface endpoint does
        # not serve it (ECR user guide, "Amazon ECR interface VPC endpoints": "Create the Amazon S3 gateway
        # endpoint"; seed 001). So only the gateway type of the S3 endpoint service is looked for.
        s3 = self.decider.endpoint_services.by_id("s3", region)
        services = (replace(s3, types=tuple(t for t in s3.types if t == "Gateway")),) if s3 is not None else ()
        path = find_path(env, placement, services, region)
        failure = (f"CannotPullContainerError: failed to copy: httpReadSeeker: failed open: failed to do request:"
                   f" Get \"https://{bucket}.s3.{region}.amazonaws.com/...\"")
        if path.kind is PathKind.UNDETERMINED:
            return LaunchStep("layer download (S3)", ECR_LAYER_SIGNER, request, "undetermined", None, "",
                              "; ".join(f"{u.what}: {u.supply}" for u in path.unknowns), detail=path.describe(),
                              path=path)
        if not path.reachable:
            subnet = env.subnets.get(placement.subnet_id)
            interface = [e for e in env.endpoints.values()
                         if subnet is not None and e.vpc_id == subnet.vpc_id and e.endpoint_type == "Interface"
                         and e.service_name == f"com.amazonaws.{region}.s3"]
            unused = (f" (the S3 interface endpoint {interface[0].logical_id or interface[0].id} does not serve ECR's"
                      " layer download)" if interface else " (an S3 interface endpoint cannot serve ECR)")
            if path.blocked_by == "no-public-ip":
                fix = (f"{_network_fix(path, self._placement_caller(placement), env, region)}; or add the S3 gateway"
                       f" endpoint com.amazonaws.{region}.s3 to the route table of the subnet {placement.subnet_id}")
            elif path.blocked_by == "caller-egress":
                fix = "let the task's security groups allow outbound HTTPS (443) to the S3 gateway endpoint's prefix list"
            else:
                fix = (f"add the S3 gateway endpoint com.amazonaws.{region}.s3 to the route table of the subnet"
                       f" {placement.subnet_id}{unused}")
            return LaunchStep("layer download (S3)", ECR_LAYER_SIGNER, request, "unreachable", None,
                              f"{failure}: dial tcp: i/o timeout", fix, detail=path.reason, path=path)
        if path.endpoint is None:
            return LaunchStep("layer download (S3)", ECR_LAYER_SIGNER, request, "ok", None, detail=path.describe(),
                              path=path)
        endpoint_policy = path.endpoint.policy or DEFAULT_ENDPOINT_POLICY
        signer = principal_from_arn(ECR_LAYER_SIGNER)
        context = RequestContext.of({"aws:SourceVpce": path.endpoint.id, "aws:SourceVpc": path.endpoint.vpc_id,
                                     "aws:SecureTransport": "true", "aws:RequestedRegion": region})
        result = authorize(AuthorizationRequest(signer, request.action, request.resource, context),
                           PolicySet.of(identity=[_SIGNER_IDENTITY], vpc_endpoint=[endpoint_policy]), explain=True)
        if result.allowed:
            return LaunchStep("layer download (S3)", ECR_LAYER_SIGNER, request, "ok", None, detail=path.describe(),
                              result=result, path=path)
        return LaunchStep(
            "layer download (S3)", ECR_LAYER_SIGNER, request, "denied", None,
            f"CannotPullContainerError: failed to copy: httpReadSeeker: failed open: unexpected status code"
            f" https://{bucket}.s3.{region}.amazonaws.com/...: 403 Forbidden",
            f"the layer download is presigned by ECR, not made by the task: let the endpoint policy of"
            f" {path.endpoint.id} allow s3:GetObject on arn:aws:s3:::{bucket}/* for any principal"
            f" (the ECR guide's recommended statement)", detail=result.message or "", result=result, path=path)

    def _log_steps(self, container: Container, caller: Caller, task_id: str) -> list[LaunchStep]:
        if container.log_driver != "awslogs":
            return []
        options = dict(container.log_options)
        group = options.get("awslogs-group")
        if not group:
            return [LaunchStep("awslogs", caller.principal.arn, None, "denied", None,
                               "failed to initialize logging driver: missing required option awslogs-group",
                               f"set the awslogs-group option of container {container.name}")]
        region = options.get("awslogs-region") or self.env.region
        prefix = options.get("awslogs-stream-prefix")
        stream = f"{prefix}/{container.name}/{task_id}" if prefix else task_id
        base = f"arn:{self.env.partition}:logs:{region}:{self.env.account}:log-group:{group}"
        failure = "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times"
        steps = []
        if options.get("awslogs-create-group", "").lower() == "true":
            steps.append(self._step("awslogs create group", caller,
                                    IamRequest("logs:CreateLogGroup", f"{base}:log-stream:"), via="logs",
                                    region=region, failure=failure))
        steps.append(self._step("awslogs create stream", caller,
                                IamRequest("logs:CreateLogStream", f"{base}:log-stream:{stream}"), via="logs",
                                region=region, failure=failure))
        steps.append(self._step("awslogs put events", caller,
                                IamRequest("logs:PutLogEvents", f"{base}:log-stream:{stream}"), via="logs",
                                region=region, failure="the container's logs are not delivered (PutLogEvents fails)"))
        return steps

    def _secret_steps(self, container: Container, caller: Caller) -> list[LaunchStep]:
        steps = []
        env = self.env
        for name, value_from in container.secrets:
            if "*" in value_from or "?" in value_from:
                # valueFrom names one secret or parameter (its ARN, or a name): it is an identifier, not
                # an IAM pattern (ECS guide, "Pass sensitive data to an Amazon ECS container").
                steps.append(LaunchStep(
                    f"secret {name}", caller.principal.arn, None, "invalid", None,
                    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource"
                    f" retrieval failed: '{value_from}' names no secret or parameter",
                    f"give container {container.name}'s secret {name} the full ARN (or the name) of one secret or"
                    " parameter: valueFrom takes no wildcard",
                    detail=f"valueFrom '{value_from}' contains a wildcard"))
                continue
            if ":secretsmanager:" in value_from:
                parts = value_from.split(":")
                secret_arn = ":".join(parts[:7]) if len(parts) >= 7 else value_from
                region = parts[3] if len(parts) > 3 else env.region
                failure = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource"
                           " retrieval failed: unable to retrieve secret from asm: service call has been retried 1"
                           f" time(s): failed to fetch secret {secret_arn} from secrets manager")
                steps.append(self._step(f"secret {name}", caller,
                                        IamRequest("secretsmanager:GetSecretValue", secret_arn),
                                        via="secretsmanager", region=region, failure=failure))
                steps.extend(self._secret_key_steps(name, secret_arn, region, caller, failure))
            else:
                if value_from.startswith("arn:"):
                    parameter_arn = value_from
                    region = value_from.split(":")[3]
                else:
                    region = env.region
                    parameter_arn = (f"arn:{env.partition}:ssm:{region}:{env.account}:parameter/"
                                     f"{value_from.lstrip('/')}")
                steps.append(self._step(f"secret {name}", caller, IamRequest("ssm:GetParameters", parameter_arn),
                                        via="ssm", region=region,
                                        failure=("ResourceInitializationError: unable to pull secrets or registry"
                                                 " auth: execution resource retrieval failed: unable to retrieve"
                                                 " secrets from ssm: service call has been retried 1 time(s)")))
        return steps

    def _secret_key_steps(self, name: str, secret_arn: str, region: str, caller: Caller,
                          failure: str) -> list[LaunchStep]:
        """kms:Decrypt of a secret encrypted with a customer managed key: Secrets Manager calls KMS on the
        caller's behalf, with kms:ViaService (Secrets Manager user guide, "Secret encryption and
        decryption"; KMS developer guide, kms:ViaService). The call is made by the service, so no
        endpoint of the caller's VPC is on its path."""
        holder = self.env.resources.get(secret_arn)
        key = holder.kms_key if holder is not None else None
        if not key or key.startswith("alias/aws/") or key == "aws/secretsmanager":
            return []
        env = self.env
        if key.startswith("arn:"):
            key_arn = key
        elif key.startswith("alias/"):
            return [LaunchStep(f"secret {name} key", caller.principal.arn, None, "denied", None,
                               f"the secret's key is given as the alias '{key}', which accesspath cannot resolve",
                               "give the key's id or ARN (KmsKeyId: !GetAtt Key.Arn) so the key policy can be checked")]
        else:
            key_arn = f"arn:{env.partition}:kms:{region}:{env.account}:key/{key}"
        service_caller = Caller(caller.kind, caller.id, caller.role, caller.principal, None)
        request = IamRequest("kms:Decrypt", key_arn, {"kms:ViaService": (f"secretsmanager.{region}.amazonaws.com",),
                                                      "kms:CallerAccount": (caller.principal.account or env.account,)})
        return [self._step(f"secret {name} key", service_caller, request, via=None, region=region, failure=failure)]

    def _instance(self, ref: str | None, placement: CallerPlacement | None) -> Instance | None:
        if ref is None:
            return None
        found = next((i for i in self.env.instances.values() if ref in (i.logical_id, i.id)), None)
        if found is None:
            raise UsageError(f"--instance '{ref}' is not an EC2 instance of the environment")
        return found

    def _agent_steps(self, instance: Instance, cluster: str) -> list[LaunchStep]:
        """The container agent's calls, as the instance role from the instance (seed 001, EC2 launch type:
        the ecs-agent endpoint serves ecs:Poll, ecs-telemetry ecs:StartTelemetrySession, ecs the rest)."""
        name = instance.logical_id or instance.id
        role = self.env.role_by_name_or_arn(instance.role_name) if instance.role_name else None
        if role is None or instance.subnet_id is None:
            return [LaunchStep("container agent", "-", None, "denied", None,
                               f"container instance {name} has no instance profile role: the agent cannot register",
                               "attach an instance profile with AmazonEC2ContainerServiceforEC2Role")]
        steps: list[LaunchStep] = []
        if (instance.http_endpoint or "").lower() == "disabled":
            # The agent gets the instance role's credentials from IMDS like any SDK on the instance.
            return [LaunchStep("agent: instance role credentials", "-", None, "denied", None,
                               "the container instance does not register with the cluster: the ECS agent gets no"
                               " credentials (IMDS is off)",
                               f"set MetadataOptions HttpEndpoint: enabled on {name} (block containers from IMDS with"
                               " the settings for their network mode instead)")]
        if instance.cluster is not None and instance.cluster != cluster:
            steps.append(LaunchStep("agent: cluster", "-", None, "denied", None,
                                    f"container instance {name} registers with cluster '{instance.cluster}', not"
                                    f" '{cluster}': tasks of '{cluster}' are not placed on it",
                                    f"set ECS_CLUSTER={cluster} in /etc/ecs/ecs.config in its user data"))
        caller = self._caller(role, CallerPlacement(instance.subnet_id, instance.security_group_ids,
                                                    instance.public_ip), instance.id)
        env = self.env
        cluster_arn = f"arn:{env.partition}:ecs:{env.region}:{env.account}:cluster/{cluster}"
        container_instance = (f"arn:{env.partition}:ecs:{env.region}:{env.account}:container-instance/{cluster}/"
                              f"{task_id_for(instance.id)}")
        failure = "the container instance does not register with the cluster: tasks are not placed on it"
        steps += [
            self._step("agent: discover poll endpoint", caller, IamRequest("ecs:DiscoverPollEndpoint", "*"),
                       via="ecs", failure=failure),
            self._step("agent: register container instance", caller,
                       IamRequest("ecs:RegisterContainerInstance", cluster_arn), via="ecs", failure=failure),
            self._step("agent: poll (ecs-agent)", caller, IamRequest("ecs:Poll", container_instance), via="ecs-agent",
                       failure=failure),
            self._step("agent: telemetry (ecs-telemetry)", caller,
                       IamRequest("ecs:StartTelemetrySession", container_instance), via="ecs-telemetry",
                       failure="container metrics are not delivered"),
            self._step("agent: submit task state", caller, IamRequest("ecs:SubmitTaskStateChange", cluster_arn),
                       via="ecs", failure="the task stays PENDING: the agent cannot report its state"),
        ]
        return steps


def _ec2_kind(service: EcsService) -> str:
    if service.launch_type:
        return service.launch_type.upper()
    if service.capacity_providers:
        return f"EC2, capacity provider {', '.join(service.capacity_providers)}"
    return "EC2"


_CUSTOM_DNS_FIX = ("make the DNS servers of the DHCP options forward amazonaws.com queries to the Amazon-provided"
                   " resolver (the VPC CIDR base + 2, or a Route 53 Resolver outbound rule), then check again without"
                   " them")


def _is_ecr(image: str) -> bool:
    host = image.split("/", 1)[0]
    return ".dkr.ecr." in host and host.endswith((".amazonaws.com", ".amazonaws.com.cn"))


def _needs_execution_role(container: Container) -> bool:
    return bool((container.image and _is_ecr(container.image)) or container.log_driver == "awslogs"
                or container.secrets)


def _stopped_reason(failure: str, decision: CallDecision) -> str:
    if decision.decision == "unreachable":
        return f"{failure}: dial tcp: i/o timeout"
    return f"{failure}: AccessDeniedException: {decision.message}"


def _fix(decision: CallDecision, caller: Caller, env: Environment, region: str | None,
         decider: Decider | None = None) -> str:
    """The change that removes what actually blocked the request: the network piece or the deciding policy."""
    request = decision.request
    path = decision.path
    if decision.decision == "unreachable":
        return _network_fix(path, caller, env, region)
    result = decision.result
    gate = result.deciding_gate if result else None
    if result is not None and result.deciding_statements and decision.decision == "explicitDeny":
        match = result.deciding_statements[0]
        where = f" at {match.statement.start}" if match.statement.start else ""
        return f"narrow the Deny {match.statement.label} of {match.policy.policy_id}{where}"
    principal = caller.role.arn if caller.role else caller.principal.arn
    if gate is PolicyType.VPC_ENDPOINT and path is not None and path.endpoint is not None:
        return (f"allow {request.action} on {request.resource} in the endpoint policy of"
                f" {path.endpoint.logical_id or path.endpoint.id}")
    if gate in (PolicyType.RESOURCE, PolicyType.KMS_KEY):
        holder = decider.resource_holder(request.resource, request.action) if decider is not None else None
        kind = getattr(holder, "kind", None)
        name = (getattr(holder, "logical_id", None) or getattr(holder, "arn", None)) if holder is not None else None
        if kind is None and request.action.startswith("ecr:"):
            kind, name = "ecr-repository", request.resource
        what = {"ecr-repository": "the repository policy", "kms-key": "the key policy", "s3-bucket": "the bucket policy",
                "secret": "the secret's resource policy", "sqs-queue": "the queue policy"}.get(
                    kind or "", "the key policy" if gate is PolicyType.KMS_KEY else "the resource policy")
        owner = decision.resource_owner
        across = (f" (it belongs to account {owner}: a cross-account request needs that policy to name the role)"
                  if owner and owner != (caller.principal.account or env.account) else "")
        return f"let {what}{f' of {name}' if name else ''} allow {request.action} to {principal}{across}"
    if gate is PolicyType.SCP:
        return f"the organization's SCPs do not allow {request.action}: change them (the role's policies allow it)"
    if gate is PolicyType.RCP:
        return f"the organization's RCPs do not allow {request.action} on {request.resource}: change them"
    if gate is PolicyType.PERMISSIONS_BOUNDARY:
        role = caller.role.name if caller.role else principal
        return f"allow {request.action} on {request.resource} in the permissions boundary of the role {role}"
    role = caller.role.name if caller.role else caller.principal.arn
    return f"allow {request.action} on {request.resource} in a policy of the role {role}"


def _network_fix(path: NetworkPath | None, caller: Caller, env: Environment, region: str | None) -> str:
    """What to change in the network, from what blocked the path."""
    service = path.service if path else "the service"
    subnet = caller.placement.subnet_id if caller.placement else "the subnet"
    blocked_by = path.blocked_by if path is not None else ""
    endpoint = path.endpoint if path is not None else None
    if endpoint is not None and blocked_by == "endpoint-security-groups":
        return (f"let the security groups of endpoint {endpoint.logical_id or endpoint.id}"
                f" ({', '.join(endpoint.security_group_ids)}) admit HTTPS (443) from {subnet} or from the task's"
                " security groups")
    if endpoint is not None and blocked_by == "endpoint-without-security-group":
        return (f"give endpoint {endpoint.logical_id or endpoint.id} a security group admitting HTTPS (443) from"
                f" {subnet}")
    if blocked_by == "caller-egress":
        target = f" to endpoint {endpoint.logical_id or endpoint.id}" if endpoint is not None else ""
        return f"let the caller's security groups allow outbound HTTPS (443){target}"
    if blocked_by == "no-public-ip":
        return (f"subnet {subnet} routes to an internet gateway but the task has no public IP: set AssignPublicIp:"
                f" ENABLED in the service's AwsvpcConfiguration, or add an interface VPC endpoint for"
                f" com.amazonaws.{region or env.region}.{service} or a NAT gateway route")
    return (f"add an interface VPC endpoint for com.amazonaws.{region or env.region}.{service} with private DNS"
            f" and a security group admitting HTTPS (443) from {subnet}, or a NAT gateway route")
