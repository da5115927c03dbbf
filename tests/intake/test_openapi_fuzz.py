"""Schemathesis over intake's OpenAPI document, against intake running as a real process: no input
gives a 5xx, and every documented response matches its schema. Examples are limited to keep it short."""

from __future__ import annotations

import asyncio
import os
import socket
import sys

import httpx
import pytest

from devtools import infra
from devtools.waiting import eventually
from services.intake import store
from tests.support.credentials import grant

pytestmark = pytest.mark.asyncio(loop_scope="package")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_no_input_makes_intake_fail_and_responses_match_the_schema(intake, tmp_path):
    port = free_port()
    env = {**os.environ, **intake.env, "BROKER_NAMESPACE": infra.unique("tf"), "LOG_LEVEL": "WARNING"}
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.intake",
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
                    return (await client.get(f"{base}/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(ready, timeout=30, interval=0.3)
        reporter = (await grant(intake.sessions, store.credentials, "reporter", unit="phuong-tan-ninh"))[
            "Authorization"
        ]
        fuzz = await asyncio.create_subprocess_exec(
            str(infra.REPO / ".venv" / "bin" / "st"),
            "run",
            f"{base}/openapi.json",
            "--header",
            f"Authorization: {reporter}",
            "--checks",
            "not_a_server_error,response_schema_conformance,content_type_conformance",
            "--max-examples",
            "10",
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
        output, _ = await asyncio.wait_for(fuzz.communicate(), timeout=120)
        assert fuzz.returncode == 0, output.decode()[-6000:]
    finally:
        server.terminate()
        await server.wait()
