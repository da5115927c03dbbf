"""Tasks the provincial Standing Committee assigns to the club: a committee member creates one, it is
routed like a case to members by field (the unit criterion first), it carries no child data, and the
assignees' reports complete it."""

from __future__ import annotations

from devtools.waiting import eventually
from shared.clock import FakeClock
from tests.routing.support import START, as_member, as_role, emitted, member_id, routing_app, routing_settings, seeded

TASK = {
    "title_vi": "Góp ý dự thảo Kế hoạch triển khai Tháng hành động vì trẻ em năm 2027",
    "details_vi": "Góp ý phần hỗ trợ trẻ em bị bạo lực học đường.",
    "fields": ["law", "psychology"],
    "unit": "xa-tan-chau",
    "due_on": "2026-12-15",
}


async def test_a_committee_task_is_routed_by_field_and_completed_by_its_assignees_reports(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        committee = await as_role(app, "committee")
        created = await client.post("/v1/tasks", json=TASK, headers=committee)
        assert created.status_code == 201, created.text
        task = created.json()
        assert task["code"] == "NV-2026-001" and task["status"] == "assigned" and task["missing_fields"] == []
        # the unit criterion: Dương Thị Thanh Tuyền covers Xã Tân Châu and has law and psychology
        tuyen = str(await member_id(app, "dd-tan-chau"))
        assert {(a["field"], str(a["member_id"])) for a in task["assignees"]} == {("law", tuyen), ("psychology", tuyen)}
        [event] = await emitted(app, "task.assigned")
        assert event["code"] == "NV-2026-001" and event["due_on"] == "2026-12-15" and event["unit"] == "xa-tan-chau"
        assert "details_vi" not in event and {a["field"] for a in event["assignees"]} == {"law", "psychology"}
        second = await client.post("/v1/tasks", json={**TASK, "unit": None, "fields": ["medicine"]}, headers=committee)
        assert second.json()["code"] == "NV-2026-002"

        member = await as_member(app, "dd-tan-chau")
        mine = (await client.get("/v1/tasks", headers=member)).json()
        assert [t["code"] for t in mine] == ["NV-2026-001"]  # not the medicine task
        other = await as_member(app, "dd-ben-cau")
        url = f"/v1/tasks/{task['task_id']}"
        refused = await client.post(f"{url}/report", json={"report_vi": "Xong"}, headers=other)
        assert (
            refused.status_code == 403 and refused.json()["message"]["vi"] == "Đồng chí không được giao nhiệm vụ này."
        )
        assert (await client.get(url, headers=other)).status_code == 403

        done = await client.post(f"{url}/report", json={"report_vi": "Đã gửi góp ý bằng văn bản."}, headers=member)
        assert done.status_code == 200 and done.json()["status"] == "done"
        [completed] = await eventually(lambda: emitted(app, "task.completed"))
        assert completed["code"] == "NV-2026-001"
        again = await client.post(f"{url}/report", json={"report_vi": "Lần nữa"}, headers=member)
        assert again.status_code == 409 and "đã báo cáo" in again.json()["message"]["vi"]


async def test_a_task_has_no_child_data_a_future_deadline_and_only_the_committee_creates_it(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        committee = await as_role(app, "committee")
        child = await client.post("/v1/tasks", json={**TASK, "child_name": "Nguyễn Văn A"}, headers=committee)
        assert child.status_code == 422 and child.json()["detail"][0]["field"] == "body.child_name"
        past = await client.post(
            "/v1/tasks", json={**TASK, "due_on": "2026-11-30"}, headers={**committee, "Accept-Language": "vi"}
        )
        assert past.status_code == 422
        [error] = past.json()["detail"]
        assert (error["field"], error["message"], error["type"]) == (
            "body.due_on",
            "Hạn hoàn thành không được trước hôm nay.",
            "past",
        )
        chair = await as_role(app, "chair")
        assert (await client.post("/v1/tasks", json=TASK, headers=chair)).status_code == 403
        assert await emitted(app, "task.assigned") == []
