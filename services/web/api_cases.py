"""The case page (`/cases/{id}`, where "Xem vụ việc" links land) for the reporter who sent it, the members on
it and the chair: summary, category, urgency, deadlines, members, opinions. The child's identifying data is
shown only after the deliberate `POST /cases/{id}/tre` ("Xem thông tin trẻ"), which intake audits; the
answer is never cached (`no-store`) and the id in the URL is the case's UUID, never child data."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from services.web import domain
from services.web.pages import PageRoute, api, message_page, names, now, person, redirect, render
from services.web.sessions import Session

router = APIRouter(route_class=PageRoute, include_in_schema=False)
NO_ACCESS = "Đồng chí không mở được vụ việc này: vụ việc không có, hoặc không thuộc đơn vị hay phân công của đồng chí."


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def _case_page(
    request: Request, session: Session, case_id: str, *, child=None, status: int = 200, **extra
) -> Response:
    if _uuid(case_id) is None:
        return message_page(request, 404, "Không tìm thấy", "Không có vụ việc này.")
    case = await api(request, session, "intake", "GET", f"/v1/cases/{case_id}")
    if case.status in (403, 404):
        return message_page(request, 403, "Không có quyền truy cập", NO_ACCESS)
    routed = None
    if session.role in ("member", "chair", "committee"):
        answer = await api(request, session, "routing", "GET", f"/v1/cases/{case_id}")
        if answer.status == 403:
            return message_page(request, 403, "Không có quyền truy cập", NO_ACCESS)
        routed = answer.body if answer.ok else None
        timed = await api(request, session, "routing", "GET", f"/v1/cases/{case_id}/deadlines")
        deadlines = timed.body if timed.ok else []
    else:
        deadlines = []
    me = session.account.get("member")
    mine = [a for a in (routed or {}).get("assignments", []) if str(a["member_id"]) == str(me)]
    my_opinion = next((o for o in reversed((routed or {}).get("opinions", [])) if str(o["member_id"]) == str(me)), None)
    member_names = {str(a["member_id"]): a["display_name"] for a in (routed or {}).get("assignments", [])}
    return render(
        request,
        "case.html",
        status,
        title=f"Vụ việc {case.body['code']}",
        case=case.body,
        routed=routed,
        mine=mine,
        my_opinion=my_opinion,
        member_names=member_names,
        deadlines=deadlines,
        child=child,
        now=now(request),
        categories=await names(request, "categories"),
        circumstances=await names(request, "special-circumstances"),
        unit_names=await names(request, "units", session),
        just_reported=request.query_params.get("moi") == "1",
        **extra,
    )


@router.get("/cases/{case_id}")
async def case_page(request: Request, case_id: str) -> Response:
    session = await person(request)
    return await _case_page(request, session, case_id)


@router.post("/cases/{case_id}/tre")
async def case_child(request: Request, case_id: str) -> Response:
    """The deliberate action that shows the child's identifying data (intake writes the audit record)."""
    session = await person(request)
    if _uuid(case_id) is None:
        return message_page(request, 404, "Không tìm thấy", "Không có vụ việc này.")
    answer = await api(request, session, "intake", "GET", f"/v1/cases/{case_id}/child")
    if answer.status in (403, 404):
        return message_page(request, 403, "Không có quyền truy cập", NO_ACCESS)
    child = answer.body.get("child") if answer.ok else None
    return await _case_page(request, session, case_id, child=child or {})


@router.post("/cases/{case_id}/y-kien")
async def case_opinion(request: Request, case_id: str) -> Response:
    """Write my opinion, or replace the one I wrote."""
    session = await person(request)
    if _uuid(case_id) is None:
        return message_page(request, 404, "Không tìm thấy", "Không có vụ việc này.")
    form = await request.form()
    body = {
        "text": str(form.get("text", "")),
        "recommended_level": str(form.get("recommended_level", "")) or None,
        "referrals": [str(r) for r in form.getlist("referrals")],
    }
    opinion_id = str(form.get("opinion_id", ""))
    if opinion_id and _uuid(opinion_id):
        answer = await api(request, session, "routing", "PUT", f"/v1/cases/{case_id}/opinions/{opinion_id}", json=body)
    else:
        answer = await api(request, session, "routing", "POST", f"/v1/cases/{case_id}/opinions", json=body)
    if answer.ok:
        return redirect(f"/cases/{case_id}?y-kien=1#y-kien")
    if answer.status == 409:
        errors = {"text": "Chỉ ghi ý kiến khi vụ việc đã được nhận và đang xử lý."}
    elif answer.status in (403, 404):
        return message_page(request, 403, "Không có quyền truy cập", NO_ACCESS)
    else:
        errors = domain.field_errors(answer.detail, "text")
    return await _case_page(request, session, case_id, status=422, opinion_errors=errors, opinion_form=body)
