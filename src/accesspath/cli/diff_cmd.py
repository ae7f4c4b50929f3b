"""``accesspath diff BEFORE... -- AFTER...``: any request one state allows and the other does not."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from accesspath.cli.environment_options import (
    add_environment_arguments,
    endpoint_services_from_args,
    load_environment_from_args,
)
from accesspath.errors import UsageError

EXIT_UNKNOWN = 3


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="find every caller's new access between two versions of the templates, as witness requests",
        description=(
            "Compare two states of an environment (templates or environment files before '--', after it; or the"
            " files at a git revision with --base REF against the files as they are): for each caller, is there any"
            " request the after-state allows that the before-state does not (and the reverse)? Each difference is a"
            " concrete witness request that 'accesspath can' reproduces. Exit status: 0 no new access, 1 new access,"
            " 3 unknown, 2 bad input."),
        epilog="example: accesspath diff before.yaml -- after.yaml; accesspath diff stack.yaml --base HEAD~1",
    )
    add_environment_arguments(parser, templates_help="the before-state (with '--'), or the files to compare with"
                                                      " --base")
    parser.add_argument("--base", default=None, metavar="REF",
                        help="compare the files as they are with the same files at this git revision")
    parser.add_argument("--caller", action="append", default=[], metavar="ID",
                        help="only this caller (repeatable; default: every caller of either state)")
    parser.add_argument("--max-witnesses", type=int, default=3, metavar="N",
                        help="witnesses per caller and direction (default: 3)")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text",
                        help="output format (default: text)")
    parser.set_defaults(run=run, accepts_trailing=True)


def run(args: argparse.Namespace) -> int:
    from accesspath.cli.json_vocabulary import diff_json, witness_json
    from accesspath.environment.decide import Decider
    from accesspath.prove.diff import diff
    from accesspath.prove.render import diff_sarif, diff_text

    if args.max_witnesses < 1:
        raise UsageError("--max-witnesses must be at least 1")
    after_files: list[str]
    with tempfile.TemporaryDirectory(prefix="accesspath-base-") as workdir:
        if args.base is not None:
            if args.trailing is not None:
                raise UsageError("give either --base REF or the after-state after '--', not both")
            after_files = list(args.templates)
            before_files = _files_at(args.base, after_files, Path(workdir))
        else:
            if not args.trailing:
                raise UsageError("give the after-state after '--' (accesspath diff BEFORE... -- AFTER...), or --base REF")
            before_files, after_files = list(args.templates), list(args.trailing)
        before = _load(args, before_files)
        after = _load(args, after_files)
    services = endpoint_services_from_args(args)
    result = diff(before, after, callers=args.caller, before_decider=Decider(before, services),
                  after_decider=Decider(after, services), max_witnesses=args.max_witnesses)
    if args.format == "json":
        print(json.dumps(diff_json(result), indent=2, ensure_ascii=False))
    elif args.format == "sarif":
        print(json.dumps(diff_sarif(result, witness_json), indent=2, ensure_ascii=False))
    else:
        print(diff_text(result, after_files))
    sys.stdout.flush()
    if result.status == "new access":
        return 1
    return EXIT_UNKNOWN if result.status == "unknown" else 0


def _load(args: argparse.Namespace, files: list[str]) -> Any:
    saved = args.templates
    args.templates = files
    try:
        return load_environment_from_args(args)
    finally:
        args.templates = saved


def _files_at(revision: str, files: list[str], workdir: Path) -> list[str]:
    """Each file as it was at ``revision`` of its git repository, written under ``workdir`` with the
    same relative layout (so nested templates still find each other)."""
    found = []
    for name in files:
        path = Path(name).resolve()
        try:
            top = subprocess.run(["git", "-C", str(path.parent), "rev-parse", "--show-toplevel"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            raise UsageError(f"--base: '{name}' is not in a git repository") from None
        relative = path.relative_to(Path(top).resolve())
        shown = subprocess.run(["git", "-C", top, "show", f"{revision}:{relative.as_posix()}"],
                               capture_output=True, check=False)
        if shown.returncode != 0:
            message = shown.stderr.decode("utf-8", "replace").strip().splitlines()
            raise UsageError(f"--base: cannot read '{relative.as_posix()}' at '{revision}'"
                             f" ({message[-1] if message else 'git show failed'})")
        target = workdir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(shown.stdout)
        found.append(str(target))
    return found
