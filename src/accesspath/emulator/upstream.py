"""Where allowed requests go: the upstream transport (injectable, so the emulator is testable offline).

:class:`HttpUpstream` sends with ``http.client`` and keeps one keep-alive connection per server
thread; bodies are sent chunk by chunk as the client's arrive and responses are read chunk by
chunk, so object bodies are never held whole in memory.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from accesspath.errors import UsageError

CHUNK_SIZE = 64 * 1024


@dataclass
class UpstreamRequest:
    method: str
    target: str                               # path and query, exactly as the client sent them
    headers: list[tuple[str, str]]
    body: bytes | Iterable[bytes]             # an iterable is streamed
    content_length: int | None                # None: sent with chunked transfer encoding


class UpstreamResponse(Protocol):
    status: int
    reason: str

    def header_items(self) -> list[tuple[str, str]]: ...
    def read_chunk(self, size: int) -> bytes: ...
    def close(self) -> None: ...


class UpstreamTransport(Protocol):
    """Sends one request upstream; raises ``OSError`` (or ``http.client.HTTPException``) when it cannot."""

    def send(self, request: UpstreamRequest) -> UpstreamResponse: ...
    def close(self) -> None: ...


class _HttpClientResponse:
    def __init__(self, response: http.client.HTTPResponse, release: _Release) -> None:
        self._response = response
        self._release = release
        self.status = response.status
        self.reason = response.reason

    def header_items(self) -> list[tuple[str, str]]:
        return list(self._response.getheaders())

    def read_chunk(self, size: int) -> bytes:
        return self._response.read1(size) if size else b""

    def close(self) -> None:
        complete = self._response.isclosed() or self._response.length == 0
        reusable = complete and not self._response.will_close
        self._response.close()
        self._release(reusable)


class _Release(Protocol):
    def __call__(self, reusable: bool) -> None: ...


class HttpUpstream:
    """``--upstream URL``: forwards to ``http(s)://host:port`` with ``http.client``."""

    def __init__(self, url: str, *, timeout: float = 60.0) -> None:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:   # 'http://[' (an unclosed IPv6 literal), a port that is not a number
            raise UsageError(f"--upstream '{url}' is not a URL: {error}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--upstream '{url}' must be an http:// or https:// URL")
        if parts.path not in ("", "/") or parts.query:
            raise UsageError(f"--upstream '{url}' must name a server only (no path or query)")
        self.url = url
        self.authority = parts.netloc    # the Host the upstream answers to
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = port
        self._timeout = timeout
        self._local = threading.local()

    def _new_connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection
        if self._scheme == "https":
            connection = http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout)
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        connection.connect()
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and
        # the peer's delayed ACK hold the body back for ~40 ms.
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def send(self, request: UpstreamRequest) -> UpstreamResponse:
        replayable = isinstance(request.body, bytes)
        pooled: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        self._local.connection = None
        if pooled is not None and replayable:
            try:
                return self._send_on(pooled, request)
            except (http.client.RemoteDisconnected, http.client.BadStatusLine, ConnectionError):
                pooled.close()  # the server closed an idle keep-alive connection: try once on a new one
        elif pooled is not None:
            pooled.close()
        return self._send_on(self._new_connection(), request)

    def _send_on(self, connection: http.client.HTTPConnection, request: UpstreamRequest) -> UpstreamResponse:
        try:
            connection.putrequest(request.method, request.target, skip_host=True, skip_accept_encoding=True)
            for name, value in request.headers:
                connection.putheader(name, value)
            if request.content_length is None:
                connection.putheader("Transfer-Encoding", "chunked")
            elif not any(name.lower() == "content-length" for name, _ in request.headers):
                connection.putheader("Content-Length", str(request.content_length))
            connection.endheaders()
            if isinstance(request.body, bytes):
                if request.body:
                    connection.send(request.body)
            else:
                for chunk in request.body:
                    if not chunk:
                        continue
                    if request.content_length is None:
                        connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    else:
                        connection.send(chunk)
                if request.content_length is None:
                    connection.send(b"0\r\n\r\n")
            response = connection.getresponse()
        except BaseException:
            # A body that failed half-way (client gone, hash mismatch) leaves the upstream with an
            # incomplete request: closing the connection is what makes it drop it.
            connection.close()
            raise

        def release(reusable: bool) -> None:
            if reusable:
                self._local.connection = connection
            else:
                connection.close()

        return _HttpClientResponse(response, release)

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


def iterate(response: UpstreamResponse, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    while True:
        chunk = response.read_chunk(size)
        if not chunk:
            return
        yield chunk
