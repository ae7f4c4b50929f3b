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
from accesspath.cli.serve_cmd import (
    add_emulator_arguments,
    build_emulator,
    operator_bundle,
    transparent_proxy,
)
from accesspath.errors import UsageError

# Variables that would give the program other credentials than the task role's: removed.
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                        "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
                        "AWS_ROLE_SESSION_NAME")


# Proxy variables the operator may have set: replaced (a NO_PROXY naming AWS hosts would let calls bypass
# the emulator; ALL_PROXY is curl's fallback for every scheme).
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY",
                   "all_proxy")
LOCAL_HOSTS = "localhost,127.0.0.1,::1"
"""NO_PROXY: the emulator and the credentials endpoint themselves, reached directly."""


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
            " uses the task role's temporary credentials and each call is decided as the task's. The emulator is"
            " also the program's HTTPS proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY): clients that call AWS host"
            " names themselves (the AWS CLI's sqs commands, older SDKs, curl) reach it too, trusting a"
            " certificate authority made for this run (AWS_CA_BUNDLE, SSL_CERT_FILE, REQUESTS_CA_BUNDLE,"
            " CURL_CA_BUNDLE, NODE_EXTRA_CA_CERTS) whose key is removed when the run ends; hosts that are not"
            " AWS get what the task's network path allows. Exit status: the command's."),
        epilog="example: accesspath run stack.yaml --from WebService --upstream http://127.0.0.1:5000 -- python app.py",
    )
    add_environment_arguments(parser)
    add_emulator_arguments(parser)
    parser.add_argument("--from", dest="caller", required=True, metavar="TASK",
                        help="the caller whose credentials the program gets: an ECS service or task definition"
                             " (or an instance or role)")
    parser.add_argument("--no-endpoint-url", dest="endpoint_url", action="store_false",
                        help="do not set AWS_ENDPOINT_URL: every client calls AWS's own host names through the"
                             " proxy, as in the task (transparent mode only)")
    parser.set_defaults(run=run, accepts_trailing=True)



def is_endpoint_variable(name: str) -> bool:
    """Variables that choose or bypass an endpoint: AWS_ENDPOINT_URL_<SERVICE> and
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (AWS SDKs and Tools Reference Guide, "Service-specific
    endpoints"), AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT, AWS_STS_REGIONAL_ENDPOINTS and
    older tools' AWS_<SERVICE>_ENDPOINT: every AWS_ variable naming an endpoint."""
    upper = name.upper()
    return upper.startswith("AWS_") and "ENDPOINT" in upper


def proxy_environment(proxy_url: str, *, bundle_file: str, ca_file: str) -> dict[str, str]:
    """The variables that make common clients use the emulator as their proxy and trust the run's CA:
    curl, Python (urllib, requests, botocore), Go and Node (24+, ``NODE_USE_ENV_PROXY``) read the
    proxy variables; botocore reads ``AWS_CA_BUNDLE``, requests ``REQUESTS_CA_BUNDLE``, curl
    ``CURL_CA_BUNDLE``, OpenSSL-based clients ``SSL_CERT_FILE`` (the system's CAs and the run's, so
    other sites still verify), Node ``NODE_EXTRA_CA_CERTS`` (added to its own CAs)."""
    return {
        "HTTPS_PROXY": proxy_url, "https_proxy": proxy_url, "HTTP_PROXY": proxy_url, "http_proxy": proxy_url,
        "NO_PROXY": LOCAL_HOSTS, "no_proxy": LOCAL_HOSTS, "NODE_USE_ENV_PROXY": "1",
        "AWS_CA_BUNDLE": bundle_file, "SSL_CERT_FILE": bundle_file, "REQUESTS_CA_BUNDLE": bundle_file,
        "CURL_CA_BUNDLE": bundle_file, "NODE_EXTRA_CA_CERTS": ca_file,
    }


def child_environment(base: dict[str, str], *, endpoint: str | None, credentials_uri: str, token: str,
                      region: str, proxy: dict[str, str] | None = None) -> dict[str, str]:
    """The program's environment: the operator's, without other credentials, endpoints or proxies,
    plus the task's (``endpoint`` None: no AWS_ENDPOINT_URL, every call goes through the proxy)."""
    env = {k: v for k, v in base.items()
           if k not in CREDENTIAL_VARIABLES and k not in PROXY_VARIABLES and not is_endpoint_variable(k)}
    if endpoint is not None:
        env["AWS_ENDPOINT_URL"] = endpoint
    env.update(proxy or {})
    env.update({
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
        authority = transparent_proxy(emulator, caller, stack, trusted_bundle=operator_bundle(os.environ))
        server = start_emulator(emulator, "127.0.0.1", 0)
        stack.callback(server.stop)
        credentials_server = ContainerCredentialsServer(("127.0.0.1", 0), issued)
        stack.callback(RunningServer(credentials_server).stop)
        proxy = proxy_environment(server.url, bundle_file=str(authority.bundle_file), ca_file=str(authority.ca_file))
        env = child_environment(dict(os.environ), endpoint=server.url if args.endpoint_url else None,
                                credentials_uri=credentials_server.full_uri, token=credentials_server.token,
                                region=emulator.env.region, proxy=proxy)
        print(f"accesspath: running {args.trailing[0]} as {caller.principal.arn}; AWS calls go to {server.url}"
              " (also its HTTPS proxy)", file=sys.stderr, flush=True)
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
