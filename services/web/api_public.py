"""Pages for everyone, no account: the home page, the counseling request form (`/tu-van`) and the
tracking page (`/tra-cuu`). The code and secret travel in POST bodies only, never in a URL."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request, Response

from services.web import domain
from services.web.api_signin import home_of
from services.web.pages import PageRoute, current, names, redirect, reference, render, web
from shared.service import runtime_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)
CODE = re.compile(r"^TV-\d{4}-[A-Z0-9]{8}$")
MESSAGE_MAX = 4000


@router.get("/")
async def home(request: Request) -> Response:
    session = await current(request)
    if session is not None:
        return redirect(home_of(session.role))
    return render(request, "home.html", title=f"Cầu Nối — {runtime_of(request).settings.club_name}")


async def _topics(request: Request) -> list[dict[str, str]]:
    return [c for c in await reference(request, "categories") if c.get("active", True)]


@router.get("/tu-van")
async def counseling_form(request: Request) -> Response:
    return render(
        request,
        "counseling_form.html",
        title="Gửi câu hỏi cần tư vấn",
        topics=await _topics(request),
        form={},
        errors={},
    )


@router.post("/tu-van")
async def counseling_send(request: Request) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    body: dict = {"topic": form.get("topic") or "free", "message": form.get("message", "")}
    errors: dict[str, str] = {}
    if not body["message"].strip():
        errors["message"] = "Hãy viết điều em muốn hỏi."
    if age := form.get("age", "").strip():
        if not age.isdigit():
            errors["age"] = "Tuổi là một số, ví dụ 12."
        else:
            body["age"] = int(age)
    contact = {k: v.strip() for k in ("phone", "email", "zalo") if (v := form.get(f"contact.{k}", "")).strip()}
    if contact:
        body["contact"] = contact
    if not errors:
        answer = await web(request).apis.call("intake", "POST", "/v1/counseling-requests", json=body)
        if answer.status == 201:
            return render(request, "counseling_sent.html", 201, title="Đã gửi câu hỏi", created=answer.body)
        if answer.status == 429:
            errors[""] = "Em đã gửi nhiều lần liền. Hãy đợi một lúc rồi gửi lại. Nếu đang nguy hiểm, gọi ngay 111."
        else:
            errors.update(domain.field_errors(answer.detail))
    return render(
        request,
        "counseling_form.html",
        422,
        title="Gửi câu hỏi cần tư vấn",
        topics=await _topics(request),
        form=form,
        errors=errors,
    )


@router.get("/tra-cuu")
async def tracking_form(request: Request) -> Response:
    return render(request, "tracking.html", title="Xem câu trả lời", form={}, errors={}, found=None)


@router.post("/tra-cuu")
async def tracking(request: Request) -> Response:
    form = {k: str(v).strip() for k, v in (await request.form()).items()}
    code = form.get("code", "").upper().replace(" ", "")
    secret = form.get("secret", "").replace(" ", "")
    errors: dict[str, str] = {}
    if not CODE.match(code):
        errors["code"] = "Mã có dạng TV-2026-XXXXXXXX (chữ in hoa và số)."
    if not secret:
        errors["secret"] = "Hãy nhập mã bí mật."  # noqa: S105 - a message
    found = None
    status = 422
    if not errors:
        answer = await web(request).apis.call(
            "intake", "GET", f"/v1/counseling-requests/{code}", headers={"X-Tracking-Secret": secret[:100]}
        )
        if answer.status == 200:
            found, status = answer.body, 200
        else:
            errors[""] = "Không tìm thấy: mã hoặc mã bí mật chưa đúng. Hãy kiểm tra lại từng chữ."
            status = 404
    topics = await names(request, "categories")
    return render(
        request,
        "tracking.html",
        status,
        title="Xem câu trả lời",
        form={"code": code},
        errors=errors,
        found=found,
        topics=topics,
    )
