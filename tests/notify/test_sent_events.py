"""A recorder batch's sent deliveries become one `notification.sent` per cause, each delivery in exactly one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from services.notify.outcomes import Outcome, sent_events
from shared.events.notify import MOST_SENT_PER_EVENT, NotificationSent
from shared.outbox import Cause

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _sent(source_event_id: uuid.UUID, correlation_id: uuid.UUID, case_id: uuid.UUID | None, **row: Any) -> Outcome:
    values = dict(
        id=uuid.uuid4(), source_event_id=source_event_id, correlation_id=correlation_id, case_id=case_id,
        request_id=None, template="case_assigned", channel="email", member_id=uuid.uuid4(), attempts=1,
    )  # fmt: skip
    return Outcome(row=SimpleNamespace(**(values | row)), verdict="sent", reason="ok", detail="")  # type: ignore[arg-type]


def test_a_batch_of_two_cases_messages_makes_one_event_per_case_naming_its_cause():
    cases = [(uuid.uuid4(), uuid.uuid4(), uuid.uuid4()) for _ in range(2)]  # (assigned event, correlation, case)
    outcomes = [
        _sent(*case, channel=channel) for _ in range(3) for channel in ("email", "zalo") for case in cases
    ]  # interleaved, as senders finish them
    events = sent_events(outcomes, NOW)
    assert len(events) == 2
    for (event, key, cause), (source, correlation, case_id) in zip(events, cases, strict=True):
        assert isinstance(event, NotificationSent)
        assert (key, cause) == (case_id, Cause(source, correlation))
        assert (event.source_event_id, event.case_id) == (source, case_id)
        mine = [o.row.id for o in outcomes if o.row.source_event_id == source]
        assert [d.notification_id for d in event.deliveries] == mine
        assert {d.sent_at for d in event.deliveries} == {NOW}


def test_more_deliveries_of_one_cause_than_an_event_holds_are_split():
    source, correlation = uuid.uuid4(), uuid.uuid4()
    outcomes = [_sent(source, correlation, None) for _ in range(MOST_SENT_PER_EVENT + 50)]
    events = sent_events(outcomes, NOW)
    assert [len(e.deliveries) for e, _, _ in events] == [MOST_SENT_PER_EVENT, 50]
    assert {(key, cause) for _, key, cause in events} == {(source, Cause(source, correlation))}
    listed = [d.notification_id for e, _, _ in events for d in e.deliveries]
    assert listed == [o.row.id for o in outcomes], "each delivery once, in order"


async def test_a_full_batch_takes_every_queued_outcome_of_its_causes_and_leaves_the_others_whole():
    """Cut at `NOTIFY_RECORD_BATCH`, a batch still takes the rest of its causes' queued outcomes (a case's
    messages split over two batches made two `notification.sent`); nothing is lost or taken twice."""
    from services.notify.outcomes import Recorder

    settings = SimpleNamespace(notify_timezone="Asia/Ho_Chi_Minh", notify_record_batch=3)
    recorder = Recorder(SimpleNamespace(settings=settings, sessions=None, clock=None))  # type: ignore[arg-type]
    batches: list[list[Outcome]] = []

    async def record(items: list[Outcome]) -> None:
        batches.append(items)

    recorder._record_batch = record  # type: ignore[method-assign]
    a, b, c = ((uuid.uuid4(), uuid.uuid4(), uuid.uuid4()) for _ in range(3))
    queued = [_sent(*a), _sent(*b), _sent(*a), _sent(*c), _sent(*b), _sent(*a), _sent(*c)]
    recorder._buffer = list(queued)
    await recorder.flush(2)
    assert [o.row.source_event_id for o in batches[0]] == [a[0], b[0], a[0], b[0], a[0]]
    assert [o.row.source_event_id for o in recorder._buffer] == [c[0], c[0]]
    await recorder.flush()
    assert sorted(id(o) for batch in batches for o in batch) == sorted(id(o) for o in queued)
    assert recorder._buffer == []


async def test_a_cause_still_being_sent_waits_for_the_next_batch_once():
    """A case's Zalo outcomes wait (once) for its emails, still at the SMTP pool: one `notification.sent`."""
    from services.notify.outcomes import Recorder

    sending: set[uuid.UUID] = set()
    settings = SimpleNamespace(notify_timezone="Asia/Ho_Chi_Minh", notify_record_batch=50)
    recorder = Recorder(SimpleNamespace(settings=settings, sessions=None, clock=None), in_flight=sending.__contains__)  # type: ignore[arg-type]
    batches: list[list[uuid.UUID]] = []

    async def record(items: list[Outcome]) -> None:
        batches.append([o.row.source_event_id for o in items])

    recorder._record_batch = record  # type: ignore[method-assign]
    a, b = (uuid.uuid4(), uuid.uuid4(), uuid.uuid4()), (uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
    sending.add(a[0])  # a's emails are still being sent; b is done
    recorder._buffer = [_sent(*a, channel="zalo"), _sent(*b), _sent(*a, channel="zalo")]
    await recorder.flush(50, hold=True)
    assert batches == [[b[0]]] and len(recorder._buffer) == 2
    recorder._buffer.append(_sent(*a))  # one email came; another is still being sent
    await recorder.flush(50, hold=True)  # the held ones go now (never held twice), with what came meanwhile
    assert batches[1] == [a[0]] * 3 and recorder._buffer == []
