"""The HTTP client of Zalo's message calls: HTTP/1.1 keep-alive connections to one origin, a request written
in one piece and the answer parsed by httptools (the C parser uvicorn uses).

httpx cost ~20 times more CPU per call (its request and response models, and a connection pool that checks
every idle socket on every request): 18 % of notify's CPU under load. This client does only what the
consultation-message call needs: POST a JSON body, read the status and the body (Content-Length, chunked, or
up to the close). The certificate check is httpx's (`httpx.create_ssl_context()`). It is used only when no
proxy applies to the Zalo origin (`for_url` gives None, and the caller keeps httpx, which honours
HTTPS_PROXY/NO_PROXY); the token refresh, rare, stays on httpx.

A failed call (connection refused or dropped, timeout, malformed answer) raises `OSError`/`TimeoutError`/
`ValueError`; its connection is dropped. An idle connection the server closed is noticed (EOF) and not reused;
one idle for `KEEPALIVE_SECONDS` is closed before the server's own keep-alive timeout (commonly 5 s) can race a
request.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
import urllib.request
from typing import Any, cast
from urllib.parse import urlsplit

import httptools
import httpx

KEEPALIVE_SECONDS = 4.0
MOST_IDLE = 32


class _Connection(asyncio.Protocol):
    """One connection: the answer to the request in flight, fed to httptools as it arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._answer: asyncio.Future[tuple[int, bytes, bool]] | None = None
        self._body: list[bytes] = []
        self._headers_done = False

    def start(self, answer: asyncio.Future[tuple[int, bytes, bool]]) -> None:
        self._answer, self._body, self._headers_done = answer, [], False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio.Transport's

    def data_received(self, data: bytes) -> None:
        if self._answer is None or self._answer.done():
            self.closed = True  # bytes nobody asked for: this connection is not in a known state
            if self.transport is not None:
                self.transport.close()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ValueError(f"malformed HTTP answer: {exc}"))

    def eof_received(self) -> bool | None:
        self.closed = True
        if self._answer is not None and not self._answer.done() and self._headers_done:
            # an answer without length ends with the connection
            self._answer.set_result((self._parser.get_status_code(), b"".join(self._body), False))
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionError("the connection closed before the answer ended"))

    # httptools callbacks
    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # an interim answer: the real one follows
            self._body, self._headers_done = [], False
            return
        if self._answer is not None and not self._answer.done():
            self._answer.set_result((status, b"".join(self._body), self._parser.should_keep_alive()))

    def _fail(self, exc: Exception) -> None:
        self.closed = True
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(exc)
        if self.transport is not None:
            self.transport.close()


class LightHttp:
    """POSTs JSON to one origin (`scheme://host[:port]`) over reused HTTP/1.1 connections."""

    def __init__(self, origin: str, timeout: float, ssl_context: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(origin)
        self.timeout = timeout  # seconds for one call, connecting included
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) origin: {origin!r}")
        self.host = parts.hostname
        self.tls = parts.scheme == "https"
        self.port = parts.port or (443 if self.tls else 80)
        default = 443 if self.tls else 80
        self._host_header = self.host if self.port == default else f"{self.host}:{self.port}"
        self._ssl = (ssl_context or httpx.create_ssl_context()) if self.tls else None
        self._idle: list[_Connection] = []

    @classmethod
    def for_url(cls, url: str, timeout: float) -> LightHttp | None:
        """A client for `url`'s origin, or None when a proxy applies to it (the caller then keeps httpx)."""
        parts = urlsplit(url)
        proxies = urllib.request.getproxies()
        if (parts.scheme in proxies or "all" in proxies) and not urllib.request.proxy_bypass(parts.hostname or ""):
            return None
        return cls(f"{parts.scheme}://{parts.netloc}", timeout)

    async def post_json(self, path: str, payload: Any, headers: dict[str, str]) -> tuple[int, bytes]:
        """POST `payload` as JSON; the answer's status and body."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        head = "".join(
            (
                f"POST {path} HTTP/1.1\r\nHost: {self._host_header}\r\n",
                "Content-Type: application/json\r\nAccept: application/json\r\n",
                f"Content-Length: {len(body)}\r\n",
                *(f"{name}: {value}\r\n" for name, value in headers.items()),
                "\r\n",
            )
        ).encode()
        async with asyncio.timeout(self.timeout):
            connection = await self._checkout()
            try:
                answer: asyncio.Future[tuple[int, bytes, bool]] = asyncio.get_running_loop().create_future()
                connection.start(answer)
                assert connection.transport is not None
                connection.transport.write(head + body)
                status, content, keep_alive = await answer
            except BaseException:
                connection.closed = True
                if connection.transport is not None:
                    connection.transport.close()
                raise
        if keep_alive and not connection.closed and len(self._idle) < MOST_IDLE:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        elif connection.transport is not None:
            connection.transport.close()
        return status, content

    async def _checkout(self) -> _Connection:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()  # the most recently used: the least likely to be closed by the server
            if not connection.closed and now - connection.idle_since < KEEPALIVE_SECONDS:
                return connection
            if connection.transport is not None:
                connection.transport.close()
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(
            _Connection, self.host, self.port, ssl=self._ssl, server_hostname=self.host if self.tls else None
        )
        return connection

    async def aclose(self) -> None:
        for connection in self._idle:
            if connection.transport is not None:
                connection.transport.close()
        self._idle.clear()
