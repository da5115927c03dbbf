"""A commune/ward officer's pages: report a case (`/bao-cao-vu-viec`), the unit's cases (`/vu-viec`), the
monthly report (`/bao-cao-thang`, `/monthly-reports/{unit}/{period}`)."""

from __future__ import annotations

import re
import secrets
from collections import defaultdict
from datetime import date

from fastapi import APIRouter, Request, Response

from services.web import domain
from services.web.pages import PageRoute, api, message_page, names, now, person, redirect, reference, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
UNIT = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")

CASE_INPUTS = (
    "unit",
    "category",
    "urgency",
    "protection_level",
    "summary",
    "learned_at",
    "occurred_at",
    "occurred_on",
    "special_circumstances",
    "legal_basis",
    "emergency_reason",
    *(f"child.{name}" for name in domain.CHILD_FIELDS),
    "child",
    "consent",
    *(f"consent.{who}.{part}" for who in ("child", "guardian") for part in ("recorded_by", "recorded_at")),
    "consent.child",
    "consent.guardian",
    *(f"reporter_contact.{name}" for name in ("name", "phone", "email")),
)


# A choice from a list can only be wrong by being missing: say so in words, not with the API's codes.
CHOOSE = {
    "unit": "Hãy chọn đơn vị.",
    "category": "Hãy chọn loại vụ việc.",
    "urgency": "Hãy chọn mức độ khẩn cấp.",
    "protection_level": "Hãy chọn cấp độ bảo vệ.",
    "legal_basis": "Hãy chọn cơ sở xử lý thông tin.",
    "child.sex": "Hãy chọn giới tính.",
}


def _friendly(errors: dict[str, str], form: dict) -> dict[str, str]:
    out = {field: CHOOSE.get(field, message) for field, message in errors.items()}
    if "summary" in out and not str(form.get("summary", "")).strip():
        out["summary"] = "Hãy tóm tắt sự việc."
    return out


async def _case_form(request: Request, session, status: int, form: dict, errors: dict, key: str) -> Response:
    categories = [c for c in await reference(request, "categories") if c.get("active", True)]
    return render(
        request,
        "case_form.html",
        status,
        title="Báo cáo vụ việc",
        categories=categories,
        circumstances=await reference(request, "special-circumstances"),
        units=await reference(request, "units", session) if session.role == "chair" else [],
        unit_names=await names(request, "units", session),
        form=form,
        errors=errors,
        idempotency_key=key,
    )


@router.get("/bao-cao-vu-viec")
async def case_form(request: Request) -> Response:
    session = await person(request)
    return await _case_form(request, session, 200, {}, {}, secrets.token_urlsafe(18))


@router.post("/bao-cao-vu-viec")
async def case_send(request: Request) -> Response:
    session = await person(request)
    posted = await request.form()
    form = {k: str(v) for k, v in posted.items() if k != "special_circumstances"}
    chosen = [str(v) for v in posted.getlist("special_circumstances")]
    form["special_circumstances"] = chosen  # type: ignore[assignment]
    key = str(posted.get("idempotency_key", "")) or secrets.token_urlsafe(18)
    unit = session.unit if session.role == "reporter" else None
    body = domain.case_body(form, chosen, unit)
    answer = await api(
        request, session, "intake", "POST", "/v1/cases", json=body, headers={"Idempotency-Key": key[:200]}
    )
    if answer.status == 201:
        return redirect(f"/cases/{answer.body['id']}?moi=1")
    if answer.status == 403:
        errors = {"": "Đồng chí chỉ báo cáo được vụ việc của đơn vị mình."}
    elif answer.status == 409:
        errors = {"": "Biểu mẫu này đã được gửi với nội dung khác. Hãy mở lại trang báo cáo."}
    else:
        errors = _friendly(domain.place_errors(domain.field_errors(answer.detail), CASE_INPUTS), form)
    return await _case_form(request, session, 422, form, errors, key)


@router.get("/vu-viec")
async def unit_cases(request: Request) -> Response:
    session = await person(request)
    answer = await api(request, session, "intake", "GET", "/v1/cases", params={"limit": 200})
    cases = answer.body if answer.ok else []
    return render(
        request,
        "case_list.html",
        title="Vụ việc của đơn vị",
        cases=cases,
        categories=await names(request, "categories"),
        unit_names=await names(request, "units", session),
    )


