"""`Outbox.template`: the outbox row of an event one of whose strings the database makes in the same statement
(intake's case code): the envelope split around that value, whole again once the value is put in."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import MetaData

from shared.events import Envelope
from shared.events.intake import CaseReported
from shared.outbox import Outbox, outbox_table


def reported(code: str = "") -> CaseReported:
    return CaseReported(
        case_id=uuid.uuid4(),
        code=code,
        unit="phuong-tan-ninh",
        category="neglect",
        urgency="high",
        protection_level="support",
        reported_at=datetime(2026, 11, 20, 3, tzinfo=UTC),
    )


def test_the_envelope_around_the_slot_is_the_event_with_the_value_the_database_made() -> None:
    outbox = Outbox(outbox_table(MetaData(schema="toy")), "intake")
    event = reported()
    row = outbox.template(event, "code", key=event.case_id)
    made = "TN-2026-000042"
    envelope = Envelope.model_validate_json(row.before + json.dumps(made) + row.after)  # to_json(code)::text
    assert (envelope.event_id, envelope.type, row.key) == (row.event_id, "case.reported", str(event.case_id))
    assert envelope.event() == event.model_copy(update={"code": made})
    assert envelope.producer == "intake" and envelope.causation_id is None


def test_a_slot_that_is_not_a_string_of_the_payload_is_refused() -> None:
    outbox = Outbox(outbox_table(MetaData(schema="toy")), "intake")
    with pytest.raises(ValueError, match="not a string"):
        outbox.template(reported(), "no_such_field")
