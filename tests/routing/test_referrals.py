"""Referrals are first-class facts: to whom, when, by whom, the acknowledgement; a referral to the commune
People's Committee (or its child-protection officer, the police, 111) meets the 12-hour emergency deadline,
a referral to a school does not, and neither does a member taking the case up."""

from __future__ import annotations

import uuid
from datetime import timedelta

from devtools.waiting import eventually
from shared.clock import FakeClock
from tests.routing.deadline_sweeps import sweeps_pass
from tests.routing.support import (
    START,
    as_assignee,
    as_member,
    case_reported,
    emitted,
    member_id,
    publish,
    routing_app,
    routing_settings,
    seeded,
)


async def test_a_referral_to_the_commune_meets_the_emergency_deadline_and_its_acknowledgement_is_kept(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    clock = FakeClock(START)
    referred = case_reported("sexual_abuse", "phuong-tan-ninh", "critical", "intervention")
    to_school = case_reported("trafficking", "phuong-tan-ninh", "critical", "intervention")
    async with routing_app(settings, clock) as (app, client):
        await publish(settings, referred, to_school)

        async def both() -> list[dict]:
            found = await emitted(app, "case.assigned")
            return found if len(found) == 2 else []

        assigned = {a["case_id"]: a for a in await eventually(both, timeout=20)}
        first = assigned[str(referred.payload["case_id"])]["assignments"][0]
        holder = await as_assignee(app, first)
        case_id = referred.payload["case_id"]
        url = f"/v1/cases/{case_id}/referrals"

        body = {"to": "commune_committee", "to_name": "UBND phường Tân Ninh"}
        on_case = {a["member"]["member_id"] for a in assigned[str(case_id)]["assignments"]}
        keys = ("so-tu-phap", "so-gddt", "so-ldtbxh", "dd-tan-bien", "dd-go-dau")
        outsiders = [key for key in keys if str(await member_id(app, key)) not in on_case]
        outsider = await as_member(app, outsiders[0])
        assert (await client.post(url, json=body, headers=outsider)).status_code == 403
        assert (await client.post(url, json={"to": "mayor"}, headers=holder)).status_code == 422
        future = {**body, "referred_at": (START + timedelta(hours=2)).isoformat()}
        refused = await client.post(url, json=future, headers=holder)
        assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "body.referred_at"

        created = await client.post(url, json=body, headers=holder)
        assert created.status_code == 201, created.text
        referral = created.json()
        assert referral["to"] == "commune_committee" and referral["meets_emergency_deadline"] is True
        assert referral["to_name"] == "UBND phường Tân Ninh" and referral["acknowledged_at"] is None

        ack_url = f"{url}/{referral['referral_id']}/acknowledgement"
        acknowledged = await client.post(
            ack_url, json={"acknowledged_by": "Công chức văn hóa – xã hội"}, headers=holder
        )
        assert acknowledged.status_code == 200, acknowledged.text
        assert acknowledged.json()["acknowledged_at"] and acknowledged.json()["acknowledged_by"]
        assert (await client.post(ack_url, json={}, headers=holder)).status_code == 409
        assert (await client.post(f"{url}/{uuid.uuid4()}/acknowledgement", json={}, headers=holder)).status_code == 404
        listed = (await client.get(url, headers=holder)).json()
        assert [r["referral_id"] for r in listed] == [referral["referral_id"]]
        assert (await client.get(url, headers=outsider)).status_code == 403
        page = (await client.get(f"/v1/cases/{case_id}", headers=holder)).json()
        assert [(r["to"], r["acknowledged_by"]) for r in page["referrals"]] == [
            ("commune_committee", "Công chức văn hóa – xã hội")
        ]

        (event,) = await emitted(app, "case.referred")
        assert event["case_id"] == str(case_id) and event["to"] == "commune_committee" and event["unit"]
        assert "to_name" not in event  # names of people and places stay in routing
        (ack,) = await emitted(app, "referral.acknowledged")
        assert ack["referral_id"] == referral["referral_id"]

        school_holder = await as_assignee(app, assigned[str(to_school.payload["case_id"])]["assignments"][0])
        school = await client.post(
            f"/v1/cases/{to_school.payload['case_id']}/referrals", json={"to": "school"}, headers=school_holder
        )
        assert school.status_code == 201 and school.json()["meets_emergency_deadline"] is False

        clock.advance(timedelta(hours=12))

        async def emergency_reminders() -> list[dict]:
            found = await emitted(app, "deadline.reminder")
            return [r for r in found if r["deadline"] == "emergency_intervention"]

        (reminder,) = await eventually(emergency_reminders)
        await sweeps_pass(app)
        assert reminder["case_id"] == str(to_school.payload["case_id"])  # the referred case is not chased
        assert len(await emergency_reminders()) == 1
