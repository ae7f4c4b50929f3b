"""``accesspath audit TEMPLATE...``: security and reachability findings, each a question to the engine."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from accesspath.cli.environment_options import (
    add_environment_arguments,
    endpoint_services_from_args,
    load_environment_from_args,
)

_FAIL_ON = ("error", "warning", "info", "never")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="find confused-deputy trust, open endpoint policies, overbroad task roles, IMDS exposure and"
             " endpoint network mistakes",
        description=(
            "Audit the environment: each rule asks the engine a question (may ECS assume this role for another"
            " account's task? may this account's principals write to another account's bucket through this"
            " endpoint? may this task role write to resources the templates do not declare?) and reports the"
            " answers that should be no. Exit status: 0, 1 when a finding reaches --fail-on, 2 for bad input."),
    )
    add_environment_arguments(parser)
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text",
                        help="output format (default: text)")
    parser.add_argument("--fail-on", choices=_FAIL_ON, default="error", metavar="SEVERITY",
                        help="exit 1 when a finding is at least this severe: error, warning, info, or never"
                             " (default: error)")
    parser.add_argument("--rule", action="append", default=[], metavar="ID",
                        help="run only this rule (repeatable)")
    parser.add_argument("--skip-rule", action="append", default=[], metavar="ID",
                        help="do not run this rule (repeatable)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from accesspath.audit import run_audit, select_rules
    from accesspath.audit.render import report_json, report_text
    from accesspath.audit.sarif import report_sarif
    from accesspath.cli.json_vocabulary import template_error_json
    from accesspath.lint.findings import Severity

    rules = select_rules(args.rule, args.skip_rule)
    env = load_environment_from_args(args)
    report = run_audit(env, endpoint_services_from_args(args), rules=rules)
    # The template errors the audit met (stderr has them too) travel with the findings.
    template_errors = [template_error_json(issue) for issue in env.issues]
    if args.format == "json":
        json.dump({**report_json(report), "templateErrors": template_errors}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif args.format == "sarif":
        json.dump(_with_template_errors(report_sarif(report), template_errors), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        sys.stdout.write(report_text(report, colour=colour))
    if args.fail_on == "never":
        return 0
    return 1 if report.reaches(Severity(args.fail_on)) else 0


_SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def _with_template_errors(sarif: dict[str, Any], errors: list[dict[str, Any]]) -> dict[str, Any]:
    """SARIF results of rule ``template`` (the id validate uses) for the loader's issues."""
    if not errors:
        return sarif
    from accesspath.lint.formats.sarif import artifact_uri

    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    if not any(rule["id"] == "template" for rule in rules):
        rules.append({"id": "template", "name": "Template",
                      "shortDescription": {"text": "a problem in a CloudFormation template met while loading it"},
                      "fullDescription": {"text": "the audit decides on what the templates give; what could not be"
                                                  " loaded or resolved is reported here, as validate reports it"},
                      "help": {"text": "correct the template, or load the templates it imports from together with it"},
                      "helpUri": "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html",
                      "defaultConfiguration": {"level": "warning"}})
    index = next(i for i, rule in enumerate(rules) if rule["id"] == "template")
    for error in errors:
        result: dict[str, Any] = {"ruleId": "template", "ruleIndex": index, "level": _SARIF_LEVELS[error["severity"]],
                                  "message": {"text": error["message"]}}
        location = error["location"]
        if location["file"]:
            physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(location["file"])}}
            if location["line"] is not None:
                physical["region"] = {"startLine": location["line"],
                                      **({"startColumn": location["column"]} if location["column"] else {})}
            result["locations"] = [{"physicalLocation": physical}]
        else:
            result["locations"] = [{"logicalLocations": [{"name": "templates"}]}]
        run["results"].append(result)
    return sarif
