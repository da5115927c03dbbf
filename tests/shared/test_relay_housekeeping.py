"""The relay's housekeeping step: the backlog gauges say how many outbox rows wait and how old the oldest
is (the age was never set while rows waited: the oldest row's time went back to PostgreSQL as a parameter
of the wrong type and the round failed)."""

from __future__ import annotations

from sqlalchemy import text

from shared.db import make_engine
from shared.metrics import OUTBOX_OLDEST_PENDING, OUTBOX_PENDING
from shared.publisher import EventPublisher
from shared.relay import OutboxRelay
from shared.topology import Topology
from tests.shared.toy import ToySchema


async def test_housekeeping_reports_the_backlog_and_the_age_of_its_oldest_row(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    schema = ToySchema()
    try:
        await schema.create(engine)
        async with engine.begin() as conn:
            for i in range(3):
                await conn.execute(
                    text(
                        f'INSERT INTO "{schema.schema}".outbox (event_id, type, key, envelope, created_at) '
                        "VALUES (gen_random_uuid(), 'case.reported', :key, '{}', now() - interval '90 seconds')"
                    ),
                    {"key": f"k{i}"},
                )
        service = f"housekeeping-{schema.schema}"
        relay = OutboxRelay(
            service=service,
            engine=engine,
            database_url=empty_database_url,
            table=schema.outbox,
            publisher=EventPublisher("amqp://unused/", Topology("unused")),  # housekeeping never publishes
        )
        await relay._housekeeping_step()
        assert relay.pending == 3
        assert OUTBOX_PENDING.labels(service)._value.get() == 3
        assert 89 <= OUTBOX_OLDEST_PENDING.labels(service)._value.get() < 600
    finally:
        await engine.dispose()
