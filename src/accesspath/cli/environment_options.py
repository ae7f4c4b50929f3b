"""Options shared by every command that loads an environment (templates or a native file)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accesspath.errors import UsageError

TEMPLATES_HELP = ("CloudFormation templates (YAML or JSON) loaded together, CDK cloud assemblies (a cdk.out folder),"
                  " or one native environment file written by 'accesspath env export'")


def add_environment_arguments(parser: Any, *, templates_required: bool = True, templates_help: str = TEMPLATES_HELP) -> None:
    # Templates may all come from --stack NAME=FILE, so the positional list is checked when loading.
    parser.add_argument("templates", metavar="TEMPLATE", nargs="*", help=templates_help)
    parser.set_defaults(templates_required=templates_required)
    group = parser.add_argument_group("environment")
    group.add_argument("--stack", action="append", default=[], metavar="NAME=FILE",
                       help="load FILE as the stack NAME (repeatable; a TEMPLATE's stack is its file name's stem)")
    group.add_argument("--param", action="append", default=[], metavar="[STACK:]NAME=VALUE",
                       help="set a template parameter (repeatable): NAME=VALUE for every stack that declares it"
                            " (a nested stack takes its parent's value first), STACK:NAME=VALUE for one stack"
                            " (a nested stack is PARENT/LOGICALID); an AWS::SSM::Parameter::Value<...> parameter"
                            " takes the resolved value")
    group.add_argument("--params", action="append", default=[], metavar="[STACK:]FILE",
                       help="parameter values from a file (repeatable): the JSON of 'aws cloudformation create-stack"
                            " --parameters file://...', the Key=Value lines of 'aws cloudformation deploy"
                            " --parameter-overrides', or a CodePipeline template configuration"
                            " ({\"Parameters\": {...}}); --param wins over a file")
    group.add_argument("--import", dest="imports", action="append", default=[], metavar="NAME=VALUE",
                       help="the value of an export that no loaded stack provides, for Fn::ImportValue (repeatable)")
    group.add_argument("--template-url", action="append", default=[], metavar="PREFIX=DIR",
                       help="read nested stacks whose TemplateURL starts with PREFIX from DIR (repeatable); without"
                            " it an https:// or s3:// URL is looked up by the longest trailing part of its path"
                            " that exists under the parent template's folder")
    group.add_argument("--account", default=None,
                       help="the account id (default: a CDK assembly's, else 123456789012)")
    group.add_argument("--region", default=None,
                       help="the region the templates are deployed in (default: a CDK assembly's, the environment"
                            " file's, else us-east-1)")
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


@dataclass(frozen=True)
class TemplateInputs:
    """What the template options say, checked: parameters for every stack and per stack, imports, URL maps."""

    parameters: dict[str, str] = field(default_factory=dict)
    stack_parameters: dict[str, dict[str, str]] = field(default_factory=dict)
    imports: dict[str, str] = field(default_factory=dict)
    template_urls: tuple[Any, ...] = ()
    stacks: tuple[tuple[str, str], ...] = ()


def template_inputs(args: argparse.Namespace) -> TemplateInputs:
    from accesspath.cfn import TemplateUrlMapping, parse_assignment, parse_parameter, read_parameter_file
    from accesspath.cli.io import read_input

    values = []
    for item in getattr(args, "params", []):
        stack, colon, path = item.partition(":")
        if not colon or Path(item).exists() or not Path(path).exists():
            stack, path = "", item
        text, name = read_input(path)
        values.extend(read_parameter_file(text, name, stack or None))
    values.extend(parse_parameter(item) for item in args.param)  # later wins: --param over files
    inputs = TemplateInputs()
    for value in values:
        target = inputs.stack_parameters.setdefault(value.stack, {}) if value.stack else inputs.parameters
        target[value.name] = value.value
    for item in getattr(args, "imports", []):
        export, export_value = parse_assignment(item, "--import", "NAME=VALUE (an export name and its value)")
        inputs.imports[export] = export_value
    stacks = []
    for item in getattr(args, "stack", []):
        name, path = parse_assignment(item, "--stack", "NAME=FILE")
        stacks.append((name, path))
    urls = []
    for item in getattr(args, "template_url", []):
        prefix, sep, directory = item.rpartition("=")
        urls.append(TemplateUrlMapping.parse(f"{prefix}={directory}" if sep else item))
    return TemplateInputs(inputs.parameters, inputs.stack_parameters, inputs.imports, tuple(urls), tuple(stacks))


def add_key_policy_argument(parser: Any) -> None:
    """--assume-default-key-policy, for the commands that decide requests (Decider)."""
    parser.add_argument("--assume-default-key-policy", action="store_true",
                        help="take a KMS key the templates do not define to have AWS's default key policy (its"
                             " account's IAM policies decide); without it, requests that need such a key's"
                             " policy are undetermined")


def parameter_overrides(args: argparse.Namespace) -> dict[str, str]:
    """The unqualified --param values (kept for commands that load templates themselves)."""
    return template_inputs(args).parameters


def load_environment_from_args(args: argparse.Namespace) -> Any:
    import sys

    from accesspath.environment.load import load_environment

    inputs = template_inputs(args)
    if not args.templates and not inputs.stacks:
        raise UsageError("give at least one TEMPLATE (or --stack NAME=FILE)")
    env = load_environment(args.templates, account=args.account, region=args.region, partition=args.partition,
                           organization_id=args.org_id, parameters=inputs.parameters,
                           scp_files=args.scp, rcp_files=args.rcp, stacks=inputs.stacks,
                           stack_parameters=inputs.stack_parameters, imports=inputs.imports,
                           template_urls=inputs.template_urls,
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
