"""Every administration and operations page renders (in Vietnamese, 200) from the other services' answers, here
a stand-in for intake, routing and notify: in-process, quick, and no page is left to fail first in a browser."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from services.web.clients import Apis
from services.web.main import create_app
from services.web.settings import WebSettings
from shared.clock import FakeClock
from tests.support.asgi import running
from tests.web.test_roles import _signed_in

START = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
ACCOUNT = str(uuid.uuid4())
EVENT = str(uuid.uuid4())
CASE = str(uuid.uuid4())
ANSWERS = {
    "/v1/accounts": [
        {
            "account_id": ACCOUNT,
            "name": "Lê Thị Cán Bộ",
            "role": "reporter",
            "unit": "phuong-trang-bang",
            "member_id": None,
            "created_at": "2026-11-01T01:00:00Z",
            "email": "canbo@x.example",
            "password_set": True,
            "disabled_at": None,
            "last_sign_in_at": "2026-11-30T02:00:00Z",
            "credentials": [],
        }
    ],
    "/v1/members": [],
    "/v1/units": [
        {"code": "trang-bang", "name_vi": "Thị xã Trảng Bàng", "kind": "thị xã", "valid_from": "2020-02-01",
         "valid_to": "2025-06-30", "successors": ["phuong-trang-bang"], "contact_email": None},
        {"code": "phuong-trang-bang", "name_vi": "Phường Trảng Bàng", "kind": "phường", "valid_from": "2025-07-01",
         "valid_to": None, "successors": [], "contact_email": None},
    ],
    "/v1/categories": [
        {"code": "neglect", "name_vi": "Bỏ bê", "name_en": "Neglect", "fields": ["social_work"],
         "suggested_urgency": "medium", "active": True}
    ],
    "/v1/special-circumstances": [{"code": "SC01", "name_vi": "Trẻ em mồ côi cả cha và mẹ", "name_en": "Orphans"}],
    "/v1/audit-log": [
        {"id": 1, "at": "2026-11-30T03:00:00Z", "account_id": ACCOUNT, "key_id": "k", "role": "reporter",
         "action": "read_child", "case_id": CASE, "case_code": "TN-2026-000001", "fields": ["name", "address"]}
    ],
    "/v1/dead-letters": {
        "service": "notify", "queue": "caunoi.notify.dead-letter", "count": 1,
        "letters": [{"event_id": EVENT, "event_type": "case.assigned", "producer": "routing",
                     "occurred_at": "2026-11-30T03:00:00Z", "correlation_id": None, "reason": "delivery_limit",
                     "death_count": 1, "died_at": "2026-11-30T03:01:00Z", "from_queue": "caunoi.notify",
                     "routing_key": "case.assigned", "size": 420}],
    },
    "/v1/deliveries": {
        "total": 1,
        "deliveries": [{"id": str(uuid.uuid4()), "source_type": "case.assigned", "template": "case_assigned",
                        "channel": "email", "status": "dead", "attempts": 5, "reason": None,
                        "last_error": "550 mailbox unavailable", "case_id": CASE, "request_id": None,
                        "code": "TN-2026-000001", "member_id": str(uuid.uuid4()), "recipient_name": "Võ Văn Luật",
                        "fallback_of": None, "created_at": "2026-11-30T03:00:00Z",
                        "next_attempt_at": "2026-11-30T03:00:00Z", "sent_at": None}],
    },
}  # fmt: skip


def answer(request: httpx.Request) -> httpx.Response:
    body = ANSWERS.get(request.url.path)
    if body is None:
        return httpx.Response(404, json={"status": 404, "detail": "Không tìm thấy."})
    return httpx.Response(200, content=json.dumps(body), headers={"content-type": "application/json"})


PAGES = {
    "admin": [
        ("/quan-tri/tai-khoan", ["Lê Thị Cán Bộ", "Đăng nhập lần cuối", "30/11/2026 09:00", "Khóa và thu hồi quyền"]),
        (f"/quan-tri/tai-khoan/{ACCOUNT}", ["Sửa tài khoản", "Phường Trảng Bàng"]),
        ("/quan-tri/nhat-ky-truy-cap?ma-vu-viec=TN-2026-000001", ["TN-2026-000001", "Họ và tên, Nơi ở"]),
        ("/quan-tri/danh-muc", ["Thị xã Trảng Bàng", "30/06/2025", "Bỏ bê", "Trẻ em mồ côi"]),
        ("/quan-tri/danh-muc/don-vi/trang-bang", ["Sửa đơn vị", "Phường Trảng Bàng"]),
        ("/quan-tri/danh-muc/loai-vu-viec/neglect", ["Sửa loại vụ việc", "Công tác xã hội"]),
    ],
    "operator": [
        ("/van-hanh/thu-chet", ["Thông báo", "caunoi.notify.dead-letter"]),
        ("/van-hanh/thu-chet/notify", ["case.assigned", "Xử lý lỗi quá số lần cho phép", "Phát lại thư này"]),
        (
            "/van-hanh/tin-gui?trang-thai=dead",
            ["Phân công vụ việc", "Võ Văn Luật", "550 mailbox unavailable", "Gửi lại"],
        ),
    ],
}


@pytest.mark.parametrize("role", sorted(PAGES))
async def test_every_admin_and_operator_page_renders(base_env, monkeypatch: pytest.MonkeyPatch, role: str):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    settings = WebSettings()
    app = create_app(settings, clock=FakeClock(START))
    async with running(app) as client:
        context = app.state.runtime.extras["web"]
        await context.apis.close()
        context.apis = Apis(settings, transport=httpx.MockTransport(answer))
        client.cookies.set("cn_session", await _signed_in(app, role))
        for url, texts in PAGES[role]:
            page = await client.get(url)
            assert page.status_code == 200, (url, page.status_code, page.text[:300])
            for text in texts:
                assert text in page.text, (url, text)
        if role == "admin":
            exported = await client.get("/quan-tri/nhat-ky-truy-cap.csv")
            assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
            assert "TN-2026-000001" in exported.text and "attachment" in exported.headers["content-disposition"]
