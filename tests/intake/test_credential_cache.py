"""The credential cache (`services/intake/authcache.py`) reads a credential once for all the requests that
miss it together, and a read dropped by `forget` (a revocation) serves no request that came after."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.intake.api_cases import auth

pytestmark = pytest.mark.asyncio(loop_scope="package")


def _key_id(headers: dict[str, str]) -> str:
    return headers["Authorization"].split(" ", 1)[1].split("_", 2)[1]


async def test_requests_that_miss_the_cache_together_read_the_credential_once(intake, monkeypatch):
    reads: list[str] = []
    release = asyncio.Event()
    read = auth._read

    async def slow_read(request: Any, key_id: str) -> Any:
        reads.append(key_id)
        await release.wait()
        return await read(request, key_id)

    monkeypatch.setattr(auth, "_read", slow_read)
    headers = intake.headers["chair"]
    auth.forget()
    requests = [asyncio.create_task(intake.client.get("/v1/cases", headers=headers)) for _ in range(8)]
    await asyncio.sleep(0.2)
    assert reads == [_key_id(headers)]  # one read in flight for the eight
    release.set()
    assert [r.status_code for r in await asyncio.gather(*requests)] == [200] * 8
    assert len(reads) == 1
    assert (await intake.client.get("/v1/cases", headers=headers)).status_code == 200
    assert len(reads) == 1  # cached

    # Forgotten while a read is in flight: a later request does not wait for that read, it reads again.
    release.clear()
    auth.forget()
    first = asyncio.create_task(intake.client.get("/v1/cases", headers=headers))
    await asyncio.sleep(0.2)
    auth.forget(_key_id(headers))
    second = asyncio.create_task(intake.client.get("/v1/cases", headers=headers))
    await asyncio.sleep(0.2)
    assert len(reads) == 3
    release.set()
    assert (await first).status_code == (await second).status_code == 200
