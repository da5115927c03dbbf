"""Schemathesis over every service's OpenAPI document, each service a real process, once with a real credential
of each role: no input gives a 5xx, and every documented response matches its schema. Examples are limited to
keep it short (intake's own, deeper run: tests/intake/test_openapi_fuzz.py)."""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import uuid

import httpx
import pytest

from devtools import infra
from devtools.processes import free_port
from devtools.waiting import eventually
from shared.db import make_engine, make_session_factory
from tests.support.credentials import grant

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
    port = free_port()
    env = {**os.environ, **base_env, "DEVELOPMENT_MODE": "true", "LOG_LEVEL": "WARNING"}
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        f"services.{service}",
        "serve",
        "--no-migrate",
        "--port",
        str(port),
        cwd=infra.REPO,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        async def ready() -> bool:
            assert server.returncode is None, (await server.stderr.read()).decode()[-3000:]  # type: ignore[union-attr]
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"{base}/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(ready, timeout=60, interval=0.3)
        failures = []
        for role, authorization in (await credentials(base_env["DATABASE_URL"], service)).items():
            fuzz = await asyncio.create_subprocess_exec(
                str(infra.REPO / ".venv" / "bin" / "st"),
                "run",
                f"{base}/openapi.json",
                "--header",
                f"Authorization: {authorization}",
                "--checks",
                "not_a_server_error,response_schema_conformance,content_type_conformance",
                "--max-examples",
                "5",
                "--phases",
                "examples,fuzzing",
                "--seed",
                "7",
                "--generation-database",
                "none",
                "--no-shrink",
                "--request-timeout",
                "10",
                cwd=tmp_path,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            output, _ = await asyncio.wait_for(fuzz.communicate(), timeout=300)
            if fuzz.returncode != 0:
                failures.append(f"--- {service} as {role} ---\n{output.decode()[-4000:]}")
        assert not failures, "\n".join(failures)
    finally:
        server.terminate()
        await server.wait()
