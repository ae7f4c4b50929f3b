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
    show.add_argument("--verbose", "-v", action="store_true",
                      help="also list subnets, route tables, gateways, security groups and roles defined elsewhere,"
                           " each with its logical id")
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


def _unknown(policy: Any) -> bool:
    from accesspath.environment.unknowns import has_unknowns

    return has_unknowns(policy)


def run_show(args: argparse.Namespace) -> int:
    from accesspath.environment.callers import candidates

    env = load_environment_from_args(args)
    lines = [f"account {env.account}, region {env.region}, partition {env.partition}"
             + (f", organization {env.organization_id}" if env.organization_id else "")]
    lines.append(f"VPCs: {', '.join(env.label(v) for v in env.vpcs.values()) or 'none'}")
    if getattr(args, "verbose", False):
        for subnet in env.subnets.values():
            table = env.route_tables.get(subnet.route_table_id or "")
            lines.append(f"subnet {env.label(subnet)}: {subnet.cidr or '?'} in {subnet.vpc_id or '?'}, route table"
                         f" {env.label(table) if table else subnet.route_table_id or 'none'}"
                         + (", public IPs" if subnet.map_public_ip else ""))
        for table in env.route_tables.values():
            routes = ", ".join(f"{r.destination} -> {r.target_kind}{' ' + r.target_id if r.target_id else ''}"
                               for r in table.routes) or "local only"
            lines.append(f"route table {env.label(table)}: {routes}")
        for gateway in env.gateways.values():
            where = f"in subnet {gateway.subnet_id}" if gateway.kind == "nat" else f"attached to {gateway.vpc_id or '?'}"
            lines.append(f"{'NAT' if gateway.kind == 'nat' else 'internet'} gateway {env.label(gateway)}: {where}")
        for key, group in env.security_groups.items():
            if key == group.id:
                lines.append(f"security group {env.label(group)}: {len(group.ingress)} ingress,"
                             f" {len(group.egress)} egress rule(s)")
        for role in env.external_roles.values():
            lines.append(f"role {role.name} ({role.arn}): defined outside the templates"
                         + ("" if role.trust_policy is None or not _unknown(role.trust_policy)
                            else "; its policies are unknown (give --authorization-details FILE)"))
    for endpoint in env.endpoints.values():
        policy = "default (full access)" if endpoint.policy is None else endpoint.policy.policy_id
        dns = ", private DNS" if endpoint.private_dns else ""
        lines.append(f"endpoint {env.label(endpoint)}: {endpoint.service_name}"
                     f" [{endpoint.endpoint_type}{dns}], policy: {policy}")
    lines.append("callers: " + (", ".join(candidates(env)) or "none"))
    for arn, holder in env.resources.items():
        lines.append(f"resource {holder.kind} {arn}" + (" (with a resource policy)" if holder.policy else ""))
    for logical_id, kind in env.not_modelled:
        lines.append(f"not modelled: {logical_id} ({kind})")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
