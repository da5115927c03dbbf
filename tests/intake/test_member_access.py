"""Members read the cases routing puts them on: intake follows `case.assigned` and `case.members_changed`
and lets a `member` read a case (and, audited, its child's data) only while it is on it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.events.common import Recipient
from shared.events.routing import AssignmentInfo, CaseAssigned, CaseMembersChanged, CaseStatusChanged
from tests.intake.conftest import MEMBER_ID, MINIMAL_CASE
from tests.support.credentials import grant

pytestmark = pytest.mark.asyncio(loop_scope="package")

CHILD_CASE = {
    **MINIMAL_CASE,
    "child": {"name": "Lê Văn Tú", "age": 5},
    "consent": {"guardian": {"recorded_by": "Cán bộ Đoàn", "recorded_at": "2026-11-19T08:05:00+07:00"}},
}


def _assignment(member_id: uuid.UUID, at: datetime) -> AssignmentInfo:
    return AssignmentInfo(
        assignment_id=uuid.uuid4(),
        field="psychology",
        member=Recipient(member_id=member_id, display_name="Thành viên"),
        respond_by=at + timedelta(hours=24),
    )


def assigned(case: dict, *member_ids: uuid.UUID, at: datetime | None = None) -> CaseAssigned:
    at = at or datetime.now(UTC)
    return CaseAssigned(
        case_id=uuid.UUID(case["id"]),
        code=case["code"],
        unit=MINIMAL_CASE["unit"],
        category=MINIMAL_CASE["category"],
        urgency="high",
        protection_level="support",
        assignments=tuple(_assignment(m, at) for m in member_ids),
        assigned_at=at,
    )


def members_changed(
    case: dict, *, added: tuple[uuid.UUID, ...] = (), removed: tuple[uuid.UUID, ...] = (), at: datetime
) -> CaseMembersChanged:
    return CaseMembersChanged(
        case_id=uuid.UUID(case["id"]),
        code=case["code"],
        urgency="high",
        reason="chair",
        added=tuple(_assignment(m, at) for m in added),
        removed=tuple(Recipient(member_id=m, display_name="Thành viên") for m in removed),
        changed_at=at,
    )


async def _member(intake, member_id: uuid.UUID) -> dict[str, str]:
    from services.intake import store

    return await grant(intake.sessions, store.credentials, "member", member_id=member_id)


async def test_an_assigned_member_reads_the_case_and_its_child_data_with_an_audit_entry(intake):
    case = (await intake.client.post("/v1/cases", json=CHILD_CASE, headers=intake.headers["chair"])).json()
    other = (await intake.client.post("/v1/cases", json=MINIMAL_CASE, headers=intake.headers["chair"])).json()
    member, on_case = await _member(intake, uuid.uuid4()), intake.headers["member-on-case"]
    assert (await intake.client.get(f"/v1/cases/{case['id']}", headers=on_case)).status_code == 404

    await intake.deliver(assigned(case, MEMBER_ID))
    read = await intake.client.get(f"/v1/cases/{case['id']}", headers=on_case)
    assert read.status_code == 200 and read.json()["code"] == case["code"] and read.json()["has_child_data"]
    child = await intake.client.get(f"/v1/cases/{case['id']}/child", headers=on_case)
    assert child.status_code == 200 and child.json()["child"]["name"] == "Lê Văn Tú"
    audit = await intake.rows(
        "SELECT role, fields FROM intake.audit_log WHERE case_id = :c ORDER BY id", c=uuid.UUID(case["id"])
    )
    assert audit == [{"role": "member", "fields": ["summary"]}, {"role": "member", "fields": ["age", "name"]}]

    # Not the member's case, not the member: 404; the list of cases stays closed to members.
    assert (await intake.client.get(f"/v1/cases/{other['id']}", headers=on_case)).status_code == 404
    assert (await intake.client.get(f"/v1/cases/{case['id']}", headers=member)).status_code == 404
    assert (await intake.client.get(f"/v1/cases/{case['id']}/child", headers=member)).status_code == 404
    assert (await intake.client.get("/v1/cases", headers=on_case)).status_code == 403


async def test_members_changed_adds_and_removes_readers_and_a_late_older_event_changes_nothing(intake):
    case = (await intake.client.post("/v1/cases", json=MINIMAL_CASE, headers=intake.headers["chair"])).json()
    first, second = uuid.uuid4(), uuid.uuid4()
    first_headers, second_headers = await _member(intake, first), await _member(intake, second)
    t0 = datetime.now(UTC)
    await intake.deliver(assigned(case, first, at=t0))
    assert (await intake.client.get(f"/v1/cases/{case['id']}", headers=first_headers)).status_code == 200

    await intake.deliver(members_changed(case, added=(second,), removed=(first,), at=t0 + timedelta(minutes=5)))
    assert (await intake.client.get(f"/v1/cases/{case['id']}", headers=first_headers)).status_code == 404
    assert (await intake.client.get(f"/v1/cases/{case['id']}/child", headers=first_headers)).status_code == 404
    assert (await intake.client.get(f"/v1/cases/{case['id']}", headers=second_headers)).status_code == 200

    # A redelivered or late `case.assigned` from before the change does not put the first member back.
    await intake.deliver(assigned(case, first, at=t0 + timedelta(minutes=1)))
    assert (await intake.client.get(f"/v1/cases/{case['id']}", headers=first_headers)).status_code == 404


def status_changed(case: dict, from_status: str, to_status: str, at: datetime) -> CaseStatusChanged:
    return CaseStatusChanged(
        case_id=uuid.UUID(case["id"]),
        code=case["code"],
        from_status=from_status,
        to_status=to_status,
        changed_at=at,
    )


async def test_a_closed_case_is_closed_to_its_members_until_reopened_and_the_committee_reads_only_forwarded(intake):
    case = (await intake.client.post("/v1/cases", json=CHILD_CASE, headers=intake.headers["chair"])).json()
    on_case, committee = intake.headers["member-on-case"], intake.headers["committee"]
    at = datetime.now(UTC)
    await intake.deliver(assigned(case, MEMBER_ID, at=at))
    child_url = f"/v1/cases/{case['id']}/child"
    assert (await intake.client.get(child_url, headers=on_case)).status_code == 200
    assert (await intake.client.get(f"/v1/cases/{case['id']}", headers=committee)).status_code == 404
    listed = (await intake.client.get("/v1/cases", headers=committee)).json()
    assert case["id"] not in {c["id"] for c in listed}

    await intake.deliver(status_changed(case, "in_progress", "forwarded", at + timedelta(minutes=1)))
    assert (await intake.client.get(f"/v1/cases/{case['id']}", headers=committee)).status_code == 200
    await intake.deliver(status_changed(case, "forwarded", "closed", at + timedelta(minutes=2)))
    for url in (child_url, f"/v1/cases/{case['id']}", f"/v1/cases/{case['id']}/form-01"):
        assert (await intake.client.get(url, headers=on_case)).status_code == 404, url
    await intake.deliver(status_changed(case, "closed", "in_progress", at + timedelta(minutes=3)))
    assert (await intake.client.get(child_url, headers=on_case)).status_code == 200
