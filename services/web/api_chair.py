"""The chair's (and vice-chairs') pages: what needs them (`/chu-nhiem`, routing's `GET /v1/chair/dashboard`),
a case to steer (`/chu-nhiem/vu-viec/{id}`: members added, removed or replaced with routing's suggestion and
its reasons, every opinion, compile and forward to the Standing Committee, close and reopen with a reason) and
the forwarding as a document the committee can print (`/chu-nhiem/vu-viec/{id}/to-trinh`).

Every change goes through routing's API as the signed-in chair; a refusal comes back beside the form, in
Vietnamese, with a 4xx status, and routing changed nothing."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from services.web import domain
from services.web.pages import PageRoute, api, message_page, names, now, person, redirect, render
from services.web.sessions import Session

log = logging.getLogger(__name__)
router = APIRouter(route_class=PageRoute, include_in_schema=False)
HOME = "/chu-nhiem"
NO_CASE = "Không có vụ việc này."


def _id(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


@router.get(HOME)
async def dashboard(request: Request) -> Response:
    session = await person(request)
    answer = await api(request, session, "routing", "GET", "/v1/chair/dashboard")
    if not answer.ok:
        return message_page(request, 403, "Không có quyền truy cập", "Bạn không có quyền xem trang này.")
    board = answer.body
    return render(
        request,
        "chair_dashboard.html",
        title="Việc cần làm",
        board=board,
        lists=[(key, heading, empty, board.get(key, [])) for key, heading, empty in domain.DASHBOARD_LISTS],
        now=now(request),
        categories=await names(request, "categories"),
        unit_names=await names(request, "units", session),
    )


async def _case_page(request: Request, session: Session, case_id: str, status: int = 200, **extra: Any) -> Response:
    case = await api(request, session, "intake", "GET", f"/v1/cases/{case_id}")
    routed = await api(request, session, "routing", "GET", f"/v1/cases/{case_id}")
    if case.status in (403, 404) or routed.status in (403, 404):
        return message_page(request, 404, "Không tìm thấy", NO_CASE)
    timed = await api(request, session, "routing", "GET", f"/v1/cases/{case_id}/deadlines")
    suggested = await api(request, session, "routing", "GET", f"/v1/chair/cases/{case_id}/suggestions")
    members = await api(request, session, "routing", "GET", "/v1/members")
    r = routed.body
    member_names = {str(m["member_id"]): m["display_name"] for m in (members.body if members.ok else [])}
    member_names.update({str(a["member_id"]): a["display_name"] for a in r["assignments"]})
    active = [a for a in r["assignments"] if a["status"] in ("pending", "accepted")]
    holding = {(str(a["member_id"]), a["field"]) for a in active}
    by_field: dict[str, list[dict]] = {}
    for s in suggested.body if suggested.ok else []:
        if (str(s["member_id"]), s["field"]) not in holding:  # who holds the field already is no suggestion
            by_field.setdefault(s["field"], []).append(s)
    assignable = [m for m in (members.body if members.ok else []) if m.get("club_role") != "committee"]
    return render(
        request,
        "chair_case.html",
        status,
        title=f"Vụ việc {r['code']} — Chủ nhiệm",
        case=case.body,
        routed=r,
        active=active,
        ended=[a for a in r["assignments"] if a["status"] not in ("pending", "accepted")],
        suggestions=by_field,
        assignable=sorted(assignable, key=lambda m: str(m["display_name"]).casefold()),
        member_names=member_names,
        deadlines=timed.body if timed.ok else [],
        draft=domain.compile_opinions(r["opinions"], member_names),
        strongest=domain.strongest_level(r["opinions"]),
        proposed_referrals=sorted({ref for o in r["opinions"] for ref in o["referrals"]}),
        now=now(request),
        categories=await names(request, "categories"),
        unit_names=await names(request, "units", session),
        **extra,
    )


@router.get(HOME + "/vu-viec/{case_id}")
async def case_page(request: Request, case_id: str) -> Response:
    session = await person(request)
    if _id(case_id) is None:
        return message_page(request, 404, "Không tìm thấy", NO_CASE)
    return await _case_page(request, session, case_id)


def _refusal(answer: Any, fallback: str) -> str:
    """Routing's refusal in Vietnamese (its 409 sentence, or the first field error)."""
    body = answer.body if isinstance(answer.body, dict) else {}
    if isinstance(body.get("detail"), list):
        return next(iter(domain.field_errors(body["detail"]).values()), fallback)
    return str((body.get("message") or {}).get("vi") or body.get("detail") or fallback)


async def _change(
    request: Request, case_id: str, path: str, body: dict, *, form: str, done: str, fallback: str
) -> Response:
    """POST to routing; on success back to the case page (with `done`), else the page again with the error."""
    session = await person(request)
    if _id(case_id) is None:
        return message_page(request, 404, "Không tìm thấy", NO_CASE)
    answer = await api(request, session, "routing", "POST", f"/v1/cases/{case_id}/{path}", json=body)
    if answer.ok:
        log.info("chair %s: %s on case %s", session.account.get("id"), path, case_id)
        return redirect(done)
    if answer.status == 404 and path != "members":
        return message_page(request, 404, "Không tìm thấy", NO_CASE)
    status = answer.status if 400 <= answer.status < 500 else 422
    return await _case_page(request, session, case_id, status, errors={form: _refusal(answer, fallback)}, posted=body)


