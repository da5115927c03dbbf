"""A batch of one delivery (the usual case at low load) is parsed once, and handled like any other event."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from shared.consumer import EventConsumer, HandlerContext
from shared.db import make_engine, make_session_factory
from shared.events import Envelope
from shared.events.intake import CaseReported
from tests.shared.toy import ToySchema, case_reported


class Delivery:
    """What the consumer reads of a FastStream delivery."""

    def __init__(self, envelope: Envelope) -> None:
        self.body = envelope.model_dump_json().encode()
        self.raw_message = SimpleNamespace(type=envelope.type, exchange="events", routing_key=envelope.type)
        self.headers: dict[str, Any] = {}
        self.message_id = str(envelope.event_id)
        self.acked = 0

    async def ack(self) -> None:
        self.acked += 1


async def test_a_batch_of_one_is_parsed_once_and_applied(empty_database_url: str, monkeypatch) -> None:
    engine = make_engine(empty_database_url)
    schema = ToySchema()
    await schema.create(engine)
    applied: list[str] = []

    async def on_case_reported(event: CaseReported, ctx: HandlerContext) -> None:
        await ctx.session.execute(schema.effects.insert().values(code=event.code))
        applied.append(event.code)

    consumer = EventConsumer(
        service="routing",
        session_factory=make_session_factory(engine),
        inbox=schema.inbox,
        handlers={CaseReported: on_case_reported},
        batch_size=20,
    )
    delivery = Delivery(Envelope.wrap(case_reported("TN-2026-000042"), producer="intake"))
    parses = 0
    parse = Envelope.model_validate_json

    def counting(data: Any, *args: Any, **kwargs: Any) -> Envelope:
        nonlocal parses
        parses += 1
        return parse(data, *args, **kwargs)

    monkeypatch.setattr(Envelope, "model_validate_json", counting)
    await consumer.process_batch([delivery])  # type: ignore[list-item]
    await consumer.process_batch([delivery])  # type: ignore[list-item]  # redelivered: a duplicate
    assert parses == 2  # once per delivery (it was parsed again for the single-event path)
    assert applied == ["TN-2026-000042"]
    assert delivery.acked == 2
    async with engine.connect() as conn:
        assert (await conn.execute(select(schema.effects.c.code))).scalars().all() == ["TN-2026-000042"]
    await engine.dispose()
