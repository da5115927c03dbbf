"""The HTTP side's unit of work, its retry on transaction conflicts, and the mapping of workflow errors
to status codes.

PostgreSQL may abort a transaction that did nothing wrong: a deadlock (SQLSTATE 40P01, e.g. an accept
while the chair removes the same member, or while a leave hands the member's cases over) or a
serialization failure (40001). The caller is expected to run the whole unit of work again, so every
routing endpoint is served by `RetryingRoute`: the endpoint (dependencies, transaction and all) runs
again up to `ATTEMPTS` times with a short random back-off, and only then answers 503 with
`Retry-After`, never 500. The request body is cached by Starlette, so a rerun reads the same input.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from services.routing.domain import ForbiddenTransition
from services.routing.workflow import Conflict, Effects, NotAllowed, NotFound
from shared.dberrors import is_conflict_abort
from shared.events import Event
from shared.service import runtime_of

log = logging.getLogger(__name__)

ATTEMPTS = 5


class TransactionConflict(Exception):
    """Still aborted by deadlocks or serialization failures after every attempt (answered 503)."""


class RetryingRoute(APIRoute):
    """Runs the endpoint again when its transaction was aborted by a deadlock or serialization failure."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def retrying(request: Request) -> Response:
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    return await handler(request)
                except Exception as exc:
                    if not is_conflict_abort(exc):
                        raise
                    if attempt == ATTEMPTS:
                        raise TransactionConflict("The change collided with others; try again.") from exc
                    log.info("transaction conflict on %s, attempt %d; running it again", request.url.path, attempt)
                    await asyncio.sleep(random.uniform(0.01, 0.05) * attempt)
            raise AssertionError("unreachable")

        return retrying


@asynccontextmanager
async def unit_of_work(request: Request) -> AsyncIterator[Effects]:
    """One transaction: the state change and its events commit together, or neither does."""
    runtime = runtime_of(request)
    outbox = runtime.outbox
    assert outbox is not None
    async with runtime.sessions() as session, session.begin():

        async def emit(event: Event, key: Any) -> Any:
            return await outbox.add(session, event, key=key)

        yield Effects(session, runtime.settings, runtime.clock.now(), emit)


def install_error_handlers(app: FastAPI) -> None:
    async def conflict(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    async def not_found(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    async def forbidden(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    async def busy(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "1"})

    app.add_exception_handler(TransactionConflict, busy)
    app.add_exception_handler(Conflict, conflict)
    app.add_exception_handler(ForbiddenTransition, conflict)
    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(NotAllowed, forbidden)
