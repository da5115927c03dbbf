"""Every page of the web service against every role, driven by the registry the app itself enforces
(`services.web.access.PAGES`): every route of the app is registered; signed out, a page that needs a person
sends to the sign-in page; each role the registry does not name gets the 403 page in Vietnamese, on GET and
POST alike; each role it names gets past the check (here the other services are away, so such a page
answers anything but the refusal). In-process: no other service runs."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.routing import APIRoute

from services.web import access, sessions
from services.web.main import create_app
from services.web.pages import PageRoute
from services.web.settings import WebSettings
from shared.clock import FakeClock
from shared.service import ServiceRuntime
from tests.support.asgi import running

START = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
REFUSED = "Không có quyền truy cập"
SAMPLE = {"unit": "phuong-tan-ninh", "period": "2026-11", "service": "notify", "action": "accept", "code": "xa-a"}


@pytest.fixture
def settings(base_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> WebSettings:
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    away = "http://127.0.0.1:9"  # nothing listens: a page that gets past the check answers 503 or a form
    return WebSettings(intake_url=away, routing_url=away, reporting_url=away, notify_url=away)


def every_route(routes: list[Any]) -> list[Any]:
    """The app's routes, the included routers' ones too (FastAPI includes a router as one lazy branch)."""
    found = []
    for route in routes:
        included = getattr(route, "original_router", None)
        found += every_route(included.routes) if included is not None else [route]
    return found


def page_routes(app) -> list[PageRoute]:
    return [r for r in every_route(app.routes) if isinstance(r, PageRoute)]


def concrete(path: str) -> str:
    """The route template with a plausible value in each parameter (ids as UUIDs)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(uuid.uuid4()) if name.endswith("_id") else SAMPLE.get(name, "x")

    return re.sub(r"\{([a-z_]+)\}", value, path)


async def _signed_in(app, role: str) -> str:
    runtime: ServiceRuntime = app.state.runtime
    context = runtime.extras["web"]
    account = {"id": str(uuid.uuid4()), "name": f"Người thử ({role})", "role": role, "email": f"{role}@x.example"}
    if role == "reporter":
        account["unit"] = "phuong-tan-ninh"
    if role == "member":
        account["member_id"] = str(uuid.uuid4())
    async with runtime.sessions() as db, db.begin():
        return await sessions.start(
            db,
            context.keys,
            context.lifetime,
            token=f"cn_{role}_secret",
            account=account,
            token_expires_at=None,
            now=START,
        )


async def test_every_route_of_the_web_app_is_in_the_registry(settings: WebSettings):
    app = create_app(settings, clock=FakeClock(START))
    routes = page_routes(app)
    assert len(routes) >= 20
    missing = sorted({r.path for r in routes if access.allowed_roles(r.path) is None})
    assert not missing, f"pages missing from services/web/access.py: {missing}"
    gets = {r.path for r in routes if "GET" in (r.methods or set())}
    assert "/quan-tri/tai-khoan" in gets and "/van-hanh/thu-chet" in gets
    others = [r.path for r in every_route(app.routes) if isinstance(r, APIRoute) and not isinstance(r, PageRoute)]
    assert set(others) <= {"/healthz", "/readyz", "/metrics"}, f"pages that bypass the registry: {others}"


async def test_each_role_is_refused_the_pages_of_the_others(settings: WebSettings):
    app = create_app(settings, clock=FakeClock(START))
    async with running(app) as client:
        login = await client.get("/dang-nhap")
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', login.text)
        assert token is not None
        cookies = {role: await _signed_in(app, role) for role in access.PEOPLE}
        checked = 0
        for route in page_routes(app):
            url = concrete(route.path)
            for method in sorted(route.methods or ()):
                allowed = access.allowed_roles(route.path, method)
                data = {"csrf": token.group(1)} if method == "POST" else None
                client.cookies.delete("cn_session")
                if allowed != access.PUBLIC:
                    out = await client.request(method, url, data=data)
                    assert out.status_code == 303, (method, url, "signed out")
                    assert out.headers["location"].startswith("/dang-nhap?tiep="), (method, url)
                for role in access.PEOPLE:
                    client.cookies.set("cn_session", cookies[role])
                    answer = await client.request(method, url, data=data)
                    if allowed == access.PUBLIC or role in allowed:
                        assert not (answer.status_code == 403 and REFUSED in answer.text), (method, url, role)
                    else:
                        assert answer.status_code == 403, (method, url, role, answer.status_code)
                        assert REFUSED in answer.text and '<html lang="vi">' in answer.text, (method, url, role)
                        checked += 1
        assert checked > 50, checked


async def test_a_page_left_out_of_the_registry_is_refused_to_everyone(settings: WebSettings):
    app = create_app(settings, clock=FakeClock(START))
    page = next(r for r in page_routes(app) if r.path == "/tai-khoan")
    saved = access.PAGES.pop(page.path)
    try:
        async with running(app) as client:
            client.cookies.set("cn_session", await _signed_in(app, "admin"))
            refused = await client.get("/tai-khoan")
            assert refused.status_code == 403 and REFUSED in refused.text
    finally:
        access.PAGES[page.path] = saved
