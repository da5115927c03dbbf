"""The landing of the accept/decline links in members' messages.

`GET` shows a one-button confirmation page and changes nothing (mail scanners fetch links); `POST`
(the button) answers the assignment. A link is genuine (HMAC), unexpired and used at most once.
"""

from __future__ import annotations

import html
import uuid

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.dialects.postgresql import insert

from services.routing import store
from services.routing.answers import answer_assignment
from services.routing.links import verify
from shared.errors import Conflict, NotFound, Refusal
from shared.service import runtime_of
from shared.uow import RetryingRoute, unit_of_work

_WORDS = {
    "accept": ("Nhận vụ việc", "Đã nhận vụ việc. Cảm ơn anh/chị."),
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


def _check(
    request: Request, assignment_id: uuid.UUID, action: str, expires: int, signature: str
) -> HTMLResponse | None:
    runtime = runtime_of(request)
    problem = verify(runtime.settings.link_secret, assignment_id, action, expires, signature, runtime.clock.now())
    if problem is None:
        return None
    status = 410 if "expired" in problem else 403 if "signature" in problem else 404
    return _page("Liên kết không hợp lệ", f"<p>{html.escape(problem)}</p>", status)


def link_router(link_path: str) -> APIRouter:
    """The routes under the configured LINK_PATH."""
    r = APIRouter(prefix=link_path, tags=["links"], route_class=RetryingRoute)

    @r.get("/assignments/{assignment_id}/{action}", response_class=HTMLResponse, summary="Confirm page")
    async def confirm_page(
        request: Request, assignment_id: uuid.UUID, action: str, expires: int = Query(), signature: str = Query()
    ) -> HTMLResponse:
        bad = _check(request, assignment_id, action, expires, signature)
        if bad is not None:
            return bad
        label, _ = _WORDS[action]
        form = f'<form method="post"><button type="submit">{html.escape(label)}</button></form>'
        return _page(label, form, 200)

    @r.post("/assignments/{assignment_id}/{action}", response_class=HTMLResponse, summary="Answer by link")
    async def answer_by_link(
        request: Request, assignment_id: uuid.UUID, action: str, expires: int = Query(), signature: str = Query()
    ) -> HTMLResponse:
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
                    return _page("Liên kết đã được dùng", "<p>This link was already used.</p>", 410)
                await answer_assignment(fx, assignment_id, action == "accept")
        except Conflict as exc:
            return _page("Không thể thực hiện", _sentences(exc), 409)
        except NotFound as exc:
            return _page("Không tìm thấy", _sentences(exc), 404)
        return _page(_WORDS[action][1], "", 200)

    return r
