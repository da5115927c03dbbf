"""A small TCP proxy put between the services and RabbitMQ, so a test can take the broker away.

The proxy runs its own event loop in a background thread: the services are separate processes, and the
test's own loop may be busy posting cases while the proxy keeps forwarding bytes. `cut(seconds)` drops
every open connection at once (the clients see a reset, as when a broker node dies) and, for the given
time, closes each new connection the moment it is accepted, so reconnect attempts fail until it is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from types import TracebackType


class TcpProxy:
    """Forward `listen_host:port` (a free port unless given) to `target_host:target_port`."""

    def __init__(self, target_host: str, target_port: int, *, listen_host: str = "127.0.0.1", port: int = 0) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.host = listen_host
        self.port = port
        self.cuts = 0
        self._refuse_until = 0.0
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> TcpProxy:
        self._thread = threading.Thread(target=self._run, name="tcp-proxy", daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("tcp proxy did not start")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- what tests use --------------------------------------------------------------------------

    @property
    def refusing(self) -> bool:
        return time.monotonic() < self._refuse_until

    @property
    def open_connections(self) -> int:
        return len(self._writers)

    def cut(self, seconds: float) -> None:
        """Drop every connection now and refuse new ones for `seconds` (returns at once)."""
        if self._loop is None:
            raise RuntimeError("tcp proxy is not running")
        self._refuse_until = time.monotonic() + seconds
        self.cuts += 1
        asyncio.run_coroutine_threadsafe(self._drop_all(), self._loop).result(10)

    def url_for(self, amqp_url: str) -> str:
        """The same AMQP URL (credentials, vhost) but through this proxy."""
        scheme, rest = amqp_url.split("://", 1)
        credentials, _, after = rest.rpartition("@")
        _hostport, slash, path = after.partition("/")
        prefix = f"{credentials}@" if credentials else ""
        return f"{scheme}://{prefix}{self.host}:{self.port}{slash}{path}"

    # -- the loop --------------------------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        loop.run_until_complete(self._listen())
        self._started.set()
        loop.run_forever()
        loop.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port, reuse_address=True)
        sock: socket.socket = self._server.sockets[0]
        self.port = sock.getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            _reset(writer)
            return
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        finally:
            for w in (writer, up_writer):
                self._writers.discard(w)
                _reset(w)

    async def _drop_all(self) -> None:
        for writer in list(self._writers):
            _reset(writer)
        self._writers.clear()

    async def _shutdown(self) -> None:
        await self._drop_all()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError, RuntimeError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    _reset(writer)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close abruptly (RST, not FIN), as a dead peer or a pulled cable looks to the client."""
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with contextlib.suppress(Exception):
        writer.transport.abort()
