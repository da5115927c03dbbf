"""A year of events through the real broker: every figure equals an independent count of the generated
data; exports open in openpyxl and python-docx with the right numbers and diacritics; a rebuild from the
event store gives identical figures; business gauges show on /metrics."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, date, datetime

import aio_pika
import docx
import openpyxl
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from devtools.infra import REPO
from devtools.waiting import eventually
from services.reporting import aggregates, council, figures, store
from services.reporting import gauges as business_gauges
from services.reporting.domain import parse_period
from services.reporting.main import create_app
from services.reporting.settings import ReportingSettings
from shared.clock import FakeClock
from shared.events import Envelope
from shared.topology import Topology
from tests.reporting.year import DATA, generate
from tests.support.asgi import running
from tests.support.credentials import grant


async def publish(amqp_url: str, namespace: str, envelopes: list[Envelope]) -> None:
    """Publish to the events exchange as intake and routing would, many confirms in flight at once."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(Topology(namespace).events_exchange)
        for start in range(0, len(envelopes), 100):
            await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(e.model_dump_json().encode(), type=e.type, delivery_mode=2), routing_key=e.type
                    )
                    for e in envelopes[start : start + 100]
                )
            )


def expected_unit_months(year: int) -> dict[str, int]:
    """Unit-months each unit is expected to report in `year`, straight from the CSV files."""
    out: dict[str, int] = {}
    for name, to_key in (("units-tay-ninh-2023.csv", "valid_to"), ("units-tay-ninh-2025.csv", None)):
        for row in csv.DictReader((DATA / name).open(encoding="utf-8")):
            start = date.fromisoformat(row["valid_from"]) if row["valid_from"] else date(2000, 1, 1)
            end = date.fromisoformat(row[to_key]) if to_key and row[to_key] else date(2100, 1, 1)
            months = sum(1 for m in range(1, 13) if start <= date(year, m, 28) and end >= date(year, m, 1))
            if months:
                out[row["code"]] = months
    return out


