"""A minimal HTTP/1.1 keep-alive client for the load generators.

Why not httpx here: its connection pool scans every connection on each request (`has_expired`,
`_assign_requests_to_connections`), so with a few hundred connections the benchmark's own process spent
most of its CPU choosing a connection (py-spy: 43 % of the process in `_assign_requests_to_connections`),
and on two cores that CPU is taken from the system being measured. This client keeps a stack of idle
connections and does only what a JSON `POST` needs: one request line, a few headers, a body, and an answer
with `Content-Length` or chunked encoding.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit


class HttpError(Exception):
    """The request could not be sent or the answer could not be read (the connection is dropped)."""


class _ClosedBeforeAnswer(Exception):
    """The server closed the connection without answering (an idle keep-alive connection it timed out)."""


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class KeepAliveClient:
    """At most `connections` requests in flight to one `base_url`; the rest wait for a connection."""

    def __init__(self, base_url: str, *, connections: int = 64, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout = timeout
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(connections)

    async def post_json(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """Send `body` (JSON bytes); returns (status, answer body). Raises `HttpError`."""
        head = [
            f"POST {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        async with self._slots:
            while True:
                connection = self._idle.pop() if self._idle else None
                reused = connection is not None
                try:
                    if connection is None:
                        reader, writer = await asyncio.wait_for(
                            asyncio.open_connection(self.host, self.port), self.timeout
                        )
                        connection = _Connection(reader, writer)
                    connection.writer.write(request)
                    status, answer, keep = await asyncio.wait_for(self._read(connection.reader), self.timeout)
                except _ClosedBeforeAnswer as exc:
                    connection.close()  # type: ignore[union-attr]
                    if reused:
                        continue  # the server closed an idle keep-alive connection: send again on a new one
                    raise HttpError(str(exc)) from exc
                except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                    if connection is not None:
                        connection.close()
                    raise HttpError(f"{type(exc).__name__}: {exc}") from exc
                if keep:
                    self._idle.append(connection)
                else:
                    connection.close()
                return status, answer

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
        try:
            status_line = await reader.readline()
        except ConnectionResetError as exc:
            raise _ClosedBeforeAnswer("connection reset before an answer") from exc
        if not status_line:
            raise _ClosedBeforeAnswer("connection closed before an answer")
        status = int(status_line.split(b" ", 2)[1])
        length: int | None = None
        chunked, keep = False, True
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                keep = False
        if chunked:
            parts = []
            while size := int((await reader.readline()).split(b";")[0], 16):
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            await reader.readline()
            return status, b"".join(parts), keep
        if length is None:
            return status, await reader.read(), False
        return status, await reader.readexactly(length), keep

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop().close()
