"""``accesspath env export|show``: the environment accesspath builds from templates."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from accesspath.cli.environment_options import (
    add_environment_arguments,
    load_environment_from_args,
)
from accesspath.errors import UsageError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("env", help="export or show the environment built from templates",
                                   description="Work with the environment accesspath builds from templates.")
    commands = parser.add_subparsers(dest="env_command", metavar="SUBCOMMAND")
    export = commands.add_parser(
        "export", help="write the environment as a native environment file (JSON)",
        description=("Write the environment (network, endpoints, roles and their policies, tasks, resources) as a"
                     " native environment file that every command accepts in place of templates; see"
                     " docs/environment.md for the schema."))
    add_environment_arguments(export)
    export.add_argument("-o", "--output", default="-", help="file to write (default: standard output)")
    export.set_defaults(run=run_export)
    show = commands.add_parser("show", help="summarize the environment and everything not modelled",
                               description="Summarize what accesspath understood of the templates.")
    add_environment_arguments(show)
    show.set_defaults(run=run_show)
    parser.set_defaults(run=lambda args: (parser.print_help(sys.stderr), 2)[1])


def run_export(args: argparse.Namespace) -> int:
    from accesspath.environment.native import to_document

    env = load_environment_from_args(args)
    text = json.dumps(to_document(env), indent=2) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        try:
            Path(args.output).write_text(text)
        except OSError as error:
            raise UsageError(f"cannot write '{args.output}': {error.strerror}") from None
    return 0


def run_show(args: argparse.Namespace) -> int:
    from accesspath.environment.callers import candidates

    env = load_environment_from_args(args)
    lines = [f"account {env.account}, region {env.region}, partition {env.partition}"
             + (f", organization {env.organization_id}" if env.organization_id else "")]
    lines.append(f"VPCs: {', '.join(env.vpcs) or 'none'}")
    for endpoint in env.endpoints.values():
        policy = "default (full access)" if endpoint.policy is None else endpoint.policy.policy_id
        dns = ", private DNS" if endpoint.private_dns else ""
        lines.append(f"endpoint {endpoint.id} ({endpoint.logical_id}): {endpoint.service_name}"
                     f" [{endpoint.endpoint_type}{dns}], policy: {policy}")
    lines.append("callers: " + (", ".join(candidates(env)) or "none"))
    for arn, holder in env.resources.items():
        lines.append(f"resource {holder.kind} {arn}" + (" (with a resource policy)" if holder.policy else ""))
    for logical_id, kind in env.not_modelled:
        lines.append(f"not modelled: {logical_id} ({kind})")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
