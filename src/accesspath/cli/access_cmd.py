"""``accesspath access TEMPLATE... --from ID``: what a caller can do, and which gate limits the rest."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from accesspath.cli.environment_options import (
    add_environment_arguments,
    endpoint_services_from_args,
    load_environment_from_args,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "access",
        help="list what a caller of the templates can do, per service and resource, and what limits the rest",
        description=(
            "Decide every action of the services the caller's policies name and of the resources the templates"
            " declare, on those resources (or \"*\" for actions without resources), through the caller's real"
            " network path. Prints the allowed actions per resource and, for the rest, which gate stopped them."),
    )
    add_environment_arguments(parser)
    parser.add_argument("--from", dest="caller", required=True, metavar="ID",
                        help="the caller: an ECS service, task definition, EC2 instance or IAM role")
    parser.add_argument("--service", action="append", default=None, metavar="PREFIX",
                        help="only these service prefixes (repeatable), e.g. --service logs")
    parser.add_argument("--resource-account", default=None,
                        help="the owner of resources whose ARN names no account, when not declared")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from accesspath.environment.access import caller_access
    from accesspath.environment.callers import resolve_caller
    from accesspath.environment.decide import Decider

    env = load_environment_from_args(args)
    caller = resolve_caller(env, args.caller)
    decider = Decider(env, endpoint_services_from_args(args), resource_account=args.resource_account)
    report = caller_access(decider, caller, services=args.service)
    if args.format == "json":
        payload = {"caller": {"kind": caller.kind, "id": caller.id, "principal": caller.principal.arn},
                   "services": [{"service": s.service,
                                 "allowed": [{"action": d.request.action, "resource": d.request.resource,
                                              "path": d.path.describe() if d.path else None} for d in s.allowed],
                                 "denied": [{"action": d.request.action, "resource": d.request.resource,
                                             "decision": d.decision,
                                             "gate": d.result.deciding_gate.value
                                             if d.result and d.result.deciding_gate else None}
                                            for d in s.decisions if not d.allowed],
                                 "limits": s.limits()} for s in report]}
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    lines = [f"access of {caller.describe()}"]
    for service in report:
        total, allowed = len(service.decisions), len(service.allowed)
        lines.append(f"{service.service}: {allowed} of {total} action x resource pairs allowed")
        by_resource: dict[str, list[str]] = {}
        for d in service.allowed:
            by_resource.setdefault(d.request.resource, []).append(d.request.action.split(":", 1)[1])
        for resource, actions in sorted(by_resource.items()):
            lines.append(f"  allowed on {resource}: {', '.join(sorted(actions))}")
        for gate, count in sorted(service.limits().items()):
            lines.append(f"  denied by {gate}: {count}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
