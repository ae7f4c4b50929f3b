"""``accesspath run TEMPLATE... --from TASK --upstream URL -- COMMAND...``: run a program as the task would
run, its AWS calls decided by the emulator (docs/emulator.md)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from contextlib import ExitStack
from typing import Any

from accesspath.cli.environment_options import add_environment_arguments
from accesspath.cli.serve_cmd import add_emulator_arguments, build_emulator
from accesspath.errors import UsageError

# Variables that would give the program other credentials than the task role's: removed.
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                        "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
                        "AWS_ROLE_SESSION_NAME")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a program with a task's credentials, its AWS calls decided by the emulator",
        description=(
            "Start the emulator and an ECS container credentials endpoint (both on 127.0.0.1, free ports) and"
            " run the command after '--' with AWS_CONTAINER_CREDENTIALS_FULL_URI,"
            " AWS_CONTAINER_AUTHORIZATION_TOKEN and AWS_ENDPOINT_URL set and every other source of AWS"
            " credentials and every other endpoint setting (AWS_ENDPOINT_URL_<SERVICE>,"
            " AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, any AWS_ variable naming an endpoint) removed, so any SDK"
            " uses the task role's temporary credentials and each call is decided as the task's. Exit"
            " status: the command's."),
        epilog="example: accesspath run stack.yaml --from WebService --upstream http://127.0.0.1:5000 -- python app.py",
    )
    add_environment_arguments(parser)
    add_emulator_arguments(parser)
    parser.add_argument("--from", dest="caller", required=True, metavar="TASK",
                        help="the caller whose credentials the program gets: an ECS service or task definition"
                             " (or an instance or role)")
    parser.set_defaults(run=run, accepts_trailing=True)



def is_endpoint_variable(name: str) -> bool:
    """Variables that choose or bypass an endpoint: AWS_ENDPOINT_URL_<SERVICE> and
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (AWS SDKs and Tools Reference Guide, "Service-specific
    endpoints"), AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT, AWS_STS_REGIONAL_ENDPOINTS and
    older tools' AWS_<SERVICE>_ENDPOINT: every AWS_ variable naming an endpoint."""
    upper = name.upper()
    return upper.startswith("AWS_") and "ENDPOINT" in upper


def child_environment(base: dict[str, str], *, endpoint: str, credentials_uri: str, token: str,
                      region: str) -> dict[str, str]:
    """The program's environment: the operator's, without other credentials or endpoints, plus the task's."""
    env = {k: v for k, v in base.items() if k not in CREDENTIAL_VARIABLES and not is_endpoint_variable(k)}
    env.update({
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": credentials_uri,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": token,
        # Shared files come before the container provider in the SDKs' chain: point them at nothing.
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    env.setdefault("AWS_REGION", region)
    env.setdefault("AWS_DEFAULT_REGION", env["AWS_REGION"])
    return env


def exit_status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def run(args: argparse.Namespace) -> int:
    from accesspath.emulator import (
        ContainerCredentialsServer,
        RunningServer,
        start_emulator,
    )
    from accesspath.environment.callers import resolve_caller

    if not args.trailing:
        raise UsageError("give the command to run after '--', e.g. accesspath run stack.yaml --from Web"
                         " --upstream http://127.0.0.1:5000 -- python app.py")
    with ExitStack() as stack:
        emulator = build_emulator(args, stack)
        caller = resolve_caller(emulator.env, args.caller)
        issued = emulator.credentials.issue(caller)
        server = start_emulator(emulator, "127.0.0.1", 0)
        stack.callback(server.stop)
        credentials_server = ContainerCredentialsServer(("127.0.0.1", 0), issued)
        stack.callback(RunningServer(credentials_server).stop)
        env = child_environment(dict(os.environ), endpoint=server.url, credentials_uri=credentials_server.full_uri,
                                token=credentials_server.token, region=emulator.env.region)
        print(f"accesspath: running {args.trailing[0]} as {caller.principal.arn}; AWS calls go to {server.url}",
              file=sys.stderr, flush=True)
        try:
            child = subprocess.Popen(args.trailing, env=env)
        except OSError as error:
            raise UsageError(f"cannot run '{args.trailing[0]}': {error.strerror}") from None
        previous = signal.signal(signal.SIGTERM, lambda *_: child.terminate())
        try:
            while True:
                try:
                    returncode = child.wait()
                    break
                except KeyboardInterrupt:
                    # The terminal sent SIGINT to the whole group: the program has it too; wait for it.
                    try:
                        returncode = child.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        child.terminate()
                        returncode = child.wait()
                    break
        finally:
            signal.signal(signal.SIGTERM, previous)
        return exit_status(returncode)
