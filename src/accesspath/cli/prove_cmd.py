"""``accesspath prove TEMPLATE... --property NAME|FILE``: a property over every request, proved or refuted."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from accesspath.cli.environment_options import (
    add_environment_arguments,
    endpoint_services_from_args,
    load_environment_from_args,
)

EXIT_UNKNOWN = 3


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "prove",
        help="prove a property over every request of the environment (SMT), or show requests that break it",
        description=(
            "Decide a property over all requests the environment's callers (or outsiders) can make, with the"
            " engine's semantics encoded for the z3 SMT solver: proved, fails (with witness requests the engine"
            " confirms), or unknown (with what the encoding or the solver could not settle). Built-in properties:"
            " access-not-granted (--caller, --actions, --resources), no-data-out (--org and/or --inside-account;"
            " --read), no-access-from-outside, no-public-access. --property also takes a property file"
            " (docs/prove.md). Exit status: 0 proved, 1 fails, 3 unknown, 2 bad input."),
        epilog="example: accesspath prove stack.yaml --property access-not-granted --caller AdminInstance"
               " --actions ecs:DescribeClusters",
    )
    add_environment_arguments(parser)
    parser.add_argument("--property", required=True, metavar="NAME|FILE",
                        help="a built-in property (access-not-granted, no-data-out, no-access-from-outside,"
                             " no-public-access) or a property file (JSON or YAML)")
    parser.add_argument("--caller", action="append", default=[], metavar="ID",
                        help="only this caller of the environment (repeatable; default: every caller)")
    parser.add_argument("--actions", nargs="+", default=[], metavar="ACTION",
                        help="action patterns the property is about, e.g. ecs:DescribeClusters 's3:Put*'")
    parser.add_argument("--resources", nargs="+", default=[], metavar="ARN",
                        help="resource ARN patterns (access-not-granted)")
    parser.add_argument("--org", default=None, metavar="ORG_ID",
                        help="the organization whose resources and principals are inside (also --org-id's"
                             " default)")
    parser.add_argument("--inside-account", action="append", default=[], metavar="ACCOUNT",
                        help="another account that counts as inside (repeatable; the environment's account always"
                             " does)")
    parser.add_argument("--read", action="store_true", help="no-data-out: reads and lists count, not only writes")
    parser.add_argument("--max-witnesses", type=int, default=3, metavar="N",
                        help="stop after N witnesses per property (default: 3)")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text",
                        help="output format (default: text)")
    parser.set_defaults(run=run)


def specs_from_args(args: argparse.Namespace) -> list[Any]:
    from accesspath.prove.properties import BUILT_IN, PropertySpec
    from accesspath.prove.property_file import read_property_file

    if args.property in BUILT_IN:
        spec = PropertySpec(args.property, callers=tuple(args.caller), actions=tuple(args.actions),
                            resources=tuple(args.resources), organization=args.org,
                            accounts=tuple(args.inside_account), read=args.read)
        spec.check()
        return [spec]
    if Path(args.property).suffix.lower() in (".json", ".yaml", ".yml") or Path(args.property).exists():
        specs = read_property_file(args.property)
        if args.caller:
            from dataclasses import replace
            specs = [replace(s, callers=tuple(args.caller)) for s in specs]
        return specs
    from accesspath.errors import UsageError
    raise UsageError(f"--property '{args.property}' is neither a built-in property ({', '.join(BUILT_IN)}) nor a"
                     " property file")


def run(args: argparse.Namespace) -> int:
    from accesspath.cli.json_vocabulary import property_result_json, witness_json
    from accesspath.environment.decide import Decider
    from accesspath.prove.properties import prove
    from accesspath.prove.render import property_sarif, property_text

    if args.max_witnesses < 1:
        from accesspath.errors import UsageError
        raise UsageError("--max-witnesses must be at least 1")
    if args.org and not args.org_id:
        args.org_id = args.org
    specs = specs_from_args(args)
    env = load_environment_from_args(args)
    decider = Decider(env, endpoint_services_from_args(args))
    results = [prove(env, spec, decider=decider, max_witnesses=args.max_witnesses) for spec in specs]
    if args.format == "json":
        print(json.dumps({"properties": [property_result_json(r) for r in results]}, indent=2, ensure_ascii=False))
    elif args.format == "sarif":
        print(json.dumps(property_sarif(results, witness_json), indent=2, ensure_ascii=False))
    else:
        print("\n".join(property_text(r, args.templates) for r in results))
    sys.stdout.flush()
    statuses = {r.status for r in results}
    if "fails" in statuses:
        return 1
    if "unknown" in statuses:
        return EXIT_UNKNOWN
    return 0
