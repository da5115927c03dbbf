"""Micro-benchmark: reporting's CPU per case for the events one case brings it at 50/s (`case.reported`,
`case.assigned`, `case.status_changed` and its six deliveries in one `notification.sent`), through the real
consumer transaction (`EventConsumer._transaction`: inbox, event store, handlers, counters) in batches of 50,
in-process (`--batch 1`: one event per transaction, as at a low rate). `--per-delivery` sends the six
deliveries as six version-1 events instead (what notify emitted before one event per batch and cause), for
the comparison.

CPU is this process's (`time.process_time`), so it is robust to a busy machine; PostgreSQL's share is not in
it, nor the AMQP path of each message (which the batched event saves five times per case). `python -m
bench.micro_reporting [--cases 600] [--rounds 3] [--batch 50] [--per-delivery]` prints the best round's ms
per case.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from devtools.infra import migrate, scratch
from services.reporting import projection, store
from services.reporting.handlers import keep, make_handlers
from services.reporting.seed import seed_defaults
from services.reporting.settings import ReportingSettings
from shared.consumer import EventConsumer
from shared.db import make_engine, make_session_factory
from shared.events import Envelope, Event
from shared.events.common import Recipient
from shared.events.intake import CaseReported
from shared.events.notify import NotificationSent, NotificationSentV1, SentDelivery
from shared.events.routing import AssignmentInfo, CaseAssigned, CaseStatusChanged

BATCH = 50
STATEMENTS: list[float] = []  # statements per case, each round


def case_events(n: int, per_delivery: bool = False) -> list[Envelope]:
    now = datetime(2026, 7, 15, 3, 0, tzinfo=UTC)
    out: list[Envelope] = []
    for i in range(n):
        case_id = uuid.uuid4()
        code = f"TN-2026-{i:06d}"
        common = dict(case_id=case_id, code=code, unit="xa-tan-thanh", category="neglect", urgency="high",
                      protection_level="support")  # fmt: skip
        reported = Envelope.wrap(CaseReported(**common, age_band="11-15", reported_at=now), producer="intake")
        members = [Recipient(member_id=uuid.uuid4(), display_name=f"Thành viên {k}") for k in range(3)]
        infos = tuple(
            AssignmentInfo(assignment_id=uuid.uuid4(), field=None, member=m, respond_by=now + timedelta(hours=2))
            for m in members
        )
        assigned_at = now + timedelta(seconds=1)
        assigned = Envelope.wrap(CaseAssigned(**common, assignments=infos, assigned_at=assigned_at),
                                 producer="routing", caused_by=reported)  # fmt: skip
        changed = Envelope.wrap(
            CaseStatusChanged(case_id=case_id, code=code, from_status="reported", to_status="assigned",
                              changed_at=assigned_at),
            producer="routing", caused_by=reported,
        )  # fmt: skip
        deliveries = tuple(
            SentDelivery(
                notification_id=uuid.uuid4(),
                template="case_assigned",
                channel=channel,
                member_id=m.member_id,
                attempts=1,
                sent_at=assigned_at + timedelta(seconds=1),
            )
            for m in members
            for channel in ("email", "zalo")
        )
        sent: list[Event] = (
            [
                NotificationSentV1(**d.model_dump(), source_event_id=assigned.event_id, case_id=case_id)
                for d in deliveries
            ]
            if per_delivery
            else [NotificationSent(source_event_id=assigned.event_id, case_id=case_id, deliveries=deliveries)]
        )
        out += [reported, assigned, changed, *(Envelope.wrap(e, producer="notify", caused_by=assigned) for e in sent)]
    return out


async def run(cases: int, rounds: int, per_delivery: bool = False, batch: int = BATCH) -> list[float]:
    settings = ReportingSettings()
    per_case: list[float] = []
    async with scratch("micro") as res:
        await migrate(res.database_url)
        engine = make_engine(res.database_url)
        sessions = make_session_factory(engine)
        statements = [0]

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def count(*_args: object) -> None:
            statements[0] += 1

        try:
            async with sessions() as session, session.begin():
                await seed_defaults(session, settings.reporting_data_dir)
            consumer = EventConsumer(
                service="reporting",
                session_factory=sessions,
                inbox=store.inbox,
                handlers=make_handlers(settings),
                batch_size=batch,
                before_commit=projection.flush,
                before_handlers=keep,
                settings=settings,
            )
            handlers = consumer._handlers
            for _ in range(rounds + 1):  # the first round warms the caches and is not counted
                envelopes = case_events(cases, per_delivery)
                work = [(env, env.event(), handlers[(env.type, env.version)]) for env in envelopes]
                started, before = time.process_time(), statements[0]
                for i in range(0, len(work), batch):
                    await consumer._transaction(work[i : i + batch])
                per_case.append(1000 * (time.process_time() - started) / cases)
                STATEMENTS.append((statements[0] - before) / cases)
        finally:
            await engine.dispose()
    return per_case[1:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-delivery", action="store_true", help="six version-1 notification.sent per case")
    parser.add_argument("--batch", type=int, default=BATCH, help="events per transaction (1: a low rate)")
    args = parser.parse_args()
    rounds = asyncio.run(run(args.cases, args.rounds, args.per_delivery, args.batch))
    each = ", ".join(f"{r:.2f}" for r in rounds)
    shape = "6 notification.sent v1" if args.per_delivery else "1 notification.sent v2"
    print(f"reporting ({shape} per case): {min(rounds):.2f} ms CPU per case (best of {len(rounds)}: {each}); ", end="")
    print(f"{STATEMENTS[-1]:.1f} statements per case")


if __name__ == "__main__":
    main()
