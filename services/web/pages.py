"""What every page shares: the templates, the signed-in person, CSRF on every POST, the security headers,
the reference lists (units, categories, special circumstances) and the error pages."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.web import access, domain, sessions
from services.web.clients import Apis, ServiceDown
from services.web.domain import Lifetime
from services.web.sessions import CSRF_COOKIE, CSRF_FIELD, Keys, Session
from services.web.settings import WebSettings
from shared.service import runtime_of

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals.update(d=domain, word=domain.word, local=domain.local, local_date=domain.local_date)

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}
REFERENCE_TTL = 300.0


@dataclass
class WebContext:
    settings: WebSettings
    keys: Keys
    lifetime: Lifetime
    apis: Apis
    reference: dict[str, tuple[float, Any]] = field(default_factory=dict)


def web(request: Request) -> WebContext:
    context: WebContext = runtime_of(request).extras["web"]
    return context


def now(request: Request):
    return runtime_of(request).clock.now()


# ---- the person ------------------------------------------------------------------------------------


async def current(request: Request) -> Session | None:
    """The signed-in person of this request, loaded once."""
    if "web_session" in request.state._state:
        return request.state.web_session
    ctx = web(request)
    runtime = runtime_of(request)
    async with runtime.sessions() as db, db.begin():
        found = await sessions.load(
            db, ctx.keys, ctx.lifetime, request.cookies.get(sessions.SESSION_COOKIE), runtime.clock.now()
        )
    request.state.web_session = found
    return found


def fresh(request: Request, session: Session) -> bool:
    return now(request) - session.created_at < timedelta(seconds=30)


class SignInRequired(Exception):
    """Raised by a page that needs a signed-in person; answered with a redirect to the sign-in page."""


class Forbidden(Exception):
    def __init__(self, message: str = "Đồng chí không có quyền xem trang này.") -> None:
        super().__init__(message)
        self.message = message


async def person(request: Request) -> Session:
    """The signed-in person of a page; which roles may open the page is `access.PAGES`' one rule (`admit`)."""
    session = await current(request)
    if session is None:
        raise SignInRequired()
    return session


async def api(request: Request, session: Session | None, service: str, method: str, path: str, **kwargs: Any):
    """Call another service as the signed-in person (a 401 means the session's token is no longer good)."""
    answer = await web(request).apis.call(
        service,
        method,
        path,
        token=session.token if session else None,
        fresh_token=bool(session and fresh(request, session)),
        **kwargs,
    )
    if answer.status == 401 and session is not None:
        # The token was revoked (signed out elsewhere, a new role, a locked account) or expired: this session
        # ends here too, or the sign-in page would send the person straight back (a redirect loop).
        runtime = runtime_of(request)
        async with runtime.sessions() as db, db.begin():
            await sessions.end(db, session.id)
        request.state.web_session = None
        raise SignInRequired()
    return answer


# ---- reference lists --------------------------------------------------------------------------------


async def reference(request: Request, what: str, session: Session | None = None) -> list[dict[str, Any]]:
    """`categories`, `special-circumstances` (public) or `units` (any signed-in person), cached a while."""
    ctx = web(request)
    cached = ctx.reference.get(what)
    if cached is not None and time.monotonic() - cached[0] < REFERENCE_TTL:
        return list(cached[1])
    try:
        answer = await ctx.apis.call("intake", "GET", f"/v1/{what}", token=session.token if session else None)
    except ServiceDown:
        return []  # a form still renders (codes instead of names) rather than failing outright
    if not answer.ok or not isinstance(answer.body, list):
        return []
    ctx.reference[what] = (time.monotonic(), answer.body)
    return list(answer.body)


async def names(request: Request, what: str, session: Session | None = None) -> dict[str, str]:
    return {item["code"]: item["name_vi"] for item in await reference(request, what, session)}


# ---- rendering ------------------------------------------------------------------------------------


