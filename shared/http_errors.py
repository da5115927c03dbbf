"""One shape for every error answer of every service, in Vietnamese or English (`Accept-Language`):

    {"status": 404, "detail": "Không tìm thấy vụ việc.",
     "message": {"vi": "Không tìm thấy vụ việc.", "en": "No such case."}}

`detail` is the sentence in the requested language (Vietnamese unless English is preferred); for a 422 it
is the list of bad fields instead, in FastAPI's shape with two more keys per entry, so existing clients
and the OpenAPI schema still hold:

    {"status": 422, "detail": [{"field": "body.urgency", "message": "Giá trị phải là một trong: ...",
                                "type": "literal_error", "loc": ["body", "urgency"], "msg": "..."}], ...}

Endpoint code refuses with the exceptions here, each carrying both sentences: `NotFound`, `Conflict`,
`Forbidden`, `Unauthorized`, `TooManyRequests` (all `Refusal`), or `FieldErrors` for a value the schema
let through (an unknown category, a unit outside its validity). One handler set (`install_error_handlers`,
installed by `shared.service` in every service) answers them, FastAPI's own `HTTPException`s (an unknown
path, a wrong method) and transient database failures (503 with `Retry-After`). `BodyLimitMiddleware`
answers 413 and `JsonOnlyMiddleware` 415 before the body is parsed. `ErrorBody` documents the shape in
OpenAPI (`problems(404, 409)`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.dberrors import is_transient
from shared.errors import (
    Conflict,
    FieldErrors,
    Forbidden,
    NotFound,
    Refusal,
    TooManyRequests,
    Unauthorized,
    Unavailable,
)

log = logging.getLogger(__name__)

# Vietnamese messages by pydantic error type; the English one is pydantic's own.
VI_MESSAGES = {
    "missing": "Trường này là bắt buộc.",
    "extra_forbidden": "Trường này không được phép.",
    "string_too_long": "Quá dài (tối đa {max_length} ký tự).",
    "string_too_short": "Quá ngắn (tối thiểu {min_length} ký tự).",
    "string_type": "Phải là chuỗi ký tự.",
    "string_pattern_mismatch": "Không đúng định dạng.",
    "literal_error": "Giá trị phải là một trong: {expected}.",
    "enum": "Giá trị phải là một trong: {expected}.",
    "int_parsing": "Phải là số nguyên.",
    "int_type": "Phải là số nguyên.",
    "int_from_float": "Phải là số nguyên.",
    "greater_than_equal": "Phải lớn hơn hoặc bằng {ge}.",
    "less_than_equal": "Phải nhỏ hơn hoặc bằng {le}.",
    "greater_than": "Phải lớn hơn {gt}.",
    "less_than": "Phải nhỏ hơn {lt}.",
    "bool_parsing": "Phải là true hoặc false.",
    "bool_type": "Phải là true hoặc false.",
    "uuid_parsing": "Không phải UUID hợp lệ.",
    "uuid_type": "Không phải UUID hợp lệ.",
    "date_parsing": "Không phải ngày hợp lệ (YYYY-MM-DD).",
    "date_from_datetime_parsing": "Không phải ngày hợp lệ (YYYY-MM-DD).",
    "date_type": "Không phải ngày hợp lệ (YYYY-MM-DD).",
    "datetime_parsing": "Không phải thời điểm hợp lệ (ISO 8601).",
    "datetime_from_date_parsing": "Không phải thời điểm hợp lệ (ISO 8601).",
    "datetime_type": "Không phải thời điểm hợp lệ (ISO 8601).",
    "timezone_aware": "Thời điểm phải có múi giờ.",
    "json_invalid": "Nội dung không phải JSON hợp lệ.",
    "model_attributes_type": "Phải là một đối tượng JSON.",
    "dict_type": "Phải là một đối tượng JSON.",
    "list_type": "Phải là một danh sách.",
    "tuple_type": "Phải là một danh sách.",
    "too_long": "Quá dài (tối đa {max_length}).",
    "too_short": "Quá ngắn (tối thiểu {min_length}).",
    "value_error": "Giá trị không hợp lệ.",
    "value_error.email": "Địa chỉ email không hợp lệ.",
    "union_tag_invalid": "Giá trị không hợp lệ.",
}
VI_FALLBACK = "Giá trị không hợp lệ."

# Sentences for answers raised without one of ours (FastAPI's own 404 and 405, say), by status.
STATUS_SENTENCES = {
    400: ("Bad request.", "Yêu cầu không hợp lệ."),
    401: ("Sign in first: a valid bearer token is needed.", "Cần đăng nhập: thiếu mã truy cập hợp lệ."),
    403: ("You may not do this.", "Đồng chí không có quyền thực hiện việc này."),
    404: ("Not found.", "Không tìm thấy."),
    405: ("This method is not allowed here.", "Phương thức này không được phép ở đây."),
    409: ("This conflicts with the current state.", "Yêu cầu mâu thuẫn với trạng thái hiện tại."),
    413: ("Request body too large.", "Nội dung quá lớn."),
    415: ("Unsupported media type.", "Kiểu nội dung không được hỗ trợ."),
    422: ("Some fields are not valid.", "Có trường dữ liệu không hợp lệ."),
    429: ("Too many requests; try again later.", "Quá nhiều yêu cầu, vui lòng thử lại sau."),
    503: ("The service is briefly unavailable; please retry.", "Dịch vụ tạm thời gián đoạn, vui lòng thử lại."),
}


class ErrorBody(BaseModel):
    """Every error answer: the status, the sentence in the requested language (for a 422, the list of bad
    fields), and the sentence in both languages."""

    status: int
    detail: str | list[dict[str, Any]]
    message: dict[str, str]


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for error answers."""
    return {code: {"model": ErrorBody} for code in codes}