@router.post(HOME + "/vu-viec/{case_id}/thanh-vien")
async def change_members(request: Request, case_id: str) -> Response:
    """Add (one member per field, from the suggestion or the whole registry), remove, or both: replace."""
    form = await request.form()
    add = []
    for key, value in form.multi_items():
        if key.startswith("add.") and str(value):
            field = key[len("add.") :]
            add.append({"member_id": str(value), "field": field or None})
    if extra := str(form.get("extra_member") or ""):
        add.append({"member_id": extra, "field": str(form.get("extra_field") or "") or None})
    remove = [str(v) for v in form.getlist("remove")]
    if not add and not remove:
        session = await person(request)
        message = "Hãy chọn thành viên cần thêm hoặc cần rút khỏi vụ việc."
        return await _case_page(request, session, case_id, 422, errors={"members": message})
    return await _change(
        request,
        case_id,
        "members",
        {"add": add, "remove": remove},
        form="members",
        done=f"{HOME}/vu-viec/{case_id}?da-doi=1#thanh-vien",
        fallback="Không thay đổi được thành viên.",
    )


@router.post(HOME + "/vu-viec/{case_id}/chuyen")
async def forward(request: Request, case_id: str) -> Response:
    form = await request.form()
    body: dict[str, Any] = {
        "proposal": str(form.get("proposal") or "").strip(),
        "referrals": [str(r) for r in form.getlist("referrals")],
    }
    if level := str(form.get("recommended_level") or ""):
        body["recommended_level"] = level
    if not body["proposal"]:
        session = await person(request)
        message = "Hãy viết đề xuất của Chủ nhiệm gửi Ban Thường vụ."
        return await _case_page(request, session, case_id, 422, errors={"proposal": message}, posted=body)
    return await _change(
        request,
        case_id,
        "forward",
        body,
        form="proposal",
        done=f"{HOME}/vu-viec/{case_id}/to-trinh?moi=1",
        fallback="Chưa chuyển được vụ việc.",
    )


@router.post(HOME + "/vu-viec/{case_id}/ket-thuc")
async def close(request: Request, case_id: str) -> Response:
    outcome = str((await request.form()).get("outcome") or "").strip()
    if not outcome:
        session = await person(request)
        message = "Hãy ghi lý do, kết quả khi kết thúc vụ việc."
        return await _case_page(request, session, case_id, 422, errors={"outcome": message})
    return await _change(
        request,
        case_id,
        "close",
        {"outcome": outcome},
        form="outcome",
        done=f"{HOME}/vu-viec/{case_id}?da-dong=1",
        fallback="Chưa kết thúc được vụ việc.",
    )


@router.post(HOME + "/vu-viec/{case_id}/mo-lai")
async def reopen(request: Request, case_id: str) -> Response:
    reason = str((await request.form()).get("reason") or "").strip()
    if not reason:
        session = await person(request)
        return await _case_page(request, session, case_id, 422, errors={"reason": "Hãy ghi lý do mở lại vụ việc."})
    return await _change(
        request,
        case_id,
        "reopen",
        {"reason": reason},
        form="reason",
        done=f"{HOME}/vu-viec/{case_id}?mo-lai=1",
        fallback="Chưa mở lại được vụ việc.",
    )


@router.get(HOME + "/vu-viec/{case_id}/to-trinh")
async def forwarding_document(request: Request, case_id: str) -> Response:
    """The forwarding as a document (tờ trình) to print: the case's facts without the child's identity, every
    opinion, the chair's proposal, level and referrals."""
    session = await person(request)
    if _id(case_id) is None:
        return message_page(request, 404, "Không tìm thấy", NO_CASE)
    case = await api(request, session, "intake", "GET", f"/v1/cases/{case_id}")
    routed = await api(request, session, "routing", "GET", f"/v1/cases/{case_id}")
    if case.status in (403, 404) or routed.status in (403, 404):
        return message_page(request, 404, "Không tìm thấy", NO_CASE)
    r = routed.body
    if not r.get("proposal"):
        return message_page(
            request,
            409,
            "Chưa có tờ trình",
            "Vụ việc này chưa được chuyển Ban Thường vụ.",
            link=(f"{HOME}/vu-viec/{case_id}", "Về vụ việc"),
        )
    return render(
        request,
        "chair_forward.html",
        title=f"Tờ trình vụ việc {r['code']}",
        case=case.body,
        routed=r,
        member_names={str(a["member_id"]): a["display_name"] for a in r["assignments"]},
        fields_of={str(a["member_id"]): a["field"] for a in r["assignments"] if a["field"]},
        categories=await names(request, "categories"),
        unit_names=await names(request, "units", session),
        circumstances=await names(request, "special-circumstances"),
    )
