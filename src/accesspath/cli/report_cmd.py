"""``accesspath report TEMPLATE... -o report.html``: one self-contained HTML page of the environment."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
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
        "report",
        help="write one self-contained HTML page: network diagram, launch checks, denials, audit findings",
        description=(
            "Write one HTML page (inline CSS, script and SVG; it loads nothing at view time) with a diagram of"
            " callers, subnets, endpoints and gateways and AWS services whose edges are coloured by the decisions"
            " of the requests over them, the launch check of every ECS service, representative requests of every"
            " EC2 instance, the statement behind each denial and the audit findings. Exit status: 0 when the page"
            " is written (also when tasks are not ready), 2 for bad input."),
    )
    add_environment_arguments(parser)
    add_key_policy_argument(parser)
    parser.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="the HTML file to write, or '-' for standard output")
    parser.add_argument("--title", default=None, help="the page title (default: names the templates)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from accesspath.environment.decide import Decider
    from accesspath.report import build_report, render_html

    output = args.output
    target = None if output == "-" else Path(output)
    if target is not None and target.is_dir():
        raise UsageError(f"--output '{output}' is a directory; give a file name such as report.html")
    env = load_environment_from_args(args)
    report = build_report(env, Decider(env, endpoint_services_from_args(args),
                                                       assume_default_key_policy=args.assume_default_key_policy), sources=args.templates,
                          title=args.title)
    page = render_html(report)
    if target is None:
        sys.stdout.write(page)
        return 0
    try:
        target.write_text(page, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write '{output}': {error.strerror or error}") from None
    ready = sum(1 for launch in report.launches if launch.ready)
    services = len(report.launches)
    print(f"accesspath: wrote {output} ({services} ECS service{'' if services == 1 else 's'}, {ready} ready)",
          file=sys.stderr)
    return 0