def error_body(status: int, english: str, vietnamese: str, lang: str, detail: Any = None) -> dict[str, Any]:
    return {
        "status": status,
        "detail": detail if detail is not None else (vietnamese if lang == "vi" else english),
        "message": {"vi": vietnamese, "en": english},
    }


def error_response(
    status: int,
    english: str,
    vietnamese: str,
    lang: str,
    *,
    detail: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(status, english, vietnamese, lang, detail), status_code=status, headers=dict(headers or {})
    )


def language(request: Request) -> str:
    """`vi` or `en` from Accept-Language (highest q wins; Vietnamese when unspecified)."""
    best, best_q = "vi", -1.0
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("vi", "en"):
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if q > best_q:
            best, best_q = primary, q
    return best


def field_name(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _entry(loc: Sequence[Any], english: str, vietnamese: str, type_: str, lang: str) -> dict[str, Any]:
    message = vietnamese if lang == "vi" else english
    return {"field": field_name(loc), "message": message, "type": type_, "loc": list(loc), "msg": message}


def _vi(error: dict[str, Any]) -> str:
    template = VI_MESSAGES.get(error.get("type", ""), VI_FALLBACK)
    ctx = dict(error.get("ctx") or {})
    if isinstance(ctx.get("expected"), str):
        # pydantic lists the choices in English ("'a', 'b' or 'c'"): a Vietnamese list says "hoặc"
        ctx["expected"] = ctx["expected"].replace(" or ", " hoặc ")
    try:
        return template.format(**ctx)
    except (KeyError, IndexError, ValueError):
        return VI_FALLBACK


def validation_entries(errors: Iterable[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for error in errors:
        loc = [part for part in error.get("loc", ()) if not isinstance(part, str) or not part.startswith("function-")]
        entry = _entry(
            loc, str(error.get("msg", "Invalid value")), _vi(error), str(error.get("type", "value_error")), lang
        )
        entries.setdefault(entry["field"], entry)  # one entry per field (unions report several)
    return list(entries.values())


def _fields_response(request: Request, entries: list[dict[str, Any]]) -> JSONResponse:
    english, vietnamese = STATUS_SENTENCES[422]
    return error_response(422, english, vietnamese, language(request), detail=entries)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _fields_response(request, validation_entries(exc.errors(), language(request)))


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Refusal)
    return error_response(exc.status, exc.english, exc.vietnamese, language(request), headers=exc.headers)


async def _on_starlette_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's and Starlette's own refusals (unknown path, wrong method), in the same shape."""
    assert isinstance(exc, StarletteHTTPException)
    english, vietnamese = STATUS_SENTENCES.get(exc.status_code, (str(exc.detail), VI_FALLBACK))
    if isinstance(exc.detail, str) and exc.detail and exc.status_code not in (404, 405):
        english = exc.detail
    return error_response(exc.status_code, english, vietnamese, language(request), headers=exc.headers)


async def _on_field_errors(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FieldErrors)
    lang = language(request)
    detail = []
    for error in exc.errors:
        field, english, vietnamese = error[:3]
        type_ = error[3] if len(error) > 3 else "value_error"
        detail.append(_entry(field.split("."), english, vietnamese, type_, lang))
    return _fields_response(request, detail)


def install_error_handlers(app: FastAPI) -> None:
    """The one shape for every error (see the module doc): `Refusal`s, FastAPI's own refusals, field-level
    422s for schema violations and `FieldErrors`; 503 when the database fails for reasons of its own
    (restart, too many connections, deadlock), so a client knows to retry."""
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(FieldErrors, _on_field_errors)
    app.add_exception_handler(Refusal, _on_http_error)
    app.add_exception_handler(StarletteHTTPException, _on_starlette_error)
    app.add_exception_handler(DBAPIError, _on_database_error)
    app.add_exception_handler(OSError, _on_database_error)


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    if not is_transient(exc):
        raise exc  # a bug: let it be the 500 it is, with its traceback in the log
    # The route's template, not the raw path: a path may hold a secret (a one-time link's token) or an id.
    route = getattr(request.scope.get("route"), "path", "unmatched")
    log.warning("transient database failure on %s %s: %r", request.method, route, exc)
    response = _plain(
        503,
        "The service is briefly unavailable; please retry.",
        "Dịch vụ tạm thời gián đoạn, vui lòng thử lại.",
        request.scope,
    )
    response.headers["Retry-After"] = "1"
    return response


def _plain(status: int, english: str, vietnamese: str, scope: Scope) -> JSONResponse:
    """The error shape outside a route (middleware), where only the ASGI scope is at hand."""
    return error_response(status, english, vietnamese, language(Request(scope)))


class BodyLimitMiddleware:
    """413 for a body over `max_bytes` (or over a smaller limit for paths under a prefix), whether or
    not the client sent Content-Length; the body is never read past the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int, limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limits = limits or {}

    def _limit(self, path: str) -> int:
        for prefix, limit in self.limits.items():
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])

        def too_big(scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
            # Built only when refusing (it parses the headers for the language and renders JSON).
            english, vietnamese = f"Request body larger than {limit} bytes.", f"Nội dung vượt quá {limit} byte."
            return _plain(413, english, vietnamese, scope)(scope, receive, send)

        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    await too_big(scope, receive, send)
                    return
        seen = 0
        exceeded = False

        async def limited_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await too_big(scope, receive, send)
        except Exception:
            if exceeded and not started:
                await too_big(scope, receive, send)
                return
            raise


class _TooLarge(Exception):
    pass


class JsonOnlyMiddleware:
    """415 for a POST/PUT/PATCH whose body is not JSON (`application/json` or `+json`)."""

    def __init__(self, app: ASGIApp, exempt_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.exempt = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            path = scope["path"]
            if not any(path.startswith(prefix) for prefix in self.exempt):
                content_type = ""
                for name, value in scope.get("headers", []):
                    if name == b"content-type":
                        content_type = value.decode("latin-1").split(";")[0].strip().lower()
                if content_type and content_type != "application/json" and not content_type.endswith("+json"):
                    response = _plain(
                        415,
                        "Send the body as application/json.",
                        "Nội dung phải có kiểu application/json.",
                        scope,
                    )
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


__all__ = [
    "Conflict",
    "ErrorBody",
    "FieldErrors",
    "Forbidden",
    "NotFound",
    "Refusal",
    "TooManyRequests",
    "Unauthorized",
    "Unavailable",
    "install_error_handlers",
    "problems",
]
