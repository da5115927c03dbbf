"""The event catalogue: envelopes, the privacy guard on payloads, and the topology derived from it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.events import Envelope, Event, UnknownEvent, age_band, all_events, consumed_by
from shared.events.base import SERVICES
from shared.topology import Topology
from tests.shared.toy import case_reported


def test_every_event_says_who_emits_and_who_listens():
    events = all_events()
    assert len({(e.TYPE, e.VERSION) for e in events}) == len(events)
    for event in events:
        assert event.__doc__ and len(event.__doc__.strip()) > 20, event.__name__
        assert event.PRODUCER in SERVICES
        assert event.CONSUMERS, f"{event.TYPE} has no consumer"
        assert event.PRODUCER not in event.CONSUMERS


def test_a_payload_field_named_like_child_data_is_refused_at_import():
    with pytest.raises(TypeError, match="child-identifying"):

        class Leaky(Event):
            """A payload that would leak a child's name."""

            TYPE = "test.leaky"
            PRODUCER = "intake"
            CONSUMERS = ("reporting",)
            child_name: str


def test_no_event_in_the_catalogue_has_a_free_text_field_about_the_child():
    for event in all_events():
        for name in event.model_fields:
            assert "child" not in name and "summary" not in name, (event.TYPE, name)


def test_wrapping_an_event_caused_by_another_keeps_the_correlation_and_names_the_cause():
    first = Envelope.wrap(case_reported("TN-2026-000001"), producer="intake")
    from shared.events.routing import CaseStatusChanged

    second = Envelope.wrap(
        CaseStatusChanged(
            case_id=uuid.uuid4(),
            code="TN-2026-000001",
            from_status="reported",
            to_status="assigned",
            changed_at=datetime.now(UTC),
        ),
        producer="routing",
        caused_by=first,
    )
    assert second.correlation_id == first.correlation_id
    assert second.causation_id == first.event_id
    assert second.event_id != first.event_id
    assert Envelope.model_validate_json(second.model_dump_json()).event() == CaseStatusChanged.model_validate(
        second.payload
    )


def test_an_event_can_only_be_emitted_by_its_producer():
    with pytest.raises(ValueError, match="emitted by intake"):
        Envelope.wrap(case_reported("TN-2026-000001"), producer="routing")


def test_unknown_types_and_bad_payloads_are_recognised():
    envelope = Envelope.wrap(case_reported("TN-2026-000001"), producer="intake")
    with pytest.raises(UnknownEvent):
        envelope.model_copy(update={"version": 99}).event()
    with pytest.raises(ValidationError):
        envelope.model_copy(update={"payload": {**envelope.payload, "urgency": "whenever"}}).event()


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (None, "unknown"),
        (0, "0-5"),
        (5, "0-5"),
        (6, "6-10"),
        (10, "6-10"),
        (11, "11-15"),
        (15, "11-15"),
        (16, "16-17"),
        (17, "16-17"),
        (18, "unknown"),
        (-1, "unknown"),
    ],
)
def test_age_is_reduced_to_a_band(age, band):
    assert age_band(age) == band


def test_each_service_queue_is_bound_to_exactly_what_it_consumes():
    topology = Topology("x", delivery_limit=7)
    for service in SERVICES:
        assert topology.binding_keys(service) == sorted({e.TYPE for e in consumed_by(service)})
    args = topology.queue_arguments("routing")
    assert args["x-queue-type"] == "quorum"
    assert args["x-delivery-limit"] == 7
    assert args["x-dead-letter-exchange"] == "x.dead-letter"
    assert args["x-dead-letter-routing-key"] == "routing"
    assert args["x-dead-letter-strategy"] == "at-least-once"


def test_database_troubles_are_told_apart_from_handler_bugs():
    import asyncpg
    from sqlalchemy import exc as sa_exc

    from shared.dberrors import is_conflict_abort, is_transient

    def wrapped(orig: Exception) -> sa_exc.DBAPIError:
        try:
            try:
                raise orig
            except Exception as inner:
                raise sa_exc.DBAPIError("SELECT 1", {}, inner) from inner
        except sa_exc.DBAPIError as outer:
            return outer

    assert is_transient(wrapped(asyncpg.exceptions.TooManyConnectionsError("too many clients already")))
    assert is_transient(wrapped(asyncpg.exceptions.DeadlockDetectedError("deadlock detected")))
    assert is_transient(wrapped(asyncpg.exceptions.AdminShutdownError("terminating connection")))
    assert is_transient(ConnectionRefusedError())
    assert not is_transient(wrapped(asyncpg.exceptions.UniqueViolationError("duplicate key")))
    assert not is_transient(wrapped(asyncpg.exceptions.NotNullViolationError("null value")))
    assert not is_transient(ValueError("a bug in the handler"))
    assert is_conflict_abort(wrapped(asyncpg.exceptions.DeadlockDetectedError("deadlock detected")))
    assert not is_conflict_abort(wrapped(asyncpg.exceptions.TooManyConnectionsError("too many clients")))


