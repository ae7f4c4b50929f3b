"""``accesspath access TEMPLATE... --from ID``: what a caller can do, and which gate limits the rest."""

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


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "access",
        help="list what a caller of the templates can do, per service and resource, and what limits the rest",
        description=(
            "Decide every action of the services the caller's policies name (every service of the environment"
            " when they name all), through the caller's real network path, on the resources it can be asked"
            " about: \"*\" for actions without resources, the environment's resources of the action's resource"
            " types (ECS clusters, services, task definitions and capacity providers included), the Resource"
            " patterns of the caller's and its VPC's endpoint policies, and any resource of the type (its ARN"
            " format with \"*\" for names). Prints the allowed actions per resource and, for the rest, which gate"
            " stopped them; each pair is decided exactly as 'accesspath can --action A --resource R' would."),
    )
    add_environment_arguments(parser)
    add_key_policy_argument(parser)
    parser.add_argument("--from", dest="caller", required=True, metavar="ID",
                        help="the caller: an ECS service, task definition, EC2 instance or IAM role")
    parser.add_argument("--credentials", choices=("task", "instance"), default="task",
                        help="with --from an ECS service on EC2 container instances: as its task role (the default)"
                             " or as the instance role its containers reach through IMDS (nothing, with the reason,"
                             " where the instance blocks it for the task's network mode)")
    parser.add_argument("--service", action="append", default=None, metavar="PREFIX",
                        help="only these service prefixes (repeatable), e.g. --service logs")
    parser.add_argument("--resource-account", default=None,
                        help="the owner of resources whose ARN names no account, when not declared")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from accesspath.environment.access import caller_access
    from accesspath.environment.callers import instance_credentials_caller, resolve_caller
    from accesspath.environment.container_credentials import container_credentials
    from accesspath.environment.decide import Decider

    env = load_environment_from_args(args)
    if args.credentials == "instance":
        caller, reach = instance_credentials_caller(env, args.caller)
    else:
        caller, reach = resolve_caller(env, args.caller), None
    decider = Decider(env, endpoint_services_from_args(args), resource_account=args.resource_account,
                      assume_default_key_policy=args.assume_default_key_policy)
    # An EC2 service's containers can use two kinds of credentials: say which they get.
    sources = (container_credentials(caller.task_definition, caller.instance)
               if caller.kind == "ecs-service" and caller.instance is not None else ())
    if reach is not None and not reach.reachable:
        # The containers cannot get the instance role (or it is undetermined): nothing to decide with it.
        report = replace(caller_access(decider, caller, services=[]),
                         notes=(f"the instance role is {reach.status} for the service's containers: {reach.reason}",))
    else:
        report = caller_access(decider, caller, services=args.service)
    if args.format == "json":
        json.dump({**access_json(report), "credentials": [
            {"kind": c.kind, "role": c.role, "status": c.status, "reason": c.reason, "fix": c.fix or None}
            for c in sources]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    text = access_text(report)
    if sources:
        header, _, rest = text.partition("\n")
        text = header + "\n" + "".join(f"  credentials: {c.describe()}\n" for c in sources) + rest
    sys.stdout.write(text)
    return 0


def access_json(report: Any) -> dict[str, Any]:
    from accesspath.cli.json_vocabulary import caller_json, decision_json

    return {
        "caller": caller_json(report.caller),
        "notes": list(report.notes),
        "services": [{
            "service": s.service,
            "actions": {"total": len(s.actions), "allowed": len(s.allowed_actions)},
            "pairs": {"total": len(s.pairs), **s.counts()},
            "allowed": [{**decision_json(p.decision), "basis": p.basis, "resourceType": p.resource_type}
                        for p in s.allowed],
            "denied": [{**decision_json(p.decision), "basis": p.basis, "resourceType": p.resource_type}
                       for p in s.pairs if not p.decision.allowed],
            "limits": [{"gate": g.gate, "decision": g.decision, "pairs": g.pairs, "actions": list(g.actions)}
                       for g in s.limits()],
        } for s in report.services],
    }


# How many action names a text line lists before it only counts the rest.
_SHOWN_ACTIONS = 8


def access_text(report: Any) -> str:
    lines = [f"access of {report.caller.describe()}"]
    lines += [f"  note: {note}" for note in report.notes]
    for service in report.services:
        allowed_actions = service.allowed_actions
        counts = service.counts()
        lines.append(f"{service.service}: {len(allowed_actions)} of {len(service.actions)} actions allowed"
                     f" ({counts.get('allowed', 0)} of {len(service.pairs)} action x resource pairs)")
        by_resource: dict[tuple[str, str], list[str]] = {}
        for pair in service.allowed:
            by_resource.setdefault((pair.resource, pair.basis), []).append(pair.action.split(":", 1)[1])
        for (resource, basis), actions in sorted(by_resource.items()):
            label = {"any-of-type": " (any of the type)", "policy-pattern": " (a policy's pattern)"}.get(basis, "")
            lines.append(f"  allowed on {resource}{label}: {', '.join(sorted(actions))}")
        for limit in service.limits():
            names = [a.split(":", 1)[1] for a in limit.actions]
            shown = ", ".join(names[:_SHOWN_ACTIONS]) + (f" and {len(names) - _SHOWN_ACTIONS} more"
                                                         if len(names) > _SHOWN_ACTIONS else "")
            if limit.gate == "undetermined":
                lines.append(f"  undetermined (they depend on what the inputs do not give): {limit.pairs} pairs of"
                             f" {len(names)} actions: {shown}")
                continue
            what = "unreachable (network)" if limit.gate == "network" else f"{limit.gate} ({limit.decision})"
            lines.append(f"  denied by {what}: {limit.pairs} pairs of {len(names)} actions: {shown}")
    return "\n".join(lines) + "\n"
