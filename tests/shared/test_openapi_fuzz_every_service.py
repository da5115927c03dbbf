"""Schemathesis over every service's OpenAPI document, each service a real process, once with a real credential
of each role: no input gives a 5xx, and every documented response matches its schema. Examples are limited to
keep it short (intake's own, deeper run: tests/intake/test_openapi_fuzz.py)."""

from __future__ import annotations

import importlib
import os
import uuid

import pytest

from shared.db import make_engine, make_session_factory
from tests.support.credentials import grant
from tests.support.fuzz import schemathesis, served

ROLES = ("reporter", "member", "chair", "committee", "operator", "admin")


async def credentials(database_url: str, service: str) -> dict[str, str]:
    table = importlib.import_module(f"services.{service}.store").credentials
    engine = make_engine(database_url, pool_size=1)
    try:
        sessions = make_session_factory(engine)
        return {
            role: (
                await grant(
                    sessions,
                    table,
                    role,
                    unit="phuong-tan-ninh" if role == "reporter" else None,
                    member_id=uuid.uuid4() if role == "member" else None,
                )
            )["Authorization"]
            for role in ROLES
        }
    finally:
        await engine.dispose()


@pytest.mark.parametrize("service", ["intake", "routing", "notify", "reporting"])
async def test_no_role_finds_an_input_that_makes_a_service_fail(service: str, base_env, tmp_path):
    env = {**os.environ, **base_env, "DEVELOPMENT_MODE": "true", "LOG_LEVEL": "WARNING"}
    async with served(service, env, ready_path="/healthz", timeout=60) as base:
        failures = []
        for role, authorization in (await credentials(base_env["DATABASE_URL"], service)).items():
            code, output = await schemathesis(base, authorization, max_examples=5, timeout=300, cwd=tmp_path, env=env)
            if code != 0:
                failures.append(f"--- {service} as {role} ---\n{output[-4000:]}")
        assert not failures, "\n".join(failures)
