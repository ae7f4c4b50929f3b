"""``accesspath simulate FILE|-``: decide a simulate-custom-policy style request."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from accesspath.cli.io import read_input


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="decide requests given in the JSON shape of 'aws iam simulate-custom-policy'",
        description=(
            "Decide every action x resource pair of a request shaped like AWS's simulate-custom-policy input "
            "(PolicyInputList, ResourcePolicy, CallerArn, ActionNames, ResourceArns, ContextEntries, ...) plus "
            "accesspath's extensions (SessionPolicyInputList, VpcEndpointPolicy, ServiceControlPolicies, "
            "ResourceControlPolicies). See docs/simulate.md."),
    )
    parser.add_argument("file", metavar="FILE", help="the request as JSON; '-' reads standard input")
    parser.add_argument("--format", choices=("json", "text"), default="json",
                        help="output format (default: json)")
    parser.add_argument("--explain", action="store_true",
                        help="add a trace down to every statement and condition")
    parser.add_argument("--fail-on-deny", action="store_true",
                        help="exit with status 1 when any pair is not allowed")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from accesspath.cli.render import render_results_text
    from accesspath.simulate import load_simulation, result_to_json

    text, source = read_input(args.file)
    simulation = load_simulation(text, source=source)
    results = simulation.run(explain=args.explain)
    undetermined = simulation.undetermined(results)
    if args.format == "json":
        payload = {"EvaluationResults": [result_to_json(r, explain=args.explain, undetermined=u)
                                         for r, u in zip(results, undetermined, strict=True)]}
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_results_text(results, explain=args.explain, undetermined=undetermined))
    if args.fail_on_deny and any(not r.allowed or u for r, u in zip(results, undetermined, strict=True)):
        return 1
    return 0
