"""Where allowed requests go: the upstream transport (injectable, so the emulator is testable offline).

The server runs on asyncio, so a transport's ``send`` is a coroutine and its response is read with
``await read_chunk(size)``. :class:`HttpUpstream` is the real one: a pool of keep-alive connections
per event loop (asyncio streams; response heads read with llhttp through ``httptools``); bodies
are sent chunk by chunk as the client's arrive and responses relayed chunk by chunk, so object
bodies are never held whole in memory. A blocking transport (``send`` a plain method, ``read_chunk``
returning bytes, as the tests' recorders are) is run on worker threads by :func:`as_async_transport`.
"""

from __future__ import annotations

import asyncio
import inspect
import ssl
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any, Protocol
from urllib.parse import urlsplit

import httptools

from accesspath.errors import UsageError

CHUNK_SIZE = 64 * 1024
MAX_IDLE_CONNECTIONS = 256
"""Keep-alive connections kept open per event loop; more concurrent calls open more, closed after use."""
MAX_RESPONSE_HEAD = 256 * 1024


@dataclass
class UpstreamRequest:
    method: str
    target: str                               # path and query, exactly as the client sent them
    headers: list[tuple[str, str]]
    body: bytes | Iterable[bytes] | AsyncIterable[bytes]   # an iterable is streamed
    content_length: int | None                # None: sent with chunked transfer encoding


class UpstreamResponse(Protocol):
    status: int
    reason: str

    def header_items(self) -> list[tuple[str, str]]: ...
    async def read_chunk(self, size: int) -> bytes: ...
    def close(self) -> None: ...


class UpstreamTransport(Protocol):
    """Sends one request upstream; raises ``OSError`` (or another exception) when it cannot."""

    async def send(self, request: UpstreamRequest) -> UpstreamResponse: ...
    def close(self) -> None: ...


class UpstreamError(Exception):
    """The upstream's answer is not HTTP/1.1 we can read."""


# -- blocking transports on threads -------------------------------------------------------------------

def as_async_transport(transport: Any) -> UpstreamTransport:
    """``transport`` itself when its ``send`` is a coroutine, else a wrapper running it on threads."""
    if inspect.iscoroutinefunction(getattr(transport, "send", None)):
        return transport  # type: ignore[no-any-return]
    return ThreadedUpstream(transport)


class ThreadedUpstream:
    """A blocking transport (``send(request) -> response`` with ``read_chunk(size) -> bytes``) run on
    the event loop's worker threads; a streamed body reaches it as a blocking iterator."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.authority: str | None = getattr(inner, "authority", None)

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        loop = asyncio.get_running_loop()
        body = request.body
        if not isinstance(body, (bytes, bytearray)) and isinstance(body, AsyncIterable):
            request = replace(request, body=_blocking_iterator(body, loop))
        response = await loop.run_in_executor(None, self.inner.send, request)
        return _ThreadedResponse(response, loop)

    def close(self) -> None:
        self.inner.close()


def _blocking_iterator(pieces: AsyncIterable[bytes], loop: asyncio.AbstractEventLoop) -> Iterator[bytes]:
    iterator = aiter(pieces)

    async def next_piece() -> bytes:
        return await anext(iterator)

    while True:
        try:
            piece = asyncio.run_coroutine_threadsafe(next_piece(), loop).result()
        except StopAsyncIteration:
            return
        yield piece


class _ThreadedResponse:
    def __init__(self, inner: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._inner = inner
        self._loop = loop
        self.status = int(inner.status)
        self.reason = str(inner.reason)

    def header_items(self) -> list[tuple[str, str]]:
        return list(self._inner.header_items())

    async def read_chunk(self, size: int) -> bytes:
        return bytes(await self._loop.run_in_executor(None, self._inner.read_chunk, size))

    def close(self) -> None:
        self._inner.close()


# -- HTTP/1.1 with a connection pool ------------------------------------------------------------------

class _Connection:
    __slots__ = ("reader", "reused", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.reused = False

    def usable(self) -> bool:
        return not self.reader.at_eof() and not self.writer.is_closing()

    def abort(self) -> None:
        transport = self.writer.transport
        if not transport.is_closing():
            transport.abort()


class _ResponseHead:
    """Collects one response head from llhttp's callbacks (httptools calls these by name)."""

    __slots__ = ("fields", "reason")

    def __init__(self) -> None:
        self.fields: list[tuple[str, str]] = []
        self.reason = ""

    def on_status(self, status: bytes) -> None:
        self.reason += status.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.fields.append((name.decode("latin-1"), value.decode("latin-1")))


