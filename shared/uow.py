"""The one unit of work of every service: one transaction in which the state changes and the events they
cause commit together, or neither does.

HTTP routes (`async with unit_of_work(runtime) as uow`), event handlers (the consumer's `HandlerContext`
is a `UnitOfWork` caused by the event being handled) and background workers all use it, so all of them
emit the same way: `await uow.emit(Event(...), key=case_id)` adds the event to the service's outbox in the
transaction (with the causation and correlation of `caused_by`, if any). Nothing else writes outbox rows.

Work that must only start once the transaction is visible (waking a worker that will read the rows)
goes in `uow.wake(name)` / `uow.after_commit(callback)`; it runs after the commit and never after a
rollback.

HTTP routes whose transactions may collide (a deadlock, a serialization failure) use `RetryingRoute`:
the endpoint, dependencies and unit of work and all, runs again up to `ATTEMPTS` times with a short random
back-off, and only then answers 503 with `Retry-After` (`TransactionConflict`). The request body is
cached by Starlette, so a rerun reads the same input.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from shared.clock import Clock
from shared.dberrors import is_conflict_abort
from shared.errors import Unavailable
from shared.events import Envelope, Event
from shared.outbox import Cause, Outbox

if TYPE_CHECKING:
    from shared.service import ServiceRuntime
    from shared.worker import Signals

log = logging.getLogger(__name__)

ATTEMPTS = 5


class UnitOfWork:
    """An open transaction (`session`), the time it happens at (`now`), the service's settings, and the
    ways to emit events into its outbox and to act once it has committed."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        outbox: Outbox | None,
        clock: Clock,
        settings: Any = None,
        caused_by: Envelope | None = None,
        signals: Signals | None = None,
    ) -> None:
        self.session = session
        self.outbox = outbox
        self.clock = clock
        self.settings = settings
        self.caused_by = caused_by
        self.signals = signals
        self.now: datetime = clock.now()
        self._after_commit: list[Callable[[], None]] = []

    async def emit(
        self,
        event: Event,
        key: str | uuid.UUID | None = None,
        *,
        correlation_id: uuid.UUID | None = None,
        occurred_at: datetime | None = None,
    ) -> Envelope:
        """Add `event` to the outbox in this transaction; `key` orders it after earlier events of the key. The row
        is written with the transaction's other events, in one INSERT before the commit (`Outbox.later`)."""
        if self.outbox is None:
            raise RuntimeError("this service emits no events")
        return self.outbox.later(
            self.session,
            event,
            key=key,
            caused_by=self.caused_by,
            correlation_id=correlation_id,
            occurred_at=occurred_at,
        )

    async def emit_many(self, events: Sequence[tuple[Event, str | uuid.UUID | None, Envelope | Cause | None]]) -> None:
        """Add several events with one INSERT: (event, key, caused_by) each; each names its own cause (a
        worker acting for many events at once)."""
        if self.outbox is None:
            raise RuntimeError("this service emits no events")
        for event, key, cause in events:
            self.outbox.later(self.session, event, key=key, caused_by=cause)

    async def flush(self) -> None:
        """Write the events emitted so far (whoever commits the transaction calls it before the commit)."""
        if self.outbox is not None:
            await self.outbox.flush(self.session)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the transaction has committed (never if it rolls back)."""
        self._after_commit.append(callback)

    def wake(self, worker: str) -> None:
        """Wake the worker named `worker` once this transaction has committed."""
        if self.signals is not None:
            signals = self.signals
            self.after_commit(lambda: signals.set(worker))

    def committed(self) -> None:
        """Run the after-commit callbacks (called by whoever committed the transaction)."""
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # the transaction is committed; a failed wake-up only delays the work
                log.exception("after-commit callback failed")


@asynccontextmanager
async def unit_of_work(runtime: ServiceRuntime, *, caused_by: Envelope | None = None) -> AsyncIterator[UnitOfWork]:
    """One transaction of `runtime`'s database; commits when the block ends without an exception."""
    async with runtime.sessions() as session:
        async with session.begin():
            uow = UnitOfWork(
                session,
                outbox=runtime.outbox,
                clock=runtime.clock,
                settings=runtime.settings,
                caused_by=caused_by,
                signals=runtime.signals,
            )
            yield uow
            await uow.flush()
        uow.committed()


class TransactionConflict(Unavailable):
    """Still aborted by deadlocks or serialization failures after every attempt (answered 503)."""

    def __init__(self) -> None:
        super().__init__(
            "The change collided with others; try again.",
            "Thay đổi trùng với thao tác khác, vui lòng thử lại.",
            headers={"Retry-After": "1"},
        )


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
                        raise TransactionConflict() from exc
                    log.info("transaction conflict on %s, attempt %d; running it again", request.url.path, attempt)
                    await asyncio.sleep(random.uniform(0.01, 0.05) * attempt)
            raise AssertionError("unreachable")

        return retrying
