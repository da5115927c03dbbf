"""A batch of events goes through reporting's real consumer transaction in a few statements besides one
`INSERT` per new case (`handlers.keep`, `projection.prepare`, `case_rows`), and gives the same case rows and
counters whatever the order of a case's events, within a batch or across transactions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select, text

from devtools.infra import REPO
from services.reporting import aggregates, figures, projection, store
from services.reporting.domain import parse_period
from services.reporting.handlers import keep, make_handlers
from services.reporting.seed import seed_defaults
from services.reporting.settings import ReportingSettings
from shared.consumer import EventConsumer
from shared.db import make_engine, make_session_factory
from shared.events import Envelope
from shared.events.common import Recipient
from shared.events.intake import CaseReported
from shared.events.notify import NotificationSent, SentDelivery
from shared.events.routing import AssignmentAnswered, AssignmentInfo, CaseAssigned, CaseStatusChanged

REPORTED_AT = datetime(2026, 7, 15, 3, 0, tzinfo=UTC)
CASES = 10


def _case(i: int) -> list[Envelope]:
    """A case's events in the order they are produced: reported, assigned, status changed, accepted, sent."""
    case_id = uuid.uuid4()
    common = dict(case_id=case_id, code=f"TN-2026-{i:06d}", unit="xa-tan-thanh", category="neglect", urgency="high")
    reported = Envelope.wrap(
        CaseReported(**common, protection_level="support", age_band="11-15", reported_at=REPORTED_AT),
        producer="intake",
    )
    at = REPORTED_AT + timedelta(minutes=i + 1)
    info = AssignmentInfo(
        assignment_id=uuid.uuid4(),
        field=None,
        member=Recipient(member_id=uuid.uuid4(), display_name="Thành viên"),
        respond_by=at + timedelta(hours=2),
    )
    assigned = CaseAssigned(**common, protection_level="support", assignments=(info,), assigned_at=at)
    changed = CaseStatusChanged(
        case_id=case_id, code=common["code"], from_status="reported", to_status="assigned", changed_at=at
    )
    answered = AssignmentAnswered(
        assignment_id=info.assignment_id,
        case_id=case_id,
        member_id=info.member.member_id,
        accepted=True,
        answered_at=at + timedelta(minutes=3),
    )
    delivery = SentDelivery(
        notification_id=uuid.uuid4(), template="case_assigned", channel="email", attempts=1, sent_at=at
    )
    sent = NotificationSent(source_event_id=uuid.uuid4(), case_id=case_id, deliveries=(delivery,))
    routing = [Envelope.wrap(e, producer="routing") for e in (assigned, changed, answered)]
    return [reported, *routing, Envelope.wrap(sent, producer="notify")]


async def test_a_batch_takes_a_few_statements_and_any_order_gives_the_same_figures(database_url):
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    statements = [0]

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def count(*_args: object) -> None:
        statements[0] += 1

    settings = ReportingSettings()
    consumer = EventConsumer(
        service="reporting",
        session_factory=sessions,
        inbox=store.inbox,
        handlers=make_handlers(settings),
        batch_size=100,
        before_commit=projection.flush,
        before_handlers=keep,
        settings=settings,
    )

    async def transaction(envelopes: list[Envelope]) -> int:
        before = statements[0]
        work = [(e, e.event(), consumer._handlers[(e.type, e.version)]) for e in envelopes]
        await consumer._transaction(work)
        return statements[0] - before

    try:
        async with sessions() as session, session.begin():
            await seed_defaults(session, REPO / "data")
        in_order = [e for i in range(CASES) for e in _case(i)]
        # Besides one INSERT per case: inbox, event store, locks, case rows, early events, the case rows'
        # UPDATE, the counters (a handful of tables) and the transaction's own BEGIN/COMMIT.
        assert await transaction(in_order) <= CASES + 16
        reversed_in_batch = [e for i in range(CASES, 2 * CASES) for e in reversed(_case(i))]
        assert await transaction(reversed_in_batch) <= CASES + 16
        for i in range(2 * CASES, 3 * CASES):  # each event alone, the case's report last
            for envelope in reversed(_case(i)):
                await transaction([envelope])
        await transaction(in_order[:7] + reversed_in_batch[-3:])  # duplicates change nothing

        async with sessions() as session:
            rows = (await session.execute(select(store.cases).order_by(store.cases.c.code))).mappings().all()
            counted = await figures.summary(session, parse_period("2026-07"))
        assert len(rows) == 3 * CASES
        for i, row in enumerate(rows):
            at = REPORTED_AT + timedelta(minutes=i + 1)
            assert (row["status"], row["status_at"], row["assigned_at"]) == ("assigned", at, at)
            assert row["accepted_at"] == at + timedelta(minutes=3)
        assert counted["cases"]["by_status"] == {"assigned": 3 * CASES}
        assert counted["cases"]["total"] == 3 * CASES
        timings = {r["stage"]: r for r in counted["timings"]}
        assert timings["assigned"]["cases"] == timings["accepted"]["cases"] == 3 * CASES
        async with sessions() as session, session.begin():
            await aggregates.recount(session)  # the counters agree with a count of the case rows
        async with sessions() as session:
            assert await figures.summary(session, parse_period("2026-07")) == counted
    finally:
        await engine.dispose()


async def test_keep_stores_new_events_and_locks_their_subjects_in_one_statement(database_url):
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    statements = [0]

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def count(*_args: object) -> None:
        statements[0] += 1

    locks = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
    first, second = _case(1), _case(2)

    async def kept(envelopes: list[Envelope]) -> tuple[int, int]:
        """`keep` in a transaction of its own: its statements, and the advisory locks it left held."""
        async with sessions() as session, session.begin():
            before = statements[0]
            await keep(session, [(e, e.event()) for e in envelopes])
            return statements[0] - before, await session.scalar(locks)

    try:
        assert await kept([first[0], second[0]]) == (1, 2)  # two reports: stored, each case locked, one statement
        assert await kept(first) == (2, 1)  # its routing events stored and locked; then the case's row read
        assert await kept(first) == (1, 0)  # nothing new: no lock, nothing to read
        async with sessions() as session:
            assert await session.scalar(select(text("count(*)")).select_from(store.events)) == 6
    finally:
        await engine.dispose()
