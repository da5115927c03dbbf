"""Schemathesis against a service running as a real process (`python -m services.<name> serve`): the one
way the fuzz tests start the server and run `st`."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from devtools import infra
from devtools.processes import free_port
from devtools.waiting import eventually

CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


@asynccontextmanager
async def served(service: str, env: Mapping[str, str], *, ready_path: str, timeout: float) -> AsyncIterator[str]:
    """The service on a free port until the block ends; yields its base URL once `ready_path` answers 200."""
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        f"services.{service}",
        "serve",
        "--no-migrate",
        "--port",
        str(port),
        cwd=infra.REPO,
        env=dict(env),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        async def ready() -> bool:
            assert server.returncode is None, (await server.stderr.read()).decode()[-3000:]  # type: ignore[union-attr]
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"{base}{ready_path}")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(ready, timeout=timeout, interval=0.3)
        yield base
    finally:
        server.terminate()
        await server.wait()


async def schemathesis(
    base: str, authorization: str, *, max_examples: int, timeout: float, cwd: Path, env: Mapping[str, str]
) -> tuple[int | None, str]:
    """`st run` over the service's OpenAPI document with one credential: (exit code, its output)."""
    fuzz = await asyncio.create_subprocess_exec(
        str(infra.REPO / ".venv" / "bin" / "st"),
        "run",
        f"{base}/openapi.json",
        "--header",
        f"Authorization: {authorization}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(max_examples),
        "--phases",
        "examples,fuzzing",
        "--seed",
        "7",
        "--generation-database",
        "none",
        "--no-shrink",
        "--request-timeout",
        "10",
        cwd=cwd,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(fuzz.communicate(), timeout=timeout)
    return fuzz.returncode, output.decode()
