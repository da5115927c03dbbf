"""Where the links in messages land, besides the case, counseling and monthly report pages:

- routing's signed accept/decline links (`{PUBLIC_BASE_URL}{LINK_PATH}/assignments/{id}/{action}?expires=…
  &signature=…`): `GET` checks the link with routing and shows a one-button page (changes nothing: mail
  scanners fetch links), the button's `POST` forwards to routing, which answers the assignment; the outcome
  is shown in Vietnamese. No sign-in is needed: the signed link is the member's authority, as before.
- the plan reminder's `/plan/{item}` (the chair's roadmap item, read from reporting).
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Query, Request, Response

from services.web import access
from services.web.clients import Answer
from services.web.pages import PageRoute, api, message_page, person, render, web

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ACTION_WORDS = {
    "accept": ("Nhận vụ việc", "Đồng chí xác nhận nhận vụ việc này?", "Đã nhận vụ việc. Cảm ơn đồng chí."),
    "decline": ("Từ chối vụ việc", "Đồng chí xác nhận từ chối vụ việc này?", "Đã ghi nhận đồng chí từ chối."),
}
OUTCOMES = {
    "expired": (410, "Liên kết đã hết hạn", "Liên kết này đã hết hạn. Hãy đăng nhập để trả lời phân công."),
    "used": (410, "Liên kết đã được dùng", "Liên kết này đã được dùng một lần. Hãy đăng nhập để xem phân công."),
    "invalid": (403, "Liên kết không hợp lệ", "Liên kết này không đúng. Hãy mở lại liên kết trong thư."),
    "conflict": (409, "Không thể thực hiện", "Phân công này đã được trả lời hoặc không còn hiệu lực."),
    "not_found": (404, "Không tìm thấy", "Không có phân công này."),
}
ITEM = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


async def _forward(
    request: Request, method: str, assignment_id: str, action: str, expires: int, signature: str
) -> Response | Answer:
    """Routing's answer to the link (GET: is it valid; POST: answer the assignment), or the page that says
    why there is none (an unknown action, or routing refused the link)."""
    if action not in ACTION_WORDS:
        return message_page(request, 404, "Không tìm thấy", "Liên kết này không đúng.")
    path = f"{web(request).settings.link_path}/assignments/{assignment_id}/{action}"
    params = {"expires": expires, "signature": signature}
    answer = await web(request).apis.call("routing", method, path, params=params)
    return answer if answer.status == 200 else _outcome(request, answer)


def _outcome(request: Request, answer: Answer) -> Response:
    outcome = (answer.body or {}).get("outcome") if isinstance(answer.body, dict) else None
    status, title, message = OUTCOMES.get(
        str(outcome), (answer.status, "Liên kết không hợp lệ", OUTCOMES["invalid"][2])
    )
    return message_page(request, status, title, message, link=("/phan-cong", "Đăng nhập để xem phân công"))


def link_router(link_path: str) -> APIRouter:
    r = APIRouter(prefix=link_path, route_class=PageRoute, include_in_schema=False)
    access.register(f"{link_path}/assignments/{{assignment_id}}/{{action}}", access.PUBLIC)  # the signed link

    @r.get("/assignments/{assignment_id}/{action}")
    async def confirm(
        request: Request, assignment_id: str, action: str, expires: int = Query(), signature: str = Query()
    ) -> Response:
        answer = await _forward(request, "GET", assignment_id, action, expires, signature)
        if isinstance(answer, Response):
            return answer
        title, question, _ = ACTION_WORDS[action]
        body = answer.body if isinstance(answer.body, dict) else {}
        return render(request, "link_confirm.html", title=title, question=question, action=action, info=body)

    @r.post("/assignments/{assignment_id}/{action}")
    async def answer(
        request: Request, assignment_id: str, action: str, expires: int = Query(), signature: str = Query()
    ) -> Response:
        answered = await _forward(request, "POST", assignment_id, action, expires, signature)
        if isinstance(answered, Response):
            return answered
        _, _, done = ACTION_WORDS[action]
        case_id = answered.body.get("case_id") if isinstance(answered.body, dict) else None
        link = (
            (f"/cases/{case_id}", "Mở vụ việc (cần đăng nhập)")
            if case_id and action == "accept"
            else ("/phan-cong", "Xem các phân công")
        )
        return message_page(request, 200, done, "Kết quả đã được ghi nhận.", link=link)

    return r


@router.get("/plan/{item_id}")
async def plan_item(request: Request, item_id: str) -> Response:
    session = await person(request)
    if not ITEM.match(item_id):
        return message_page(request, 404, "Không tìm thấy", "Không có mục kế hoạch này.")
    answer = await api(request, session, "reporting", "GET", "/v1/plan", params={"period": "2023..2027"})
    items = (answer.body or {}).get("items", []) if answer.ok else []
    extra = (
        (answer.body or {}).get("board_meetings", []) + (answer.body or {}).get("club_meetings", [])
        if answer.ok
        else []
    )
    found = next((i for i in items + extra if str(i.get("item_id")) == item_id), None)
    if found is None:
        return message_page(request, 404, "Không tìm thấy", "Không có mục kế hoạch này.")
    return render(request, "plan_item.html", title="Kế hoạch hoạt động", item=found)
