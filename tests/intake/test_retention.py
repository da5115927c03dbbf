"""Retention: a case closed longer than RETENTION_DAYS_AFTER_CLOSE has its child data and free text erased
(crypto-shredded; counted still) by the scheduled job's step, shown first by `retention --dry-run`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.events.routing import CaseStatusChanged
from tests.intake.conftest import MINIMAL_CASE
from tests.intake.test_cli import cli

pytestmark = pytest.mark.asyncio(loop_scope="package")

CASE = {
    **MINIMAL_CASE,
    "child": {"name": "Lâm Gia Bảo", "age": 4},
    "consent": {"guardian": {"recorded_by": "Cán bộ Đoàn", "recorded_at": "2026-11-19T08:05:00+07:00"}},
}


def closed(case: dict, at: datetime) -> CaseStatusChanged:
    return CaseStatusChanged(
        case_id=uuid.UUID(case["id"]), code=case["code"], from_status="forwarded", to_status="closed", changed_at=at
    )


async def test_a_dry_run_lists_the_cases_past_retention_then_the_run_erases_them_and_only_them(intake):
    headers = intake.headers["reporter"]
    old = (await intake.client.post("/v1/cases", json=CASE, headers=headers)).json()
    recent = (await intake.client.post("/v1/cases", json=CASE, headers=headers)).json()
    now = datetime.now(UTC)
    await intake.deliver(closed(old, now - timedelta(days=400)))
    await intake.deliver(closed(recent, now - timedelta(days=30)))

    code, output = await cli(intake, "retention", "--dry-run")
    assert code == 0, output
    assert old["code"] in output and recent["code"] not in output and "would be erased" in output
    keys = await intake.rows("SELECT wrapped FROM intake.case_keys WHERE case_id = :c", c=uuid.UUID(old["id"]))
    assert keys[0]["wrapped"] is not None  # a dry run erases nothing

    code, output = await cli(intake, "retention")
    assert code == 0 and "closed cases erased" in output, output
    chair = intake.headers["chair"]
    assert (await intake.client.get(f"/v1/cases/{old['id']}/child", headers=chair)).status_code == 410
    assert (await intake.client.get(f"/v1/cases/{recent['id']}/child", headers=chair)).status_code == 200
    [audit] = await intake.rows(
        "SELECT role, action FROM intake.audit_log WHERE case_id = :c AND action = 'retention_erased'",
        c=uuid.UUID(old["id"]),
    )
    assert audit == {"role": "system", "action": "retention_erased"}
    [event] = await intake.events("case.consent_withdrawn", old["id"])
    assert '"reason":"retention"' in event
    code, output = await cli(intake, "retention", "--dry-run")
    assert old["code"] not in output  # erased once
