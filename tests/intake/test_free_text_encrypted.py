"""Free text that can identify a child (case summary and urgency reason, monthly-report notes, the club's
counseling answer) is stored encrypted like the child fields, each read of it is audited, and the data
migration encrypts values stored in plain text before."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command

from devtools.waiting import eventually
from shared.events.routing import CounselingRequestAnswered
from shared.migrations import alembic_config
from tests.intake.conftest import MINIMAL_CASE
from tests.support.sealed import answer_for

pytestmark = pytest.mark.asyncio(loop_scope="package")

SUMMARY = "Em Phạm Gia Huy, lớp 4B trường Tiểu học Hòa Thành, bị cha đánh."
NOTES = "Tháng này em Lê Thị Ngọc Hân (ấp Bình Hòa) được hỗ trợ."
ANSWER = "Chào em Vy, em hãy gọi 111 hoặc nói với cô Hạnh ở trường."
MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "intake" / "migrations"


async def test_a_case_summary_is_stored_encrypted_padded_and_its_reads_audited(intake):
    created = await intake.client.post(
        "/v1/cases", json={**MINIMAL_CASE, "summary": SUMMARY}, headers=intake.headers["reporter"]
    )
    assert created.status_code == 201, created.text
    case_id = uuid.UUID(created.json()["id"])
    other = await intake.client.post(
        "/v1/cases", json={**MINIMAL_CASE, "summary": "Bỏ mặc."}, headers=intake.headers["reporter"]
    )
    [row] = await intake.rows("SELECT summary FROM intake.cases WHERE id = :c", c=case_id)
    [short] = await intake.rows("SELECT summary FROM intake.cases WHERE id = :c", c=uuid.UUID(other.json()["id"]))
    assert row["summary"].startswith("v2:") and "Huy" not in row["summary"]
    assert len(row["summary"]) == len(short["summary"])  # length hidden: both in the same bucket

    read = await intake.client.get(f"/v1/cases/{case_id}", headers=intake.headers["chair"])
    assert read.status_code == 200 and read.json()["summary"] == SUMMARY
    audit = await intake.rows(
        "SELECT action, role, fields FROM intake.audit_log WHERE case_id = :c ORDER BY id", c=case_id
    )
    assert audit == [{"action": "read_case", "role": "chair", "fields": ["summary"]}]
    listed = (await intake.client.get("/v1/cases", headers=intake.headers["chair"])).json()
    assert [c["summary"] for c in listed if c["id"] == str(case_id)] == [None]


async def test_monthly_report_notes_are_encrypted_and_each_read_audited(intake):
    path = "/v1/units/phuong-tan-ninh/monthly-reports/2026-06"
    put = await intake.client.put(
        path, json={"cases_by_category": {"neglect": 1}, "notes": NOTES}, headers=intake.headers["reporter"]
    )
    assert put.status_code in (200, 201), put.text
    report_id = uuid.UUID(put.json()["id"])
    [row] = await intake.rows("SELECT notes FROM intake.monthly_reports WHERE id = :r", r=report_id)
    assert row["notes"].startswith("v2:") and "Hân" not in row["notes"]
    history = (await intake.client.get(path, headers=intake.headers["chair"])).json()
    assert history["latest"]["notes"] == NOTES
    audit = await intake.rows("SELECT action, fields FROM intake.audit_log WHERE case_id = :r", r=report_id)
    assert audit == [{"action": "read_report_notes", "fields": ["notes"]}]


async def test_the_clubs_counseling_answer_is_stored_encrypted(intake):
    async with intake.client_from("10.0.9.1") as client:
        created = await client.post(
            "/v1/counseling-requests", json={"topic": "school_violence", "message": "Em bị bắt nạt.", "age": 12}
        )
    code, secret = created.json()["code"], created.json()["secret"]
    [request] = await intake.rows("SELECT id FROM intake.counseling_requests WHERE code = :c", c=code)
    await intake.deliver(
        CounselingRequestAnswered(
            request_id=request["id"],
            code=code,
            answer=answer_for(request["id"], ANSWER),
            answered_by=uuid.uuid4(),
            answered_at=datetime(2026, 11, 20, 3, 0, tzinfo=UTC),
        )
    )
    [row] = await intake.rows("SELECT answer_text FROM intake.counseling_requests WHERE id = :r", r=request["id"])
    assert row["answer_text"].startswith("v2:") and "Hạnh" not in row["answer_text"]

    async def answer() -> str | None:
        response = await intake.client.get(f"/v1/counseling-requests/{code}", headers={"X-Tracking-Secret": secret})
        return response.json()["answer"]

    assert await eventually(answer) == ANSWER


async def test_the_data_migration_encrypts_free_text_stored_in_plain_before(intake, template_database):
    """On a copy of the database at 0007 (free text in plain), `upgrade head` encrypts it (migration 0008)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from devtools import infra
    from shared.crypto import DEV_CHILD_DATA_KEYS as KEYS
    from shared.crypto import FieldCipher, parse_keys

    database = infra.unique("caunoi_mig")
    await asyncio.to_thread(infra.create_database, database, template_database)
    url = infra.sqlalchemy_url(database)
    config = alembic_config(MIGRATIONS, url)
    case_id = uuid.uuid4()
    try:
        await asyncio.to_thread(command.downgrade, config, "0007")
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO intake.cases (id, code, unit, category, urgency, protection_level, "
                    "special_circumstances, learned_at, reported_at, summary, status, age_band, legal_basis, "
                    "reported_by) VALUES (:id, 'TN-2026-999999', 'phuong-tan-ninh', 'neglect', 'high', 'support', "
                    "'{}', now(), now(), :s, 'reported', 'unknown', 'consent', :id)"
                ),
                {"id": case_id, "s": SUMMARY},
            )
        await asyncio.to_thread(command.upgrade, config, "head")
        async with engine.connect() as conn:
            stored = (
                await conn.execute(text("SELECT summary FROM intake.cases WHERE id = :c"), {"c": case_id})
            ).scalar_one()
        await engine.dispose()
        assert stored.startswith("v2:") and "Huy" not in stored
        assert FieldCipher(parse_keys(KEYS)).decrypt(stored, f"case:{case_id}:summary") == SUMMARY
    finally:
        await asyncio.to_thread(infra.drop_database, database)
