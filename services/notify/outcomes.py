"""Recording what providers answered: status, next try, fallback rows and `notification.*` outbox events.

Outcomes are recorded in small batches (`NOTIFY_RECORD_BATCH` rows or `NOTIFY_RECORD_INTERVAL` seconds,
whichever comes first), each batch in one transaction: a commit per delivery was most of the dispatcher's
database work. Sent rows, the common case, take one UPDATE and one multi-row outbox INSERT per batch, with one
`notification.sent` per cause (a case's six messages together) rather than per message; the rare verdicts
(retry, fallback, dead, deferral) keep their per-row statements and events in the same transaction.

Every update is guarded by (status = 'sending', attempts = the claimed attempt), so an outcome whose lease ran
out (another replica took the row) changes nothing and emits nothing. If a batch fails, its outcomes are
recorded one by one, so one bad row cannot hold back the others; an outcome that still fails is left to its
lease (the row comes back and is sent again: at-least-once, never lost).

Batching widens the kill window a little: outcomes waiting for their batch when the process dies are sent
again, like the messages in flight. Senders wait while a full batch is queued, so at most two batches (one
being written, one waiting) are unrecorded at any moment (see docs/notify.md, Reliability). A cause's sent
outcomes may wait for one more batch while its other rows are still being sent (`_hold_back`: one
`notification.sent` per case rather than two); never more than once each.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as time_of_day
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Integer, String

from services.notify import store
from services.notify.domain import Verdict, after_quiet_hours, backoff, next_local_time
from services.notify.metrics import DEAD_LETTERED, NOTIFICATIONS
from services.notify.settings import NotifySettings
from shared.events import Event
from shared.events.notify import MOST_SENT_PER_EVENT, NotificationFailed, NotificationSent, SentDelivery
from shared.outbox import Cause
from shared.service import ServiceRuntime
from shared.uow import UnitOfWork, unit_of_work
from shared.worker import Signal, run_worker, wait_at_most

log = logging.getLogger(__name__)
d = store.deliveries


@dataclass(frozen=True)
class Outcome:
    row: Row[Any]  # the claimed row (attempts already counts this try)
    verdict: Verdict
    reason: str
    detail: str
    provider_id: str | None = None


# One statement marks a whole batch of sent rows; RETURNING says which were still ours.
_MARK_SENT = text(
    """
    UPDATE notify.deliveries AS d
       SET status = 'sent', sent_at = :now, updated_at = :now, lease_until = NULL, last_error = NULL,
           provider_id = v.provider_id,
           -- an invitation or reset link is a bearer secret: once sent, notify forgets it
           context = CASE WHEN d.template IN ('account_invitation', 'account_reset')
                          THEN d.context - '_sealed' ELSE d.context END
      FROM unnest(:ids, :attempts, :provider_ids) AS v(id, attempts, provider_id)
     WHERE d.id = v.id AND d.status = 'sending' AND d.attempts = v.attempts
    RETURNING d.id
    """
).bindparams(
    bindparam("ids", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("attempts", type_=ARRAY(Integer)),
    bindparam("provider_ids", type_=ARRAY(String)),
)


class Recorder:
    def __init__(
        self, runtime: ServiceRuntime, on_fallback: Any = None, in_flight: Callable[[uuid.UUID], bool] | None = None
    ) -> None:
        self.runtime = runtime
        self.settings: NotifySettings = runtime.settings
        self.sessions = runtime.sessions
        self.clock = runtime.clock
        self.tz = ZoneInfo(self.settings.notify_timezone)
        self.on_fallback = on_fallback  # called after a batch inserted fallback rows (wakes the dispatcher)
        self.in_flight = in_flight  # whether the dispatcher is still sending rows of a cause (source event)
        self._held: set[uuid.UUID] = set()  # deliveries whose outcome already waited for a later batch once
        self.sent = 0  # deliveries this process recorded as sent (tests compare replicas with it)
        self._buffer: list[Outcome] = []
        self._added = asyncio.Event()  # a full batch is waiting (ends the wait for one)
        self._arrived = Signal()  # the first outcome of a batch came (wakes the recorder's loop)
        self._flushed = asyncio.Event()

    # -- batching ----------------------------------------------------------------------------------
    async def add(self, outcome: Outcome) -> None:
        """Queue an outcome; waits only when the database falls far behind (back-pressure on the senders)."""
        self._buffer.append(outcome)
        # Wake the recorder only when it has something to do: the first outcome of a batch starts its wait, a
        # full batch ends it (waking it on every outcome was a timer and a task switch per delivery).
        if len(self._buffer) == 1:
            self._arrived.set()
        if len(self._buffer) >= self.settings.notify_record_batch:
            self._added.set()
        while len(self._buffer) >= self.settings.notify_record_batch:
            self._flushed.clear()
            await self._flushed.wait()

    async def run(self) -> None:
        """Record outcomes until cancelled: asleep while none is queued, then a batch at a time."""
        await run_worker(
            "notify recorder",
            self._gather_and_flush,
            interval=self.settings.notify_send_lease_seconds,
            signal=self._arrived,
            busy=lambda _done: bool(self._buffer),
        )

    async def _gather_and_flush(self) -> int:
        """Wait up to `NOTIFY_RECORD_INTERVAL` for a full batch, then record it (or what came)."""
        batch = self.settings.notify_record_batch
        if self._buffer and len(self._buffer) < batch:
            self._added.clear()
            await wait_at_most(self._added, self.settings.notify_record_interval)
        count = min(len(self._buffer), batch)
        await self.flush(batch, hold=True)
        return count

    async def flush(self, most: int | None = None, hold: bool = False) -> None:
        """Record up to `most` queued outcomes (all when None); with `hold`, see `_hold_back`."""
        count = len(self._buffer) if most is None else most
        items, rest = self._buffer[:count], self._buffer[count:]
        if rest:  # a cause's outcomes already here go together: one `notification.sent`, not two
            causes = {o.row.source_event_id for o in items}
            items += [o for o in rest if o.row.source_event_id in causes]
            rest = [o for o in rest if o.row.source_event_id not in causes]
        if hold and self.in_flight is not None:
            items, waiting = self._hold_back(items, self.in_flight)
            rest = waiting + rest
        self._buffer[:] = rest
        if items:
            # shielded: a stop arriving mid-write must not drop outcomes already taken from the buffer
            await asyncio.shield(self._record_batch(items))
        self._flushed.set()

    def _hold_back(
        self, items: list[Outcome], in_flight: Callable[[uuid.UUID], bool]
    ) -> tuple[list[Outcome], list[Outcome]]:
        """(to record now, to keep for the next batch). The sent outcomes of a cause whose other rows are still
        being sent wait for the next batch, once: a case's emails, slower than its Zalo messages (they wait for
        the SMTP pool), then share one `notification.sent` with them instead of making a second."""
        waits = {
            o.row.source_event_id
            for o in items
            if o.verdict == "sent" and o.row.id not in self._held and in_flight(o.row.source_event_id)
        }
        waits -= {o.row.source_event_id for o in items if o.row.id in self._held or o.verdict != "sent"}
        now: list[Outcome] = []
        later: list[Outcome] = []
        for o in items:
            if o.row.source_event_id in waits:
                self._held.add(o.row.id)
                later.append(o)
            else:
                self._held.discard(o.row.id)
                now.append(o)
        return now, later

    async def _record_batch(self, items: list[Outcome]) -> None:
        fell_back = False
        try:
            async with unit_of_work(self.runtime) as uow:
                for outcome in items:
                    if outcome.verdict != "sent":
                        fell_back |= await self._apply(uow, outcome)
                sent = await self._mark_sent(uow, [o for o in items if o.verdict == "sent"])
        except Exception:
            log.exception("recording %d outcomes together failed; recording them one by one", len(items))
            sent = 0
            for outcome in items:
                try:
                    async with unit_of_work(self.runtime) as uow:
                        if outcome.verdict == "sent":
                            sent += await self._mark_sent(uow, [outcome])
                        else:
                            fell_back |= await self._apply(uow, outcome)
                except Exception:
                    log.exception("could not record delivery %s; its lease will bring it back", outcome.row.id)
        self.sent += sent
        if fell_back and self.on_fallback is not None:
            self.on_fallback()

    async def _mark_sent(self, uow: UnitOfWork, items: list[Outcome]) -> int:
        if not items:
            return 0
        now = self.clock.now()
        result = await uow.session.execute(
            _MARK_SENT,
            {
                "now": now,
                "ids": [o.row.id for o in items],
                "attempts": [o.row.attempts for o in items],
                "provider_ids": [o.provider_id for o in items],
            },
        )
        mine = {r.id for r in result}
        ours = [o for o in items if o.row.id in mine]
        if len(ours) < len(items):
            log.warning("%d deliveries changed hands while being sent (their lease ran out)", len(items) - len(ours))
        if ours:
            await uow.emit_many(sent_events(ours, now))
        for o in ours:
            NOTIFICATIONS.labels(o.row.channel, o.row.template, "sent").inc()
        return len(ours)

    # -- the rare verdicts, one row at a time ------------------------------------------------------
    async def _apply(self, uow: UnitOfWork, outcome: Outcome) -> bool:
        """Record a verdict other than `sent`; True when a fallback row was inserted."""
        session = uow.session
        row, verdict, reason, detail = outcome.row, outcome.verdict, outcome.reason, outcome.detail
        now = self.clock.now()
        mine = (d.c.id == row.id) & (d.c.status == "sending") & (d.c.attempts == row.attempts)
        if verdict == "defer_morning":  # not a failure: the attempt does not count
            when = next_local_time(now, self.settings.notify_morning_at, self.tz)
            await self._set(
                session,
                mine,
                status="pending",
                next_attempt_at=when,
                attempts=d.c.attempts - 1,
                reason=reason,
                last_error=detail,
            )
            NOTIFICATIONS.labels(row.channel, row.template, "deferred").inc()
            return False
        if verdict == "fallback":
            return await self._fall_back(uow, mine, row, reason, detail, now)
        if verdict != "dead" and row.attempts < self.settings.notify_max_attempts:
            delay = backoff(
                row.attempts, self.settings.notify_backoff_base_seconds, self.settings.notify_backoff_max_seconds
            )
            if verdict == "rate_limited":
                delay = max(delay, timedelta(seconds=self.settings.zalo_rate_limit_delay_seconds))
            when = self._respecting_quiet_hours(row, now + delay)
            await self._set(session, mine, status="pending", next_attempt_at=when, reason=reason, last_error=detail)
            NOTIFICATIONS.labels(row.channel, row.template, "retried").inc()
            return False
        await self._dead(uow, mine, row, reason, detail, now)
        return False

    async def _fall_back(
        self, uow: UnitOfWork, mine: Any, row: Row[Any], reason: str, detail: str, now: datetime
    ) -> bool:
        session = uow.session
        other = "email" if row.channel == "zalo" else "zalo"
        address = row.email if other == "email" else row.zalo_user_id
        usable = bool(address) and (other == "email" or self.settings.zalo_configured())
        if row.template == "counseling_answer":
            usable = False  # a requester is reachable on Zalo only; the answer waits for the tracking-code lookup
        fallback_live = False
        if usable:
            await session.execute(
                insert(d)
                .values(
                    id=uuid.uuid4(),
                    **{k: getattr(row, k) for k in _COPIED},
                    channel=other,
                    status="pending",
                    next_attempt_at=self._respecting_quiet_hours(row, now),
                    fallback_of=row.id,
                    reason=f"fallback after {row.channel}: {reason}",
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["source_event_id", "recipient_key", "channel"])
            )
            existing = (
                await session.execute(
                    select(d.c.status).where(
                        d.c.source_event_id == row.source_event_id,
                        d.c.recipient_key == row.recipient_key,
                        d.c.channel == other,
                    )
                )
            ).scalar_one_or_none()
            fallback_live = existing is not None and existing != "dead"
        if not fallback_live:
            if row.template == "counseling_answer":
                await self._set(
                    session,
                    mine,
                    status="skipped",
                    reason=f"{reason}: waits for the tracking-code lookup",
                    last_error=detail,
                )
                await self._emit(uow, row, NotificationFailed, reason=reason, final=True, failed_at=now)
                NOTIFICATIONS.labels(row.channel, row.template, "skipped").inc()
                return False
            await self._dead(uow, mine, row, f"{reason}; no other channel", detail, now)
            return False
        await self._set(
            session, mine, status="fell_back", reason=f"{reason}: sent by {other} instead", last_error=detail
        )
        await self._emit(uow, row, NotificationFailed, reason=reason, final=False, failed_at=now)
        NOTIFICATIONS.labels(row.channel, row.template, "fell_back").inc()
        return True

    async def _dead(self, uow: UnitOfWork, mine: Any, row: Row[Any], reason: str, detail: str, now: datetime) -> None:
        await self._set(uow.session, mine, status="dead", reason=reason, last_error=detail)
        await self._emit(uow, row, NotificationFailed, reason=reason, final=True, failed_at=now)
        NOTIFICATIONS.labels(row.channel, row.template, "dead").inc()
        DEAD_LETTERED.labels(row.channel).inc()
        log.error("notification %s (%s by %s) dead-lettered: %s", row.id, row.template, row.channel, reason)

    def _respecting_quiet_hours(self, row: Row[Any], when: datetime) -> datetime:
        if row.urgency == "critical":
            return when
        context = row.context or {}
        start, end = context.get("_quiet_start"), context.get("_quiet_end")
        if not start or not end:
            return when
        return after_quiet_hours(when, time_of_day.fromisoformat(start), time_of_day.fromisoformat(end), self.tz)

    async def _set(self, session: AsyncSession, mine: Any, **values: Any) -> None:
        result = await session.execute(
            update(d).where(mine).values(lease_until=None, updated_at=self.clock.now(), **values)
        )
        if result.rowcount == 0:
            log.warning("a delivery changed hands while being sent (its lease ran out): %s", values.get("status"))

    async def _emit(self, uow: UnitOfWork, row: Row[Any], event_cls: Any, **fields: Any) -> None:
        await uow.emit_many([self._event(row, event_cls, **fields)])

    def _event(self, row: Row[Any], event_cls: Any, **fields: Any) -> tuple[Event, Any, Cause]:
        """A `notification.*` event, its key, and its cause: the event the delivery answers."""
        event = event_cls(
            notification_id=row.id,
            source_event_id=row.source_event_id,
            template=row.template,
            channel=row.channel,
            case_id=row.case_id,
            member_id=row.member_id,
            attempts=row.attempts,
            **fields,
        )
        return event, _key(row), Cause(row.source_event_id, row.correlation_id)


def sent_events(outcomes: list[Outcome], now: datetime) -> list[tuple[Event, Any, Cause]]:
    """One `notification.sent` per cause among a batch's sent rows (a case's six messages answer one
    `case.assigned`), at most `MOST_SENT_PER_EVENT` deliveries each: the same cause, correlation and key as
    one event per delivery had, a sixth of the events."""
    groups: dict[tuple[uuid.UUID, Any, Any], list[Row[Any]]] = {}
    for o in outcomes:
        row = o.row
        groups.setdefault((row.source_event_id, row.correlation_id, _key(row)), []).append(row)
    events: list[tuple[Event, Any, Cause]] = []
    for (source_event_id, correlation_id, key), rows in groups.items():
        for start in range(0, len(rows), MOST_SENT_PER_EVENT):
            part = rows[start : start + MOST_SENT_PER_EVENT]
            event = NotificationSent(
                source_event_id=source_event_id,
                case_id=part[0].case_id,
                deliveries=tuple(
                    SentDelivery(
                        notification_id=row.id,
                        template=row.template,
                        channel=row.channel,
                        member_id=row.member_id,
                        attempts=row.attempts,
                        sent_at=now,
                    )
                    for row in part
                ),
            )
            events.append((event, key, Cause(source_event_id, correlation_id)))
    return events


def _key(row: Row[Any]) -> Any:
    """The outbox key of a delivery's events: they follow the earlier events of its case or request."""
    return row.case_id or row.request_id or row.source_event_id


_COPIED = (
    "source_event_id",
    "correlation_id",
    "source_type",
    "template",
    "recipient_key",
    "member_id",
    "recipient_name",
    "email",
    "zalo_user_id",
    "case_id",
    "request_id",
    "code",
    "urgency",
    "context",
)
