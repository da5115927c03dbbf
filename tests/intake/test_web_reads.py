"""What the web pages read from intake besides cases: a unit's monthly reports with every revision, and the
words of a counseling request for the member routing gave it to (audited), nobody else."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from shared.events.common import Recipient
from shared.events.routing import AssignmentInfo, CounselingRequestAssigned
from tests.intake.conftest import MEMBER_ID

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def test_a_unit_lists_its_monthly_reports_with_every_revision(intake):
    # Tests share intake's database: other tests may have reported these months too.
    for period, activities in (("2026-07", 1), ("2026-07", 2), ("2026-08", 4)):
        response = await intake.client.put(
            f"/v1/units/phuong-tan-ninh/monthly-reports/{period}",
            json={"activities_held": activities},
            headers=intake.headers["reporter"],
        )
        assert response.status_code in (200, 201), response.text
    listed = await intake.client.get("/v1/units/phuong-tan-ninh/monthly-reports", headers=intake.headers["reporter"])
    assert listed.status_code == 200
    rows = listed.json()
    assert {r["unit"] for r in rows} == {"phuong-tan-ninh"}
    keys = [(r["period"], -r["revision"]) for r in rows]
    assert keys == sorted(keys, reverse=True), "newest month first, its revisions in order"
    latest = {r["period"]: r for r in rows}  # the last row of a month is its latest revision
    assert (latest["2026-07"]["activities_held"], latest["2026-08"]["activities_held"]) == (2, 4)
    july = [r for r in rows if r["period"] == "2026-07"]
    assert len(july) >= 2 and {"on_time", "due_on", "submitted_at"} <= set(july[0])
    other = await intake.client.get(
        "/v1/units/phuong-tan-ninh/monthly-reports", headers=intake.headers["reporter-other"]
    )
    assert other.status_code == 404, "another unit's reporter learns nothing"


async def test_the_member_given_a_counseling_request_reads_its_words_and_the_read_is_audited(intake):
    async with intake.client_from("10.0.0.77") as client:
        created = await client.post("/v1/counseling-requests", json={"message": "Em bị bạn bè cô lập ở lớp."})
    assert created.status_code == 201
    code = created.json()["code"]
    [row] = await intake.rows("SELECT id FROM intake.counseling_requests WHERE code = :c", c=code)
    url = f"/v1/counseling-requests/{row['id']}/messages"

    # Before routing says who has it, no member may read it (the same answer as for an unknown request).
    assert (await intake.client.get(url, headers=intake.headers["member-on-case"])).status_code == 404
    await intake.deliver(
        CounselingRequestAssigned(
            request_id=row["id"],
            code=code,
            topic="free",
            assignment=AssignmentInfo(
                assignment_id=uuid.uuid4(),
                field="psychology",
                member=Recipient(member_id=MEMBER_ID, display_name="Chuyên gia", email="cg@club.example"),
                respond_by=datetime(2026, 11, 25, tzinfo=UTC),
            ),
            assigned_at=datetime(2026, 11, 20, 3, 5, tzinfo=UTC),
        )
    )
    read = await intake.client.get(url, headers=intake.headers["member-on-case"])
    assert read.status_code == 200
    body = read.json()
    assert body["code"] == code and [m["body"] for m in body["messages"]] == ["Em bị bạn bè cô lập ở lớp."]
    assert (await intake.client.get(url, headers=intake.headers["member"])).status_code == 404, "another member"
    assert (await intake.client.get(url, headers=intake.headers["reporter"])).status_code == 403
    audited = await intake.rows(
        "SELECT action, role FROM intake.audit_log WHERE case_id = :r ORDER BY id", r=str(row["id"])
    )
    assert [(a["action"], a["role"]) for a in audited] == [("read_counseling", "member")]
