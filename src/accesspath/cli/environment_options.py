"""Options shared by every command that loads an environment (templates or a native file)."""

from __future__ import annotations

import argparse
from typing import Any

from accesspath.errors import UsageError

TEMPLATES_HELP = ("CloudFormation templates (YAML or JSON) loaded together, or one native environment file"
                  " written by 'accesspath env export'")


def add_environment_arguments(parser: Any, *, templates_required: bool = True, templates_help: str = TEMPLATES_HELP) -> None:
    parser.add_argument("templates", metavar="TEMPLATE", nargs="+" if templates_required else "*",
                        help=templates_help)
    group = parser.add_argument_group("environment")
    group.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="override a template parameter (repeatable), e.g. --param EnvType=Production")
    group.add_argument("--account", default="123456789012", help="the account id (default: 123456789012)")
    group.add_argument("--region", default=None,
                       help="the region the templates are deployed in (default: us-east-1, or the environment file's)")
    group.add_argument("--partition", default="aws", help="the partition (default: aws)")
    group.add_argument("--org-id", default=None, help="the organization id, for aws:PrincipalOrgID")
    group.add_argument("--scp", action="append", default=[], metavar="FILE",
                       help="an SCP applying to the account; repeat for each level, the organization root first;"
                            " a file may hold one policy or a JSON list of the policies attached at that level")
    group.add_argument("--rcp", action="append", default=[], metavar="FILE",
                       help="an RCP level applying to the account's resources, as for --scp")
    group.add_argument("--authorization-details", metavar="FILE", default=None,
                       help="the JSON of 'aws iam get-account-authorization-details': managed policies (AWS and"
                            " customer) and roles that the templates reference but do not define")
    group.add_argument("--endpoint-services", metavar="FILE", default=None,
                       help="the JSON output of 'aws ec2 describe-vpc-endpoint-services' to use instead of the"
                            " bundled table")


def parameter_overrides(args: argparse.Namespace) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--param '{item}' must look like NAME=VALUE")
        overrides[name] = value
    return overrides


def load_environment_from_args(args: argparse.Namespace) -> Any:
    import sys

    from accesspath.environment.load import load_environment

    env = load_environment(args.templates, account=args.account, region=args.region, partition=args.partition,
                           organization_id=args.org_id, parameters=parameter_overrides(args),
                           scp_files=args.scp, rcp_files=args.rcp,
                           authorization_details=getattr(args, "authorization_details", None))
    # Nothing the user gave is dropped silently: say what could not be loaded or resolved.
    for issue in env.issues:
        print(f"accesspath: {issue}", file=sys.stderr)
    return env


def endpoint_services_from_args(args: argparse.Namespace) -> Any:
    from accesspath.catalog.endpoint_services import default_endpoint_services
    from accesspath.cli.io import read_input

    table = default_endpoint_services()
    if args.endpoint_services:
        text, _ = read_input(args.endpoint_services)
        table = table.with_describe_output(text)
    return table
