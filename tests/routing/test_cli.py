"""`python -m services.routing members import FILE.csv` and `seed` from the command line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from typer.testing import CliRunner

from services.routing.__main__ import cli

GOOD = """key,display_name,organisation,organisation_kind,club_role,fields,units,email,zalo_user_id,leave_periods
tp-luat,Đinh Thị Lụa,Sở Tư pháp,department,member,law,go-dau,lua@club.example,777,2026-12-24..2027-01-02
"""


def count_members(database_url: str) -> int:
    async def query() -> int:
        conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return await conn.fetchval("SELECT count(*) FROM routing.members")
        finally:
            await conn.close()

    return asyncio.run(query())


def test_members_import_refuses_a_bad_file_whole_and_accepts_a_good_one_idempotently(base_env, tmp_path: Path):
    runner = CliRunner()
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD.replace("law,go-dau", "astrology,go-dau"), encoding="utf-8")
    refused = runner.invoke(cli, ["members", "import", str(bad)], env=base_env)
    assert refused.exit_code == 2 and "line 2: fields.0" in refused.output
    assert count_members(base_env["DATABASE_URL"]) == 0

    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    for _ in range(2):
        done = runner.invoke(cli, ["members", "import", str(good)], env=base_env)
        assert done.exit_code == 0, done.output
    assert count_members(base_env["DATABASE_URL"]) == 1

    seeded = runner.invoke(cli, ["seed"], env=base_env)
    assert seeded.exit_code == 0 and "21 members" in seeded.output
    assert count_members(base_env["DATABASE_URL"]) == 22
