"""Listening for clients: the emulator on an asyncio event loop (uvloop where installed).

:class:`EmulatorServer` accepts connections on one listening socket and hands each to
:func:`server.serve_connection`. :func:`start_emulator` runs one on a thread of the calling process
(``accesspath run``, the tests); ``workers.py`` runs one per worker process (``serve --workers N``).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable

from accesspath.emulator.http11 import MAX_HEAD_BYTES
from accesspath.emulator.request_reader import EndpointNames
from accesspath.emulator.server import ConnectionAuthority, Emulator, serve_connection

LISTEN_BACKLOG = 1024
"""Connections the kernel queues before they are accepted: bursts of new clients are not refused."""


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop (libuv) when it is installed, else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def listening_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0: a free port) and listening; ``reuse_port``: several
    processes may bind the same port and the kernel spreads connections over them (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def endpoint_names(emulator: Emulator, sock: socket.socket) -> EndpointNames:
    host, port = sock.getsockname()[:2]
    return EndpointNames.for_listen_address(str(host), int(port), emulator.endpoint_names)


class EmulatorServer:
    """The emulator accepting connections on ``sock`` (already listening) in the running event loop."""

    def __init__(self, emulator: Emulator, sock: socket.socket) -> None:
        self.emulator = emulator
        self.sock = sock
        self.authority = ConnectionAuthority(endpoint_names(emulator, sock))
        self._server: asyncio.base_events.Server | None = None
        self._connections: dict[asyncio.StreamWriter, asyncio.Task[None] | None] = {}

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accepted, sock=self.sock, limit=MAX_HEAD_BYTES,
                                                  backlog=LISTEN_BACKLOG)

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections[writer] = asyncio.current_task()
        try:
            await serve_connection(self.emulator, reader, writer, self.authority)
        finally:
            self._connections.pop(writer, None)

    async def close(self) -> None:
        """Stop accepting, and close the connections still open."""
        if self._server is not None:
            self._server.close()
        tasks = [task for task in self._connections.values() if task is not None]
        for writer in list(self._connections):
            writer.transport.abort()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        await self.emulator.close()


class BackgroundEmulator:
    """An :class:`EmulatorServer` on its own thread and event loop; ``stop()`` (or leaving the ``with``
    block) shuts it down."""

    def __init__(self, emulator: Emulator, sock: socket.socket) -> None:
        self.emulator = emulator
        self._sock = sock
        self._address = sock.getsockname()[:2]
        self._loop = new_event_loop()
        self._server = EmulatorServer(emulator, sock)
        self._started = threading.Event()
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="accesspath-emulator", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._failed is not None:
            raise self._failed

    def _run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._server.start())
        except BaseException as error:  # noqa: BLE001 - reported to the starting thread
            self._failed = error
            self._started.set()
            return
        self._started.set()
        try:
            loop.run_forever()
            loop.run_until_complete(self._server.close())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._address
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def call_soon(self, callback: Callable[[], object]) -> None:
        self._loop.call_soon_threadsafe(callback)

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> BackgroundEmulator:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> BackgroundEmulator:
    """The emulator serving on ``host:port`` from a thread of this process (one event loop)."""
    return BackgroundEmulator(emulator, listening_socket(host, port))
