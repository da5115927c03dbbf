"""The same event delivered twice changes nothing and sends nothing twice (the inbox makes consumers
idempotent); the duplicates are put on the exchange by hand, exactly as a relay retry or a broker
redelivery would put them."""

from __future__ import annotations

import httpx
import pytest

from devtools.system import RunningSystem, email_to
from devtools.tap import email_recipients
from devtools.waiting import eventually
from tests.e2e.observe import counter

pytestmark = pytest.mark.e2e

CONSUMED = "caunoi_events_consumed_total"


async def test_a_duplicate_case_reported_and_case_assigned_send_no_second_message_and_count_once(
    system: RunningSystem,
):
    async with httpx.AsyncClient(timeout=10) as client:
        period = system.local_month()
        created = await system.post_case(client)
        code = created["code"]

        async def delivered():
            assigned = system.tap.assigned_by_case().get(code)
            if not assigned:
                return None
            expected = email_recipients(assigned[0])
            got = {to for m in system.emails_for(code) for to in email_to(m)}
            counted = await system.monthly_total(client, period) == 1
            return assigned[0] if expected and got >= expected and counted else None

        assigned = await eventually(delivered, timeout=30)
        reported = next(e for e in system.tap.of_type("case.reported") if e.payload["code"] == code)
        emails, zalo = len(system.emails_for(code)), len(system.zalo_for(code))

        async def duplicates_seen() -> dict[str, float]:
            return {
                "routing": await counter(
                    client, system.url("routing"), CONSUMED, type="case.reported", outcome="duplicate"
                ),
                "notify": await counter(
                    client, system.url("notify"), CONSUMED, type="case.assigned", outcome="duplicate"
                ),
                "reporting": await counter(client, system.url("reporting"), CONSUMED, outcome="duplicate"),
            }

        before = await duplicates_seen()
        await system.tap.publish_again(reported)
        await system.tap.publish_again(assigned)

        async def each_consumer_saw_its_duplicate():
            now = await duplicates_seen()
            return (
                now["routing"] >= before["routing"] + 1
                and now["notify"] >= before["notify"] + 1
                and now["reporting"] >= before["reporting"] + 2
            )

        await eventually(each_consumer_saw_its_duplicate, timeout=30)
        assert len(system.emails_for(code)) == emails, "no second email"
        assert len(system.zalo_for(code)) == zalo, "no second Zalo message"
        assert len(system.tap.assigned_by_case()[code]) == 1, "routing did not assign the case again"
        assert await system.monthly_total(client, period) == 1, "the report counts the case once"