class _PooledResponse:
    """A response read from a pooled connection; ``close()`` puts the connection back when reusable."""

    def __init__(self, upstream: HttpUpstream, connection: _Connection, status: int, reason: str,
                 fields: list[tuple[str, str]], *, bodiless: bool, keep_alive: bool) -> None:
        self._upstream = upstream
        self._connection: _Connection | None = connection
        self.status = status
        self.reason = reason
        self._fields = fields
        self._keep_alive = keep_alive
        self._remaining: int | None = 0
        self._chunked = False
        self._chunk_left = 0
        self._done = bodiless
        if not bodiless:
            lowered = {name.lower(): value for name, value in fields}
            if "chunked" in lowered.get("transfer-encoding", "").lower():
                self._chunked = True
                self._remaining = None
            elif "content-length" in lowered:
                self._remaining = int(lowered["content-length"].strip())
                self._done = self._remaining == 0
            else:
                self._remaining = None      # until the upstream closes the connection
                self._keep_alive = False

    def header_items(self) -> list[tuple[str, str]]:
        return list(self._fields)

    async def read_chunk(self, size: int) -> bytes:
        if self._done or self._connection is None or size <= 0:
            return b""
        reader = self._connection.reader
        if self._chunked:
            return await self._read_chunked(reader, size)
        if self._remaining is None:
            data = await reader.read(size)
            self._done = not data
            return data
        data = await reader.read(min(size, self._remaining))
        if not data:
            raise UpstreamError("the upstream closed the connection before the end of its response body")
        self._remaining -= len(data)
        self._done = self._remaining == 0
        return data

    async def _read_chunked(self, reader: asyncio.StreamReader, size: int) -> bytes:
        if self._chunk_left == 0:
            line = await reader.readline()
            if not line.endswith(b"\n"):
                raise UpstreamError("the upstream's chunked response ends early")
            try:
                self._chunk_left = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise UpstreamError("malformed chunk size in the upstream's response") from None
            if self._chunk_left == 0:
                while (trailer := await reader.readline()) not in (b"\r\n", b"\n"):
                    if not trailer:
                        raise UpstreamError("the upstream's chunked response ends early")
                self._done = True
                return b""
        data = await reader.read(min(size, self._chunk_left))
        if not data:
            raise UpstreamError("the upstream's chunked response ends early")
        self._chunk_left -= len(data)
        if self._chunk_left == 0 and await reader.readexactly(2) != b"\r\n":
            raise UpstreamError("a chunk of the upstream's response is not followed by CRLF")
        return data

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._done and self._keep_alive:
            self._upstream._release(connection)
        else:
            connection.abort()


class HttpUpstream:
    """``--upstream URL``: forwards to ``http(s)://host:port`` over a pool of keep-alive connections."""

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
        self._host = parts.hostname
        self._tls = parts.scheme == "https"
        self._port = port or (443 if self._tls else 80)
        self._timeout = timeout
        # Connections belong to the event loop that opened them (one per worker process or thread).
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: deque[_Connection] = deque()

    async def _connection(self) -> _Connection:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._idle = loop, deque()
        while self._idle:
            connection = self._idle.pop()
            if connection.usable():
                connection.reused = True
                return connection
            connection.abort()
        async with asyncio.timeout(self._timeout):
            reader, writer = await asyncio.open_connection(
                self._host, self._port, limit=MAX_RESPONSE_HEAD,
                ssl=ssl.create_default_context() if self._tls else None)
        return _Connection(reader, writer)

    def _release(self, connection: _Connection) -> None:
        if asyncio.get_running_loop() is self._loop and len(self._idle) < MAX_IDLE_CONNECTIONS \
                and connection.usable():
            self._idle.append(connection)
        else:
            connection.abort()

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        replayable = isinstance(request.body, (bytes, bytearray))
        connection = await self._connection()
        if connection.reused and replayable:
            try:
                return await self._send_on(connection, request)
            except (ConnectionError, asyncio.IncompleteReadError) as error:
                # The upstream closed an idle keep-alive connection: try once on a new one.
                if isinstance(error, asyncio.IncompleteReadError) and error.partial:
                    raise
            connection = await self._connection()
        return await self._send_on(connection, request)

    async def _send_on(self, connection: _Connection, request: UpstreamRequest) -> UpstreamResponse:
        writer = connection.writer
        try:
            head = [f"{request.method} {request.target} HTTP/1.1\r\n"]
            head.extend(f"{name}: {value}\r\n" for name, value in request.headers)
            if request.content_length is None:
                head.append("Transfer-Encoding: chunked\r\n")
            elif not any(name.lower() == "content-length" for name, _ in request.headers):
                head.append(f"Content-Length: {request.content_length}\r\n")
            head.append("\r\n")
            encoded = "".join(head).encode("latin-1")
            body = request.body
            if isinstance(body, (bytes, bytearray)):
                writer.write(encoded + body)
            else:
                writer.write(encoded)
                chunked = request.content_length is None
                async for piece in _pieces(body):
                    if not piece:
                        continue
                    writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                    await writer.drain()
                if chunked:
                    writer.write(b"0\r\n\r\n")
            await writer.drain()
            async with asyncio.timeout(self._timeout):
                return await self._read_response(connection, request.method)
        except BaseException:
            # A body that failed half-way (client gone, hash mismatch) leaves the upstream with an
            # incomplete request: closing the connection is what makes it drop it.
            connection.abort()
            raise

    async def _read_response(self, connection: _Connection, method: str) -> UpstreamResponse:
        while True:
            try:
                data = await connection.reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                raise UpstreamError(f"the upstream's response head is larger than {MAX_RESPONSE_HEAD} bytes") from None
            head = _ResponseHead()
            parser = httptools.HttpResponseParser(head)
            try:
                parser.feed_data(data)
            except httptools.HttpParserError as error:
                raise UpstreamError(f"the upstream's response head is not HTTP/1.1: {error}") from None
            status = parser.get_status_code()
            if 100 <= status < 200 and status != 101:
                continue                     # an interim response: the final one follows
            bodiless = method == "HEAD" or status in (204, 304)
            return _PooledResponse(self, connection, status, head.reason, head.fields, bodiless=bodiless,
                                   keep_alive=parser.should_keep_alive())

    def close(self) -> None:
        while self._idle:
            self._idle.pop().abort()


async def _pieces(body: Iterable[bytes] | AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    if isinstance(body, AsyncIterable):
        async for piece in body:
            yield piece
    else:
        for piece in body:
            yield piece
