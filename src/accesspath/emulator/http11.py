"""HTTP/1.1 on one asyncio connection: request heads read with llhttp, bodies framed strictly, answers
written as head then body.

A head is read whole (up to the blank line) and given to llhttp (``httptools``), which reports every
field as sent — repeats are never merged — so :func:`request_reader.read_request_head` still judges
each one. Where llhttp itself refuses a head (a folded line, whitespace before a colon, a control
character), the head is split leniently only to find the most precise refusal and the service whose
error format to answer in; it is never served. Bodies are read here, not by llhttp: ``Content-Length``
bytes, or chunks read line by line with the strict chunk-size rules of :func:`request_reader.chunk_size`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http import HTTPStatus

import httptools

from accesspath.emulator.request_reader import RequestRefused, chunk_size

MAX_HEAD_BYTES = 256 * 1024
"""The longest request head read at all; a longer one is answered 431 and the connection closed."""
MAX_LINE_BYTES = 64 * 1024
"""The longest request or header line (http.server's limit, which clients have met so far)."""
MAX_FIELDS = 100
SOCKET_TIMEOUT = 60.0
"""How long a read or write may wait for the client."""
MAX_CHUNK_LINE = 1024
"""The longest chunk-size or trailer line of a chunked body."""
MAX_TRAILER_LINES = 32
READ_SIZE = 64 * 1024


class ClientGone(Exception):
    """The client closed the connection (or went silent) before sending its whole request."""


class UnreadableHead(Exception):
    """A request head that is not read at all: too large (431), or cut short by the client closing its
    side (400). Answered in plain text, then the connection is closed; no request was read, so none is
    logged."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RawHead:
    """A request head as received: the request line and every field, in order, repeats and all.

    ``problem``: why llhttp refused the head (the fields are then a lenient split, fit only for
    choosing the refusal and its format)."""

    method: str
    target: str
    version: str
    fields: tuple[tuple[str, str], ...]
    size: int
    keep_alive: bool
    problem: str | None = None

    def first(self) -> dict[str, str]:
        """Lower-case name → the first value sent (for choosing an error format only)."""
        out: dict[str, str] = {}
        for name, value in self.fields:
            out.setdefault(name.lower(), value.strip(" \t"))
        return out


class _HeadCollector:
    """llhttp's callbacks for one request head (httptools calls them by name)."""

    __slots__ = ("fields", "url")

    def __init__(self) -> None:
        self.url = b""
        self.fields: list[tuple[str, str]] = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.fields.append((name.decode("latin-1"), value.decode("latin-1")))


def parse_head(data: bytes) -> RawHead:
    """``data``: a request head up to and including its blank line."""
    collector = _HeadCollector()
    parser = httptools.HttpRequestParser(collector)
    try:
        parser.feed_data(data)
    except httptools.HttpParserUpgrade:
        pass                                # an Upgrade request: refused later as a method/target it is not
    except httptools.HttpParserError as error:
        return _lenient_head(data, str(error) or type(error).__name__)
    version = f"HTTP/{parser.get_http_version()}"
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise UnreadableHead(505, f"{version} is not spoken here (HTTP/1.1)")
    return RawHead(parser.get_method().decode("latin-1"), collector.url.decode("latin-1"), version,
                   tuple(collector.fields), len(data), parser.should_keep_alive())


def _lenient_head(data: bytes, problem: str) -> RawHead:
    """The head llhttp refused, split leniently; a request line that is not ``METHOD TARGET HTTP/1.x``
    is no request at all (as for http.server: answered 400 and not logged)."""
    lines = data.decode("latin-1").replace("\r\n", "\n").split("\n")
    request_line = lines[0].split(" ")
    if len(request_line) != 3 or request_line[2] not in ("HTTP/1.1", "HTTP/1.0"):
        raise UnreadableHead(400, f"malformed request line ({problem})")
    method, target, version = request_line
    fields = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            fields.append((name, value.strip(" \t")))
    return RawHead(method, target, version, tuple(fields), len(data), False, problem)


class HttpConnection:
    """One client connection: reads request heads and bodies, writes answers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.close_after = False
        """Set when the connection cannot carry another request (framing unknown, client gone...)."""

    async def read_head(self) -> RawHead | None:
        """The next request's head; None when the client closed the connection between requests."""
        try:
            async with asyncio.timeout(SOCKET_TIMEOUT):
                data = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            if error.partial.strip():
                # The client ended its side mid-head (or sent bare LF line ends, RFC 9112 §2.2).
                self.close_after = True
                raise UnreadableHead(400, "the request head ends before its empty line (CRLF CRLF)") from None
            return None
        except asyncio.LimitOverrunError:
            self.close_after = True
            raise UnreadableHead(431, f"the request head is longer than {MAX_HEAD_BYTES} bytes") from None
        except (TimeoutError, ConnectionError):
            return None
        lines = data.split(b"\r\n")
        if len(lines) - 3 > MAX_FIELDS:
            self.close_after = True
            raise UnreadableHead(431, f"more than {MAX_FIELDS} header fields")
        if max(map(len, lines)) > MAX_LINE_BYTES:
            self.close_after = True
            raise UnreadableHead(431, f"a request or header line is longer than {MAX_LINE_BYTES} bytes")
        return parse_head(data)

    # -- bodies ---------------------------------------------------------------------------------------

    async def body_chunks(self, length: int | None) -> AsyncIterator[bytes]:
        """The body as it arrives: ``length`` bytes, or (None) the data of a chunked body."""
        if length is None:
            async for chunk in self._chunked_body():
                yield chunk
            return
        remaining = length
        reader = self.reader
        while remaining > 0:
            try:
                async with asyncio.timeout(SOCKET_TIMEOUT):
                    chunk = await reader.read(min(READ_SIZE, remaining))
            except (TimeoutError, ConnectionError):
                chunk = b""
            if not chunk:
                self.close_after = True
                raise ClientGone()
            remaining -= len(chunk)
            yield chunk

    async def _chunked_body(self) -> AsyncIterator[bytes]:
        """RFC 9112 §7.1, strictly: CRLF line ends, hex sizes, bounded trailers (which are dropped)."""
        while True:
            line = await self._line(MAX_CHUNK_LINE)
            try:
                size = chunk_size(line)
            except RequestRefused:
                self.close_after = True
                raise
            if size == 0:
                for _ in range(MAX_TRAILER_LINES):
                    if await self._line(MAX_CHUNK_LINE) == b"\r\n":
                        return
                self.close_after = True
                raise RequestRefused(f"more than {MAX_TRAILER_LINES} trailer lines", kind="incomplete-body",
                                     close=True)
            async for chunk in self.body_chunks(size):
                yield chunk
            if await self._line(2) != b"\r\n":
                self.close_after = True
                raise RequestRefused("a chunk is not followed by CRLF (RFC 9112 §7.1)", kind="incomplete-body",
                                     close=True)

    async def _line(self, limit: int) -> bytes:
        try:
            async with asyncio.timeout(SOCKET_TIMEOUT):
                line = await self.reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as error:
            line = error.partial
        except asyncio.LimitOverrunError:
            line = b""
        except (TimeoutError, ConnectionError):
            line = b""
        if not line.endswith(b"\n"):
            self.close_after = True
            raise ClientGone()
        if len(line) > limit + 1:
            self.close_after = True
            raise RequestRefused(f"a chunk-size or trailer line is longer than {limit} bytes",
                                 kind="incomplete-body", close=True)
        return line

    # -- answers --------------------------------------------------------------------------------------

    def write_head(self, status: int, reason: str | None, fields: list[tuple[str, str]], body: bytes = b"") -> None:
        phrase = reason if reason is not None else _phrase(status)
        head = f"HTTP/1.1 {status} {phrase}\r\n" + "".join(f"{name}: {value}\r\n" for name, value in fields) + "\r\n"
        self.writer.write(head.encode("latin-1") + body)

    def write(self, data: bytes) -> None:
        self.writer.write(data)

    async def drain(self) -> None:
        async with asyncio.timeout(SOCKET_TIMEOUT):
            await self.writer.drain()

    def send_continue(self) -> None:
        self.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
