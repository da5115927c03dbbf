"""The dispatcher worker: sends due deliveries, and hands each provider answer to the recorder.

A pipeline, so one slow send never stalls the others: a claimer keeps a bounded queue
(`NOTIFY_BATCH_SIZE`) of claimed rows filled (topping it up once it is half empty), `NOTIFY_CONCURRENCY`
sender tasks take rows from it, and the
recorder (`outcomes.py`) writes outcomes in small batches. The claimer sleeps until deliveries are inserted
(`wakeup.py`: in-process after the consumer's commit, `LISTEN` from other replicas) or the fallback poll.

Claiming is one statement: due rows (pending and due, or `sending` whose lease ran out because the process
that claimed them died) are picked with FOR UPDATE SKIP LOCKED, marked `sending` with a lease and committed
before anything is sent, so two replicas never hold the same row. The same statement reads whether a Zalo
recipient unfollowed the OA. A row whose lease is about to run out while it waited in the queue is not sent
(it may already be another replica's); it comes back when the lease ends.

Rows planned while the dispatcher is caught up (its last claim found fewer due rows than it had room for, and
no pending row was inserted since) skip the claim: the consumer's handler inserts them already `sending`, leased
to this process, and hands them over after its commit (`handover.py`). A retry whose time comes meanwhile (an
UPDATE, no NOTIFY) waits for the next poll, as it did before.

The one window no protocol closes: the provider accepted a message and the process died before recording it.
The row's lease then runs out and the message is sent again (at-least-once, never lost); the email keeps its
Message-ID, so mail clients can fold the two. `tests/notify/test_kill_mid_send.py` measures the window.

A clean stop (SIGTERM) stops claiming, gives the rows still queued back (pending again, their attempt not
counted, other replicas woken), lets the deliveries in flight finish and records them, so it sends nothing
twice and leaves nothing to a lease (`tests/notify/test_stop_mid_send.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import DateTime, Integer, bindparam, func, literal_column, select, text, union_all, update
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.engine import Row

from services.notify import store
from services.notify.domain import smtp_verdict, zalo_verdict
from services.notify.handover import Handover, Reservation
from services.notify.metrics import CHANNELS, DEAD_LETTER_SIZE, OLDEST_FAILING, OLDEST_PENDING, PENDING
from services.notify.outcomes import Outcome, Recorder
from services.notify.settings import NotifySettings
from services.notify.smtp import build_email, message_id
from services.notify.smtp_pool import SmtpPool
from services.notify.templates import render
from services.notify.wakeup import CHANNEL, DISPATCHER, listen
from services.notify.zalo import ZaloClient
from shared.sealed import SEALED, Sealer, delivery_context
from shared.service import ServiceRuntime
from shared.worker import retry_until_done, run_worker

log = logging.getLogger(__name__)
d = store.deliveries

# A row with less than this left of its lease when a sender takes it is not sent (see the module doc): the
# lesser of 5 s and a quarter of the lease.
LEASE_MARGIN = timedelta(seconds=5)

# The claim, built once (building it per claim was a third of its cost): due rows taken with SKIP LOCKED, marked
# `sending` with a lease, returned with whether a Zalo recipient still follows the OA. Due rows come from two
# ordered scans, each of its partial index and stopping after `limit` rows: `sending` rows whose lease ran out
# (`ix_deliveries_leased`; first, they are the oldest work), then `pending` rows that are due
# (`ix_deliveries_due`). One condition with OR read and sorted every due row at every claim (a backlog of 4,000
# rows: a sequential scan and a sort, 1.5 ms a claim, growing with the backlog). The statuses are literals, so
# that the prepared statement's generic plan can use the partial indexes. The outer LIMIT stops the second scan
# (and its locks) once the first gave enough.
_EXPIRED = (
    select(d.c.id)
    .where(d.c.status == literal_column("'sending'"), d.c.lease_until < bindparam("now"))
    .order_by(d.c.lease_until)
    .limit(bindparam("limit", type_=Integer))
    .with_for_update(skip_locked=True)
)
_PENDING = (
    select(d.c.id)
    .where(d.c.status == literal_column("'pending'"), d.c.next_attempt_at <= bindparam("now"))
    .order_by(d.c.next_attempt_at)
    .limit(bindparam("limit", type_=Integer))
    .with_for_update(skip_locked=True)
)
# (each branch a subquery: PostgreSQL refuses FOR UPDATE directly in a UNION's branches)
_DUE_IDS = union_all(*(select(q.subquery().c.id) for q in (_EXPIRED, _PENDING))).subquery("due")
_DUE = select(_DUE_IDS.c.id).limit(bindparam("limit", type_=Integer)).scalar_subquery()
_CLAIM = (
    update(d)
    .where(d.c.id.in_(_DUE))
    .values(
        status="sending",
        attempts=d.c.attempts + 1,
        lease_until=bindparam("lease_until", type_=DateTime(timezone=True)),
        updated_at=bindparam("now", type_=DateTime(timezone=True)),
    )
    .returning(*d.c, store.FOLLOWING.label("following"))
)

# A stopping process gives back the rows it claimed and did not start: pending and due again, the attempt not
# counted, while the lease is still its own (same attempt, still `sending`); other replicas are woken.
_RELEASE = text(
    """
    UPDATE notify.deliveries AS d
       SET status = 'pending', attempts = d.attempts - 1, lease_until = NULL, next_attempt_at = :now,
           updated_at = :now
      FROM unnest(:ids, :attempts) AS v(id, attempts)
     WHERE d.id = v.id AND d.status = 'sending' AND d.attempts = v.attempts
    """
).bindparams(
    bindparam("ids", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("attempts", type_=ARRAY(Integer)),
    bindparam("now", type_=DateTime(timezone=True)),
)
_WAKE_REPLICAS = text(f"SELECT pg_notify('{CHANNEL}', '')")


class Dispatcher:
    def __init__(self, runtime: ServiceRuntime, zalo: ZaloClient) -> None:
        self.runtime = runtime
        self.settings: NotifySettings = runtime.settings
        self.sealer = Sealer.from_settings(self.settings)
        self.sessions = runtime.sessions
        self.clock = runtime.clock
        self.zalo = zalo
        self.wakeup = runtime.signals[DISPATCHER]
        self.smtp = SmtpPool(self.settings)
        self._sending: Counter[uuid.UUID] = Counter()  # rows claimed and not yet given to the recorder, by cause
        self.recorder = Recorder(runtime, on_fallback=self.wakeup.set, in_flight=self._sending.__contains__)
        # Claimed rows waiting for a sender: the claimer keeps at most `capacity` in it; rows handed over at insert
        # may go past that by what was reserved for them (at most half of it), so the queue itself is unbounded.
        self.capacity = self.settings.notify_batch_size
        self.queue: asyncio.Queue[Row[Any]] = asyncio.Queue()
        self._space = asyncio.Event()
        self._margin = min(LEASE_MARGIN, timedelta(seconds=self.settings.notify_send_lease_seconds / 4))
        self._gauges_at = 0.0
        self._room = self.capacity
        self._inflight: set[asyncio.Future[None]] = set()
        self._stopping = asyncio.Event()  # set when `run` ends: the claimer stops between claims
        # The last claim found fewer due rows than it had room for, and nothing was inserted pending since: rows
        # planned now may be handed over at insert (`handover.py`) without overtaking older ones.
        self.caught_up = False
        self._falls = 0  # calls of `fall_behind`
        self._reserved: list[Reservation] = []  # room promised to handlers' transactions not yet committed

    @property
    def sent(self) -> int:
        """Deliveries this process recorded as sent (tests compare replicas with it)."""
        return self.recorder.sent

    async def run(self) -> None:
        recorder = asyncio.create_task(self.recorder.run(), name="notify-recorder")
        claimer = asyncio.create_task(self._claimer(), name="notify-claimer")
        feeding = [
            claimer,
            asyncio.create_task(
                listen(self.settings.database_url, self.wakeup, on_notify=self.fall_behind), name="notify-listen"
            ),
            *(
                asyncio.create_task(self._sender(), name=f"notify-sender-{i}")
                for i in range(self.settings.notify_concurrency)
            ),
        ]
        try:
            # Not `gather`: cancelling a gather cancels every task in it, the recorder too, and the deliveries in
            # flight below would then wait for ever on its back-pressure (`Recorder.add`) with nobody recording.
            done, _ = await asyncio.wait([recorder, *feeding], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # a worker that ended raises its error here (they only end by failing)
        finally:
            # The claimer ends between claims: cancelled in one, the rows it had just leased never reach the
            # queue, and wait for their lease to run out instead of being given back below.
            self._stopping.set()  # no more reservations either (`reserve`)
            self._space.set()
            self.wakeup.set()
            await asyncio.wait([claimer], timeout=5)
            for task in feeding:
                task.cancel()
            await asyncio.gather(*feeding, return_exceptions=True)
            unsent = [self.queue.get_nowait() for _ in range(self.queue.qsize())]
            if unsent:
                try:
                    await asyncio.wait_for(self._release(unsent), timeout=5)
                except Exception as exc:  # their leases bring them back
                    log.warning("could not give back %d claimed deliveries: %r", len(unsent), exc)
            # A delivery already handed to SMTP or Zalo finishes and is recorded (bounded by the provider's
            # timeout), so a clean stop resends nothing; the recorder keeps writing meanwhile.
            if self._inflight:
                await asyncio.wait(self._inflight, timeout=max(self.settings.smtp_timeout, self.settings.zalo_timeout))
            recorder.cancel()
            await asyncio.gather(recorder, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.recorder.flush(), timeout=10)
            await self.smtp.close()

    async def _claimer(self) -> None:
        await run_worker(
            "notify claimer",
            self._claim_step,
            interval=self.settings.notify_dispatch_interval,
            signal=self.wakeup,
            busy=lambda claimed: claimed >= self._room,
            stop=self._stopping,
        )

    async def _claim_step(self) -> int:
        """Fill the queue's free room with claimed rows, once it is at most half full (a claim each time a
        sender freed one slot was a statement per delivery under load). Returns how many."""
        while self.queue.qsize() > self.capacity // 2 and not self._stopping.is_set():
            self._space.clear()
            await self._space.wait()
        if self._stopping.is_set():
            return 0
        self._room = self.capacity - self.queue.qsize()
        falls = self._falls
        rows = await self.claim(self._room)
        # Caught up when the claim took every due row and nothing new was left pending while it ran.
        self.caught_up = len(rows) < self._room and falls == self._falls
        self._enqueue(rows)
        await self._update_gauges()
        return len(rows)

    def _enqueue(self, rows: Sequence[Row[Any]]) -> None:
        for row in rows:
            self._sending[row.source_event_id] += 1
            self.queue.put_nowait(row)

    # --- rows claimed where they are planned (`handover.py`) ---------------------------------------------

    def reserve(self, wanted: int) -> Reservation | None:
        """Room for up to `wanted` due rows a handler would insert already claimed: none unless caught up, and no
        more than leaves the queue half free for the claimer, counting what other transactions reserved (a
        reservation whose transaction never committed lapses after `RESERVATION_SECONDS`)."""
        if not self.caught_up or self._stopping.is_set() or wanted <= 0:
            return None
        now = time.monotonic()
        self._reserved = [r for r in self._reserved if now - r.at < RESERVATION_SECONDS]
        free = self.capacity // 2 - self.queue.qsize() - sum(r.count for r in self._reserved)
        if free <= 0:
            return None
        reservation = Reservation(min(wanted, free), now)
        self._reserved.append(reservation)
        return reservation

    def take_planned(self, reservation: Reservation, rows: Sequence[Row[Any]]) -> None:
        """Queue the rows a handler inserted claimed, once its transaction committed."""
        with contextlib.suppress(ValueError):
            self._reserved.remove(reservation)
        self._enqueue(rows)

    def fall_behind(self) -> None:
        self.caught_up = False
        self._falls += 1

    async def _sender(self) -> None:
        # Never idle by polling: a step waits for the next claimed row.
        await run_worker("notify sender", self._send_next, interval=0, busy=lambda _done: True)

    async def _send_next(self) -> int:
        """Take the next claimed row from the queue (waiting for one) and send it."""
        row = await self.queue.get()
        self._space.set()
        if row.lease_until - self.clock.now() < self._margin:
            log.warning("delivery %s waited too long to be sent; its lease will bring it back", row.id)
            self._finished(row)
            return 0
        delivery = asyncio.ensure_future(self.deliver(row))
        self._inflight.add(delivery)
        delivery.add_done_callback(self._inflight.discard)
        try:
            await asyncio.shield(delivery)  # a stop lets it finish (see `run`)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug: record a retry, or leave the row to its lease; never lose it
            log.exception("delivery %s failed unexpectedly", row.id)
            await self.recorder.add(Outcome(row, "retry", "internal_error", f"{type(exc).__name__}: {exc}"[:300]))
        return 1

    async def _release(self, rows: list[Row[Any]]) -> None:
        async with self.runtime.engine.begin() as conn:
            ids, attempts = [row.id for row in rows], [row.attempts for row in rows]
            await conn.execute(_RELEASE, {"ids": ids, "attempts": attempts, "now": self.clock.now()})
            await conn.execute(_WAKE_REPLICAS)
        log.info("gave back %d claimed deliveries not sent before the stop", len(rows))

    async def claim(self, limit: int) -> list[Row[Any]]:
        now = self.clock.now()
        lease_until = now + timedelta(seconds=self.settings.notify_send_lease_seconds)
        # One statement in autocommit: atomic on its own (its row locks last until it ends, and what it marked
        # `sending` is committed before anything is sent); BEGIN and COMMIT were two more round trips a claim.
        async with self.runtime.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            result = await conn.execute(_CLAIM, {"now": now, "lease_until": lease_until, "limit": limit})
            return list(result.all())

    async def deliver(self, row: Row[Any]) -> None:
        """Send one claimed row and queue its outcome."""
        try:
            outcome = await self._send(row)
        finally:
            self._finished(row)
        await self.recorder.add(outcome)

    def _finished(self, row: Row[Any]) -> None:
        left = self._sending[row.source_event_id] - 1
        if left > 0:
            self._sending[row.source_event_id] = left
        else:
            self._sending.pop(row.source_event_id, None)

    def _opened(self, row: Row[Any]) -> dict[str, Any]:
        """The row's context with its sealed secrets (links, a child's answer) opened, for rendering only."""
        context = dict(row.context)
        sealed = context.pop(SEALED, None)
        if sealed:
            context.update(self.sealer.open("notify", sealed, delivery_context(row.source_event_id, row.recipient_key)))
        return context

    async def _send(self, row: Row[Any]) -> Outcome:
        try:
            rendered = render(row.template, self._opened(row), row.channel)
        except Exception as exc:
            return Outcome(row, "dead", "render_error", f"{type(exc).__name__}: {exc}")
        if row.channel == "email":
            message = build_email(row.id, row.recipient_name, row.email, rendered, self.settings)
            sent = await self.smtp.send(message)
            verdict, reason = ("sent", "ok") if sent.ok else smtp_verdict(sent.code)
            return Outcome(row, verdict, reason, sent.detail, message_id(row.id, self.settings.message_id_domain()))
        if row.following is False:
            return Outcome(row, "fallback", "zalo_not_following", "unfollowed the OA (webhook)")
        zalo = await self.zalo.send(row.zalo_user_id, rendered.zalo)
        if zalo.code is None:
            verdict, reason = "retry", "zalo_unreachable"
        else:
            verdict, reason = zalo_verdict(zalo.code)
        return Outcome(row, verdict, reason, zalo.detail, zalo.message_id)

    async def _update_gauges(self) -> None:
        if time.monotonic() - self._gauges_at < 5:
            return
        self._gauges_at = time.monotonic()
        async with self.sessions() as session:
            counts = dict(
                (
                    await session.execute(
                        select(d.c.status, func.count())
                        .where(d.c.status.in_(("dead", "pending", "sending")))
                        .group_by(d.c.status)
                    )
                ).all()
            )
            now = self.clock.now()
            unsent = d.c.status.in_(("pending", "sending"))
            oldest = await session.scalar(select(func.min(d.c.created_at)).where(unsent))
            failing = dict(
                (
                    await session.execute(
                        select(d.c.channel, func.min(d.c.created_at))
                        .where(d.c.status == "pending", d.c.attempts > 0)
                        .group_by(d.c.channel)
                    )
                ).all()
            )
        DEAD_LETTER_SIZE.set(counts.get("dead", 0))
        PENDING.set(counts.get("pending", 0) + counts.get("sending", 0))
        OLDEST_PENDING.set(_age(now, oldest))
        for channel in CHANNELS:
            OLDEST_FAILING.labels(channel).set(_age(now, failing.get(channel)))


RESERVATION_SECONDS = 30.0  # a consumer transaction longer than this has failed (its reservation lapses)


def _age(now: datetime, since: datetime | None) -> float:
    return max((now - since).total_seconds(), 0.0) if since is not None else 0.0


def dispatcher_worker(
    make_http: Callable[[], httpx.AsyncClient] = httpx.AsyncClient, handover: Handover | None = None
) -> Callable[[ServiceRuntime], Awaitable[None]]:
    """The `ServiceSpec.workers` entry: seeds the Zalo token row, then dispatches until cancelled (taking the
    rows the handlers claim at insert through `handover`)."""

    async def dispatch(runtime: ServiceRuntime) -> None:
        async with make_http() as http:
            zalo = ZaloClient(runtime.settings, runtime.sessions, http, runtime.clock)
            try:
                await retry_until_done("seeding the Zalo token", zalo.seed)
                dispatcher = Dispatcher(runtime, zalo)
                runtime.extras["dispatcher"] = dispatcher
                if handover is not None:
                    handover.attach(dispatcher)
                await dispatcher.run()
            finally:
                if handover is not None:
                    handover.attach(None)
                await zalo.aclose()

    return dispatch
