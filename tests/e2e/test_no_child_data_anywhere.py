"""Issue 14's count: a run of the whole system with a case, a counseling request and a monthly report that
name a child (the corpus: the child's name, address, school, phone numbers, the requester's words), then
every event on the broker, every outbox row, reporting's event store, a full dump of the database and
every service's log are searched for the corpus. The count must be 0. Nor may an event or an outbox row
carry a bearer accept/decline link or a Zalo user id in clear."""

from __future__ import annotations

import asyncio
import subprocess
from urllib.parse import urlsplit

import httpx
import pytest

from devtools.system import CHILD_SECRETS, REPORTER_UNIT, RunningSystem
from devtools.waiting import eventually

pytestmark = pytest.mark.e2e

CHILD_PHONE = "0987001122"
REPORTER_PHONE = "0911223344"
REQUESTER_PHONE = "0933445566"
WORDS = "Con tên Võ Ngọc Trâm, học trường THCS Chu Văn An, nhà ở khu phố Hiệp Bình."
NOTES = "Tháng này đã thăm em Nguyễn Thị Bé Hoa ở ấp Bàu Sen."
CORPUS = (*CHILD_SECRETS, CHILD_PHONE, REPORTER_PHONE, REQUESTER_PHONE, "Võ Ngọc Trâm", "Chu Văn An", "Hiệp Bình")


def found(text: str) -> dict[str, int]:
    counts = {value: text.count(value) for value in CORPUS}
    return {value: n for value, n in counts.items() if n}


def database_dump(database_url: str) -> str:
    parts = urlsplit(database_url.replace("+asyncpg", ""))
    result = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "-h",
            parts.hostname or "127.0.0.1",
            "-p",
            str(parts.port or 5432),
            "-U",
            parts.username or "postgres",
            parts.path.lstrip("/"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout


async def test_no_corpus_string_in_events_outbox_reporting_database_or_logs(system: RunningSystem, tmp_path):
    async with httpx.AsyncClient(timeout=10) as client:
        child = {
            "name": CHILD_SECRETS[0],
            "age": 9,
            "address": CHILD_SECRETS[1],
            "school": CHILD_SECRETS[2],
            "contact": CHILD_PHONE,
        }
        created = await system.post_case(client, child=child, reporter_contact={"phone": REPORTER_PHONE})
        counseling = await client.post(
            f"{system.url('intake')}/v1/counseling-requests",
            json={"topic": "free", "message": WORDS, "contact": {"phone": REQUESTER_PHONE}, "age": 13},
        )
        assert counseling.status_code == 201, counseling.text
        report = await client.put(
            f"{system.url('intake')}/v1/units/{REPORTER_UNIT}/monthly-reports/{system.local_month()}",
            json={"cases_by_category": {"violence_physical": 1}, "notes": NOTES},
            headers=system.reporter,
        )
        assert report.status_code in (200, 201), report.text
        assert (await client.get(f"{system.url('intake')}/v1/cases/{created['id']}", headers=system.reporter)).json()[
            "summary"
        ]

        async def delivered() -> bool:
            kinds = {e.type for e in system.tap.envelopes}
            wanted = {"case.assigned", "counseling_request.assigned", "notification.sent"}
            return wanted <= kinds and bool(system.emails_for(created["code"]))

        await eventually(delivered, timeout=60)
        await asyncio.sleep(2)  # reporting stores the last events

    events = "\n".join(e.model_dump_json() for e in system.tap.envelopes)
    assert found(events) == {}, "child data on the broker"
    assert "signature=" not in events and "/v1/links/" not in events, "a bearer link on the broker"
    dump = await asyncio.to_thread(database_dump, system.env["DATABASE_URL"])
    assert found(dump) == {}, "child data in the database (outbox rows, reporting's store, any table)"
    outbox = [line for line in dump.splitlines() if "signature=" in line]
    assert outbox == [], "a bearer link stored in clear"
    logs = "\n".join(p.read_text(errors="replace") for p in (tmp_path / "logs").glob("*.log"))
    assert logs and found(logs) == {}, "child data in a log"
