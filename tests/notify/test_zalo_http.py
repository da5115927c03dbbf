"""The light HTTP client of Zalo's message calls, against a raw HTTP/1.1 server that answers as told."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import pytest

from services.notify.zalo_http import LightHttp

Answer = Callable[[dict[str, str], bytes], bytes]


def _json(status: int, body: dict[str, object], *, close: bool = False) -> bytes:
    content = json.dumps(body).encode()
    head = f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nContent-Length: {len(content)}\r\n"
    return (head + ("Connection: close\r\n" if close else "") + "\r\n").encode() + content


class RawServer:
    """Counts connections, keeps what it received, answers each request with `answer(headers, body)`."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.writers: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode()
                lines = head.split("\r\n")
                headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.received.append((headers | {":request": lines[0]}, body))
                answer = self.answer(headers, body)
                if not answer:
                    continue  # say nothing (a server that hangs)
                writer.write(answer)
                await writer.drain()
                if b"Connection: close" in answer:
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Answer], asyncio.Future[tuple[RawServer, str]]]]:
    servers: list[asyncio.Server] = []

    async def start(answer: Answer) -> tuple[RawServer, str]:
        raw = RawServer(answer)
        server = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return raw, f"http://127.0.0.1:{port}"

    yield start  # type: ignore[misc]
    for server in servers:
        server.close()


async def test_calls_reuse_one_connection_and_send_the_json_body_and_headers(serve):
    raw, origin = await serve(lambda headers, body: _json(200, {"error": 0, "echo": json.loads(body)}))
    client = LightHttp.for_url(f"{origin}/v3.0/oa/message/cs", 5)
    assert client is not None
    for i in range(3):
        status, content = await client.post_json(
            "/v3.0/oa/message/cs", {"text": f"Tân Ninh {i}"}, {"access_token": "tok"}
        )
        assert status == 200 and json.loads(content)["echo"] == {"text": f"Tân Ninh {i}"}
    assert raw.connections == 1
    headers, body = raw.received[0]
    assert headers[":request"] == "POST /v3.0/oa/message/cs HTTP/1.1"
    assert headers["access_token"] == "tok" and headers["content-type"] == "application/json"
    assert headers["host"] == origin.removeprefix("http://")
    assert json.loads(body.decode("utf-8")) == {"text": "Tân Ninh 0"}
    await client.aclose()


async def test_a_chunked_answer_and_an_error_status_are_read(serve):
    chunked = b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n{"erro\r\n8\r\nr": -32}\r\n0\r\n\r\n'
    answers = iter([chunked, _json(500, {"oops": 1})])
    raw, origin = await serve(lambda headers, body: next(answers))
    client = LightHttp(origin, 5)
    assert await client.post_json("/m", {}, {}) == (200, b'{"error": -32}')
    assert (await client.post_json("/m", {}, {}))[0] == 500
    assert raw.connections == 1


async def test_a_closed_connection_is_not_reused(serve):
    answers = iter([_json(200, {"error": 0}, close=True), _json(200, {"error": 0}), _json(200, {"error": 0})])
    raw, origin = await serve(lambda headers, body: next(answers))
    client = LightHttp(origin, 5)
    await client.post_json("/m", {}, {})  # the server says Connection: close
    await client.post_json("/m", {}, {})
    assert raw.connections == 2
    for writer in raw.writers:  # the server drops its idle connections (its keep-alive timeout)
        writer.close()
    await asyncio.sleep(0.05)
    assert (await client.post_json("/m", {}, {}))[0] == 200
    assert raw.connections == 3


async def test_a_server_that_does_not_answer_times_out_and_its_connection_is_dropped(serve):
    answers = iter([b"", _json(200, {"error": 0})])
    raw, origin = await serve(lambda headers, body: next(answers))
    client = LightHttp(origin, 0.2)
    with pytest.raises(TimeoutError):
        await client.post_json("/m", {}, {})
    client.timeout = 5
    assert (await client.post_json("/m", {}, {}))[0] == 200
    assert raw.connections == 2


async def test_a_refused_connection_is_an_oserror():
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(OSError):
        await LightHttp(f"http://127.0.0.1:{port}", 5).post_json("/m", {}, {})


def test_a_proxy_for_the_zalo_origin_leaves_the_calls_to_httpx(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert LightHttp.for_url("https://openapi.zalo.me/v3.0/oa/message/cs", 5) is None
    monkeypatch.setenv("NO_PROXY", "openapi.zalo.me")
    light = LightHttp.for_url("https://openapi.zalo.me/v3.0/oa/message/cs", 5)
    assert light is not None and (light.host, light.port, light.tls) == ("openapi.zalo.me", 443, True)


def test_it_works_on_uvloop_as_the_services_run():
    import uvloop

    async def call() -> tuple[int, bytes]:
        answer = _json(200, {"error": 0})
        server = await asyncio.start_server(lambda r, w: RawServer(lambda h, b: answer).handle(r, w), "127.0.0.1", 0)
        async with server:
            client = LightHttp(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", 5)
            first = await client.post_json("/m", {}, {})
            assert first == await client.post_json("/m", {}, {})
            await client.aclose()
            return first

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(call()) == (200, b'{"error": 0}')
