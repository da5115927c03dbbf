"""Every service refuses what it cannot store or should not read, with a 4xx and never a 500: a body over the
limit (413), NUL bytes, invalid UTF-8 and unpaired surrogates in a body, a query or a path (422, field-level);
plus the cases found by the audit: a non-ASCII link signature, a period with a newline on its way into a
Content-Disposition header."""

from __future__ import annotations

import importlib
import time
import uuid

import pytest

from tests.support.asgi import running
from tests.support.credentials import grant

SETTINGS = {
    "intake": "IntakeSettings",
    "routing": "RoutingSettings",
    "notify": "NotifySettings",
    "reporting": "ReportingSettings",
}
# A real POST route of each service and a role allowed on it.
POST_ROUTE = {
    "intake": ("/v1/cases", "reporter"),
    "routing": ("/v1/members", "chair"),
    "notify": (f"/v1/deliveries/{uuid.uuid4()}/retry", "operator"),
    "reporting": ("/v1/plan/activities", "chair"),
}
GET_ROUTE = {
    "intake": "/v1/cases",
    "routing": "/v1/members",
    "notify": "/v1/deliveries",
    "reporting": "/v1/reports/cases",
}
JSON = {"Content-Type": "application/json"}


def app_of(service: str, base_env: dict[str, str]):
    settings_class = getattr(importlib.import_module(f"services.{service}.settings"), SETTINGS[service])
    settings = settings_class(**{key.lower(): value for key, value in base_env.items()})
    return importlib.import_module(f"services.{service}.main").create_app(settings)


def refused_text(response, where: str) -> None:
    assert response.status_code == 422, response.text
    [entry] = response.json()["detail"]
    assert entry["field"] == where and entry["type"] == "invalid_text" and entry["message"]


@pytest.mark.parametrize("service", sorted(SETTINGS))
async def test_every_service_limits_bodies_and_refuses_text_it_cannot_store(service: str, base_env) -> None:
    app = app_of(service, base_env)
    store = importlib.import_module(f"services.{service}.store")
    path, role = POST_ROUTE[service]
    async with running(app) as client:
        headers = {**JSON, **await grant(app.state.runtime.sessions, store.credentials, role, unit="phuong-tan-ninh")}
        too_big = b'{"x": "' + b"a" * 300_000 + b'"}'
        assert (await client.post(path, content=too_big, headers=headers)).status_code == 413
        for body, where in (
            (b'{"summary": "ok", "x": {"y": ["ok", "a\\u0000b"]}}', "body.x.y.1"),  # escaped NUL, named
            (b'{"display_name": "\\ud800"}', "body.display_name"),  # an unpaired surrogate
            (b'{"display_name": "a\x00b"}', "body"),  # a raw NUL byte
            (b'{"display_name": "\xff\xfe ch\xe1u"}', "body"),  # not UTF-8
        ):
            refused_text(await client.post(path, content=body, headers=headers), where)
        for query in ("q=%00", "q=%ff", "period=2025%00"):
            refused_text(await client.get(f"{GET_ROUTE[service]}?{query}", headers=headers), "query")
        refused_text(await client.get(f"{GET_ROUTE[service]}/a%00b", headers=headers), "path")
        # A credential header that is not ASCII is an unknown credential.
        forged = {"Authorization": "Bearer cn_khóa_bí-mật".encode()}
        assert (await client.get(GET_ROUTE[service], headers=forged)).status_code == 401
        # Ordinary Vietnamese text, escaped or not, still passes the guard (to the endpoint's own checks).
        for body in ('{"x": "Trẻ em"}'.encode(), b'{"x": "Tr\\u1ebb em"}'):
            assert (await client.post(path, content=body, headers=headers)).status_code not in (413, 500)


async def test_a_non_ascii_link_signature_is_refused_not_a_server_error(base_env) -> None:
    app = app_of("routing", base_env)
    async with running(app) as client:
        expires = int(time.time()) + 3600
        for method in ("GET", "POST"):
            response = await client.request(
                method,
                f"/v1/links/assignments/{uuid.uuid4()}/accept",
                params={"expires": expires, "signature": "chữ-ký-giả"},
            )
            assert response.status_code == 403, response.text


async def test_the_period_is_matched_whole_so_no_newline_reaches_a_header(base_env) -> None:
    app = app_of("reporting", base_env)
    from services.reporting import store

    async with running(app) as client:
        chair = await grant(app.state.runtime.sessions, store.credentials, "chair")
        for period in ("2025\n..2026", "2025\r\nX-Injected: 1\r\n..2026", "٢٠٢٥", "2025-07\n..2025-08"):
            response = await client.get("/v1/reports/export/cases", params={"period": period}, headers=chair)
            assert response.status_code == 422, (period, response.status_code)
            assert "x-injected" not in response.headers
        ok = await client.get(
            "/v1/reports/export/cases", params={"period": "2025..2026", "format": "csv"}, headers=chair
        )
        assert ok.status_code == 200 and "\n" not in ok.headers["content-disposition"]
        # Found by the fuzz over every service: a month of a year out of range was a 500.
        far = await client.get("/v1/reports/monthly", params={"period": "0940-04"}, headers=chair)
        assert far.status_code == 422 and far.json()["detail"][0]["field"] == "query.period"


@pytest.mark.parametrize("service", sorted(SETTINGS))
async def test_metrics_and_api_docs_need_the_operations_token_when_it_is_set(service: str, base_env) -> None:
    token = "ops-" + uuid.uuid4().hex
    app = app_of(service, {**base_env, "OPS_TOKEN": token})
    async with running(app) as client:
        for path in ("/metrics", "/docs", "/openapi.json"):
            refused = await client.get(path)
            assert refused.status_code == 401 and refused.json()["message"]["vi"], path
            assert (await client.get(path, headers={"Authorization": "Bearer wrong"})).status_code == 401
            assert (await client.get(path, headers={"Authorization": f"Bearer {token}"})).status_code == 200, path
        assert (await client.get("/healthz")).status_code == 200  # probes stay open


async def test_sql_parameters_never_reach_an_error_message_or_a_log(base_env, caplog) -> None:
    from sqlalchemy import text

    from shared.db import make_engine

    engine = make_engine(base_env["DATABASE_URL"], pool_size=1)
    secret = "cn_secret_" + uuid.uuid4().hex
    try:
        with pytest.raises(Exception) as failed:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT CAST(:p AS integer)"), {"p": secret})
    finally:
        await engine.dispose()
    assert secret not in str(failed.value) and secret not in caplog.text
