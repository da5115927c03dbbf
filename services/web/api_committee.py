"""The Standing Committee's pages: the inbox of cases the chair forwarded (`/ban-thuong-vu`), each with the
chair's proposal and the members' opinions on its case page, and recording the committee's decision
(`POST /cases/{id}/quyet-dinh`, routing's `POST /v1/cases/{id}/decision`). Routing decides what the committee
may read: a case while it is with the committee, and once closed."""

from __future__ import annotations

import logging
import uuid

from fastapi import APIRouter, Request, Response

from services.web import domain
from services.web.api_cases import NO_ACCESS, _case_page
from services.web.pages import PageRoute, api, message_page, names, now, person, redirect, render

log = logging.getLogger(__name__)
router = APIRouter(route_class=PageRoute, include_in_schema=False)
INBOX = "/ban-thuong-vu"
OUTCOMES = {
    "approved": "Thông qua đề xuất của Câu lạc bộ",
    "amended": "Thông qua có điều chỉnh",
    "returned": "Trả lại, đề nghị Câu lạc bộ bổ sung",
}
DECISION_INPUTS = ("outcome", "text")


@router.get(INBOX)
async def inbox(request: Request) -> Response:
    session = await person(request)
    answer = await api(request, session, "routing", "GET", "/v1/committee/cases")
    if answer.status == 403:
        return message_page(request, 403, "Không có quyền truy cập", "Bạn không có quyền xem trang này.")
    cases = answer.body if answer.ok and isinstance(answer.body, list) else []
    waiting = [c for c in cases if c["status"] == "forwarded" and not c.get("outcome")]
    decided = [c for c in cases if c["status"] == "forwarded" and c.get("outcome")]
    closed = [c for c in cases if c["status"] == "closed"]
    return render(
        request,
        "committee_inbox.html",
        title="Đề xuất gửi Ban Thường vụ",
        groups=[
            ("cho", "Chờ quyết định", waiting),
            ("da-quyet-dinh", "Đã quyết định, chờ Câu lạc bộ thực hiện", decided),
            ("da-ket-thuc", "Đã kết thúc", closed),
        ],
        outcomes=OUTCOMES,
        now=now(request),
        categories=await names(request, "categories"),
        unit_names=await names(request, "units", session),
    )


@router.post("/cases/{case_id}/quyet-dinh")
async def decide(request: Request, case_id: str) -> Response:
    session = await person(request)
    try:
        uuid.UUID(case_id)
    except ValueError:
        return message_page(request, 404, "Không tìm thấy", "Không có vụ việc này.")
    form = {k: str(v).strip() for k, v in (await request.form()).items() if k in DECISION_INPUTS}
    errors: dict[str, str] = {}
    if form.get("outcome") not in OUTCOMES:
        errors["outcome"] = "Hãy chọn quyết định của Ban Thường vụ."
    if not form.get("text"):
        errors["text"] = "Hãy ghi nội dung quyết định (ý kiến chỉ đạo của Ban Thường vụ)."
    if not errors:
        answer = await api(request, session, "routing", "POST", f"/v1/cases/{case_id}/decision", json=form)
        if answer.ok:
            log.info(
                "account %s recorded a decision (%s) on case %s", session.account.get("id"), form["outcome"], case_id
            )
            return redirect(f"/cases/{case_id}?quyet-dinh=1#quyet-dinh")
        if answer.status in (403, 404):
            return message_page(request, 403, "Không có quyền truy cập", NO_ACCESS)
        if answer.status == 409:
            errors = {"outcome": "Vụ việc này không còn chờ quyết định (đã có quyết định, hoặc đã được trả lại)."}
        else:
            errors = domain.place_errors(domain.field_errors(answer.detail, "text"), DECISION_INPUTS)
    return await _case_page(request, session, case_id, status=422, decision_errors=errors, decision_form=form)