def test_an_older_version_of_an_event_is_read_as_the_current_one():
    from shared.events.base import wire_versions
    from shared.events.intake import CaseReported, CaseReportedV1

    old = CaseReportedV1(
        case_id=uuid.uuid4(),
        code="TN-2025-000001",
        unit="ben-cau",
        category="neglect",
        urgency="medium",
        protection_level="support",
        age_band="16-17",
        reported_at=datetime(2025, 3, 1, tzinfo=UTC),
    )
    envelope = Envelope.wrap(old, producer="intake")
    assert envelope.version == 1
    upgraded = envelope.event()
    assert isinstance(upgraded, CaseReported) and upgraded.age_band == "16-17" and upgraded.suggested_urgency is None
    assert wire_versions(CaseReported) == [("case.reported", 1), ("case.reported", 2)]
    assert Envelope.wrap(case_reported("TN-2026-000001"), producer="intake").version == 2


def test_a_unit_upserted_before_the_zalo_contact_is_read_as_version_2():
    from shared.events.base import wire_versions
    from shared.events.intake import UnitUpserted, UnitUpsertedV1

    old = UnitUpsertedV1(code="xa-ben-cau", name_vi="Xã Bến Cầu", kind="xã", contact_email="doan@tayninh.example")
    upgraded = Envelope.wrap(old, producer="intake").event()
    assert isinstance(upgraded, UnitUpserted) and upgraded.contact_zalo_user_id is None
    assert upgraded.contact_email == "doan@tayninh.example"
    assert wire_versions(UnitUpserted) == [("unit.upserted", 1), ("unit.upserted", 2)]


def test_a_notification_sent_per_delivery_is_read_as_version_2_with_one_delivery():
    from shared.events.base import wire_versions
    from shared.events.notify import NotificationSent, NotificationSentV1

    sent_at = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    old = NotificationSentV1(
        notification_id=uuid.uuid4(),
        source_event_id=uuid.uuid4(),
        template="case_assigned",
        channel="zalo",
        case_id=uuid.uuid4(),
        member_id=uuid.uuid4(),
        attempts=2,
        sent_at=sent_at,
    )
    upgraded = Envelope.wrap(old, producer="notify").event()
    assert isinstance(upgraded, NotificationSent)
    assert (upgraded.source_event_id, upgraded.case_id) == (old.source_event_id, old.case_id)
    [delivery] = upgraded.deliveries
    assert delivery.model_dump() == old.model_dump(exclude={"source_event_id", "case_id"})
    assert wire_versions(NotificationSent) == [("notification.sent", 1), ("notification.sent", 2)]


def test_a_notification_sent_lists_each_delivery_once_and_at_most_200():
    from shared.events.notify import MOST_SENT_PER_EVENT, NotificationSent, SentDelivery

    def delivery(notification_id: uuid.UUID) -> SentDelivery:
        return SentDelivery(
            notification_id=notification_id, template="case_assigned", channel="email", attempts=1,
            sent_at=datetime(2026, 12, 1, tzinfo=UTC),
        )  # fmt: skip

    twice = delivery(uuid.uuid4())
    with pytest.raises(ValidationError, match="listed twice"):
        NotificationSent(source_event_id=uuid.uuid4(), deliveries=(twice, twice))
    with pytest.raises(ValidationError):
        NotificationSent(source_event_id=uuid.uuid4(), deliveries=())
    most = tuple(delivery(uuid.uuid4()) for _ in range(MOST_SENT_PER_EVENT + 1))
    with pytest.raises(ValidationError):
        NotificationSent(source_event_id=uuid.uuid4(), deliveries=most)
    assert len(NotificationSent(source_event_id=uuid.uuid4(), deliveries=most[:-1]).deliveries) == 200


def test_the_relay_reads_from_stored_json_the_message_properties_the_envelope_gives():
    from shared.publisher import outgoing_from_json, to_outgoing

    envelope = Envelope.wrap(case_reported("TN-2026-000001"), producer="intake")
    stored = envelope.model_dump_json()
    assert outgoing_from_json(stored) == to_outgoing(envelope, stored.encode())


def test_an_event_goes_out_persistent_with_its_identity_as_aio_pika_would_send_it():
    import aio_pika

    from shared.publisher import to_outgoing

    envelope = Envelope.wrap(case_reported("TN-2026-000001"), producer="intake")
    key, body, properties = to_outgoing(envelope)
    assert (key, body) == (envelope.type, envelope.model_dump_json().encode())
    assert properties.delivery_mode == 2
    as_aio_pika_would = aio_pika.Message(
        body,
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=str(envelope.event_id),
        correlation_id=str(envelope.correlation_id),
        type=envelope.type,
        timestamp=envelope.occurred_at,
        app_id="intake",
        headers={"version": envelope.version},
    ).properties
    assert properties == as_aio_pika_would
