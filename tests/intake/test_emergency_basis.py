"""The emergency basis (`emergency_protection_of_life_or_health`) lets intake process a child's data without
consent only with a written reason, and opens a follow-up to obtain consent later that the chair lists (and
counts) and closes by recording the consent."""

from __future__ import annotations

import uuid

import pytest

from tests.intake.conftest import MINIMAL_CASE

pytestmark = pytest.mark.asyncio(loop_scope="package")

EMERGENCY = {
    **MINIMAL_CASE,
    "child": {"name": "Đinh Văn Khôi", "age": 10},
    "legal_basis": "emergency_protection_of_life_or_health",
}
REASON = "Trẻ bị thương nặng, cha mẹ không liên lạc được; cần chuyển ngay đến bệnh viện."
CONSENT = {"guardian": {"recorded_by": "Cán bộ phường", "recorded_at": "2026-11-20T15:00:00+07:00"}}


async def test_the_emergency_basis_needs_a_written_reason_and_opens_a_consent_follow_up(intake):
    headers = intake.headers["reporter"]
    refused = await intake.client.post("/v1/cases", json=EMERGENCY, headers=headers)
    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert error["field"] == "body.emergency_reason" and "lý do" in error["message"]
    blank = await intake.client.post("/v1/cases", json={**EMERGENCY, "emergency_reason": "  "}, headers=headers)
    assert blank.status_code == 422

    chair = intake.headers["chair"]
    before = (await intake.client.get("/v1/consent-follow-ups", headers=chair)).json()["open"]
    created = await intake.client.post("/v1/cases", json={**EMERGENCY, "emergency_reason": REASON}, headers=headers)
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    [stored] = await intake.rows("SELECT emergency_reason FROM intake.cases WHERE id = :c", c=uuid.UUID(case_id))
    assert stored["emergency_reason"].startswith("v2:") and "bệnh viện" not in stored["emergency_reason"]
    assert (await intake.client.get(f"/v1/cases/{case_id}", headers=chair)).json()["emergency_reason"] == REASON
    assert (await intake.client.get(f"/v1/cases/{case_id}", headers=headers)).json()["emergency_reason"] is None

    listed = (await intake.client.get("/v1/consent-follow-ups", headers=chair)).json()
    assert listed["open"] == before + 1 and case_id in {i["case_id"] for i in listed["items"]}
    assert (await intake.client.get("/v1/consent-follow-ups", headers=headers)).status_code == 403

    url = f"/v1/cases/{case_id}/consent"
    assert (await intake.client.put(url, json={}, headers=chair)).status_code == 422
    done = await intake.client.put(url, json=CONSENT, headers=chair)
    assert done.status_code == 200 and done.json()["resolved_at"]
    after = (await intake.client.get("/v1/consent-follow-ups", headers=chair)).json()
    assert after["open"] == before and case_id not in {i["case_id"] for i in after["items"]}
    case = (await intake.client.get(f"/v1/cases/{case_id}", headers=chair)).json()
    assert case["consent"]["guardian"]["recorded_by"] == "Cán bộ phường"
