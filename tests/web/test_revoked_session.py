"""A session whose token another service no longer accepts (revoked: a new role, a locked account, signed out
elsewhere) ends in the web service too: the person is sent to sign in once, and the sign-in page does not send
them back (no redirect loop). In-process, with intake answering 401 to everything."""

from __future__ import annotations

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


async def test_a_revoked_token_ends_the_session_and_sign_in_does_not_loop(base_env, monkeypatch: pytest.MonkeyPatch):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    settings = WebSettings()
    app = create_app(settings, clock=FakeClock(START))
    revoked = httpx.MockTransport(lambda request: httpx.Response(401, json={"status": 401, "detail": "Chưa xác thực."}))
    async with running(app) as client:
        context = app.state.runtime.extras["web"]
        await context.apis.close()
        context.apis = Apis(settings, transport=revoked)
        client.cookies.set("cn_session", await _signed_in(app, "reporter"))
        first = await client.get("/vu-viec")
        assert first.status_code == 303 and first.headers["location"] == "/dang-nhap?tiep=%2Fvu-viec"
        sign_in = await client.get(first.headers["location"])
        assert sign_in.status_code == 200 and "Đăng nhập" in sign_in.text, "the sign-in form, not a redirect back"
        assert (await client.get("/tai-khoan")).status_code == 303, "the session is gone"
