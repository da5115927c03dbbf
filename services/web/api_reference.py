"""The administrator's reference data (`/quan-tri/danh-muc`): the reporting units with their validity and
successors (the 2025 reorganisation: the former districts, towns and city that ended on 2025-06-30, each with
the communes and wards that took over), the case categories with their fields and suggested urgency, and the
special circumstances (Law on Children Art. 10, fixed by law: shown, not edited). A unit or category is changed
on its own page (`/quan-tri/danh-muc/don-vi/{code}`, `/quan-tri/danh-muc/loai-vu-viec/{code}`) through
intake's `PUT /v1/units/{code}` and `PUT /v1/categories/{code}`, which announce the change to the others."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import APIRouter, Request, Response

from services.web import domain
from services.web.pages import PageRoute, api, message_page, person, redirect, reference, render, web

log = logging.getLogger(__name__)
router = APIRouter(route_class=PageRoute, include_in_schema=False)
REFERENCE = "/quan-tri/danh-muc"
UNIT_INPUTS = ("name_vi", "kind", "valid_from", "valid_to", "successors", "contact_email")
CATEGORY_INPUTS = ("name_vi", "name_en", "suggested_urgency", "fields", "active")
CODE = re.compile(r"^[a-z0-9_][a-z0-9_-]{0,99}$")  # a code is never more than this (it goes into intake's path)


async def _fresh(request: Request, what: str, session) -> list[dict[str, Any]]:
    web(request).reference.pop(what, None)  # the administrator sees what intake has now
    return await reference(request, what, session)


@router.get(REFERENCE)
async def reference_page(request: Request) -> Response:
    session = await person(request)
    units = await _fresh(request, "units", session)
    current, former = domain.units_by_era(units)
    return render(
        request,
        "admin_reference.html",
        title="Danh mục",
        current=current,
        former=former,
        unit_names={u["code"]: u["name_vi"] for u in units},
        predecessors=_predecessors(units),
        categories=await _fresh(request, "categories", session),
        circumstances=await _fresh(request, "special-circumstances", session),
        saved=request.query_params.get("da-luu", ""),
        category_names={c["code"]: c["name_vi"] for c in await reference(request, "categories", session)},
    )


def _predecessors(units: list[dict[str, Any]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for unit in units:
        for successor in unit.get("successors") or []:
            found.setdefault(successor, []).append(unit["code"])
    return found


def _gone(request: Request, what: str) -> Response:
    return message_page(request, 404, "Không tìm thấy", f"Không có {what} này.", link=(REFERENCE, "Về danh mục"))


# ---- a unit -------------------------------------------------------------------------------------------


async def _unit_form(request: Request, session, code: str, status: int, form: dict, errors: dict) -> Response:
    units = await _fresh(request, "units", session)
    return render(
        request,
        "admin_unit.html",
        status,
        title="Sửa đơn vị",
        code=code,
        form=form,
        errors=errors,
        # the chosen successors first, so none is hidden below the list's fold
        others=sorted(
            (u for u in units if u["code"] != code),
            key=lambda u: (u["code"] not in form.get("successors", []), str(u.get("name_vi", "")).casefold()),
        ),
    )


@router.get(REFERENCE + "/don-vi/{code}")
async def unit_page(request: Request, code: str) -> Response:
    session = await person(request)
    if not CODE.match(code):
        return _gone(request, "đơn vị")
    unit = next((u for u in await _fresh(request, "units", session) if u["code"] == code), None)
    if unit is None:
        return _gone(request, "đơn vị")
    form = {k: unit.get(k) or "" for k in UNIT_INPUTS if k != "successors"}
    form["successors"] = list(unit.get("successors") or [])
    return await _unit_form(request, session, code, 200, form, {})


@router.post(REFERENCE + "/don-vi/{code}")
async def save_unit(request: Request, code: str) -> Response:
    session = await person(request)
    if not CODE.match(code):
        return _gone(request, "đơn vị")
    posted = await request.form()
    form: dict[str, Any] = {k: str(posted.get(k, "")).strip() for k in UNIT_INPUTS if k != "successors"}
    form["successors"] = sorted({str(v) for v in posted.getlist("successors") if str(v).strip()})
    body: dict[str, Any] = {
        "name_vi": form["name_vi"],
        "kind": form["kind"],
        "valid_from": form["valid_from"] or None,
        "valid_to": form["valid_to"] or None,
        "successors": form["successors"],
        "contact_email": form["contact_email"] or None,
    }
    answer = await api(request, session, "intake", "PUT", f"/v1/units/{code}", json=body)
    if answer.ok:
        log.info("account %s changed unit %s", session.account.get("id"), code)
        return redirect(f"{REFERENCE}?da-luu={code}#don-vi")
    if answer.status == 403:
        return message_page(request, 403, "Không có quyền truy cập", "Bạn không có quyền xem trang này.")
    errors = domain.place_errors(domain.field_errors(answer.detail), UNIT_INPUTS)
    return await _unit_form(request, session, code, 422, form, errors)


# ---- a category ---------------------------------------------------------------------------------------


def _category_form(request: Request, code: str, status: int, form: dict, errors: dict) -> Response:
    return render(
        request,
        "admin_category.html",
        status,
        title="Sửa loại vụ việc",
        code=code,
        form=form,
        errors=errors,
        urgencies=list(domain.URGENCY.items()),
    )


@router.get(REFERENCE + "/loai-vu-viec/{code}")
async def category_page(request: Request, code: str) -> Response:
    session = await person(request)
    if not CODE.match(code):
        return _gone(request, "loại vụ việc")
    found = next((c for c in await _fresh(request, "categories", session) if c["code"] == code), None)
    if found is None:
        return _gone(request, "loại vụ việc")
    return _category_form(request, code, 200, dict(found), {})


@router.post(REFERENCE + "/loai-vu-viec/{code}")
async def save_category(request: Request, code: str) -> Response:
    session = await person(request)
    if not CODE.match(code):
        return _gone(request, "loại vụ việc")
    posted = await request.form()
    form: dict[str, Any] = {k: str(posted.get(k, "")).strip() for k in ("name_vi", "name_en", "suggested_urgency")}
    form["fields"] = [str(v) for v in posted.getlist("fields")]
    form["active"] = posted.get("active") == "1"
    answer = await api(request, session, "intake", "PUT", f"/v1/categories/{code}", json=form)
    if answer.ok:
        log.info("account %s changed category %s", session.account.get("id"), code)
        return redirect(f"{REFERENCE}?da-luu={code}#loai-vu-viec")
    if answer.status == 403:
        return message_page(request, 403, "Không có quyền truy cập", "Bạn không có quyền xem trang này.")
    errors = domain.place_errors(domain.field_errors(answer.detail), CATEGORY_INPUTS)
    return _category_form(request, code, 422, form, errors)