async def test_a_year_of_events_gives_figures_equal_to_an_independent_count(base_env, monkeypatch):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GAUGES_INTERVAL", "0.2")
    year = generate()
    clock = FakeClock(datetime(2026, 1, 20, 3, 0, tzinfo=UTC))
    app = create_app(ReportingSettings(), clock=clock)
    async with running(app) as client:
        sessions = app.state.runtime.sessions
        headers = await grant(sessions, store.credentials, "committee")
        await publish(base_env["RABBITMQ_URL"], base_env["BROKER_NAMESPACE"], year.envelopes)
        # Redelivered events (same event_id) change nothing.
        await publish(base_env["RABBITMQ_URL"], base_env["BROKER_NAMESPACE"], year.envelopes[:5])

        async def all_consumed() -> bool:
            async with sessions() as session:
                return (await session.execute(select(func.count()).select_from(store.events))).scalar_one() == len(
                    year.envelopes
                )

        await eventually(all_consumed, timeout=120)

        async def get(path: str, **params: object) -> dict:
            response = await client.get(path, params=params, headers=headers)
            assert response.status_code == 200, response.text
            return response.json()

        body = await get("/v1/reports/summary", period="2025")
        cases = body["cases"]
        assert cases["total"] == len(year.cases)
        assert cases["by_unit"] == dict(Counter(c.unit for c in year.cases))
        assert cases["by_period"] == dict(Counter(c.month for c in year.cases))
        assert cases["by_category"] == dict(Counter(c.category for c in year.cases))
        assert set(cases["by_category"]) == {
            r["code"] for r in csv.DictReader((DATA / "case-categories.csv").open(encoding="utf-8"))
        }
        assert cases["by_urgency"] == dict(Counter(c.urgency for c in year.cases))
        assert cases["by_status"] == dict(Counter(c.status for c in year.cases))
        groups = Counter((c.unit, g) for c in year.cases for g in c.groups)
        assert {(r["unit"], r["grp"]): r["cases"] for r in body["special_groups"]} == dict(groups)

        for stage in ("assigned", "accepted", "forwarded"):
            for urgency in ("critical", "high", "medium", "low"):
                durations = [
                    (getattr(c, f"{stage}_at") - c.reported_at).total_seconds() / 3600
                    for c in year.cases
                    if c.urgency == urgency and getattr(c, f"{stage}_at")
                ]
                row = [r for r in body["timings"] if r["stage"] == stage and r["urgency"] == urgency]
                if not durations:
                    assert row == []
                    continue
                assert row[0]["cases"] == len(durations)
                assert abs(row[0]["mean_hours"] - sum(durations) / len(durations)) < 0.01
                assert abs(row[0]["max_hours"] - max(durations)) < 0.01

        breaches = Counter(
            (deadline, c.urgency, level) for c in year.cases for deadline, level, month in c.breaches if month < "2026"
        )
        assert {(r["deadline"], r["urgency"], r["level"]): r["breaches"] for r in body["breaches"]} == dict(breaches)

        requests = Counter((r.topic, r.channel) for r in year.requests)
        answered = Counter((r.topic, r.channel) for r in year.requests if r.answered)
        assert {(r["topic"], r["channel"]): (r["requests"], r["answered"]) for r in body["counseling"]} == {
            key: (n, answered[key]) for key, n in requests.items()
        }

        sums: dict[str, Counter] = defaultdict(Counter)
        for report in year.reports:
            latest = report.revisions[-1]
            sums[report.unit]["reports"] += 1
            sums[report.unit]["cases"] += sum(latest.cases_by_category.values())
            sums[report.unit]["activities_held"] += latest.activities_held
        assert {r["unit"]: (r["reports"], r["cases"], r["activities_held"]) for r in body["unit_reports"]} == {
            u: (s["reports"], s["cases"], s["activities_held"]) for u, s in sums.items()
        }

        expected = expected_unit_months(2025)
        completeness = body["completeness"]
        received = Counter(r.unit for r in year.reports)
        on_time = Counter(r.unit for r in year.reports if r.revisions[0].on_time)
        # Some corrections came late after an on-time first revision: timeliness must follow the first one.
        assert any(r.revisions[0].on_time and not r.revisions[-1].on_time for r in year.reports)
        assert {r["unit"]: r["expected"] for r in completeness["rows"]} == expected
        for row in completeness["rows"]:
            unit = row["unit"]
            assert (row["received"], row["on_time"], row["late"], row["missing"]) == (
                received[unit],
                on_time[unit],
                received[unit] - on_time[unit],
                expected[unit] - received[unit],
            )
        # The grid (the reports pages' month × unit view) says the same, month by month.
        assert completeness["months"] == [f"2025-{m:02d}" for m in range(1, 13)]
        grid = {g["unit"]: g["months"] for g in completeness["grid"]}
        assert {u: sum(s is not None for s in months.values()) for u, months in grid.items()} == expected
        for report in year.reports:
            state = grid[report.unit][report.period]
            assert state == ("on_time" if report.revisions[0].on_time else "late"), (report.unit, report.period)
        missing = sum(s == "missing" for months in grid.values() for s in months.values())
        assert missing == sum(expected.values()) - len(year.reports)
        total = completeness["total"]
        assert total["expected"] == sum(expected.values()) == 9 * 6 + 96 * 6
        assert total["received"] == len(year.reports)
        assert total["rate"] == round(100 * len(year.reports) / total["expected"], 1)
        assert completeness["rows"][[r["unit"] for r in completeness["rows"]].index("tay-ninh")]["unit_name"] == (
            "Thành phố Tây Ninh"
        )

        # The legacy monthly report, a quarter and the whole plan period agree with the same data.
        july = await get("/v1/reports/monthly", period="2025-07")
        assert july["total"] == sum(1 for c in year.cases if c.month == "2025-07")
        assert {(r["unit"], r["category"], r["status"]) for r in july["rows"]} == {
            (c.unit, c.category, c.status) for c in year.cases if c.month == "2025-07"
        }
        q3 = await get("/v1/reports/cases", period="2025-Q3")
        assert q3["total"] == sum(1 for c in year.cases if c.month in ("2025-07", "2025-08", "2025-09"))
        plan_period = await get("/v1/reports/completeness", period="2023..2027")
        assert plan_period["total"]["expected"] == 9 * 30 + 96 * 30
        assert plan_period["total"]["received"] == len(year.reports)

        # Roll-up to today's structure: the old units disappear, the province total is exact.
        rolled = await get("/v1/reports/cases", period="2025", rollup="true")
        assert "ben-cau" not in rolled["by_unit"] and "tay-ninh" not in rolled["by_unit"]
        assert abs(sum(rolled["by_unit"].values()) - len(year.cases)) < 0.01
        ben_cau = sum(1 for c in year.cases if c.unit == "ben-cau")
        assert abs(rolled["by_unit"]["xa-long-chu"] - ben_cau / 3) < 0.01  # the upserted mapping: 3 successors
        assert any(r["approximate"] for r in rolled["rows"])

        # Exports.
        response = await client.get("/v1/reports/export/summary", params={"period": "2025"}, headers=headers)
        workbook = openpyxl.load_workbook(io.BytesIO(response.content))
        sheet = workbook["Vụ việc"]
        assert [c.value for c in sheet[2]][:3] == ["Tháng", "Mã đơn vị", "Đơn vị"]
        assert sum(row[6] for row in sheet.iter_rows(min_row=3, values_only=True)) == len(year.cases)
        assert "Thành phố Tây Ninh" in {row[2] for row in sheet.iter_rows(min_row=3, values_only=True)}
        done = workbook["Tính đầy đủ"]
        last = list(done.iter_rows(min_row=3, values_only=True))[-1]
        assert last[1] == "Toàn tỉnh" and last[2:4] == (total["expected"], total["received"])
        response = await client.get(
            "/v1/reports/export/counseling", params={"period": "2025", "format": "csv"}, headers=headers
        )
        assert response.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0] == ["Chủ đề", "Kênh", "Số yêu cầu", "Đã trả lời", "Đang chờ"]
        assert sum(int(r[2]) for r in rows[1:]) == len(year.requests)
        assert "sức khỏe tâm thần" in {r[0] for r in rows[1:]}

        response = await client.get(
            "/v1/reports/review", params={"kind": "annual", "year": 2025, "number": "12"}, headers=headers
        )
        document = docx.Document(io.BytesIO(response.content))
        text = "\n".join(p.text for p in document.paragraphs)
        header = document.tables[0].rows[0].cells
        assert "BCH TỈNH TÂY NINH" in header[0].text and "Số: 12-BC/TĐTN-TTNTH" in header[0].text
        assert "ĐOÀN TNCS HỒ CHÍ MINH" in header[1].text and "Tây Ninh, ngày 20 tháng 01 năm 2026" in header[1].text
        assert f"được tiếp nhận: {len(year.cases)} vụ việc" in text
        assert "I. TÌNH HÌNH TIẾP NHẬN VÀ XỬ LÝ VỤ VIỆC" in text and "IV. KẾT QUẢ THỰC HIỆN KẾ HOẠCH" in text
        unit_table = document.tables[1]
        units_in_doc = {r.cells[0].text: int(r.cells[1].text) for r in unit_table.rows[1:]}
        assert units_in_doc["Huyện Bến Cầu"] == ben_cau and "Phường Tân Ninh" in units_in_doc
        assert "TM. BAN THƯỜNG VỤ TỈNH ĐOÀN" in document.tables[-1].rows[0].cells[1].text
        assert "Nơi nhận:" in document.tables[-1].rows[0].cells[0].text
        section = document.sections[0]
        assert round(section.left_margin.mm) == 30 and round(section.page_width.mm) == 210
        five = await client.get("/v1/reports/review", params={"kind": "five_year"}, headers=headers)
        assert "giai đoạn 2023–2027" in "\n".join(p.text for p in docx.Document(io.BytesIO(five.content)).paragraphs)

        plan = await get("/v1/reports/plan", period="2025")
        assert [i["status"] for i in plan["items"]] == ["overdue"] * 5  # nothing held (board training too)
        plan_sheet = workbook["Kế hoạch"]
        statuses = {row[0]: row[4] for row in plan_sheet.iter_rows(min_row=3, values_only=True)}
        assert statuses["2025-three_year_review"] == "Quá hạn" and statuses["board-2025-Q4"] == "Quá hạn"

        # Business gauges.
        open_critical = sum(1 for c in year.cases if c.urgency == "critical" and c.status != "closed")

        async def gauges() -> bool:
            metrics = (await client.get("/metrics")).text
            return f'caunoi_open_cases{{urgency="critical"}} {float(open_critical)}' in metrics

        await eventually(gauges)
        metrics = (await client.get("/metrics")).text
        missing_december = 96 - sum(1 for r in year.reports if r.period == "2025-12")
        assert f"caunoi_monthly_reports_missing {float(missing_december)}" in metrics
        # 20 January: December's reports were due on the 5th, so every unit missing is late.
        assert missing_december > 0 and f"caunoi_monthly_reports_late {float(missing_december)}" in metrics
        for state in {c.status for c in year.cases}:
            n = sum(1 for c in year.cases if c.status == state)
            assert f'caunoi_cases{{state="{state}"}} {float(n)}' in metrics

        async def nobody_late_on_the_due_day() -> bool:
            # On the due day itself nobody is late yet. The service's own gauges worker refreshes the same gauges
            # for its clock's day (20 January) every few seconds, so a round of it may land between our refresh
            # and the read: refresh and read again until ours is the last one.
            async with sessions() as session:
                await business_gauges.refresh(session, date(2026, 1, 5), due_day=5)
            return REGISTRY.get_sample_value("caunoi_monthly_reports_late") == 0

        await eventually(nobody_late_on_the_due_day)
        assert REGISTRY.get_sample_value("caunoi_monthly_reports_missing") == missing_december
        waiting = sum(1 for r in year.requests if not r.answered)
        assert f"caunoi_counseling_requests_waiting {float(waiting)}" in metrics

        # Rebuild from the event store with the one command: identical figures.
        async with sessions() as session:
            before = await figures.summary(session, parse_period("2023..2027"))
            before_rolled = await figures.summary(session, parse_period("2025"), rollup=True)
            empty = (await figures.summary(session, parse_period("2024")))["cases"]
            # summary reads its figures in one statement: the same as each figure's own query
            five_years = parse_period("2023..2027")
            assert before["council"] == await council.counts(session, five_years)
            assert before["cases"] == await figures.cases_summary(session, five_years)
            assert before["completeness"] == await figures.completeness(session, five_years)
            assert before["unit_reports"] == await figures.unit_reports(session, five_years)
            for part in ("timings", "breaches", "counseling", "activity"):
                assert before[part] == await getattr(figures, part)(session, five_years), part
            assert before["breaches"] and before["timings"] and before["completeness"]["grid"]
        assert empty == {"total": 0, **{f"by_{d}": {} for d in ("period", "unit", "category", "urgency", "status")}}
        env = {**os.environ, **base_env}
        result = subprocess.run(
            [sys.executable, "-m", "services.reporting", "rebuild"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stderr
        assert f"rebuilt from {len(year.envelopes)} stored events" in result.stdout
        async with sessions() as session:
            assert await figures.summary(session, parse_period("2023..2027")) == before
            assert await figures.summary(session, parse_period("2025"), rollup=True) == before_rolled
        # The counters also agree with a recount of the case facts (what a bulk import would run).
        async with sessions() as session, session.begin():
            await aggregates.recount(session)
        async with sessions() as session:
            assert await figures.summary(session, parse_period("2023..2027")) == before
