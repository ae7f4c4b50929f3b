"""Transparent mode: the emulator as an HTTP forward proxy, for clients that call AWS by name.

A client given ``HTTPS_PROXY`` opens ``CONNECT sqs.eu-west-1.amazonaws.com:443`` (RFC 9110 §9.3.6);
for an AWS API host the emulator answers ``200``, ends TLS itself with a certificate the run's
authority issues for that name (``run_authority.py``), and serves the requests inside the tunnel
exactly like requests sent to it directly, with one more rule: every request in the tunnel names that
host in ``Host``, and its SigV4 credential scope names the host's service and region
(:class:`ProxiedHost`). Plain-HTTP proxy requests (``GET http://host/path``, RFC 9112 §3.2.2) are
read the same way, one request at a time.

Any other host is not the emulator's to answer: it gets what the caller's network path allows. With
no route to the internet (no NAT gateway, no internet gateway with a public IP) the proxy refuses at
once with the reason, where the real task would wait for a connection that never opens; with a route,
the bytes are tunnelled as they are (never intercepted: the client verifies the real site).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from accesspath.emulator.aws_hosts import AwsHost, call_disagreement, parse_aws_host, scope_disagreement
from accesspath.emulator.decision_log import DecisionLog, log_entry
from accesspath.emulator.request_reader import RequestRefused
from accesspath.emulator.run_authority import RunAuthority
from accesspath.environment.callers import Caller
from accesspath.environment.model import Environment
from accesspath.environment.network import PathKind, find_path

TUNNEL_CHUNK = 64 * 1024
CONNECT_TIMEOUT = 30.0
"""How long the proxy waits for a host outside AWS to accept a tunnelled connection."""
_HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9\-_]{0,62})(\.[a-z0-9]([a-z0-9\-_]{0,62}))*\.?$")
_PORT = re.compile(r"^[0-9]{1,5}$")
# Sent to the client only, never upstream (RFC 9110 §7.6.1 and the proxy's own fields).
_PROXY_FIELDS = frozenset({"proxy-connection", "proxy-authorization", "proxy-authenticate", "connection", "keep-alive",
                           "te", "trailer", "upgrade"})


@dataclass(frozen=True, slots=True)
class ProxiedHost:
    """The AWS endpoint a tunnel (or a plain-HTTP proxy request) was addressed to: its requests must
    name it in ``Host`` and be signed for its service and region."""

    aws: AwsHost
    port: int
    tls: bool

    @property
    def authority(self) -> str:
        default = 443 if self.tls else 80
        return self.aws.name if self.port == default else f"{self.aws.name}:{self.port}"

    def classify(self, host: str) -> str | None:
        """The S3 bucket ``host`` names (virtual-hosted style), after checking that it is the host the
        connection was opened to; raises RequestRefused otherwise (``request_reader`` calls this)."""
        name, _, port = host.lower().partition(":")
        if name.rstrip(".") != self.aws.name or (port or str(443 if self.tls else 80)) != str(self.port):
            raise RequestRefused(f"the Host '{host[:80]}' is not the host this connection was opened to"
                                 f" ({self.authority}): another server would read it as another endpoint or bucket")
        return self.aws.bucket

    def scope_problem(self, signing_name: str, region: str) -> str | None:
        """Why the credential scope names another service or region than the host (None: it agrees)."""
        return scope_disagreement(self.aws, signing_name, region)

    def call_problem(self, service: str) -> str | None:
        """Why the identified call is not one this host serves (None: it is)."""
        return call_disagreement(self.aws, service)


@dataclass(frozen=True, slots=True)
class OutsideRoute:
    """Whether the caller's network path reaches a host that is not AWS, and why."""

    allowed: bool
    reason: str
    proxy_status: str = ""          # RFC 9209 error type of a refusal
    decision: str = "allowed"       # the decision log's word: allowed, unreachable, undetermined, error


class ProxyRefusal(Exception):
    """A CONNECT or proxy request the proxy answers itself: ``status``, and the reason as the body."""

    def __init__(self, status: int, reason: str, proxy_status: str, decision: str = "error") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.proxy_status = proxy_status
        self.decision = decision


ServeTunnel = Callable[[asyncio.StreamReader, asyncio.StreamWriter, ProxiedHost], Awaitable[None]]
"""The emulator's HTTP/1.1 server for one connection whose requests are all addressed to one AWS host."""


