"""What the web pages need from routing: a member's own assignments (pending, most urgent, newest first), the
case's Decree 56 deadlines, editing one's own opinion, and the signed links answering in JSON for web."""

from __future__ import annotations

from urllib.parse import urlsplit

from devtools.waiting import eventually
from shared.clock import FakeClock
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
from tests.support.sealed import links


async def test_a_member_lists_their_assignments_pending_and_most_urgent_first(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        await publish(settings, case_reported("child_marriage", "phuong-go-dau", "low"))
        await eventually(lambda: emitted(app, "case.assigned"))
        await publish(settings, case_reported("child_marriage", "phuong-go-dau", "high"))
        low, high = await eventually(lambda: _two(app))
        phuong = await as_member(app, "dd-trang-bang")  # local, law and education: on both cases

        mine = (await client.get("/v1/assignments/mine", headers=phuong)).json()
        assert {m["case_id"] for m in mine} == {low["case_id"], high["case_id"]}
        assert [m["urgency"] for m in mine][:2] == ["high", "high"], "the urgent case's assignments come first"
        assert all(m["status"] == "pending" and m["respond_by"] for m in mine)

        first = mine[0]
        assert (
            await client.post(f"/v1/assignments/{first['assignment_id']}/accept", headers=phuong)
        ).status_code == 200
        again = (await client.get("/v1/assignments/mine", headers=phuong)).json()
        assert again[-1]["assignment_id"] == first["assignment_id"], "pending ones before answered ones"
        assert again[-1]["status"] == "accepted"

        stranger = await as_member(app, "dd-tan-bien")
        assert (await client.get("/v1/assignments/mine", headers=stranger)).json() == []
        assert (await client.get("/v1/assignments/mine", headers=await as_role(app, "chair"))).status_code == 403


async def _two(app):
    assigned = await emitted(app, "case.assigned")
    return assigned if len(assigned) == 2 else None


async def test_a_member_edits_their_own_opinion_only(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        await publish(settings, case_reported("violence_emotional", "phuong-tan-ninh", "critical", "intervention"))
        assigned = (await eventually(lambda: emitted(app, "case.assigned")))[0]
        case_url = f"/v1/cases/{assigned['case_id']}"
        experts = by_field(assigned)
        psychologist = await as_assignee(app, experts["psychology"])
        lawyer = await as_assignee(app, experts["law"])

        deadlines = (await client.get(f"{case_url}/deadlines", headers=psychologist)).json()
        assert [d["deadline"] for d in deadlines] == ["emergency_intervention", "support_plan"]
        assert (await client.get(f"{case_url}/deadlines", headers=await as_member(app, "dd-go-dau"))).status_code == 403

        for expert, headers in ((experts["psychology"], psychologist), (experts["law"], lawyer)):
            await client.post(f"/v1/assignments/{expert['assignment_id']}/accept", headers=headers)
        opinion = {"text": "Cần tư vấn tâm lý.", "recommended_level": "support", "referrals": ["school"]}
        posted = await client.post(f"{case_url}/opinions", json=opinion, headers=psychologist)
        assert posted.status_code == 201
        (written,) = posted.json()["opinions"]
        url = f"{case_url}/opinions/{written['opinion_id']}"

        edit = {"text": "Cần tư vấn tâm lý và khám sức khỏe.", "recommended_level": "intervention", "referrals": []}
        assert (await client.put(url, json=edit, headers=lawyer)).status_code == 403, "another member's opinion"
        assert (await client.put(url, json={"text": ""}, headers=psychologist)).status_code == 422
        edited = await client.put(url, json=edit, headers=psychologist)
        assert edited.status_code == 200
        (only,) = edited.json()["opinions"]
        assert (only["opinion_id"], only["text"], only["recommended_level"], only["referrals"]) == (
            written["opinion_id"],
            edit["text"],
            "intervention",
            [],
        )
        missing = f"{case_url}/opinions/00000000-0000-0000-0000-000000000000"
        assert (await client.put(missing, json=edit, headers=psychologist)).status_code == 404


async def test_signed_links_answer_json_for_the_web_pages(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        await publish(settings, case_reported("neglect", "phuong-go-dau", "medium"))
        assigned = (await eventually(lambda: emitted(app, "case.assigned")))[0]
        first = assigned["assignments"][0]
        parts = urlsplit(links(first)["accept"])
        accept = f"{parts.path}?{parts.query}"
        as_json = {"Accept": "application/json"}

        page = await client.get(accept, headers=as_json)
        assert page.status_code == 200
        assert page.json() | {} == {
            "outcome": "valid",
            "action": "accept",
            "case_id": assigned["case_id"],
            "request_id": None,
            "code": "TN-2026-000042",
            "urgency": "medium",
            "status": "pending",
        }
        bad = await client.post(accept.replace("signature=", "signature=0"), headers=as_json)
        assert (bad.status_code, bad.json()["outcome"]) == (403, "invalid")
        done = await client.post(accept, headers=as_json)
        assert (done.status_code, done.json()["outcome"], done.json()["case_id"]) == (
            200,
            "accepted",
            assigned["case_id"],
        )
        used = await client.post(accept, headers=as_json)
        assert (used.status_code, used.json()["outcome"]) == (410, "used")
        html = await client.post(accept)
        assert html.status_code == 410 and html.headers["content-type"].startswith("text/html"), "browsers: HTML"
