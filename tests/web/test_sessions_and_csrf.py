"""The web service in-process (no other service running): security headers, CSRF refusal, sessions'
idle and absolute end, no-store. Pages that need another service are not exercised here."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.web import sessions
from services.web.main import create_app
from services.web.pages import CSP
from services.web.settings import WebSettings
from shared.clock import FakeClock
from shared.service import ServiceRuntime
from tests.support.asgi import running

START = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def settings(base_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> WebSettings:
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    # Nothing listens on port 9: any call to another service fails as "unavailable".
    return WebSettings(
        intake_url="http://127.0.0.1:9",
        routing_url="http://127.0.0.1:9",
        reporting_url="http://127.0.0.1:9",
        session_idle_minutes=30,
        session_absolute_hours=12,
    )


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert match, "every form carries a CSRF token"
    return match.group(1)


async def _session(client: httpx.AsyncClient, app, clock: FakeClock, role: str = "reporter") -> str:
    runtime: ServiceRuntime = app.state.runtime
    context = runtime.extras["web"]
    async with runtime.sessions() as db, db.begin():
        cookie = await sessions.start(
            db,
            context.keys,
            context.lifetime,
            token="cn_abc_secret",
            account={"id": "a1", "name": "Cán bộ Tân Ninh", "role": role, "unit": "phuong-tan-ninh", "email": "x@y"},
            token_expires_at=None,
            now=clock.now(),
        )
    return cookie


async def test_pages_carry_the_security_headers_and_are_not_stored(settings: WebSettings):
    async with running(create_app(settings, clock=FakeClock(START))) as client:
        response = await client.get("/dang-nhap")
        assert response.status_code == 200
        assert response.headers["content-security-policy"] == CSP
        assert "frame-ancestors 'none'" in CSP and "'unsafe-inline'" not in CSP
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert '<html lang="vi">' in response.text and "<title>Đăng nhập · Cầu Nối</title>" in response.text
        assert "style=" not in response.text and "<script>" not in response.text, "no inline style or script"
        cookie = response.headers["set-cookie"]
        assert "cn_csrf=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Secure" not in cookie, "localhost: no Secure flag, so the cookie works over plain HTTP"
        static = await client.get("/static/site.css")
        assert static.status_code == 200 and "no-store" not in static.headers["cache-control"]
        missing = await client.get("/khong-co")
        assert missing.status_code == 404 and "Không tìm thấy trang" in missing.text


async def test_cookies_are_secure_outside_localhost(base_env, monkeypatch):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    settings = WebSettings(public_base_url="https://caunoi.example.vn")
    async with running(create_app(settings, clock=FakeClock(START))) as client:
        response = await client.get("/dang-nhap")
        assert "Secure" in response.headers["set-cookie"]


async def test_a_post_without_the_csrf_token_is_refused(settings: WebSettings):
    async with running(create_app(settings, clock=FakeClock(START))) as client:
        page = await client.get("/tu-van")  # the form fails to list topics (intake is away) but renders
        token = _csrf(page.text)
        for data in ({"message": "Em cần giúp"}, {"message": "Em cần giúp", "csrf": "0" * 64}):
            refused = await client.post("/tu-van", data=data)
            assert refused.status_code == 403, data
            assert "Yêu cầu bị từ chối" in refused.text
        # The right token from another browser (no cookie) is refused too.
        async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as other:
            refused = await other.post("/dang-xuat", data={"csrf": token})
            assert refused.status_code == 403
        # With its own cookie and token the form goes through to intake (away here: a 503 page, not a 403).
        passed = await client.post("/tu-van", data={"message": "Em cần giúp", "csrf": token})
        assert passed.status_code == 503 and "111" in passed.text


async def test_a_session_ends_after_its_idle_time_and_its_absolute_lifetime(settings: WebSettings):
    clock = FakeClock(START)
    app = create_app(settings, clock=clock)
    async with running(app) as client:
        cookie = await _session(client, app, clock)
        client.cookies.set("cn_session", cookie)
        page = await client.get("/tai-khoan")
        assert page.status_code == 200 and "Cán bộ Tân Ninh" in page.text
        for _ in range(30):  # used every 25 minutes: alive until 12 hours after sign-in
            clock.advance(timedelta(minutes=25))
            response = await client.get("/tai-khoan")
            if clock.now() - START < timedelta(hours=12):
                assert response.status_code == 200, clock.now()
            else:
                assert response.status_code == 303
                assert response.headers["location"] == "/dang-nhap?tiep=%2Ftai-khoan"
                break
        else:
            pytest.fail("the session outlived its absolute lifetime")

        cookie = await _session(client, app, clock)
        client.cookies.set("cn_session", cookie)
        assert (await client.get("/tai-khoan")).status_code == 200
        clock.advance(timedelta(minutes=31))
        assert (await client.get("/tai-khoan")).status_code == 303, "idle for longer than 30 minutes"


async def test_a_role_is_refused_another_roles_pages_and_only_local_targets_are_followed(settings: WebSettings):
    clock = FakeClock(START)
    app = create_app(settings, clock=clock)
    async with running(app) as client:
        client.cookies.set("cn_session", await _session(client, app, clock, role="reporter"))
        refused = await client.get("/phan-cong")
        assert refused.status_code == 403 and "Không có quyền truy cập" in refused.text
        # Signed in already: the sign-in page sends a person on, but never to another site.
        for target, expected in (("/vu-viec", "/vu-viec"), ("//evil.example/x", "/"), ("https://evil.example", "/")):
            response = await client.get("/dang-nhap", params={"tiep": target})
            assert response.status_code == 303 and response.headers["location"] == expected


async def test_only_an_admin_gets_the_accounts_page(settings: WebSettings):
    clock = FakeClock(START)
    app = create_app(settings, clock=clock)
    async with running(app) as client:
        token = _csrf((await client.get("/dang-nhap")).text)  # a valid token: the refusals below are the role's
        for role in ("reporter", "member", "chair", "committee", "operator"):
            client.cookies.set("cn_session", await _session(client, app, clock, role=role))
            refused = await client.get("/quan-tri/tai-khoan")
            assert refused.status_code == 403 and "Không có quyền truy cập" in refused.text, role
            assert 'href="/quan-tri/tai-khoan"' not in refused.text, "no link to it in a non-admin's navigation"
            posted = await client.post(
                "/quan-tri/tai-khoan/00000000-0000-0000-0000-000000000001/loi-moi", data={"csrf": token}
            )
            assert posted.status_code == 403 and "Không có quyền truy cập" in posted.text, role
            assert (await client.get("/quan-tri/tai-khoan/moi")).status_code == 403, role
            created = await client.post("/quan-tri/tai-khoan/moi", data={"csrf": token, "name": "X", "role": "admin"})
            assert created.status_code == 403 and "Không có quyền truy cập" in created.text, role
        # An admin passes the role check: intake is away here, so the page says the system is busy (503).
        client.cookies.set("cn_session", await _session(client, app, clock, role="admin"))
        page = await client.get("/quan-tri/tai-khoan")
        assert page.status_code == 503 and "Hệ thống đang bận" in page.text
        assert 'href="/quan-tri/tai-khoan"' in page.text, "an admin's navigation links to it"
