"""Schemathesis over intake's OpenAPI document, against intake running as a real process: no input
gives a 5xx, and every documented response matches its schema. Examples are limited to keep it short."""

from __future__ import annotations

import os

import pytest

from devtools import infra
from services.intake import store
from tests.support.credentials import grant
from tests.support.fuzz import schemathesis, served

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def test_no_input_makes_intake_fail_and_responses_match_the_schema(intake, tmp_path):
    env = {**os.environ, **intake.env, "BROKER_NAMESPACE": infra.unique("tf"), "LOG_LEVEL": "WARNING"}
    async with served("intake", env, ready_path="/readyz", timeout=30) as base:
        reporter = (await grant(intake.sessions, store.credentials, "reporter", unit="phuong-tan-ninh"))[
            "Authorization"
        ]
        code, output = await schemathesis(base, reporter, max_examples=10, timeout=120, cwd=tmp_path, env=env)
        assert code == 0, output[-6000:]
