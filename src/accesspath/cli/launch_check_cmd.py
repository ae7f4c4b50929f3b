"""``accesspath launch-check TEMPLATE... --service ID``: will this task start, and if not, why?"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from accesspath.cli.environment_options import (
    add_environment_arguments,
    add_key_policy_argument,
    endpoint_services_from_args,
    load_environment_from_args,
)
from accesspath.errors import UsageError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "launch-check",
        help="walk every step ECS takes to start a task (roles, image pull, logs, secrets, agent, ECS Exec)",
        description=(
            "Check that ECS can start the task: the task and execution roles can be assumed, the image can be"
            " pulled (registry auth through ecr.api, manifest and layers through ecr.dkr, the layer download"
            " through the S3 gateway endpoint), awslogs can write, secrets can be read, the container agent can"
            " reach ECS (EC2 launch type) and ECS Exec can open its channels — each as real requests through the"
            " task's network path, decided by the engine. Exit status: 0 when ready (ready: true), 1 when a step fails (ready: false), 3 when no step fails"
            " but one is undetermined because it depends on a role, policy or value the inputs do not give"
            " (ready: unknown; the step says what and how to give it), 2 for bad input."),
    )
    add_environment_arguments(parser)
    add_key_policy_argument(parser)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--service", help="the ECS service (logical id or name)")
    target.add_argument("--task-definition", help="a task definition (logical id, family or ARN); needs --subnet")
    parser.add_argument("--subnet", help="with --task-definition: the subnet the task runs in (id, LogicalId or"
                                          " Stack/LogicalId)")
    parser.add_argument("--security-group", action="append", default=[], metavar="ID",
                        help="with --task-definition: the task's security groups (repeatable)")
    parser.add_argument("--launch-type", choices=("FARGATE", "EC2"), default=None,
                        help="with --task-definition: the launch type (default: FARGATE if compatible)")
    parser.add_argument("--instance", default=None,
                        help="EC2 launch type: the container instance (EC2 instance, Auto Scaling group or spot"
                             " fleet) the task runs on (default: one that joins the service's cluster or capacity"
                             " provider)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from accesspath.environment.decide import Decider
    from accesspath.launch.steps import LaunchChecker

    env = load_environment_from_args(args)
    checker = LaunchChecker(env, Decider(env, endpoint_services_from_args(args),
                                                 assume_default_key_policy=args.assume_default_key_policy))
    if args.service:
        if args.subnet or args.security_group:
            raise UsageError("--subnet and --security-group go with --task-definition; a service runs in its own")
        report = checker.for_service(args.service, args.instance)
    else:
        if not args.subnet:
            raise UsageError("--task-definition needs --subnet (the subnet the task would run in)")
        from accesspath.environment.callers import unknown_network_references

        for warning in unknown_network_references(env, args.subnet, tuple(args.security_group)):
            print(f"accesspath: warning: {warning}", file=sys.stderr)
        report = checker.for_task_definition(args.task_definition, args.subnet, tuple(args.security_group),
                                             args.launch_type, args.instance)
    if args.format == "json":
        json.dump(report_json(report), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(report_text(report))
    return {"true": 0, "false": 1, "unknown": 3}[report.readiness]


def report_json(report: Any) -> dict[str, Any]:
    from accesspath.cli.json_vocabulary import path_json, result_fields

    steps = []
    for s in report.steps:
        result, path = s.authorization, s.network_path
        steps.append({
            "step": s.name, "status": s.status, "required": s.required, "principal": s.principal,
            "action": s.request.action if s.request else None,
            "resource": s.request.resource if s.request else None,
            "path": path_json(path),
            "decision": result.decision.value if result is not None else (s.decision.decision if s.decision else None),
            **result_fields(result),
            "message": (s.decision.message if s.decision else (result.message if result else None)) or None,
            "detail": s.detail or None,
            "stoppedReason": s.stopped_reason or None, "fix": s.fix or None,
            "notes": list(s.decision.notes) if s.decision else [],
        })
    ready: bool | str = {"true": True, "false": False}.get(report.readiness, "unknown")
    return {"subject": report.subject, "launchType": report.launch_type, "ready": ready,
            "undetermined": report.undetermined, "verdict": report.verdict, "steps": steps,
            "notes": list(report.notes)}


def report_text(report: Any) -> str:
    verdict = {"ready": "ready", "not ready": "NOT READY", "undetermined": "UNDETERMINED"}[report.verdict]
    lines = [f"launch-check of {report.subject} ({report.launch_type}): {verdict}"]
    for step in report.steps:
        target = f" {step.request.action} on {step.request.resource}" if step.request else ""
        lines.append(f"  [{step.status}] {step.name}:{target}")
        if step.ok and step.detail:
            lines.append(f"      via {step.detail}")
        if step.status in ("unavailable", "undetermined", "invalid") and step.detail:
            lines.append(f"      {step.detail}")
        if not step.ok:
            path, result = step.network_path, step.authorization
            if path is not None:
                lines.append(f"      path: {path.describe()}")
            if result is not None and result.deciding_gate is not None and step.status != "undetermined":
                decided = "".join(f", {m.statement.label} of {m.policy.policy_id}"
                                  + (f" at {m.statement.start}" if m.statement.start else "")
                                  for m in result.deciding_statements[:3])
                lines.append(f"      {result.decision.value} at the {result.deciding_gate.label}{decided}")
            if step.stopped_reason:
                lines.append(f"      stopped reason: {step.stopped_reason}")
            if step.fix:
                lines.append(f"      {'missing' if step.status == 'undetermined' else 'fix'}: {step.fix}")
            for note in step.decision.notes if step.decision is not None else ():
                lines.append(f"      note: {note}")
    for note in report.notes:
        lines.append(f"  note: {note}")
    lines.append(f"ready: {report.readiness}")
    return "\n".join(lines) + "\n"
