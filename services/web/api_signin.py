"""Signing in and out: `/dang-nhap`, the invitation and reset link `/moi/{token}` (set a password),
`/quen-mat-khau` (ask for a reset link), `POST /dang-xuat`."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.web import domain, sessions
from services.web.pages import (
    PageRoute,
    current,
    message_page,
    now,
    redirect,
    render,
    safe_next,
    set_cookie,
    web,
)
from services.web.sessions import SESSION_COOKIE
from shared.service import runtime_of

log = logging.getLogger(__name__)
router = APIRouter(route_class=PageRoute, include_in_schema=False)
PASSWORD_MIN = 10
HOME_BY_ROLE = {
    "reporter": "/vu-viec",
    "member": "/phan-cong",
    "admin": "/quan-tri/tai-khoan",
    "committee": "/ban-thuong-vu",
    "operator": "/van-hanh/thu-chet",
    "chair": "/chu-nhiem",
}
GENERIC_FAILURE = "Email hoặc mật khẩu không đúng."


def home_of(role: str) -> str:
    return HOME_BY_ROLE.get(role, "/tai-khoan")


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _sign_in(request: Request, email: str, password: str) -> tuple[Any, str | None]:
    """Ask intake for a session; on success store it and answer (answer, cookie)."""
    ctx = web(request)
    headers = {"Authorization": f"Bearer {ctx.settings.web_service_token}"} if ctx.settings.web_service_token else {}
    answer = await ctx.apis.call(
        "intake",
        "POST",
        "/v1/sessions",
        json={"email": email, "password": password, "client_address": _client_address(request)},
        headers=headers,
    )
    if answer.status != 201:
        return answer, None
    body = answer.body
    expires = body.get("expires_at")
    runtime = runtime_of(request)
    db: AsyncSession
    async with runtime.sessions() as db, db.begin():
        cookie = await sessions.start(
            db,
            ctx.keys,
            ctx.lifetime,
            token=body["token"],
            account=body["account"],
            token_expires_at=datetime.fromisoformat(expires) if expires else None,
            now=now(request),
        )
    log.info("signed in account %s (%s)", body["account"].get("id"), body["account"].get("role"))
    return answer, cookie


def _signed_in(request: Request, cookie: str, target: str) -> Response:
    response = redirect(target)
    set_cookie(request, response, SESSION_COOKIE, cookie, max_age=web(request).settings.session_absolute_hours * 3600)
    return response


@router.get("/dang-nhap")
async def sign_in_page(request: Request, tiep: str | None = None, ra: str | None = None) -> Response:
    session = await current(request)
    if session is not None:
        return redirect(safe_next(tiep) if tiep else home_of(session.role))
    note = "Đồng chí đã đăng xuất." if ra else None
    return render(request, "sign_in.html", title="Đăng nhập", next=safe_next(tiep), note=note, errors={}, email="")


@router.post("/dang-nhap")
async def sign_in(request: Request) -> Response:
    form = await request.form()
    email = str(form.get("email", "")).strip()
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("tiep", "")) or None)
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = "Hãy nhập email."
    if not password:
        errors["password"] = "Hãy nhập mật khẩu."  # noqa: S105 - a message
    if not errors:
        answer, cookie = await _sign_in(request, email, password)
        if cookie is not None:
            return _signed_in(request, cookie, target if target != "/" else home_of(answer.body["account"]["role"]))
        if answer.status == 429:
            wait = answer.headers.get("retry-after", "60")
            errors[""] = f"Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {wait} giây."
            status = 429
        elif answer.status == 422:
            errors.update(domain.field_errors(answer.detail))
            status = 422
        else:
            errors[""] = GENERIC_FAILURE
            status = 401
    else:
        status = 422
    return render(
        request, "sign_in.html", status, title="Đăng nhập", next=target, note=None, errors=errors, email=email
    )


@router.post("/dang-xuat")
async def sign_out(request: Request) -> Response:
    session = await current(request)
    if session is not None:
        await web(request).apis.call("intake", "DELETE", "/v1/sessions/current", token=session.token)
        async with runtime_of(request).sessions() as db, db.begin():
            await sessions.end(db, session.id)
    response = redirect("/dang-nhap?ra=1")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def _invitation(request: Request, token: str) -> dict[str, Any] | None:
    if len(token) > 200:
        return None
    answer = await web(request).apis.call("intake", "GET", f"/v1/invitations/{token}")
    return answer.body if answer.status == 200 and isinstance(answer.body, dict) else None


def _invalid_link(request: Request) -> Response:
    return message_page(
        request,
        404,
        "Liên kết không còn hiệu lực",
        "Liên kết này đã được dùng, đã hết hạn hoặc không đúng. Đồng chí có thể xin một liên kết mới.",
        link=("/quen-mat-khau", "Xin liên kết đặt lại mật khẩu"),
    )


@router.get("/moi/{token}")
async def invitation_page(request: Request, token: str) -> Response:
    invitation = await _invitation(request, token)
    if invitation is None:
        return _invalid_link(request)
    return render(request, "set_password.html", title="Đặt mật khẩu", invitation=invitation, errors={})


@router.post("/moi/{token}")
async def set_password(request: Request, token: str) -> Response:
    invitation = await _invitation(request, token)
    if invitation is None:
        return _invalid_link(request)
    form = await request.form()
    password = str(form.get("password", ""))
    errors: dict[str, str] = {}
    if len(password) < PASSWORD_MIN:
        errors["password"] = f"Mật khẩu cần ít nhất {PASSWORD_MIN} ký tự."
    elif password != str(form.get("password2", "")):
        errors["password2"] = "Hai lần nhập mật khẩu không giống nhau."
    if not errors:
        answer = await web(request).apis.call("intake", "POST", f"/v1/invitations/{token}", json={"password": password})
        if answer.status == 204:
            _, cookie = await _sign_in(request, str(invitation.get("email", "")), password)
            if cookie is not None:
                return _signed_in(request, cookie, "/")
            return redirect("/dang-nhap")
        if answer.status == 404:
            return _invalid_link(request)
        errors.update(domain.field_errors(answer.detail, "password"))
    return render(request, "set_password.html", 422, title="Đặt mật khẩu", invitation=invitation, errors=errors)


@router.get("/quen-mat-khau")
async def reset_page(request: Request) -> Response:
    return render(request, "reset.html", title="Quên mật khẩu", sent=False, errors={})


@router.post("/quen-mat-khau")
async def ask_reset(request: Request) -> Response:
    form = await request.form()
    email = str(form.get("email", "")).strip()
    if not email or "@" not in email:
        return render(
            request, "reset.html", 422, title="Quên mật khẩu", sent=False, errors={"email": "Hãy nhập email."}
        )
    await web(request).apis.call("intake", "POST", "/v1/password-resets", json={"email": email})
    # The same answer whether or not the address has an account.
    return render(request, "reset.html", 202, title="Quên mật khẩu", sent=True, errors={})


@router.get("/tai-khoan")
async def account_page(request: Request) -> Response:
    from services.web.pages import person

    session = await person(request)
    return render(request, "account.html", title="Tài khoản", session=session)
