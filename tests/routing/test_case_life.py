"""Accepting and declining, hand-overs, opinions, compile-and-forward, closing and reopening a case."""

from __future__ import annotations

from datetime import timedelta
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
    member_id,
    publish,
    routing_app,
    routing_settings,
    seeded,
)
from tests.support.sealed import links


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_a_decline_hands_the_field_to_the_next_candidate_and_names_who_left_and_who_came(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        await publish(settings, case_reported("child_marriage", "phuong-go-dau", "high"))
        assigned = (await eventually(lambda: emitted(app, "case.assigned")))[0]
        law = by_field(assigned)["law"]
        phuong = await as_member(app, "dd-trang-bang")
        stranger = await as_member(app, "dd-tan-bien")

        url = f"/v1/assignments/{law['assignment_id']}/decline"
        assert (await client.post(url, headers=stranger)).status_code == 403
        assert (await client.post(url, headers=phuong)).status_code == 200
        assert (await client.post(url, headers=phuong)).status_code == 409

        (changed,) = await emitted(app, "case.members_changed")
        assert changed["reason"] == "declined"
        assert [r["display_name"] for r in changed["removed"]] == ["Ngô Thị Phương"]
        (added,) = changed["added"]
        # Nobody else with law covers the unit; all are idle, so the first by key: the Dương Minh Châu representative.
        assert (added["field"], added["member"]["display_name"]) == ("law", "Phan Văn Lộc")
        answered = await emitted(app, "assignment.answered")
        assert [(a["assignment_id"], a["accepted"]) for a in answered] == [(law["assignment_id"], False)]

        case = (await client.get(f"/v1/cases/{assigned['case_id']}", headers=await as_role(app, "chair"))).json()
        statuses = {(a["display_name"], a["field"], a["status"]) for a in case["assignments"]}
        assert statuses == {
            ("Ngô Thị Phương", "law", "declined"),
            ("Ngô Thị Phương", "education", "pending"),
            ("Trương Thị Yến", "social_work", "pending"),
            ("Phan Văn Lộc", "law", "pending"),
        }


async def test_a_signed_link_answers_once_and_only_while_genuine_and_unexpired(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    clock = FakeClock(START)
    async with routing_app(settings, clock) as (app, client):
        await publish(settings, case_reported("neglect", "phuong-go-dau", "medium"))
        assigned = (await eventually(lambda: emitted(app, "case.assigned")))[0]
        first, second = assigned["assignments"]
        accept = local(links(first)["accept"])

        page = await client.get(accept)
        assert page.status_code == 200 and '<form method="post">' in page.text
        assert await emitted(app, "assignment.answered") == []  # looking at the page changes nothing

        assert (await client.post(accept.replace("signature=", "signature=0"))).status_code == 403
        assert (await client.post(accept)).status_code == 200
        assert (await client.post(accept)).status_code == 410  # single use
        assert (await client.post(local(links(first)["decline"]))).status_code == 409  # already accepted

        status = await emitted(app, "case.status_changed")
        assert [(s["from_status"], s["to_status"]) for s in status] == [
            ("reported", "assigned"),
            ("assigned", "accepted"),
        ]

        clock.advance(timedelta(hours=settings.link_ttl_hours, seconds=1))
        assert (await client.post(local(links(second)["accept"]))).status_code == 410  # expired
        assert len(await emitted(app, "assignment.answered")) == 1


async def test_the_chair_compiles_the_opinions_forwards_them_to_the_committee_closes_and_reopens(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        await publish(settings, case_reported("violence_emotional", "phuong-tan-ninh", "medium"))
        assigned = (await eventually(lambda: emitted(app, "case.assigned")))[0]
        case_url = f"/v1/cases/{assigned['case_id']}"
        chair = await as_role(app, "chair")
        experts = by_field(assigned)
        psychologist = await as_assignee(app, experts["psychology"])
        lawyer = await as_assignee(app, experts["law"])

        # Forbidden transitions answer 409 and change nothing.
        forward = {"proposal": "Đề xuất: phối hợp nhà trường và công an xã."}
        assert (await client.post(f"{case_url}/forward", json=forward, headers=chair)).status_code == 409
        assert (await client.post(f"{case_url}/close", json={"outcome": "x"}, headers=chair)).status_code == 409
        opinion = {"text": "Cần tư vấn tâm lý.", "recommended_level": "support", "referrals": ["school"]}
        assert (await client.post(f"{case_url}/opinions", json=opinion, headers=psychologist)).status_code == 409
        assert (await client.get(case_url, headers=chair)).json()["status"] == "assigned"

        for expert, headers in ((experts["psychology"], psychologist), (experts["law"], lawyer)):
            answer = await client.post(f"/v1/assignments/{expert['assignment_id']}/accept", headers=headers)
            assert answer.status_code == 200
        assert (await client.post(f"{case_url}/opinions", json=opinion, headers=psychologist)).status_code == 201
        second = {"text": "Báo công an xã.", "recommended_level": "intervention", "referrals": ["police", "school"]}
        assert (await client.post(f"{case_url}/opinions", json=second, headers=lawyer)).status_code == 201
        bad = {"text": "x", "referrals": ["tòa án"]}
        assert (await client.post(f"{case_url}/opinions", json=bad, headers=lawyer)).status_code == 422

        assert (await client.post(f"{case_url}/forward", json=forward, headers=lawyer)).status_code == 403
        forwarded = await client.post(f"{case_url}/forward", json=forward, headers=chair)
        assert forwarded.status_code == 200 and forwarded.json()["status"] == "forwarded"
        (sent,) = await emitted(app, "case.forwarded")
        assert sent["recommended_level"] == "intervention" and sent["referrals"] == ["school", "police"]
        assert {r["display_name"] for r in sent["recipients"]} == {"Châu Văn Thành", "Văn phòng Tỉnh đoàn Tây Ninh"}
        assert (await client.post(f"{case_url}/forward", json=forward, headers=chair)).status_code == 409

        closed = await client.post(f"{case_url}/close", json={"outcome": "Đã can thiệp, trẻ an toàn."}, headers=chair)
        assert closed.json()["outcome"] == "Đã can thiệp, trẻ an toàn."
        assert (await client.post(f"{case_url}/opinions", json=opinion, headers=lawyer)).status_code == 409
        assert (await client.post(f"{case_url}/reopen", headers=chair)).json()["status"] == "in_progress"

        moves = [(s["from_status"], s["to_status"]) for s in await emitted(app, "case.status_changed")]
        assert moves == [
            ("reported", "assigned"),
            ("assigned", "accepted"),
            ("accepted", "in_progress"),
            ("in_progress", "forwarded"),
            ("forwarded", "closed"),
            ("closed", "in_progress"),
        ]


async def test_the_chair_replaces_a_member_and_a_member_going_on_leave_hands_over_their_cases(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        await publish(settings, case_reported("neglect", "phuong-go-dau", "medium"))
        assigned = (await eventually(lambda: emitted(app, "case.assigned")))[0]
        chair = await as_role(app, "chair")
        yen = await member_id(app, "dd-go-dau")  # holds social_work and psychology here
        hung = await member_id(app, "so-ldtbxh")
        change = {"remove": [str(yen)], "add": [{"member_id": str(hung), "field": "social_work"}]}
        response = await client.post(f"/v1/cases/{assigned['case_id']}/members", json=change, headers=chair)
        assert response.status_code == 200
        (replaced,) = await emitted(app, "case.members_changed")
        assert replaced["reason"] == "chair"
        assert [r["display_name"] for r in replaced["removed"]] == ["Trương Thị Yến"]
        assert [(a["field"], a["member"]["display_name"]) for a in replaced["added"]] == [
            ("social_work", "Phạm Văn Hùng")
        ]

        leave = {"starts_on": "2026-11-30", "ends_on": "2026-12-20"}
        assert (await client.post(f"/v1/members/{hung}/leaves", json=leave, headers=chair)).status_code == 201
        handed = (await emitted(app, "case.members_changed"))[1]
        assert handed["reason"] == "leave" and [r["display_name"] for r in handed["removed"]] == ["Phạm Văn Hùng"]
        (successor,) = handed["added"]
        assert successor["field"] == "social_work"
        assert successor["member"]["display_name"] not in ("Phạm Văn Hùng", "Trương Thị Yến")
        backwards = {"starts_on": "2026-12-20", "ends_on": "2026-12-01"}
        assert (await client.post(f"/v1/members/{hung}/leaves", json=backwards, headers=chair)).status_code == 422