def _periods(today: date, count: int = 12) -> list[str]:
    year, month = today.year, today.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


@router.get("/bao-cao-thang")
async def monthly_reports(request: Request) -> Response:
    session = await person(request)
    answer = await api(request, session, "intake", "GET", f"/v1/units/{session.unit}/monthly-reports")
    by_period: dict[str, list] = defaultdict(list)
    for revision in answer.body if answer.ok else []:
        by_period[revision["period"]].append(revision)
    today = now(request).astimezone(domain.VN).date()
    periods = _periods(today)
    return render(
        request,
        "monthly_list.html",
        title="Báo cáo tháng",
        unit=session.unit,
        unit_names=await names(request, "units", session),
        periods=periods,
        by_period=by_period,
    )


async def _monthly_page(
    request: Request, session, unit: str, period: str, status: int, form: dict, errors: dict
) -> Response:
    answer = await api(request, session, "intake", "GET", f"/v1/units/{unit}/monthly-reports/{period}")
    if answer.status in (403, 404) and not (answer.status == 404 and session.unit == unit):
        return message_page(
            request, 403, "Không có quyền truy cập", "Đồng chí chỉ xem được báo cáo tháng của đơn vị mình."
        )
    history = answer.body if answer.ok else None
    if not form and history:
        latest = history["latest"]
        form = {f"cat.{k}": str(v) for k, v in latest["cases_by_category"].items()}
        form.update({f"sc.{k}": str(v) for k, v in latest["special_circumstances_known"].items()})
        form.update(activities_held=str(latest["activities_held"]), notes=latest.get("notes") or "")
    return render(
        request,
        "monthly_form.html",
        status,
        title=f"Báo cáo tháng {period[5:]}/{period[:4]}",
        unit=unit,
        period=period,
        history=history,
        can_submit=session.role == "reporter" and session.unit == unit,
        categories=[c for c in await reference(request, "categories") if c.get("active", True)],
        circumstances=await reference(request, "special-circumstances"),
        unit_names=await names(request, "units", session),
        form=form,
        errors=errors,
    )


@router.get("/monthly-reports/{unit}/{period}")
async def monthly_report(request: Request, unit: str, period: str) -> Response:
    session = await person(request)
    if not UNIT.match(unit) or not PERIOD.match(period):
        return message_page(request, 404, "Không tìm thấy", "Không có báo cáo tháng này.")
    return await _monthly_page(request, session, unit, period, 200, {}, {})


def _count(value: str) -> int | str:
    value = value.strip()
    return int(value) if value.isdigit() else value


@router.post("/monthly-reports/{unit}/{period}")
async def monthly_send(request: Request, unit: str, period: str) -> Response:
    session = await person(request)
    if not UNIT.match(unit) or not PERIOD.match(period) or session.unit != unit:
        return message_page(
            request, 403, "Không có quyền truy cập", "Đồng chí chỉ gửi được báo cáo tháng của đơn vị mình."
        )
    form = {k: str(v) for k, v in (await request.form()).items()}
    body = {
        "cases_by_category": {k[4:]: _count(v) for k, v in form.items() if k.startswith("cat.") and v.strip()},
        "special_circumstances_known": {k[3:]: _count(v) for k, v in form.items() if k.startswith("sc.") and v.strip()},
        "activities_held": _count(form.get("activities_held", "") or "0"),
        "notes": form.get("notes") or None,
    }
    answer = await api(request, session, "intake", "PUT", f"/v1/units/{unit}/monthly-reports/{period}", json=body)
    if answer.ok:
        return redirect(f"/monthly-reports/{unit}/{period}?da-gui={answer.body['revision']}")
    errors = domain.field_errors(answer.detail)
    placed: dict[str, str] = {}
    for field, message in errors.items():
        if field.startswith("cases_by_category."):
            placed["cat." + field.split(".", 1)[1]] = message
        elif field.startswith("special_circumstances_known."):
            placed["sc." + field.split(".", 1)[1]] = message
        elif field in ("activities_held", "notes"):
            placed[field] = message
        else:
            placed[""] = message
    return await _monthly_page(request, session, unit, period, 422, form, placed)
