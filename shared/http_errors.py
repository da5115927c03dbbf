"""One shape for every client error, in Vietnamese or English (`Accept-Language`), in every service.

422 bodies keep FastAPI's shape and add two keys, so existing clients and the OpenAPI schema still hold:

    {"detail": [{"field": "body.urgency", "message": "Giá trị phải là một trong: ...",
                 "type": "literal_error", "loc": ["body", "urgency"], "msg": "..."}]}

one entry per bad field. `FieldErrors` lets endpoint code refuse a value the same way after the schema
has passed (an unknown category, a unit outside its validity). `BodyLimitMiddleware` answers 413 and
`JsonOnlyMiddleware` 415 before the body is parsed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.dberrors import is_transient

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


class FieldErrors(Exception):
    """Refuse a request with 422, one entry per field: (field, English, Vietnamese[, type])."""

    def __init__(self, *errors: tuple[str, ...]) -> None:
        super().__init__(", ".join(error[0] for error in errors))
        self.errors = errors

    @classmethod
    def one(cls, field: str, english: str, vietnamese: str, type_: str = "value_error") -> FieldErrors:
        return cls((field, english, vietnamese, type_))


def _entry(loc: Sequence[Any], english: str, vietnamese: str, type_: str, lang: str) -> dict[str, Any]:
    message = vietnamese if lang == "vi" else english
    return {"field": field_name(loc), "message": message, "type": type_, "loc": list(loc), "msg": message}


def _vi(error: dict[str, Any]) -> str:
    template = VI_MESSAGES.get(error.get("type", ""), VI_FALLBACK)
    try:
        return template.format(**(error.get("ctx") or {}))
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


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": validation_entries(exc.errors(), language(request))}, status_code=422)


async def _on_field_errors(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FieldErrors)
    lang = language(request)
    detail = []
    for error in exc.errors:
        field, english, vietnamese = error[:3]
        type_ = error[3] if len(error) > 3 else "value_error"
        detail.append(_entry(field.split("."), english, vietnamese, type_, lang))
    return JSONResponse({"detail": detail}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    """Field-level, localised 422s for schema violations and `FieldErrors`; 503 when the database fails
    for reasons of its own (restart, too many connections, deadlock), so a client knows to retry."""
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(FieldErrors, _on_field_errors)
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
    headers = dict((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope.get("headers", []))
    request_lang = "vi"
    accept = headers.get("accept-language", "")
    if accept and accept.strip().lower().startswith("en"):
        request_lang = "en"
    return JSONResponse({"detail": vietnamese if request_lang == "vi" else english}, status_code=status)


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
        too_big = _plain(413, f"Request body larger than {limit} bytes.", f"Nội dung vượt quá {limit} byte.", scope)
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
