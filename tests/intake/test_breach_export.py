"""Breach response: `breach-export` writes, for a period, every read of children's data (who, which case, when,
from where) and the list of the cases affected, as the 72-hour notification needs."""

from __future__ import annotations

import csv
import io

import pytest

from tests.intake.conftest import MINIMAL_CASE
from tests.intake.test_cli import cli

pytestmark = pytest.mark.asyncio(loop_scope="package")

CASE = {
    **MINIMAL_CASE,
    "child": {"name": "Phan Thị Ngọc", "age": 5},
    "consent": {"guardian": {"recorded_by": "Cán bộ Đoàn", "recorded_at": "2026-11-19T08:05:00+07:00"}},
}


async def test_the_export_lists_every_read_with_who_when_where_and_the_affected_cases(intake, tmp_path):
    created = (await intake.client.post("/v1/cases", json=CASE, headers=intake.headers["reporter"])).json()
    async with intake.client_from("203.0.113.9") as client:
        assert (
            await client.get(f"/v1/cases/{created['id']}/child", headers=intake.headers["chair"])
        ).status_code == 200
        assert (await client.get(f"/v1/cases/{created['id']}", headers=intake.headers["reporter"])).status_code == 200
    out = tmp_path / "reads.csv"
    code, output = await cli(
        intake, "breach-export", "--since", "2020-01-01", "--until", "2030-01-01", "--out", str(out)
    )
    assert code == 0, output
    reads = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    mine = [r for r in reads if r["case_code"] == created["code"]]
    assert {(r["role"], r["action"], r["address"]) for r in mine} == {
        ("chair", "read_child", "203.0.113.9"),
        ("reporter", "read_case", "203.0.113.9"),
    }
    assert all(r["at"] and r["account_id"] and r["key_id"] for r in mine)
    assert "Phan Thị Ngọc" not in out.read_text(encoding="utf-8-sig")  # which data was read, never the data
    cases = list(csv.DictReader(io.StringIO((tmp_path / "reads-cases.csv").read_text(encoding="utf-8-sig"))))
    [affected] = [c for c in cases if c["case_code"] == created["code"]]
    assert affected["reads"] == "2" and affected["readers"] == "2" and affected["unit"] == MINIMAL_CASE["unit"]
    code, output = await cli(
        intake, "breach-export", "--since", "2001-01-01", "--until", "2001-02-01", "--out", str(tmp_path / "n.csv")
    )
    assert code == 0 and output.strip().endswith(f"0 cases: {tmp_path / 'n.csv'}, {tmp_path / 'n-cases.csv'}")
