"""The CONNECT proxy on its own: which tunnels it opens, ends TLS for, or refuses with the reason.

The server here reads one request head and hands CONNECTs to :class:`TransparentProxy`, with a stand-in
for the emulator's HTTP server inside the tunnel; the emulator itself is tested through the proxy in
test_emulator_transparent.py. No test reaches the internet: the only tunnel opened goes to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import io
import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from accesspath.emulator import DecisionLog
from accesspath.emulator.aws_hosts import aws_dns_suffixes, parse_aws_host
from accesspath.emulator.connect_proxy import (
    ProxiedHost,
    ProxyRefusal,
    TransparentProxy,
    absolute_form,
    authority_form,
)
from accesspath.emulator.request_reader import RequestRefused
from accesspath.emulator.run_authority import RunAuthority
from accesspath.environment import load_environment, resolve_caller

TEMPLATE = str(Path(__file__).with_name("transparent.yaml"))


@pytest.fixture(scope="module")
def authority() -> Iterator[RunAuthority]:
    with RunAuthority(aws_dns_suffixes()) as made:
        yield made


def _proxy(authority: RunAuthority, internet: bool, log: io.StringIO | None = None) -> TransparentProxy:
    env = load_environment([TEMPLATE], region="eu-west-1", parameters={"Internet": str(internet).lower()})
    return TransparentProxy(authority, env, resolve_caller(env, "OrdersService"),
                            decision_log=DecisionLog(log, live_summary=False) if log is not None else None)


async def _inside(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, proxied: ProxiedHost) -> None:
    """Stands in for the emulator: answers one line naming what the tunnel was opened to."""
    await reader.readline()
    writer.write(f"{proxied.aws.service} {proxied.aws.region} {proxied.aws.bucket} {proxied.tls}\n".encode())
    await writer.drain()


async def _exchange(proxy: TransparentProxy, target: str, *, tls_name: str | None = None,
                    then: bytes = b"hello\n") -> tuple[bytes, bytes]:
    """CONNECT through a one-connection proxy; returns (the proxy's answer head, what came back after)."""
    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = (await reader.readline()).decode()
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        try:
            await proxy.handle_connect(line.split()[1], reader, writer, _inside)
        finally:
            writer.close()

    server = await asyncio.start_server(accepted, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            return head, await reader.read()
        if tls_name is not None:
            await writer.start_tls(ssl.create_default_context(cafile=str(proxy.authority.ca_file)),
                                   server_hostname=tls_name)
        writer.write(then)
        await writer.drain()
        after = await reader.readline()
        writer.close()
        return head, after
    finally:
        server.close()
        await server.wait_closed()


def test_an_aws_host_is_answered_by_the_emulator_over_tls(authority: RunAuthority) -> None:
    proxy = _proxy(authority, internet=False)
    head, after = asyncio.run(_exchange(proxy, "sqs.eu-west-1.amazonaws.com:443",
                                        tls_name="sqs.eu-west-1.amazonaws.com"))
    assert head.startswith(b"HTTP/1.1 200")
    assert after == b"sqs eu-west-1 None True\n"
    head, after = asyncio.run(_exchange(proxy, "orders-data.s3.eu-west-1.amazonaws.com:443",
                                        tls_name="orders-data.s3.eu-west-1.amazonaws.com"))
    assert after == b"s3 eu-west-1 orders-data True\n"


def test_a_host_outside_aws_without_a_route_to_the_internet_is_refused_with_the_reason(authority: RunAuthority) -> None:
    log = io.StringIO()
    head, body = asyncio.run(_exchange(_proxy(authority, internet=False, log=log), "example.com:443"))
    entry = json.loads(log.getvalue())
    assert (entry["connection"], entry["decision"], entry["status"]) == ("example.com:443", "unreachable", 504)
    assert entry["caller"] == {"kind": "ecs-service", "id": "OrdersService"} and entry["requests"] == []
    assert head.startswith(b"HTTP/1.1 504 ")
    assert b"Proxy-Status: accesspath; error=destination_ip_unroutable" in head
    assert body.decode().startswith("accesspath: example.com:443 is not an AWS endpoint and OrdersService cannot"
                                    " reach the internet: no route to the internet from subnet subnet-")
    assert "no default route to a NAT or internet gateway" in body.decode()


def test_a_host_outside_aws_with_a_nat_route_is_tunnelled(authority: RunAuthority) -> None:
    async def scenario() -> tuple[bytes, bytes, list[bytes]]:
        received: list[bytes] = []

        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            line = await reader.readline()
            received.append(line)
            writer.write(b"echo " + line)
            await writer.drain()
            writer.close()

        log = io.StringIO()
        outside = await asyncio.start_server(echo, "127.0.0.1", 0)
        port = outside.sockets[0].getsockname()[1]
        try:
            head, after = await _exchange(_proxy(authority, internet=True, log=log), f"127.0.0.1:{port}",
                                          then=b"ping\n")
        finally:
            outside.close()
            await outside.wait_closed()
        assert json.loads(log.getvalue())["decision"] == "allowed"
        return head, after, received

    head, after, received = asyncio.run(scenario())
    assert head.startswith(b"HTTP/1.1 200") and after == b"echo ping\n" and received == [b"ping\n"]


@pytest.mark.parametrize(("target", "status", "why"), [
    ("vpce-01ab.sqs.eu-west-1.vpce.amazonaws.com:443", b"403", b"not one of an AWS API endpoint"),
    ("sqs.eu-west-1.amazonaws.com:8443", b"403", b"answer on port 443"),
    ("sqs.eu-west-1.amazonaws.com", b"400", b"is not host:port"),
    ("example.com:99999", b"400", b"is not host:port"),
])
def test_refusals(authority: RunAuthority, target: str, status: bytes, why: bytes) -> None:
    head, body = asyncio.run(_exchange(_proxy(authority, internet=True), target))
    assert head.split()[1] == status and why in body


def test_requests_in_a_tunnel_name_its_host() -> None:
    aws = parse_aws_host("orders-data.s3.eu-west-1.amazonaws.com")
    assert aws is not None
    proxy_host = ProxiedHost(aws, 443, True)
    assert proxy_host.classify("orders-data.s3.eu-west-1.amazonaws.com") == "orders-data"
    assert proxy_host.classify("Orders-Data.s3.eu-west-1.amazonaws.com:443") == "orders-data"
    for other in ("other.s3.eu-west-1.amazonaws.com", "x.orders-data.s3.eu-west-1.amazonaws.com",
                  "orders-data.s3.eu-west-1.amazonaws.com:80", "127.0.0.1:443"):
        with pytest.raises(RequestRefused, match="not the host this connection was opened to"):
            proxy_host.classify(other)


def test_target_forms() -> None:
    assert authority_form("sqs.eu-west-1.amazonaws.com:443") == ("sqs.eu-west-1.amazonaws.com", 443)
    assert authority_form("[::1]:8080") == ("::1", 8080)
    assert absolute_form("http://sqs.eu-west-1.amazonaws.com/?Action=ListQueues") == (
        "sqs.eu-west-1.amazonaws.com", 80, "/?Action=ListQueues")
    assert absolute_form("http://127.0.0.1:9000") == ("127.0.0.1", 9000, "/")
    for bad in ("https://sqs.eu-west-1.amazonaws.com/", "http://user@host/", "/path", "http:///x"):
        with pytest.raises(ProxyRefusal):
            absolute_form(bad)
    for bad in ("host", "host:0", "host:65536", "host:+1", "[zz]:1", ":443"):
        with pytest.raises(ProxyRefusal):
            authority_form(bad)
