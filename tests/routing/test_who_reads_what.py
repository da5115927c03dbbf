"""Who reads a case and a counseling request in routing (issue 14): members only while the case is open
(again once reopened), the committee only what was forwarded to it, operators never; a counseling request
only the member given it and the chair."""

from __future__ import annotations

import uuid

from devtools.waiting import eventually
from shared.clock import FakeClock
from shared.events import Envelope
from shared.events.intake import CounselingRequestReceived
from tests.routing.support import (
    START,
    as_assignee,
    as_member,
    as_role,
    by_field,
    case_reported,
    emitted,
    publish,
    routing_app,
    routing_settings,
    seeded,
)


async def test_members_lose_a_closed_case_the_committee_reads_what_is_forwarded_operators_nothing(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        await publish(settings, case_reported("violence_emotional", "phuong-tan-ninh", "medium"))
        assigned = (await eventually(lambda: emitted(app, "case.assigned")))[0]
        url = f"/v1/cases/{assigned['case_id']}"
        chair, committee, operator = [await as_role(app, r) for r in ("chair", "committee", "operator")]
        psychologist = await as_assignee(app, by_field(assigned)["psychology"])
        accept = f"/v1/assignments/{by_field(assigned)['psychology']['assignment_id']}/accept"
        assert (await client.post(accept, headers=psychologist)).status_code == 200
        opinion = {"text": "Cần gặp gia đình.", "recommended_level": "support"}
        assert (await client.post(f"{url}/opinions", json=opinion, headers=psychologist)).status_code == 201

        assert (await client.get(url, headers=operator)).status_code == 403
        assert (await client.get(url, headers=committee)).status_code == 403  # not forwarded yet
        assert (await client.get(url, headers=psychologist)).status_code == 200
        assert (await client.post(f"{url}/forward", json={"proposal": "Hỗ trợ."}, headers=chair)).status_code == 200
        assert (await client.get(url, headers=committee)).status_code == 200
        assert (await client.post(f"{url}/close", json={"outcome": "Xong."}, headers=chair)).status_code == 200
        closed = await client.get(url, headers=psychologist)
        assert closed.status_code == 403 and closed.json()["message"]["vi"]
        assert (await client.get(url, headers=chair)).status_code == 200
        assert (await client.post(f"{url}/reopen", headers=chair)).status_code == 200
        assert (await client.get(url, headers=psychologist)).status_code == 200


async def test_a_counseling_request_is_read_by_the_member_given_it_and_the_chair_only(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        request = CounselingRequestReceived(
            request_id=uuid.uuid4(),
            code="TV-2026-000077",
            topic="ap-luc-thi-cu",
            channel="web",
            age_band="11-15",
            received_at=START,
        )
        await publish(settings, Envelope.wrap(request, producer="intake"))
        (given,) = await eventually(lambda: emitted(app, "counseling_request.assigned"))
        url = f"/v1/counseling-requests/{request.request_id}"
        holder = await as_assignee(app, given["assignment"])
        other = await as_member(app, "so-tu-phap")
        assert (await client.get(url, headers=holder)).status_code == 200
        assert (await client.get(url, headers=await as_role(app, "chair"))).status_code == 200
        assert (await client.get(url, headers=other)).status_code == 403
        for role in ("operator", "committee"):
            assert (await client.get(url, headers=await as_role(app, role))).status_code == 403
