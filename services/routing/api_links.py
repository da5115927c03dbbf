"""The landing of the accept/decline links in members' messages.

`GET` shows a one-button confirmation page and changes nothing (mail scanners fetch links); `POST`
(the button) answers the assignment. A link is genuine (HMAC), unexpired and used at most once.

The web service shows these pages in its own look: it forwards the link with `Accept: application/json`
and gets `{"outcome": ...}` (`valid`, `accepted`, `declined`, `expired`, `invalid`, `used`, `conflict`,
`not_found`) with the same status codes instead of HTML.
"""

from __future__ import annotations

import html
import uuid

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from services.routing import store
from services.routing.answers import answer_assignment
from services.routing.links import verify
from shared.errors import Conflict, NotFound, Refusal
from shared.service import runtime_of
from shared.uow import RetryingRoute, unit_of_work

_WORDS = {
    "accept": ("Nhận vụ việc", "Đã nhận vụ việc. Cảm ơn đồng chí."),
    "decline": ("Từ chối", "Đã ghi nhận từ chối."),
}


def _sentences(refusal: Refusal) -> str:
    return f'<p>{html.escape(refusal.vietnamese)}</p><p lang="en">{html.escape(refusal.english)}</p>'


def _page(title: str, body: str, status: int) -> HTMLResponse:
    doc = (
        f'<!doctype html><html lang="vi"><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(doc, status_code=status)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _answer(request: Request, outcome: str, title: str, body: str, status: int, **extra: object) -> Response:
    if _wants_json(request):
        return JSONResponse({"outcome": outcome, "detail": title, **extra}, status_code=status)
    return _page(title, body, status)


def _check(request: Request, assignment_id: uuid.UUID, action: str, expires: int, signature: str) -> Response | None:
    runtime = runtime_of(request)
    problem = verify(runtime.settings.link_secret, assignment_id, action, expires, signature, runtime.clock.now())
    if problem is None:
        return None
    status = 410 if "expired" in problem else 403 if "signature" in problem else 404
    outcome = "expired" if status == 410 else "invalid"
    return _answer(request, outcome, "Liên kết không hợp lệ", f"<p>{html.escape(problem)}</p>", status)


async def _subject(request: Request, assignment_id: uuid.UUID) -> dict[str, object] | None:
    """What the link is about (for the web page): case or request id, its code and urgency."""
    a, c, r = store.assignments.c, store.cases.c, store.counseling_requests.c
    query = (
        select(a.case_id, a.request_id, a.status, c.code.label("case_code"), c.urgency, r.code.label("request_code"))
        .outerjoin(store.cases, c.case_id == a.case_id)
        .outerjoin(store.counseling_requests, r.request_id == a.request_id)
        .where(a.assignment_id == assignment_id)
    )
    async with runtime_of(request).sessions() as session:
        row = (await session.execute(query)).first()
    if row is None:
        return None
    return {
        "case_id": str(row.case_id) if row.case_id else None,
        "request_id": str(row.request_id) if row.request_id else None,
        "code": row.case_code or row.request_code,
        "urgency": row.urgency,
        "status": row.status,
    }


def link_router(link_path: str) -> APIRouter:
    """The routes under the configured LINK_PATH."""
    r = APIRouter(prefix=link_path, tags=["links"], route_class=RetryingRoute)

    @r.get("/assignments/{assignment_id}/{action}", response_class=HTMLResponse, summary="Confirm page")
    async def confirm_page(
        request: Request, assignment_id: uuid.UUID, action: str, expires: int = Query(), signature: str = Query()
    ) -> Response:
        bad = _check(request, assignment_id, action, expires, signature)
        if bad is not None:
            return bad
        if _wants_json(request):
            subject = await _subject(request, assignment_id)
            if subject is None:
                return _answer(request, "not_found", "Không tìm thấy", "", 404)
            return JSONResponse({"outcome": "valid", "action": action, **subject})
        label, _ = _WORDS[action]
        form = f'<form method="post"><button type="submit">{html.escape(label)}</button></form>'
        return _page(label, form, 200)

    @r.post("/assignments/{assignment_id}/{action}", response_class=HTMLResponse, summary="Answer by link")
    async def answer_by_link(
        request: Request, assignment_id: uuid.UUID, action: str, expires: int = Query(), signature: str = Query()
    ) -> Response:
        bad = _check(request, assignment_id, action, expires, signature)
        if bad is not None:
            return bad
        try:
            async with unit_of_work(runtime_of(request)) as fx:
                fresh = (
                    await fx.session.execute(
                        insert(store.used_links)
                        .values(signature=signature, used_at=fx.now)
                        .on_conflict_do_nothing()
                        .returning(store.used_links.c.signature)
                    )
                ).first()
                if fresh is None:
                    return _answer(request, "used", "Liên kết đã được dùng", "<p>This link was already used.</p>", 410)
                answered = await answer_assignment(fx, assignment_id, action == "accept")
        except Conflict as exc:
            return _answer(request, "conflict", "Không thể thực hiện", _sentences(exc), 409)
        except NotFound as exc:
            return _answer(request, "not_found", "Không tìm thấy", _sentences(exc), 404)
        subject = {
            "case_id": str(answered.case_id) if answered.case_id else None,
            "request_id": str(answered.request_id) if answered.request_id else None,
        }
        outcome = "accepted" if action == "accept" else "declined"
        return _answer(request, outcome, _WORDS[action][1], "", 200, **subject)

    return r