@dataclass
class TransparentProxy:
    """What the emulator needs to act as a proxy: the run's authority, and whose network path
    connections to hosts outside AWS take (``caller``; None: no caller is known, they are refused)."""

    authority: RunAuthority
    env: Environment
    caller: Caller | None
    decision_log: DecisionLog | None = None
    """Where connections the proxy answers itself are logged (requests inside tunnels are logged by the
    emulator as any other call): ``connection`` names the host and port."""

    def outside_route(self, host: str, port: int) -> OutsideRoute:
        """What the caller's network path allows for a connection to ``host:port`` outside AWS."""
        where = f"{host}:{port}"
        if self.caller is None:
            return OutsideRoute(False, f"{where} is not an AWS endpoint, and no caller is known whose network path it"
                                       " would take (give --from)", "destination_ip_prohibited", "error")
        placement = self.caller.placement
        if placement is None:
            return OutsideRoute(True, f"{self.caller.id} has no network placement: nothing limits its connections")
        path = find_path(self.env, placement, (), self.env.region)
        if path.kind is PathKind.UNDETERMINED:
            return OutsideRoute(False, f"{where} is not an AWS endpoint, and the network path of {self.caller.id} is"
                                       f" undetermined: {path.reason}", "destination_ip_prohibited", "undetermined")
        if not path.reachable:
            return OutsideRoute(False, f"{where} is not an AWS endpoint and {self.caller.id} cannot reach the internet:"
                                       f" {path.reason}", "destination_ip_unroutable", "unreachable")
        gateway = path.gateway.id if path.gateway is not None else "?"
        kind = "NAT gateway" if path.kind is PathKind.NAT_GATEWAY else "internet gateway"
        return OutsideRoute(True, f"{where} is reached through {kind} {gateway} ({path.reason})")

    def aws_host(self, host: str, port: int, *, tls: bool) -> ProxiedHost | None:
        """The AWS endpoint ``host`` is (None: not AWS); raises ProxyRefusal for a name under AWS's
        DNS suffixes that is not an API endpoint the emulator can decide, or an unusual port."""
        try:
            found = parse_aws_host(host)
        except ValueError as error:
            raise ProxyRefusal(403, str(error), "destination_ip_prohibited") from None
        if found is None:
            return None
        if port not in (80, 443):
            raise ProxyRefusal(403, f"{host}:{port}: AWS API endpoints answer on port 443 (and 80), not {port}",
                               "destination_ip_prohibited")
        return ProxiedHost(found, port, tls)

    async def handle_connect(self, target: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                             serve_tunnel: ServeTunnel) -> None:
        """Answer ``CONNECT target`` and carry the connection to its end (the caller closes ``writer``)."""
        try:
            host, port = authority_form(target)
            proxied = self.aws_host(host, port, tls=port != 80)
            if proxied is None:
                await self._tunnel_outside(host, port, reader, writer)
                return
        except ProxyRefusal as refusal:
            self._log(target, refusal.decision, refusal.status, refusal.reason)
            await write_refusal(writer, refusal)
            return
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        await writer.drain()
        if proxied.tls:
            try:
                await writer.start_tls(self.authority.server_context(proxied.aws.name))
            except (ssl.SSLError, ConnectionError, OSError):
                return      # the client distrusts the run's authority (pinning, no CA bundle) or went away
        await serve_tunnel(reader, writer, proxied)

    async def _tunnel_outside(self, host: str, port: int, reader: asyncio.StreamReader,
                              writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await self._open_outside(host, port)
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        await writer.drain()
        await relay(reader, writer, upstream_reader, upstream_writer)

    async def route_absolute(self, method: str, target: str, version: str, fields: Sequence[tuple[str, str]],
                             reader: asyncio.StreamReader,
                             writer: asyncio.StreamWriter) -> tuple[ProxiedHost, str] | None:
        """A plain-HTTP proxy request (``GET http://host/path``): for an AWS endpoint, the host and the
        origin-form target the emulator serves it with; otherwise None, the proxy having answered it
        itself (a refusal, or the request relayed to a host outside AWS): the connection then ends."""
        try:
            host, port, origin = absolute_form(target)
            proxied = self.aws_host(host, port, tls=False)
            if proxied is not None:
                return proxied, origin
            await self.forward_outside(method, target, version, fields, reader, writer)
        except ProxyRefusal as refusal:
            self._log(target, refusal.decision, refusal.status, refusal.reason)
            await write_refusal(writer, refusal)
        return None

    async def _open_outside(self, host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to a host outside AWS, where the caller's path allows one; raises ProxyRefusal."""
        route = self.outside_route(host, port)
        if not route.allowed:
            raise ProxyRefusal(504, route.reason, route.proxy_status, route.decision)
        try:
            opened = await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as error:
            raise ProxyRefusal(502, f"{host}:{port} did not accept the connection: {error}",
                               "connection_refused") from None
        self._log(f"{host}:{port}", "allowed", 200, None)
        return opened

    def _log(self, target: str, decision: str, status: int, reason: str | None) -> None:
        if self.decision_log is None:
            return
        entry = log_entry(caller=self.caller, service=None, operation=None, decisions=(), decision=decision,
                          status=status, error=reason)
        entry["connection"] = target[:300]
        self.decision_log.record(entry)

    async def forward_outside(self, method: str, target: str, version: str, fields: Sequence[tuple[str, str]],
                              reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """A plain-HTTP proxy request (absolute form) to a host outside AWS, where the path allows it:
        sent on in origin form with ``Connection: close``, then both directions relayed as they are."""
        url = urlsplit(target)
        upstream_reader, upstream_writer = await self._open_outside(url.hostname or "", url.port or 80)
        origin = (url.path or "/") + (f"?{url.query}" if url.query else "")
        head = [f"{method} {origin} {version}"]
        head += [f"{name}: {value}" for name, value in fields if name.lower() not in _PROXY_FIELDS]
        head.append("Connection: close")
        upstream_writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        await relay(reader, writer, upstream_reader, upstream_writer)


def authority_form(target: str) -> tuple[str, int]:
    """``host:port`` of a CONNECT request (RFC 9112 §3.2.3: the port is required); raises ProxyRefusal."""
    if target.startswith("["):
        address, _, rest = target[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        try:
            ipaddress.IPv6Address(address)
        except ValueError:
            address = ""
        host = address
    else:
        host, _, port = target.partition(":")
        host = host.lower()
        if not _HOST_NAME.fullmatch(host):
            host = ""
    if not host or not _PORT.fullmatch(port) or not 0 < int(port) < 65536:
        raise ProxyRefusal(400, f"CONNECT '{target[:80]}' is not host:port (RFC 9112 §3.2.3)", "http_request_error")
    return host.rstrip("."), int(port)


def absolute_form(target: str) -> tuple[str, int, str]:
    """(host, port, origin-form target) of a plain-HTTP proxy request ``http://host[:port]/path?query``;
    raises ProxyRefusal for anything else (``https://`` belongs in a CONNECT tunnel)."""
    scheme, _, rest = target.partition("://")
    authority, slash, path = rest.partition("/")
    if scheme.lower() != "http" or not authority or "@" in authority:
        raise ProxyRefusal(400, f"the proxy request target '{target[:80]}' is not http://host[:port]/path"
                                " (https goes through CONNECT)", "http_request_error")
    host, port = authority_form(authority if ":" in authority.rpartition("]")[2] else f"{authority}:80")
    return host, port, "/" + path if slash else "/"


async def write_refusal(writer: asyncio.StreamWriter, refusal: ProxyRefusal) -> None:
    """The proxy's own answer: the status, RFC 9209's ``Proxy-Status`` and the reason as text."""
    body = f"accesspath: {refusal.reason}\n".encode()
    reasons = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway", 504: "Gateway Timeout"}
    details = refusal.reason.replace("\\", "\\\\").replace('"', '\\"')
    head = (f"HTTP/1.1 {refusal.status} {reasons.get(refusal.status, 'Error')}\r\n"
            f"Proxy-Status: accesspath; error={refusal.proxy_status}; details=\"{details}\"\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    writer.write(head.encode("utf-8", "replace") + body)
    with contextlib.suppress(ConnectionError, OSError):
        await writer.drain()


async def relay(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter,
                upstream_reader: asyncio.StreamReader, upstream_writer: asyncio.StreamWriter) -> None:
    """Copy bytes both ways until both directions end (a half-close is passed on)."""
    async def copy(source: asyncio.StreamReader, destination: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(TUNNEL_CHUNK):
                destination.write(data)
                await destination.drain()
            if destination.can_write_eof():
                destination.write_eof()
        except (ConnectionError, OSError):
            destination.close()

    try:
        await asyncio.gather(copy(client_reader, upstream_writer), copy(upstream_reader, client_writer))
    finally:
        upstream_writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await upstream_writer.wait_closed()
