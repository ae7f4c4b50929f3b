"""``accesspath validate FILE...``: check policies and the policies in CloudFormation templates."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from accesspath.errors import UsageError

# --type names → accesspath.policy.PolicyType values (kept as strings: importing this module must
# not import the policy engine or the catalog).
POLICY_TYPES = {
    "identity": "identity", "resource": "resource", "trust": "role-trust", "scp": "scp", "rcp": "rcp",
    "vpc-endpoint": "vpc-endpoint", "boundary": "permissions-boundary", "session": "session",
    "kms-key": "kms-key",
}
FORMAT_NAMES = ("text", "json", "sarif")
SEVERITY_NAMES = ("error", "warning", "info")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check IAM policies (and the policies in CloudFormation templates) with stable rule ids",
        description=(
            "Report what AWS would reject (MalformedPolicyDocument), unknown services, actions and condition "
            "keys, resources no action can match, malformed ARNs, operators of the wrong type and broad "
            "grants, each with a rule id, a severity and file:line:col. A file whose top level has Resources "
            "or AWSTemplateFormatVersion is a CloudFormation template: every policy in it is checked, and "
            "templates given together resolve Fn::ImportValue across each other."),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="a policy (JSON) or a template (YAML/JSON); '-' reads standard input")
    parser.add_argument("--type", choices=tuple(POLICY_TYPES), default="identity",
                        help="what kind of policy a policy file is (default: identity); templates say it themselves")
    parser.add_argument("--format", choices=FORMAT_NAMES, default="text", help="output format (default: text)")
    parser.add_argument("--fail-on", choices=SEVERITY_NAMES, default="error",
                        help="exit with status 1 when a finding is at least this severe (default: error)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a template parameter value (repeatable)")
    parser.add_argument("--account", default=None, help="the account id templates are deployed to (default: 123456789012)")
    parser.add_argument("--region", default=None, help="the region templates are deployed to (default: us-east-1)")
    parser.set_defaults(run=run)


def _parameters(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise UsageError(f"--param '{pair}' must be NAME=VALUE")
        out[name] = value
    return out


def run(args: argparse.Namespace) -> int:
    from accesspath.cfn import DEFAULT_ACCOUNT, DEFAULT_REGION
    from accesspath.cli.io import read_input
    from accesspath.lint import Severity, SourceFile, reaches, validate_sources
    from accesspath.lint.formats import FORMATS
    from accesspath.policy import PolicyType

    sources = [SourceFile(*read_input(name)) for name in args.files]
    report = validate_sources(sources, policy_type=PolicyType(POLICY_TYPES[args.type]),
                              account=args.account or DEFAULT_ACCOUNT, region=args.region or DEFAULT_REGION,
                              parameters=_parameters(args.param))
    sys.stdout.write(FORMATS[args.format](report))
    return 1 if reaches(report.findings, Severity(args.fail_on)) else 0
