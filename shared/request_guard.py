"""Text a service cannot store answered 422 before any endpoint runs, in every service.

PostgreSQL text cannot hold NUL, and neither the database nor Python can encode invalid UTF-8 or a lone
UTF-16 surrogate; such a value reaching a query was a 500. `TextGuardMiddleware` refuses, with the
field-level 422 of `shared.http_errors`:
- a path or query string whose percent-decoded bytes hold NUL or are not UTF-8;
- a JSON, form or text body holding a NUL byte, bytes that are not UTF-8, or (JSON) a `\\u0000` or a lone
  surrogate escape.
Bodies of other types (none today) pass untouched. The body is read whole (the body limit, outside this
middleware, bounds it) and given to the endpoint unchanged.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.http_errors import _entry

TEXT_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/")


def _decodes(raw: bytes) -> bool:
    if b"\x00" in raw:
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _bad_json_string(value: Any) -> list[str | int] | None:
    """Where (the field's location) a key or string of a parsed JSON value holds NUL or a lone surrogate."""
    stack: list[tuple[Any, list[str | int]]] = [(value, ["body"])]
    while stack:
        item, loc = stack.pop()
        if isinstance(item, str):
            if not _storable(item):
                return loc
        elif isinstance(item, dict):
            for key, child in item.items():
                if not _storable(key):
                    return loc
                stack.append((child, [*loc, key]))
        elif isinstance(item, list):
            stack.extend((child, [*loc, index]) for index, child in enumerate(item))
    return None


def body_problem(body: bytes, content_type: str) -> list[str | int] | None:
    """None if the body is storable text, else the location to name in the 422."""
    if not _decodes(body):
        return ["body"]
    if "json" in content_type and b"\\u" in body:  # escapes are rare: only then is the JSON parsed here
        try:
            parsed = json.loads(body)
        except ValueError:
            return None  # not JSON at all: the endpoint's own validation answers that
        return _bad_json_string(parsed)
    return None


def _language(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"accept-language" and value.strip().lower().startswith(b"en"):
            return "en"
    return "vi"


def _refusal(where: str | list[str | int], scope: Scope) -> JSONResponse:
    entry = _entry(
        [where] if isinstance(where, str) else where,
        "Must be UTF-8 text without NUL characters or unpaired surrogates.",
        "Phải là văn bản UTF-8, không có ký tự NUL hay ký tự thay thế lẻ (surrogate).",
        "invalid_text",
        _language(scope),
    )
    return JSONResponse({"detail": [entry]}, status_code=422)


class TextGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        if not _decodes(unquote_to_bytes(raw_path)) or "\x00" in scope["path"]:
            await _refusal("path", scope)(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if query and not _decodes(unquote_to_bytes(query.replace(b"+", b" "))):
            await _refusal("query", scope)(scope, receive, send)
            return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        content_type = ""
        for name, value in scope.get("headers", []):
            if name == b"content-type":
                content_type = value.decode("latin-1").split(";")[0].strip().lower()
        if not content_type.startswith(TEXT_TYPES) and not content_type.endswith("+json"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message]), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = body_problem(body, content_type)
        if problem is not None:
            await _refusal(problem, scope)(scope, receive, send)
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive
