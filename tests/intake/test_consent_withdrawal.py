"""Consent withdrawal crypto-shreds one case: an authorised person records it with a reason; the child's data
and the free text become unreadable (the case's key is destroyed, so a copy of the database taken before reads
no better), the case still counts, the audit shows who and why, and routing is told to erase its part."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.intake.conftest import MINIMAL_CASE

pytestmark = pytest.mark.asyncio(loop_scope="package")

CASE = {
    **MINIMAL_CASE,
    "summary": "Em Hồ Thị Mai ở ấp Phước Hội bị bỏ đói.",
    "child": {"name": "Hồ Thị Mai", "age": 6, "address": "ấp Phước Hội"},
    "consent": {"guardian": {"recorded_by": "Cán bộ Đoàn", "recorded_at": "2026-11-19T08:05:00+07:00"}},
    "reporter_contact": {"phone": "0909111222"},
}


async def test_withdrawal_destroys_the_cases_key_keeps_the_count_and_records_who_and_why(intake):
    created = await intake.client.post("/v1/cases", json=CASE, headers=intake.headers["reporter"])
    case_id = created.json()["id"]
    cid = uuid.UUID(case_id)
    chair = intake.headers["chair"]
    before = await intake.rows("SELECT name, address FROM intake.case_children WHERE case_id = :c", c=cid)
    [key] = await intake.rows("SELECT wrapped FROM intake.case_keys WHERE case_id = :c", c=cid)
    assert before[0]["name"].startswith("v2:case:") and key["wrapped"].startswith("v2:dev1:")
    assert (await intake.client.get(f"/v1/cases/{case_id}/child", headers=chair)).status_code == 200

    url = f"/v1/cases/{case_id}/consent-withdrawal"
    assert (
        await intake.client.post(url, json={"reason": "Mẹ em rút lại"}, headers=intake.headers["reporter"])
    ).status_code == 403
    assert (await intake.client.post(url, json={}, headers=chair)).status_code == 422
    done = await intake.client.post(url, json={"reason": "Mẹ của em rút lại sự đồng ý ngày 20/11."}, headers=chair)
    assert done.status_code == 201 and done.json()["erased"] is True
    assert (await intake.client.post(url, json={"reason": "lần hai"}, headers=chair)).status_code == 409

    # The key is gone: the child's data reads nowhere, even from the ciphertext kept in a backup.
    [key] = await intake.rows("SELECT wrapped, destroyed_why FROM intake.case_keys WHERE case_id = :c", c=cid)
    assert key == {"wrapped": None, "destroyed_why": "consent_withdrawn"}
    child = await intake.client.get(f"/v1/cases/{case_id}/child", headers=chair)
    assert child.status_code == 410 and child.json()["message"]["vi"]
    assert (await intake.client.get(f"/v1/cases/{case_id}/form-01", headers=chair)).status_code == 410
    case = (await intake.client.get(f"/v1/cases/{case_id}", headers=chair)).json()
    assert case["erased"] is True and case["summary"] is None and case["category"] == MINIMAL_CASE["category"]
    cipher = intake.app.state.intake.cipher
    with pytest.raises(Exception):  # noqa: B017 - the master key alone does not open a case's value
        cipher.decrypt(before[0]["name"], f"case:{case_id}:name")

    audit = await intake.rows(
        "SELECT role, action FROM intake.audit_log WHERE case_id = :c AND action = 'consent_withdrawn'", c=cid
    )
    assert audit == [{"role": "chair", "action": "consent_withdrawn"}]
    [why] = await intake.rows("SELECT role, reason FROM intake.consent_withdrawals WHERE case_id = :c", c=cid)
    assert why["role"] == "chair" and cipher.decrypt(why["reason"], f"withdrawal:{case_id}:reason").startswith("Mẹ")
    [event] = await intake.events("case.consent_withdrawn", case_id)
    assert json.loads(event)["payload"]["reason"] == "consent_withdrawn"
    assert set(json.loads(event)["payload"]) == {"case_id", "code", "withdrawn_at", "reason"}
    assert await intake.rows("SELECT id FROM intake.cases WHERE id = :c", c=cid)  # still counted
