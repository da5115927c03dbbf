"""A database failing for reasons of its own gives a 503 with Retry-After, never a 500; a bug stays a 500."""

from __future__ import annotations

import asyncpg
import httpx
from fastapi import FastAPI
from sqlalchemy import exc as sa_exc

from shared.http_errors import install_error_handlers


def failing_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    def wrapped(orig: Exception) -> sa_exc.DBAPIError:
        return sa_exc.DBAPIError("INSERT ...", {}, orig)

    @app.get("/crowded")
    async def crowded() -> None:
        raise wrapped(asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"))

    @app.get("/restarting")
    async def restarting() -> None:
        raise ConnectionResetError("connection reset by peer")

    @app.get("/bug")
    async def bug() -> None:
        raise wrapped(asyncpg.exceptions.UndefinedColumnError('column "nme" does not exist'))

    return app


async def test_transient_database_failures_answer_503_with_retry_after_in_the_callers_language():
    transport = httpx.ASGITransport(app=failing_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        crowded = await client.get("/crowded", headers={"Accept-Language": "en"})
        assert crowded.status_code == 503
        assert crowded.headers["retry-after"] == "1"
        assert "retry" in crowded.json()["detail"]
        restarting = await client.get("/restarting")
        assert restarting.status_code == 503
        assert "thử lại" in restarting.json()["detail"]
        assert (await client.get("/bug")).status_code == 500
