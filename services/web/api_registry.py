"""The members registry for the chair: every member's fields, units, capacity and current load, leave
periods with a month calendar of who is away, channels and quiet hours (`/chu-nhiem/thanh-vien`); editing
one member (`/chu-nhiem/thanh-vien/{id}`, routing's `PUT /v1/members/{id}`); importing a CSV with a preview
of what changes before applying it (`/chu-nhiem/thanh-vien/nhap`, routing's `POST /v1/chair/members/import`)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import UploadFile

from services.web import domain
from services.web.pages import Forbidden, PageRoute, api, message_page, now, person, redirect, reference, render
from services.web.sessions import Session

log = logging.getLogger(__name__)
router = APIRouter(route_class=PageRoute, include_in_schema=False)
REGISTRY = "/chu-nhiem/thanh-vien"
IMPORT = REGISTRY + "/nhap"
MAX_CSV_BYTES = 500_000
IMPORT_TITLE = "Nhập thành viên từ tệp CSV"
EDIT_INPUTS = (*domain.MEMBER_TEXT, "fields", "units", "channels", "leave_periods")


async def _members(request: Request, session: Session) -> list[dict[str, Any]]:
    answer = await api(request, session, "routing", "GET", "/v1/members")
    if answer.status == 403:
        raise Forbidden()
    return answer.body if answer.ok and isinstance(answer.body, list) else []


@router.get(REGISTRY)
async def registry(request: Request) -> Response:
    session = await person(request)
    members = await _members(request, session)
    loads = await api(request, session, "routing", "GET", "/v1/chair/members/loads")
    load = {str(item["member_id"]): item for item in (loads.body if loads.ok else [])}
    today = domain.local(now(request))[:10]
    first = domain.month_of(request.query_params.get("thang"), now(request).astimezone(domain.VN).date())
    days, away = domain.away_calendar(first, members)
    order = {role: i for i, role in enumerate(domain.CLUB_ROLES)}
    return render(
        request,
        "registry_list.html",
        title="Thành viên câu lạc bộ",
        members=sorted(members, key=lambda m: (order.get(m["club_role"], 9), str(m["display_name"]).casefold())),
        load=load,
        unit_names={u["code"]: u["name_vi"] for u in await reference(request, "units", session)},
        month=first,
        previous=domain.shift_month(first, -1),
        following=domain.shift_month(first, 1),
        days=days,
        away=away,
        today=today,
        saved=request.query_params.get("da-luu"),
        imported=request.query_params.get("da-nhap"),
    )


@router.get(IMPORT)
async def import_form(request: Request) -> Response:
    await person(request)
    return render(request, "registry_import.html", title=IMPORT_TITLE, preview=None, errors={})


async def _csv_text(form: Any) -> tuple[str | None, str | None]:
    """The CSV's text (from the uploaded file, or the preview's hidden field), or a message why not."""
    upload = form.get("file")
    if isinstance(upload, UploadFile):
        data = await upload.read(MAX_CSV_BYTES + 1)
        if not data:
            return None, "Hãy chọn tệp CSV cần nhập."
        if len(data) > MAX_CSV_BYTES:
            return None, "Tệp quá lớn (tối đa 500 KB)."
        try:
            return data.decode("utf-8-sig"), None
        except UnicodeDecodeError:
            return None, "Tệp không phải văn bản UTF-8. Hãy lưu tệp dạng CSV UTF-8 rồi thử lại."
    text = str(form.get("csv") or "")
    return (text, None) if text.strip() else (None, "Hãy chọn tệp CSV cần nhập.")


async def _import(request: Request, apply: bool) -> Response:
    session = await person(request)
    text, problem = await _csv_text(await request.form())
    if text is None:
        return render(request, "registry_import.html", 422, title=IMPORT_TITLE, preview=None, errors={"file": problem})
    answer = await api(
        request, session, "routing", "POST", "/v1/chair/members/import", json={"csv": text, "apply": apply}
    )
    if answer.ok and apply:
        counts = answer.body["counts"]
        log.info("chair %s imported members: %s", session.account.get("id"), counts)
        return redirect(f"{REGISTRY}?da-nhap={counts['added']}-{counts['changed']}")
    if answer.ok:
        return render(
            request, "registry_import.html", title="Xem trước thay đổi", preview=answer.body, csv=text, errors={}
        )
    if answer.status == 403:
        raise Forbidden()
    errors = domain.field_errors(answer.detail)
    if apply and answer.status == 422:
        # Refused as a whole: show the preview again with each row's errors; nothing was written.
        again = await api(request, session, "routing", "POST", "/v1/chair/members/import", json={"csv": text})
        if again.ok:
            message = "Không nhập được: tệp còn dòng lỗi. Không có thay đổi nào được ghi."
            return render(
                request,
                "registry_import.html",
                422,
                title="Xem trước thay đổi",
                preview=again.body,
                csv=text,
                errors={"": message},
            )
    message = errors.get("csv") or next(iter(errors.values()), "Tệp không đọc được.")
    return render(request, "registry_import.html", 422, title=IMPORT_TITLE, preview=None, errors={"file": message})


@router.post(IMPORT)
async def import_preview(request: Request) -> Response:
    return await _import(request, apply=False)


@router.post(IMPORT + "/ap-dung")
async def import_apply(request: Request) -> Response:
    return await _import(request, apply=True)


# After the import pages, so `/nhap` is never taken for a member id.
async def _member(request: Request, session: Session, member_id: str) -> dict[str, Any] | None:
    try:
        uuid.UUID(member_id)
    except ValueError:
        return None
    answer = await api(request, session, "routing", "GET", f"/v1/members/{member_id}")
    return answer.body if answer.ok else None


async def _edit_page(
    request: Request, session: Session, member: dict, status: int = 200, form: dict | None = None, errors=None
) -> Response:
    units = await reference(request, "units", session)
    shown = {name: "" if value is None else value for name, value in (form or member).items()}  # never "None"
    return render(
        request,
        "registry_member.html",
        status,
        title=f"Sửa thông tin: {member['display_name']}",
        member=member,
        form=shown,
        errors=errors or {},
        former=[u for u in units if u.get("valid_to")],
        current=[u for u in units if not u.get("valid_to")],
    )


@router.get(REGISTRY + "/{member_id}")
async def edit_member(request: Request, member_id: str) -> Response:
    session = await person(request)
    member = await _member(request, session, member_id)
    if member is None:
        return message_page(request, 404, "Không tìm thấy", "Không có thành viên này.", link=(REGISTRY, "Về danh sách"))
    return await _edit_page(request, session, member)


@router.post(REGISTRY + "/{member_id}")
async def save_member(request: Request, member_id: str) -> Response:
    session = await person(request)
    member = await _member(request, session, member_id)
    if member is None:
        return message_page(request, 404, "Không tìm thấy", "Không có thành viên này.", link=(REGISTRY, "Về danh sách"))
    form = await request.form()
    body, errors = domain.member_body(member, form)
    shown = {**body, **{name: str(form.get(name) or "") for name in ("leave_starts_on", "leave_ends_on")}}
    if errors:
        return await _edit_page(request, session, member, 422, shown, errors)
    answer = await api(request, session, "routing", "PUT", f"/v1/members/{member_id}", json=body)
    if answer.ok:
        log.info("chair %s changed member %s", session.account.get("id"), member_id)
        return redirect(f"{REGISTRY}?da-luu={member_id}#tv-{member_id}")
    found = domain.place_errors(domain.field_errors(answer.detail), EDIT_INPUTS)
    if not found:
        found = {"": str((answer.body or {}).get("detail") or "Chưa lưu được.")}
    return await _edit_page(request, session, member, answer.status if answer.status < 500 else 422, shown, found)
