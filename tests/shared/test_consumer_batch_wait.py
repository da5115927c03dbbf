"""`CONSUMER_BATCH_WAIT`: a batch's first delivery waits that long for more to join it (fewer, larger
transactions at low rates); without it, the batch starts with what is queued."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import MetaData

from shared.consumer import EventConsumer
from shared.outbox import inbox_table

pytestmark = pytest.mark.unit


async def _batches(wait: float) -> list[list[Any]]:
    consumer = EventConsumer(
        service="toy",
        session_factory=None,  # type: ignore[arg-type]  # process_batch is replaced: no database
        inbox=inbox_table(MetaData(schema="toy")),
        handlers={},
        batch_size=50,
        batch_wait=wait,
    )
    seen: list[list[Any]] = []
    channel = object()
    first, second = (
        SimpleNamespace(name=name, raw_message=SimpleNamespace(channel=channel, delivery_tag=tag))
        for tag, name in enumerate(("first", "second"), start=1)
    )

    async def process_batch(batch: list[Any]) -> None:
        seen.append([delivery.name for delivery in batch])

    consumer.process_batch = process_batch  # type: ignore[method-assign]
    await consumer.enqueue(first)  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    await consumer.enqueue(second)  # type: ignore[arg-type]
    await asyncio.sleep(wait + 0.2)
    await consumer.close()
    return seen


async def test_the_first_delivery_waits_for_more_to_join_its_batch():
    assert await _batches(0.3) == [["first", "second"]]


async def test_without_a_wait_a_batch_starts_at_once():
    assert await _batches(0.0) == [["first"], ["second"]]


def test_the_consumers_off_a_cases_path_to_its_notifications_wait_and_the_others_do_not():
    """Reporting's figures and intake's case states and members are read later, by people: their consumers wait
    for fuller batches. Routing and notify handle the events a first email waits for: they start at once."""
    from services.intake.settings import IntakeSettings
    from services.notify.settings import NotifySettings
    from services.reporting.settings import ReportingSettings
    from services.routing.settings import RoutingSettings

    waits = {cls.__name__: cls.model_fields["consumer_batch_wait"].default for cls in
             (IntakeSettings, ReportingSettings, RoutingSettings, NotifySettings)}  # fmt: skip
    assert waits == {"IntakeSettings": 0.25, "ReportingSettings": 0.25, "RoutingSettings": 0.0, "NotifySettings": 0.0}
