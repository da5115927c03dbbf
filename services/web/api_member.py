"""A member's pages: my assignments (`/phan-cong`, pending and most urgent first, with deadlines), accept or
decline in one step, the counseling requests given to me (`/counseling/{id}`) with the question and the
answer form."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from services.web import domain
from services.web.pages import PageRoute, api, message_page, names, now, person, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ACTIONS = {"nhan": "accept", "tu-choi": "decline"}


def _uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@router.get("/phan-cong")
async def my_assignments(request: Request) -> Response:
    session = await person(request)
    answer = await api(request, session, "routing", "GET", "/v1/assignments/mine")
    items = sorted(answer.body if answer.ok else [], key=domain.assignment_order)
    return render(
        request,
        "assignments.html",
        title="Việc được phân công",
        items=items,
        now=now(request),
        categories=await names(request, "categories"),
        done=request.query_params.get("xong"),
    )


@router.post("/phan-cong/{assignment_id}/{action}")
async def answer_assignment(request: Request, assignment_id: str, action: str) -> Response:
    session = await person(request)
    if not _uuid(assignment_id) or action not in ACTIONS:
        return message_page(request, 404, "Không tìm thấy", "Không có phân công này.")
    answer = await api(request, session, "routing", "POST", f"/v1/assignments/{assignment_id}/{ACTIONS[action]}")
    if answer.ok:
        target = str((await request.form()).get("then", ""))
        if ACTIONS[action] == "accept" and target.startswith("/cases/") and _uuid(target[7:]):
            return redirect(f"{target}?da-nhan=1")
        return redirect(f"/phan-cong?xong={ACTIONS[action]}")
    if answer.status == 409:
        return message_page(
            request,
            409,
            "Không thể thực hiện",
            "Phân công này đã được trả lời hoặc không còn hiệu lực.",
            link=("/phan-cong", "Về danh sách phân công"),
        )
    return message_page(request, 403, "Không có quyền truy cập", "Phân công này không phải của bạn.")


async def _request_page(request: Request, session, request_id: str, status: int = 200, **extra) -> Response:
    routed = await api(request, session, "routing", "GET", f"/v1/counseling-requests/{request_id}")
    if not routed.ok:
        return message_page(request, 403, "Không có quyền truy cập", "Yêu cầu tư vấn này không được giao cho bạn.")
    question = await api(request, session, "intake", "GET", f"/v1/counseling-requests/{request_id}/messages")
    if question.status in (403, 404):
        return message_page(request, 403, "Không có quyền truy cập", "Yêu cầu tư vấn này không được giao cho bạn.")
    return render(
        request,
        "counseling_request.html",
        status,
        title=f"Yêu cầu tư vấn {routed.body['code']}",
        item=routed.body,
        question=question.body if question.ok else None,
        topics=await names(request, "categories"),
        **extra,
    )


@router.get("/counseling/{request_id}")
async def counseling_request(request: Request, request_id: str) -> Response:
    session = await person(request)
    if not _uuid(request_id):
        return message_page(request, 404, "Không tìm thấy", "Không có yêu cầu tư vấn này.")
    return await _request_page(request, session, request_id)


@router.post("/counseling/{request_id}/tra-loi")
async def counseling_answer(request: Request, request_id: str) -> Response:
    session = await person(request)
    if not _uuid(request_id):
        return message_page(request, 404, "Không tìm thấy", "Không có yêu cầu tư vấn này.")
    text = str((await request.form()).get("text", ""))
    answer = await api(
        request, session, "routing", "POST", f"/v1/counseling-requests/{request_id}/answer", json={"text": text}
    )
    if answer.ok:
        return redirect(f"/counseling/{request_id}?da-tra-loi=1")
    if answer.status == 409:
        errors = {"text": "Yêu cầu này đã được trả lời."}
    elif answer.status in (403, 404):
        return message_page(request, 403, "Không có quyền truy cập", "Yêu cầu tư vấn này không được giao cho bạn.")
    else:
        errors = domain.field_errors(answer.detail, "text")
    return await _request_page(request, session, request_id, 422, errors=errors, text=text)
