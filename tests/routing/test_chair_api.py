"""What the chair's pages read from routing: the dashboard's lists (an overdue Decree 56 clock, a declined
assignment, unanswered ones, waiting cases), the suggestion for a case's fields with its reasons, the
members' loads, a CSV import's preview and apply (a bad row changes nothing), and reopening with a reason."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from devtools.waiting import eventually
from services.routing import store
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

HEADER = "key,display_name,organisation,organisation_kind,club_role,fields,units,email,capacity,leave_periods\n"


async def test_the_dashboard_lists_what_needs_the_chair_sorted_by_deadline(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        chair = await as_role(app, "chair")
        learned = START - timedelta(hours=13)  # the 12-hour emergency clock ran out an hour ago
        await publish(settings, case_reported("trafficking", "phuong-tan-ninh", "critical", "support", learned))
        first = (await eventually(lambda: emitted(app, "case.assigned")))[0]
        await publish(settings, case_reported("child_marriage", "phuong-go-dau", "low", "prevention"))
        await eventually(lambda: _count(app, "case.assigned", 2))

        board = (await client.get("/v1/chair/dashboard", headers=chair)).json()
        passed = [i for i in board["deadlines_passed"] if i["deadline"] == "emergency_intervention"]
        assert [i["case_id"] for i in passed] == [first["case_id"]], "the critical case is overdue"
        assert passed[0]["due_at"].startswith((learned + timedelta(hours=12)).astimezone().isoformat()[:10])
        assert any(i["deadline"] == "support_plan" for i in board["deadlines_coming"])
        unanswered = board["unanswered"]
        assert unanswered and all(i["deadline"] == "acceptance" and i["display_name"] for i in unanswered)
        dues = [i["due_at"] for i in unanswered]
        assert dues == sorted(dues), "sorted by deadline"

        # A member declines: the decline is listed, with whoever took the field over.
        held = by_field(first)
        field = next(f for f in held if f)
        declined_id = held[field]["assignment_id"]
        refused = await client.post(
            f"/v1/assignments/{declined_id}/decline", headers=await as_assignee(app, held[field])
        )
        assert refused.status_code == 200
        board = (await client.get("/v1/chair/dashboard", headers=chair)).json()
        declined = [i for i in board["declined"] if i["assignment_id"] == declined_id]
        assert declined and declined[0]["field"] == field and declined[0]["code"] == first["code"]

        # The suggestion for the declined field: who declined is excluded and unranked; rank 1 is who took it.
        suggestions = (await client.get(f"/v1/chair/cases/{first['case_id']}/suggestions", headers=chair)).json()
        for_field = [s for s in suggestions if s["field"] == field]
        decliner = next(s for s in for_field if s["member_id"] == held[field]["member"]["member_id"])
        assert decliner["excluded"] and decliner["rank"] is None and not decliner["eligible"]
        ranks = [s["rank"] for s in for_field if s["eligible"]]
        assert ranks == list(range(1, len(ranks) + 1))
        assert {"covers_unit", "load", "capacity", "available"} <= set(for_field[0])

        loads = (await client.get("/v1/chair/members/loads", headers=chair)).json()
        assert sum(item["load"] for item in loads) >= 2
        member = await as_role(app, "member")
        assert (await client.get("/v1/chair/dashboard", headers=member)).status_code == 403


async def test_a_member_csv_is_previewed_then_applied_and_a_bad_row_changes_nothing(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        chair = await as_role(app, "chair")
        changed = (
            "dd-chau-thanh,Lý Thị Hồng,Huyện đoàn Châu Thành,district,member,psychology;law,,hong@club.example,3,\n"
        )
        added = "bs-an,Trần Văn An,Sở Y tế,department,member,medicine,,an@club.example,4,2026-12-20..2026-12-31\n"
        text = HEADER + changed + added
        preview = await client.post("/v1/chair/members/import", json={"csv": text}, headers=chair)
        assert preview.status_code == 200, preview.text
        body = preview.json()
        assert not body["applied"] and body["counts"]["added"] == 1 and body["counts"]["changed"] == 1
        change = next(r for r in body["rows"] if r["key"] == "dd-chau-thanh")
        assert {c["field"] for c in change["changes"]} >= {"fields", "email", "capacity"}
        assert await _member(app, "bs-an") is None, "a preview writes nothing"

        bad = text + "x-1,Người lỗi,Sở Y tế,department,member,surgery,,khong-phai-email,-1,\n"
        shown = (await client.post("/v1/chair/members/import", json={"csv": bad}, headers=chair)).json()
        wrong = next(r for r in shown["rows"] if r["key"] == "x-1")
        assert wrong["status"] == "error" and {e["field"] for e in wrong["errors"]} >= {"fields", "email", "capacity"}
        assert all(e["message"]["vi"] for e in wrong["errors"])
        refused = await client.post("/v1/chair/members/import", json={"csv": bad, "apply": True}, headers=chair)
        assert refused.status_code == 422
        assert any(d["field"].startswith("body.rows.4.") for d in refused.json()["detail"])
        assert await _member(app, "bs-an") is None and (await _member(app, "dd-chau-thanh")).capacity != 3

        nonsense = await client.post("/v1/chair/members/import", json={"csv": "ten,tuoi\nA,3\n"}, headers=chair)
        assert nonsense.status_code == 422 and "key" in nonsense.json()["detail"][0]["message"]

        applied = await client.post("/v1/chair/members/import", json={"csv": text, "apply": True}, headers=chair)
        assert applied.status_code == 200 and applied.json()["applied"]
        assert (await _member(app, "dd-chau-thanh")).capacity == 3
        assert (await _member(app, "bs-an")).fields == ["medicine"]
        again = (await client.post("/v1/chair/members/import", json={"csv": text}, headers=chair)).json()
        assert again["counts"]["unchanged"] == 2


async def test_the_chair_reopens_a_closed_case_with_a_reason(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        chair = await as_role(app, "chair")
        await publish(settings, case_reported("child_marriage", "phuong-go-dau", "low", "prevention"))
        assigned = (await eventually(lambda: emitted(app, "case.assigned")))[0]
        case_id = assigned["case_id"]
        holder = assigned["assignments"][0]
        assert (
            await client.post(
                f"/v1/assignments/{holder['assignment_id']}/accept", headers=await as_assignee(app, holder)
            )
        ).status_code == 200
        assert (await client.post(f"/v1/cases/{case_id}/start", headers=chair)).status_code == 200
        forwarded = await client.post(
            f"/v1/cases/{case_id}/forward", json={"proposal": "Đề xuất hỗ trợ."}, headers=chair
        )
        assert forwarded.status_code == 200
        closed = await client.post(f"/v1/cases/{case_id}/close", json={"outcome": "Đã hỗ trợ xong."}, headers=chair)
        assert closed.json()["closed_at"]
        empty = await client.post(f"/v1/cases/{case_id}/reopen", json={"reason": ""}, headers=chair)
        assert empty.status_code == 422
        reopened = await client.post(
            f"/v1/cases/{case_id}/reopen", json={"reason": "Gia đình báo trẻ lại bị đánh."}, headers=chair
        )
        assert reopened.status_code == 200
        assert reopened.json()["status"] == "in_progress"
        assert reopened.json()["reopen_reason"] == "Gia đình báo trẻ lại bị đánh."


async def _count(app, event_type: str, n: int):
    found = await emitted(app, event_type)
    return found if len(found) >= n else None


async def _member(app, key: str):
    async with app.state.runtime.sessions() as session:
        return (await session.execute(select(store.members).where(store.members.c.key == key))).first()
