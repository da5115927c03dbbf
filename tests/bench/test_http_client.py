"""The benchmark's keep-alive HTTP client against a tiny real server: answers with a length and chunked,
connections reused, and a keep-alive connection the server closed while idle replaced without an error."""

from __future__ import annotations

import asyncio

from bench.http import HttpError, KeepAliveClient


async def _serve(answers: list[bytes], closes_after: int | None = None):
    """A server answering each request with the next canned answer; closes a connection after
    `closes_after` requests on it. Returns (server, port, requests seen, connections opened)."""
    seen: list[bytes] = []
    opened: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        opened.append(1)
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                seen.append(await reader.readexactly(length))
                writer.write(answers[(len(seen) - 1) % len(answers)])
                await writer.drain()
                served += 1
                if closes_after is not None and served >= closes_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], seen, opened


async def test_answers_with_length_and_chunked_on_one_connection():
    answers = [
        b'HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"id": "1"}',
        b'HTTP/1.1 422 Unprocessable\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n3\r\n: 1\r\n1\r\n}\r\n0\r\n\r\n',
    ]
    server, port, seen, opened = await _serve(answers)
    client = KeepAliveClient(f"http://127.0.0.1:{port}", connections=1)
    try:
        first = await client.post_json("/v1/cases", '{"tóm tắt": "trẻ"}'.encode(), {"Authorization": "Bearer x"})
        second = await client.post_json("/v1/cases", b"{}", {})
    finally:
        await client.aclose()
        server.close()
    assert first == (201, b'{"id": "1"}')
    assert second == (422, b'{"a": 1}')
    assert seen == ['{"tóm tắt": "trẻ"}'.encode(), b"{}"]
    assert len(opened) == 1


async def test_an_idle_connection_closed_by_the_server_is_replaced():
    ok = b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}"
    server, port, seen, opened = await _serve([ok], closes_after=1)
    client = KeepAliveClient(f"http://127.0.0.1:{port}", connections=1)
    try:
        assert (await client.post_json("/x", b"1", {}))[0] == 201
        await asyncio.sleep(0.05)  # the server has closed that connection by now
        assert (await client.post_json("/x", b"2", {}))[0] == 201
    finally:
        await client.aclose()
        server.close()
    assert seen == [b"1", b"2"]
    assert len(opened) == 2


async def test_a_server_that_never_answers_is_an_error():
    server, port, _, _ = await _serve([b""], closes_after=1)  # reads the request, closes without a word
    client = KeepAliveClient(f"http://127.0.0.1:{port}", connections=1, timeout=2)
    try:
        raised = False
        try:
            await client.post_json("/x", b"1", {})
        except HttpError:
            raised = True
    finally:
        await client.aclose()
        server.close()
    assert raised
