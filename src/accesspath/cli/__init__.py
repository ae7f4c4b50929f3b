"""The command line: a thin layer over the library.

Each command lives in its own module with ``register(subparsers)``; this module only wires them
together, turns :class:`~accesspath.errors.UsageError` into exit status 2 and never shows a
traceback for bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from accesspath import __version__
from accesspath.errors import UsageError

# Modules that define commands, in the order they appear in --help.
COMMAND_MODULES: tuple[str, ...] = (
    "accesspath.cli.simulate_cmd",
    "accesspath.cli.catalog_cmd",
    "accesspath.cli.call_cmd",
    "accesspath.cli.can_cmd",
    "accesspath.cli.access_cmd",
    "accesspath.cli.env_cmd",
    "accesspath.cli.launch_check_cmd",
    "accesspath.cli.policy_cmd",
    "accesspath.cli.validate_cmd",
    "accesspath.cli.audit_cmd",
    "accesspath.cli.report_cmd",
    "accesspath.cli.serve_cmd",
    "accesspath.cli.run_cmd",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's default exits 2 with usage; keep that, lowercase
        self.print_usage(sys.stderr)
        self.exit(2, f"accesspath: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="accesspath",
        description=(
            "The offline twin of AWS authorization for Amazon ECS workloads behind VPC endpoints: "
            "decides AWS API calls exactly as AWS would, and says why."
        ),
    )
    parser.add_argument("--version", action="version", version=f"accesspath {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    # Everything after the first "--" is a command line of its own (an AWS CLI call, a program).
    trailing: list[str] | None = None
    if "--" in words:
        cut = words.index("--")
        words, trailing = words[:cut], words[cut + 1:]
    args = parser.parse_args(words)
    args.trailing = trailing
    if trailing is not None and not getattr(args, "accepts_trailing", False):
        if hasattr(args, "command_line"):  # commands that read the rest with argparse.REMAINDER
            args.command_line = trailing
        else:
            parser.error(f"'{args.command}' takes no command after '--'" if args.command else "unexpected '--'")
    if getattr(args, "run", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.run(args))
    except UsageError as error:
        print(f"accesspath: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