def csrf_nonce(request: Request) -> str:
    """This browser's CSRF nonce (from its cookie, or a new one set on the response by `render`)."""
    nonce = request.cookies.get(CSRF_COOKIE) or request.state._state.get("new_csrf")
    if not nonce:
        nonce = sessions.new_cookie()
        request.state.new_csrf = nonce
    return nonce


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=web(request).settings.secure_cookies,
        path="/",
    )


def render(
    request: Request, template: str, status: int = 200, *, title: str, session: Session | None = None, **values: Any
) -> HTMLResponse:
    """A page. `title` is the page's <title> (never child data). Every page is `no-store`."""
    if session is None:
        session = request.state._state.get("web_session")
    nonce = csrf_nonce(request)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "title": title,
            "me": session,
            "csrf": web(request).keys.csrf_token(nonce),
            "csrf_field": CSRF_FIELD,
            "club_name": runtime_of(request).settings.club_name,
            **values,
        },
        status_code=status,
    )
    if request.state._state.get("new_csrf"):
        set_cookie(request, response, CSRF_COOKIE, nonce)
    return response


def message_page(request: Request, status: int, title: str, message: str, **values: Any) -> HTMLResponse:
    return render(request, "message.html", status, title=title, message=message, **values)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def sign_in_redirect(request: Request) -> RedirectResponse:
    """To the sign-in page, which comes back here afterwards (only a local path is ever followed)."""
    from urllib.parse import quote

    target = request.url.path
    if request.method == "GET" and request.url.query:
        target += "?" + request.url.query
    return redirect(f"/dang-nhap?tiep={quote(target, safe='')}")


def safe_next(value: str | None) -> str:
    """A local path to go to after sign-in; anything else (another site, `//host`) becomes `/`."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


# ---- every route: CSRF on POST, errors as pages ------------------------------------------------------


async def admit(request: Request, path: str) -> None:
    """Let the request through only if `access.PAGES` allows the page to this person (an unregistered page
    to no one): raises `SignInRequired` when signed out, `Forbidden` for another role."""
    allowed = access.allowed_roles(path, request.method)
    if allowed == access.PUBLIC:
        return
    if allowed is None:
        log.error("page %s is not in services/web/access.py: refused to everyone", path)
        raise Forbidden()
    session = await current(request)
    if session is None:
        raise SignInRequired()
    if session.role not in allowed:
        raise Forbidden()


class PageRoute(APIRoute):
    """Only the roles `access.PAGES` names for the page get in; every POST must carry the CSRF token of this
    browser (403 page otherwise); sign-in, permission and unavailable-service errors become pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            if request.method == "POST":
                form = await request.form()  # cached on the request: the endpoint reads the same form
                given = form.get(CSRF_FIELD)
                if not web(request).keys.csrf_ok(
                    request.cookies.get(CSRF_COOKIE), given if isinstance(given, str) else None
                ):
                    log.warning("refused a POST without a valid CSRF token on %s", self.path)
                    return message_page(
                        request,
                        403,
                        "Yêu cầu bị từ chối",
                        "Biểu mẫu đã hết hạn hoặc không được gửi từ trang này. Hãy tải lại trang và gửi lại.",
                    )
            try:
                await admit(request, self.path)
                return await handler(request)
            except SignInRequired:
                return sign_in_redirect(request)
            except Forbidden as exc:
                return message_page(request, 403, "Không có quyền truy cập", exc.message)
            except ServiceDown as exc:
                log.warning("a service is unavailable: %s", exc)
                return message_page(
                    request,
                    503,
                    "Hệ thống đang bận",
                    "Hệ thống tạm thời chưa trả lời. Vui lòng thử lại sau ít phút. "
                    "Nếu trẻ đang gặp nguy hiểm, hãy gọi ngay Tổng đài 111.",
                )

        return page


class SecurityHeaders:
    """CSP, clickjacking protection and `no-store` on every page (static files may be cached)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                cache = "public, max-age=3600" if static else "no-store"
                headers.append((b"cache-control", cache.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)
