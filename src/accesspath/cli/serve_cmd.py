"""``accesspath serve TEMPLATE... --from ID --upstream URL``: decide every AWS call clients send, forward the
allowed ones (docs/emulator.md)."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Mapping
from contextlib import ExitStack
from typing import Any

from accesspath.cli.environment_options import (
    add_environment_arguments,
    endpoint_services_from_args,
    load_environment_from_args,
)
from accesspath.errors import UsageError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="an AWS endpoint for unmodified clients: decide each call as the templates' caller, forward the"
             " allowed ones upstream",
        description=(
            "Listen for AWS API requests (point clients at it with --endpoint-url or AWS_ENDPOINT_URL), check"
            " their SigV4 signature, decide every IAM request of the call as the signing credentials' caller"
            " with the policies on its network path, forward allowed calls to --upstream and answer the others"
            " with AWS's own error in the service's wire format. Prints one JSON line on stdout when ready:"
            " the endpoint and the credentials issued for --from."),
        epilog="example: accesspath serve stack.yaml --from WebService --upstream http://127.0.0.1:5000 --log d.jsonl",
    )
    add_environment_arguments(parser)
    add_emulator_arguments(parser)
    parser.add_argument("--from", dest="caller", default=None, metavar="ID",
                        help="issue temporary credentials (ASIA...) for this caller: an ECS service, task"
                             " definition, EC2 instance or role")
    parser.add_argument("--credentials", default=None, metavar="FILE",
                        help="more known credentials: a JSON list of {AccessKeyId, SecretAccessKey, SessionToken?,"
                             " Principal, Expiration?}, Principal a --from style caller id or an ARN")
    parser.add_argument("--listen", default="127.0.0.1:0", metavar="HOST:PORT",
                        help="where to listen (default: 127.0.0.1 on a free port)")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a --listen address that is not loopback")
    parser.add_argument("--endpoint-name", action="append", default=[], metavar="HOST[:PORT]",
                        help="another host name clients use for the emulator (besides the --listen address and"
                             " localhost; S3 buckets may be named below it, virtual-hosted style); a request whose"
                             " Host names no endpoint name is refused; repeatable")
    parser.add_argument("--proxy", action="store_true",
                        help="also act as an HTTPS proxy (transparent mode): clients given HTTPS_PROXY and the CA"
                             " bundle printed at start reach the emulator when they call AWS host names; hosts that"
                             " are not AWS get what --from's network path allows")
    parser.set_defaults(run=run)


def add_emulator_arguments(parser: Any) -> None:
    group = parser.add_argument_group("emulator")
    group.add_argument("--upstream", required=True, metavar="URL",
                       help="where allowed calls go, e.g. a moto server: http://127.0.0.1:5000")
    group.add_argument("--upstream-credentials", default=None, metavar="FILE",
                       help="re-sign allowed calls for an upstream that checks signatures (a real AWS endpoint)"
                            " with these credentials: JSON {AccessKeyId, SecretAccessKey, SessionToken?}; not"
                            " needed for moto")
    group.add_argument("--log", default=None, metavar="FILE",
                       help="append the decision log there, one JSON object per call (format: docs/emulator.md)")
    group.add_argument("--resource-account", default=None,
                       help="the owner of resources whose ARN names no account (S3 buckets) when the templates do"
                            " not declare them")


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = text, "0"
    host = host.strip("[]") or "127.0.0.1"
    try:
        number = int(port)
    except ValueError:
        raise UsageError(f"--listen '{text}' must look like HOST:PORT") from None
    if not 0 <= number <= 65535:
        raise UsageError(f"--listen '{text}': port {number} is out of range")
    return host, number


def check_endpoint_name(text: str) -> str:
    name, _, port = text.rpartition(":") if ":" in text else (text, "", "")
    if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.\-]*[A-Za-z0-9])?", name) or (port and not port.isdigit()):
        raise UsageError(f"--endpoint-name '{text}' must be a host name, optionally with :PORT")
    return text.lower()


def build_emulator(args: argparse.Namespace, stack: ExitStack) -> Any:
    """The environment, upstream and decision log of ``serve`` and ``run``; ``stack`` closes the log."""
    from accesspath.emulator import DecisionLog, Emulator, HttpUpstream

    env = load_environment_from_args(args)
    try:
        upstream: Any = HttpUpstream(args.upstream)
    except ValueError as error:  # urllib's own complaint: "Invalid IPv6 URL", a port out of range
        raise UsageError(f"--upstream '{args.upstream}' is not a URL ({error})") from None
    if args.upstream_credentials:
        from accesspath.emulator.resign import (
            ResigningUpstream,
            load_upstream_credentials,
        )

        upstream = ResigningUpstream(upstream, args.upstream, load_upstream_credentials(args.upstream_credentials))
    stream = None
    if args.log:
        try:
            stream = stack.enter_context(open(args.log, "a", encoding="utf-8"))  # noqa: SIM115 - closed by the stack
        except OSError as error:
            raise UsageError(f"cannot write --log '{args.log}': {error.strerror}") from None
    return Emulator(env, upstream, endpoint_services=endpoint_services_from_args(args),
                    decision_log=DecisionLog(stream), resource_account=args.resource_account)


def operator_bundle(environ: Mapping[str, str]) -> str | None:
    """The CA bundle the operator's clients already use, kept in the run's bundle beside its CA."""
    return next((environ[name] for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
                 if environ.get(name)), None)


def transparent_proxy(emulator: Any, caller: Any, stack: ExitStack, *, trusted_bundle: str | None) -> Any:
    """Make the emulator a proxy with a CA made for this run; ``stack`` removes the CA's directory.
    ``caller``: whose network path connections to hosts outside AWS take (None: refused)."""
    from accesspath.emulator.aws_hosts import aws_dns_suffixes
    from accesspath.emulator.connect_proxy import TransparentProxy
    from accesspath.emulator.run_authority import RunAuthority

    authority = stack.enter_context(RunAuthority(aws_dns_suffixes(), trusted_bundle=trusted_bundle))
    emulator.proxy = TransparentProxy(authority, emulator.env, caller, decision_log=emulator.decision_log)
    return authority


def wait_for_signal() -> None:
    """Block until SIGINT or SIGTERM."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args: argparse.Namespace) -> int:
    from accesspath.emulator import (
        check_listen_address,
        load_credentials_file,
        start_emulator,
    )
    from accesspath.emulator.credentials import iso8601
    from accesspath.environment.callers import resolve_caller

    if not args.caller and not args.credentials:
        raise UsageError("say whose requests to decide: --from ID (credentials are issued for it) and/or"
                         " --credentials FILE")
    host, port = parse_listen(args.listen)
    check_listen_address(host, allow_remote=args.allow_remote)
    with ExitStack() as stack:
        emulator = build_emulator(args, stack)
        emulator.endpoint_names = tuple(check_endpoint_name(name) for name in args.endpoint_name)
        issued = None
        if args.credentials:
            for known in load_credentials_file(args.credentials, emulator.env):
                emulator.credentials.add(known)
        if args.caller:
            issued = emulator.credentials.issue(resolve_caller(emulator.env, args.caller))
        authority = None
        if args.proxy:
            authority = transparent_proxy(emulator, issued.caller if issued is not None else None, stack,
                                          trusted_bundle=operator_bundle(os.environ))
        try:
            server = start_emulator(emulator, host, port)
        except OSError as error:
            raise UsageError(f"cannot listen on {host}:{port}: {error.strerror}") from None
        stack.callback(server.stop)
        ready: dict[str, Any] = {"endpoint": server.url, "region": emulator.env.region, "upstream": args.upstream}
        if authority is not None:
            ready["proxy"] = {"url": server.url, "caBundle": str(authority.bundle_file),
                              "caCertificate": str(authority.ca_file)}
        if issued is not None:
            ready["principal"] = issued.caller.principal.arn
            ready["credentials"] = {"AccessKeyId": issued.access_key_id, "SecretAccessKey": issued.secret_access_key,
                                    "SessionToken": issued.session_token,
                                    "Expiration": iso8601(issued.expiration) if issued.expiration else None}
        print(json.dumps(ready), flush=True)
        print(f"accesspath: serving on {server.url}, forwarding allowed calls to {args.upstream}"
              f" (Ctrl-C stops)", file=sys.stderr, flush=True)
        if authority is not None:
            from accesspath.cli.run_cmd import proxy_environment

            variables = proxy_environment(server.url, bundle_file=str(authority.bundle_file),
                                          ca_file=str(authority.ca_file))
            print("accesspath: transparent mode: give clients these variables (the CA and its key are removed when"
                  " serve stops):\n" + "\n".join(f"  export {name}={value}" for name, value in variables.items()),
                  file=sys.stderr, flush=True)
        wait_for_signal()
    return 0
