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
from typing import Any, NoReturn

from accesspath import __version__
from accesspath.cli.output import EscapingStream
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
    "accesspath.cli.prove_cmd",
    "accesspath.cli.diff_cmd",
    "accesspath.cli.snapshot_cmd",
)

# The command names each module registers, so that a command line loads the one module it names
# (tests/test_cli_startup.py checks this against what the modules register).
COMMAND_NAMES: dict[str, str] = {
    "simulate": "accesspath.cli.simulate_cmd", "catalog": "accesspath.cli.catalog_cmd",
    "actions": "accesspath.cli.catalog_cmd", "call": "accesspath.cli.call_cmd", "can": "accesspath.cli.can_cmd",
    "access": "accesspath.cli.access_cmd", "env": "accesspath.cli.env_cmd",
    "launch-check": "accesspath.cli.launch_check_cmd", "policy": "accesspath.cli.policy_cmd",
    "validate": "accesspath.cli.validate_cmd", "audit": "accesspath.cli.audit_cmd",
    "report": "accesspath.cli.report_cmd", "serve": "accesspath.cli.serve_cmd", "run": "accesspath.cli.run_cmd",
    "prove": "accesspath.cli.prove_cmd", "diff": "accesspath.cli.diff_cmd", "snapshot": "accesspath.cli.snapshot_cmd",
}


class _Parser(argparse.ArgumentParser):
    """argparse without its guesses: an option is taken only as spelled (``--form`` is not ``--format``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self._words = list(args) if args is not None else []
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:  # argparse's default exits 2 with usage; keep that, lowercase
        if message.startswith("the following arguments are required"):
            # "--fromm X" leaves --from missing: the misspelling is the error worth showing.
            hints = self._misspellings(getattr(self, "_words", []))
            if hints:
                message = " ".join(hints)
        self.print_usage(sys.stderr)
        self.exit(2, f"accesspath: error: {message}\n")

    def _misspellings(self, words: list[str]) -> list[str]:
        hints = []
        for word in words:
            if not word.startswith("--") or word == "--":
                continue
            name = word.split("=", 1)[0]
            if name in self._option_string_actions:
                continue
            import difflib

            close = difflib.get_close_matches(name, list(self._option_string_actions), n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            hints.append(f"'{name}' is not an option of '{self.prog}'{hint}")
        return hints

    def reject_unknown(self, words: list[str]) -> NoReturn:
        """Refuse words this (sub)command does not take, naming the closest option for a misspelling."""
        hints = self._misspellings(words)
        self.error(" ".join(hints) if hints else f"unrecognized arguments: {' '.join(words)}")


def _command_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> _Parser:
    """The innermost (sub)command parser that ``args`` went through, for its usage and options."""
    current = parser
    while True:
        chosen = None
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                name = getattr(args, action.dest or "", None)
                if name in action.choices:
                    chosen = action.choices[name]
        if chosen is None:
            break
        current = chosen
    assert isinstance(current, _Parser)
    return current


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line's parser; with ``command``, one that knows that command only (its
    usage, options and errors are the same), so that running it imports no other command's module."""
    parser = _Parser(
        prog="accesspath",
        description=(
            "The offline twin of AWS authorization for Amazon ECS workloads behind VPC endpoints: "
            "decides AWS API calls exactly as AWS would, and says why."
        ),
    )
    parser.add_argument("--version", action="version", version=f"accesspath {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    modules = COMMAND_MODULES
    if command is not None and COMMAND_NAMES.get(command) in COMMAND_MODULES:
        modules = (COMMAND_NAMES[command],)
    for name in modules:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(words[0] if words else None)
    # Everything after the first "--" is a command line of its own (an AWS CLI call, a program).
    trailing: list[str] | None = None
    if "--" in words:
        cut = words.index("--")
        words, trailing = words[:cut], words[cut + 1:]
    args, unknown = parser.parse_known_args(words)
    if unknown:
        _command_parser(parser, args).reject_unknown(unknown)
    args.trailing = trailing
    if trailing is not None and not getattr(args, "accepts_trailing", False):
        if hasattr(args, "command_line"):  # commands that read the rest with argparse.REMAINDER
            args.command_line = trailing
        else:
            parser.error(f"'{args.command}' takes no command after '--'" if args.command else "unexpected '--'")
    if getattr(args, "run", None) is None:
        parser.print_help(sys.stderr)
        return 2
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = EscapingStream(stdout), EscapingStream(stderr)  # type: ignore[assignment]
    try:
        return int(args.run(args))
    except UsageError as error:
        print(f"accesspath: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    finally:
        sys.stdout, sys.stderr = stdout, stderr
