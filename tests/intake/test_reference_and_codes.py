"""What the fast path of `POST /v1/cases` must not change: codes stay unique and per year under concurrent
reports (per-year sequences, no counter row), and reference data changes apply at once whether they come
through the admin API of this process or straight from the database (NOTIFY), though intake keeps a copy."""

from __future__ import annotations

import asyncio
import csv
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from devtools.waiting import eventually
from tests.intake.conftest import MINIMAL_CASE

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def test_concurrent_reports_get_distinct_codes_of_the_year(intake):
    responses = await asyncio.gather(
        *(intake.client.post("/v1/cases", json=MINIMAL_CASE, headers=intake.headers["chair"]) for _ in range(20))
    )
    assert [r.status_code for r in responses] == [201] * 20
    codes = [r.json()["code"] for r in responses]
    assert len(set(codes)) == 20 and all(re.fullmatch(r"TN-2026-\d{6}", code) for code in codes)


async def test_a_new_year_starts_its_own_sequence_at_one(intake):
    intake.clock.set(intake.clock.now().replace(year=2031, month=1, day=2))
    first = (await intake.client.post("/v1/cases", json=MINIMAL_CASE, headers=intake.headers["chair"])).json()
    second = (await intake.client.post("/v1/cases", json=MINIMAL_CASE, headers=intake.headers["chair"])).json()
    assert (first["code"], second["code"]) == ("TN-2031-000001", "TN-2031-000002")


async def test_a_category_switched_off_by_the_admin_api_is_refused_on_the_next_report(intake):
    body = {"name_vi": "Tạm thời", "name_en": "Temporary", "fields": ["psychology"]}
    admin = intake.headers["admin"]
    assert (await intake.client.put("/v1/categories/tam-thoi", json=body, headers=admin)).status_code == 200
    case = {**MINIMAL_CASE, "category": "tam-thoi"}
    assert (await intake.client.post("/v1/cases", json=case, headers=intake.headers["chair"])).status_code == 201
    off = {**body, "active": False}
    assert (await intake.client.put("/v1/categories/tam-thoi", json=off, headers=admin)).status_code == 200
    refused = await intake.client.post("/v1/cases", json=case, headers=intake.headers["chair"])
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "body.category"


async def test_a_unit_changed_directly_in_the_database_is_applied_without_a_restart(intake):
    case = {**MINIMAL_CASE, "unit": "xa-tan-bien"}
    assert (await intake.client.post("/v1/cases", json=case, headers=intake.headers["chair"])).status_code == 201
    async with intake.sessions() as session, session.begin():
        await session.execute(text("UPDATE intake.units SET valid_to = '2026-01-31' WHERE code = 'xa-tan-bien'"))
    try:

        async def refused() -> bool:
            response = await intake.client.post("/v1/cases", json=case, headers=intake.headers["chair"])
            return response.status_code == 422 and response.json()["detail"][0]["field"] == "body.unit"

        await eventually(refused, timeout=5)
    finally:
        async with intake.sessions() as session, session.begin():
            await session.execute(text("UPDATE intake.units SET valid_to = NULL WHERE code = 'xa-tan-bien'"))


async def test_units_carry_their_youth_unions_email_and_zalo_and_the_event_says_so(intake):
    units = {u["code"]: u for u in (await intake.client.get("/v1/units", headers=intake.headers["chair"])).json()}
    with (Path(__file__).resolve().parents[2] / "data" / "units-tay-ninh-2025.csv").open(encoding="utf-8") as handle:
        communes = [units[row["code"]] for row in csv.DictReader(handle)]
    assert len(communes) == 96 and all(u["contact_email"] and u["contact_zalo_user_id"] for u in communes)
    assert units["ben-cau"]["contact_email"] is None  # a former district: nobody to remind
    body = {"name_vi": "Xã Thử Nghiệm", "kind": "xã", "valid_from": "2025-07-01", "contact_zalo_user_id": "5302999"}
    admin = intake.headers["admin"]
    put = await intake.client.put("/v1/units/xa-thu-nghiem", json=body, headers=admin)
    assert put.status_code == 200 and put.json()["contact_zalo_user_id"] == "5302999"
    [raw] = await intake.events("unit.upserted", "xa-thu-nghiem")
    event = json.loads(raw)
    assert event["payload"]["contact_zalo_user_id"] == "5302999" and event["payload"]["contact_email"] is None
    bad = await intake.client.put(
        "/v1/units/xa-thu-nghiem", json={**body, "contact_zalo_user_id": "có dấu"}, headers=admin
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "body.contact_zalo_user_id"
