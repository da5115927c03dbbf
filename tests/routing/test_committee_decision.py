"""The Standing Committee reads only what was forwarded to it, sees it in its inbox, and records one decision
per forwarding (`case.decided` tells the chair); a returned case is in progress again and may be forwarded
anew, and its second forwarding takes a decision of its own."""

from __future__ import annotations

from datetime import timedelta

from devtools.waiting import eventually
from shared.clock import FakeClock
from tests.routing.support import (
    START,
    as_assignee,
    as_role,
    by_field,
    case_reported,
    emitted,
    publish,
    routing_app,
    routing_settings,
    seeded,
)


async def test_the_committee_decides_a_forwarded_case_once_and_a_returned_case_comes_back(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    clock = FakeClock(START)
    async with routing_app(settings, clock) as (app, client):
        await publish(settings, case_reported("violence_emotional", "phuong-tan-ninh", "medium"))
        assigned = (await eventually(lambda: emitted(app, "case.assigned")))[0]
        case_url = f"/v1/cases/{assigned['case_id']}"
        chair, committee = await as_role(app, "chair"), await as_role(app, "committee")
        psychology = by_field(assigned)["psychology"]
        psychologist = await as_assignee(app, psychology)
        decision = {"outcome": "approved", "text": "Thông qua đề xuất; giao Chủ nhiệm tổ chức thực hiện."}

        # Before the forwarding the committee may not read the case, nor decide it.
        assert (await client.get(case_url, headers=committee)).status_code == 403
        assert (await client.get(f"{case_url}/deadlines", headers=committee)).status_code == 403
        assert (await client.get("/v1/committee/cases", headers=committee)).json() == []
        assert (await client.post(f"{case_url}/decision", json=decision, headers=committee)).status_code == 409

        accept = f"/v1/assignments/{psychology['assignment_id']}/accept"
        assert (await client.post(accept, headers=psychologist)).status_code == 200
        opinion = {"text": "Cần tư vấn tâm lý.", "recommended_level": "support", "referrals": ["school"]}
        assert (await client.post(f"{case_url}/opinions", json=opinion, headers=psychologist)).status_code == 201
        proposal = {"proposal": "Đề xuất: phối hợp nhà trường."}
        assert (await client.post(f"{case_url}/forward", json=proposal, headers=chair)).status_code == 200

        read = await client.get(case_url, headers=committee)
        assert read.status_code == 200 and read.json()["proposal"] == "Đề xuất: phối hợp nhà trường."
        (inbox,) = (await client.get("/v1/committee/cases", headers=committee)).json()
        assert (inbox["code"], inbox["opinions"], inbox["outcome"]) == (assigned["code"], 1, None)
        assert (inbox["proposal"], inbox["proposal_level"]) == (proposal["proposal"], "support")
        assert (await client.get("/v1/committee/cases", headers=psychologist)).status_code == 403

        # Only the committee decides; a bad outcome or an empty text is a 422 naming the field.
        assert (await client.post(f"{case_url}/decision", json=decision, headers=chair)).status_code == 403
        bad = await client.post(f"{case_url}/decision", json={"outcome": "maybe", "text": ""}, headers=committee)
        assert bad.status_code == 422
        assert {tuple(e["loc"])[-1] for e in bad.json()["detail"]} == {"outcome", "text"}
        assert await emitted(app, "case.decided") == []

        returned = {"outcome": "returned", "text": "Đề nghị bổ sung ý kiến chuyên gia pháp luật."}
        answer = await client.post(f"{case_url}/decision", json=returned, headers=committee)
        assert answer.status_code == 201
        body = answer.json()
        assert body["status"] == "in_progress"
        assert [(d["outcome"], d["text"]) for d in body["decisions"]] == [("returned", returned["text"])]
        (told,) = await emitted(app, "case.decided")
        assert (told["code"], told["outcome"], told["unit"]) == (assigned["code"], "returned", "phuong-tan-ninh")
        assert "text" not in told, "the decision's words stay in routing"
        assert told["recipients"] and all(r["email"] for r in told["recipients"]), "the chair is told"
        # Back with the club: the committee no longer reads it, and cannot decide twice.
        assert (await client.get(case_url, headers=committee)).status_code == 403
        assert (await client.post(f"{case_url}/decision", json=decision, headers=committee)).status_code == 409

        clock.advance(timedelta(days=2))
        assert (await client.post(f"{case_url}/forward", json=proposal, headers=chair)).status_code == 200
        (again,) = (await client.get("/v1/committee/cases", headers=committee)).json()
        assert again["outcome"] is None, "a new forwarding awaits a decision of its own"
        decided = await client.post(f"{case_url}/decision", json=decision, headers=committee)
        assert decided.status_code == 201 and decided.json()["status"] == "forwarded"
        assert [d["outcome"] for d in decided.json()["decisions"]] == ["returned", "approved"]
        assert (await client.post(f"{case_url}/decision", json=decision, headers=committee)).status_code == 409
        (done,) = (await client.get("/v1/committee/cases", headers=committee)).json()
        assert done["outcome"] == "approved" and done["decided_at"] is not None
        assert [e["outcome"] for e in await emitted(app, "case.decided")] == ["returned", "approved"]

        moves = [(s["from_status"], s["to_status"]) for s in await emitted(app, "case.status_changed")]
        assert moves[-3:] == [("in_progress", "forwarded"), ("forwarded", "in_progress"), ("in_progress", "forwarded")]
