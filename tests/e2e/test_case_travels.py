"""A case posted over HTTP travels through the four real service processes to the experts' inboxes."""

from __future__ import annotations

import re
import uuid
from email.utils import parseaddr

import httpx
import pytest

from devtools.system import CHILD_SECRETS, MAIL_FROM, PUBLIC_BASE_URL, SUMMARY, RunningSystem, email_text, email_to
from devtools.tap import email_recipients, zalo_recipients
from devtools.waiting import eventually
from shared.events import Envelope

pytestmark = pytest.mark.e2e


async def test_a_reported_case_reaches_each_assigned_member_by_email_and_zalo_and_is_counted(system: RunningSystem):
    async with httpx.AsyncClient(timeout=10) as client:
        period = system.local_month()
        before = await system.monthly_total(client, period)

        created = await system.post_case(client)
        code = created["code"]
        assert created["status"] == "reported" and uuid.UUID(created["id"])
        assert re.fullmatch(r"TN-\d{4}-\d{6}", code), code
        fetched = await client.get(f"{system.url('intake')}/v1/cases/{created['id']}", headers=system.reporter)
        assert fetched.status_code == 200
        assert (fetched.json()["id"], fetched.json()["code"]) == (created["id"], code)

        async def assigned():
            return system.tap.assigned_by_case().get(code)

        assignments = await eventually(assigned, timeout=30)
        assert len(assignments) == 1, "routing assigned the case once"
        emails_expected = email_recipients(assignments[0])
        zalo_expected = zalo_recipients(assignments[0])
        assert emails_expected, f"routing chose nobody with an email: {assignments[0].payload}"
        # Every member of the demo club has a Zalo id, so the Zalo path is always exercised here.
        assert zalo_expected, f"routing chose nobody with Zalo: {assignments[0].payload}"

        async def emails_arrived():
            got = {to for m in system.emails_for(code) for to in email_to(m)}
            return got if got >= emails_expected else None

        await eventually(emails_arrived, timeout=30)
        emails = system.emails_for(code)
        assert sorted(to for m in emails for to in email_to(m)) == sorted(emails_expected), "one email per member"
        for message in emails:
            text = email_text(message)
            assert parseaddr(message["From"])[1] == parseaddr(MAIL_FROM)[1]
            assert PUBLIC_BASE_URL in text, "the email links to the case"
            for fact in (code, "Bạo lực thể chất", "Phường Tân Ninh", "Cao"):  # code, category, unit, urgency
                assert fact in text, f"the email names {fact!r}"
            assert message["Message-ID"], "each email has a Message-ID"
            _assert_no_child_data(text)

        async def zalo_arrived():
            got = {m["user_id"] for m in system.zalo_for(code)}
            return got if got >= zalo_expected else None

        await eventually(zalo_arrived, timeout=30)
        zalo = system.zalo_for(code)
        assert sorted(m["user_id"] for m in zalo) == sorted(zalo_expected), "one Zalo message per member"
        for message in zalo:
            assert message["access_token"] == system.zalo.access_token, "sent with the `access_token` header"
            assert 0 < len(message["text"]) <= 2000
            assert "Bạo lực thể chất" in message["text"]
            _assert_no_child_data(message["text"])

        await _assert_causation_chain(system, created["id"], len(emails_expected) + len(zalo_expected))

        async def counted():
            return await system.monthly_total(client, period) == before + 1

        await eventually(counted, timeout=30)
        rows = await system.monthly_rows(client, period)
        assert any(r["unit"] == "phuong-tan-ninh" and r["category"] == "violence_physical" for r in rows)
        assert system.services.crashed() == []


async def _assert_causation_chain(system: RunningSystem, case_id: str, messages: int) -> None:
    """case.reported → case.assigned (and case.status_changed) → notification.sent, each message listed once
    (a `notification.sent` lists the deliveries recorded together): every event names the one that caused it
    and carries the case's correlation id."""

    def of_case(event_type: str) -> list[Envelope]:
        return [e for e in system.tap.of_type(event_type) if e.payload.get("case_id") == case_id]

    def listed(events: list[Envelope]) -> list[str]:
        return [d["notification_id"] for e in events for d in e.payload["deliveries"]]

    async def all_sent():
        sent = of_case("notification.sent")
        return sent if len(listed(sent)) >= messages else None

    sent = await eventually(all_sent, timeout=30)
    [reported] = of_case("case.reported")
    [assigned] = of_case("case.assigned")
    [to_assigned] = [e for e in of_case("case.status_changed") if e.payload["to_status"] == "assigned"]
    assert reported.causation_id is None and reported.producer == "intake"
    assert (assigned.causation_id, assigned.producer) == (reported.event_id, "routing")
    assert to_assigned.causation_id == reported.event_id
    assert len(set(listed(sent))) == len(listed(sent)) == messages, "each message listed once"
    for envelope in sent:
        assert (envelope.causation_id, envelope.producer) == (assigned.event_id, "notify")
        assert envelope.payload["source_event_id"] == str(assigned.event_id) and envelope.version == 2
    chain = [reported, assigned, to_assigned, *sent]
    assert {e.correlation_id for e in chain} == {reported.correlation_id}, "one correlation id end to end"


def _assert_no_child_data(text: str) -> None:
    for secret in (*CHILD_SECRETS, SUMMARY):
        assert secret not in text, f"child data {secret!r} leaked into a message"
