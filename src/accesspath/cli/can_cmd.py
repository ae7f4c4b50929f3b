"""``accesspath can TEMPLATE... --from ID -- aws ...``: can this caller make this call, and if not, why?"""

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
        "can",
        help="decide whether a caller of the templates can make an AWS call, through which path, and why",
        description=(
            "Place the caller (an ECS service, task definition, EC2 instance or role of the templates) in its"
            " subnet, find the path its request takes (interface or gateway VPC endpoint, NAT or internet"
            " gateway, or none), assemble the request AWS would see and decide it with every policy on the"
            " way. Exit status: 0 when every IAM request of the call is allowed; 1 when one is explicitDeny,"
            " implicitDeny or unreachable; 3 when none is denied but one is undetermined (it depends on a role,"
            " policy, key policy or value the inputs do not give: the output says what and how to give it);"
            " 2 for bad input."),
        epilog="example: accesspath can stack.yaml --from WebService -- aws ecs describe-clusters --clusters prod",
    )
    add_environment_arguments(parser)
    add_key_policy_argument(parser)
    parser.add_argument("--from", dest="caller", required=True, metavar="ID",
                        help="the caller: an ECS service, task definition, EC2 instance or IAM role (logical id,"
                             " name or ARN)")
    parser.add_argument("--credentials", choices=("task", "instance"), default="task",
                        help="with --from an ECS service on EC2 container instances: decide as its task role (the"
                             " default) or as the instance role its containers get through IMDS (unreachable, with"
                             " the reason, where the instance blocks IMDS for the task's network mode)")
    parser.add_argument("--subnet", default=None, help="place the caller in this subnet instead of its own (id, LogicalId or"
                        " Stack/LogicalId)")
    parser.add_argument("--security-group", action="append", default=[], metavar="ID",
                        help="with --subnet: the caller's security groups")
    parser.add_argument("--action", default=None, help="decide this IAM action instead of a call after '--'")
    parser.add_argument("--resource", default="*", help="with --action: the resource ARN (default: *)")
    parser.add_argument("--context", action="append", default=[], metavar="KEY=VALUE",
                        help="with --action: a request context key (repeatable)")
    parser.add_argument("--via", default=None, metavar="ENDPOINT_SERVICE",
                        help="the endpoint service the call goes to, when an action can use several: e.g."
                             " ecr.dkr for an image pull's ecr:BatchGetImage (default: the most specific)")
    parser.add_argument("--resource-account", default=None,
                        help="the owner of resources whose ARN names no account (S3 buckets) when the templates"
                             " do not declare them")
    parser.add_argument("--explain", action="store_true", help="add the trace down to every condition")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.set_defaults(run=run, accepts_trailing=True)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from accesspath.catalog.calls import IamRequest
    from accesspath.environment.callers import (
        instance_credentials_caller,
        resolve_caller,
        unknown_network_references,
    )
    from accesspath.environment.decide import CallDecision, Decider
    from accesspath.environment.unknowns import Unknown

    env = load_environment_from_args(args)
    reach = None
    if args.credentials == "instance":
        caller, reach = instance_credentials_caller(env, args.caller, subnet=args.subnet,
                                                    security_groups=tuple(args.security_group))
    else:
        caller = resolve_caller(env, args.caller, subnet=args.subnet, security_groups=tuple(args.security_group))
    for warning in unknown_network_references(env, args.subnet, tuple(args.security_group)):
        print(f"accesspath: warning: {warning}", file=sys.stderr)
    region = env.region
    if args.action:
        if args.trailing:
            raise UsageError("give either --action or a call after '--', not both")
        context: dict[str, tuple[str, ...]] = {}
        for item in args.context:
            key, sep, value = item.partition("=")
            if not sep:
                raise UsageError(f"--context '{item}' must look like KEY=VALUE")
            context[key] = context.get(key, ()) + (value,)
        _warn_unknown_action(args.action)
        requests = (IamRequest(args.action, args.resource, context),)
        call_name = args.action
    else:
        if not args.trailing:
            raise UsageError("say what to decide: a call after '--' (-- aws ecs list-clusters) or --action")
        requests, region, call_name = _call_requests(args.trailing, caller, env)
    decider = Decider(env, endpoint_services_from_args(args), resource_account=args.resource_account,
                      assume_default_key_policy=args.assume_default_key_policy)
    if reach is not None and not reach.reachable:
        # The container cannot get these credentials at all: nothing is signed with them.
        if reach.status == "blocked":
            decisions = [CallDecision(r, caller, "unreachable", None, None,
                                      f"the instance role is not available to the container: {reach.reason}", None)
                         for r in requests]
        else:
            host = caller.instance
            missing = tuple(Unknown(what, "put that configuration in the user data or cfn-init metadata of the"
                                          " templates", host.position if host else None)
                            for what in (host.unread if host else ()))
            decisions = [CallDecision(r, caller, "undetermined", None, None,
                                      f"whether the container reaches the instance role is undetermined: {reach.reason}",
                                      None, (f"to close it: {reach.fix}",) if reach.fix else (), missing)
                         for r in requests]
    else:
        decisions = [decider.decide(caller, r, region=region, via=args.via, explain=args.explain) for r in requests]
        if reach is not None:
            decisions = [replace(d, notes=d.notes + (f"the container gets the instance role through IMDS: {reach.reason};"
                                                     f" to close it: {reach.fix}",)) for d in decisions]
    if args.format == "json":
        json.dump(_json(call_name, caller, decisions, args.explain), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(_text(call_name, caller, decisions, args.explain))
    return exit_status(decisions)


# Exit statuses of 'can' (README, "Exit status"): undetermined is neither a pass nor a denial.
EXIT_ALLOWED, EXIT_DENIED, EXIT_UNDETERMINED = 0, 1, 3


def exit_status(decisions: list[Any]) -> int:
    if any(d.decision not in ("allowed", "undetermined") for d in decisions):
        return EXIT_DENIED
    return EXIT_UNDETERMINED if any(d.decision == "undetermined" for d in decisions) else EXIT_ALLOWED


def _warn_unknown_action(action: str) -> None:
    """A misspelled action is decided all the same (AWS would deny it), but the user hears of it first."""
    from accesspath.catalog.service_catalog import get_catalog

    catalog = get_catalog()
    prefix = action.split(":", 1)[0]
    if ":" not in action:
        raise UsageError(f"action '{action}' must look like 'service:Action'")
    if not catalog.has_service(prefix):
        closest = catalog.closest_service(prefix)
        hint = f" (did you mean '{closest}'?)" if closest else ""
        print(f"accesspath: warning: '{prefix}' is not a service prefix in the IAM action catalog{hint}",
              file=sys.stderr)
    elif catalog.find_action(action) is None:
        closest = catalog.closest_action(action)
        hint = f" (did you mean '{closest}'?)" if closest else ""
        print(f"accesspath: warning: action '{action}' does not exist in the IAM action catalog{hint}",
              file=sys.stderr)


def _call_requests(words: list[str], caller: Any, env: Any) -> tuple[tuple[Any, ...], str, str]:
    from accesspath.catalog.aws_cli import iam_requests_for_cli, parse_aws_cli

    parsed = parse_aws_cli(words)
    region = parsed.region or env.region
    extras = {}
    task = caller.task_definition
    if task is not None:
        for key, name in (("task_role_arn", task.task_role_name), ("execution_role_arn", task.execution_role_name)):
            role = env.role_by_name_or_arn(name) if name else None
            if role is not None:
                extras[key] = role.arn
    account = caller.principal.account or env.account
    requests = iam_requests_for_cli(parsed, account=account, region=region, extras=extras)
    return requests, region, ", ".join(dict.fromkeys(f"{c.service} {c.operation}" for c in parsed.calls)) or \
        " ".join(words)


def _json(call_name: str, caller: Any, decisions: list[Any], explain: bool) -> dict[str, Any]:
    from accesspath.cli.json_vocabulary import caller_json, decision_json
    from accesspath.simulate import explanation_to_json

    return {
        "call": call_name,
        "caller": caller_json(caller),
        "results": [{
            **decision_json(d), "inferred": d.request.inferred,
            "explanation": explanation_to_json(d.result) if explain and d.result else None,
        } for d in decisions],
    }


def _text(call_name: str, caller: Any, decisions: list[Any], explain: bool) -> str:
    from accesspath.cli.render import render_results_text

    lines = [f"{call_name} from {caller.describe()}"]
    for d in decisions:
        inferred = " (inferred: no curated mapping for this call)" if d.request.inferred else ""
        resource = f"{d.request.resource_pattern} (not known)" if d.request.unresolved else d.request.resource
        lines.append(f"  {d.request.action} on {resource}: {d.decision}{inferred}")
        if d.path is not None:
            lines.append(f"    path: {d.path.describe()}")
        if d.decision == "undetermined" and d.unknowns:
            lines.append(f"    {d.message.partition(': ')[0]}:")
            for unknown in d.unknowns:
                lines.append(f"    missing: {unknown}")
        elif d.decision == "undetermined" or (d.decision == "unreachable" and d.path is None):
            lines.append(f"    {d.message}")
        if d.result is not None and d.decision != "undetermined":
            body = render_results_text([d.result], explain=explain).splitlines()[1:]
            lines.extend(f"  {line}" for line in body if line)
        for note in d.notes:
            lines.append(f"    note: {note}")
    return "\n".join(lines) + "\n"
