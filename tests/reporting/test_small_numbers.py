"""Small numbers are suppressed for roles that may not list cases: an operator (or admin) sees "<5" for a
unit × category or unit × special-circumstance cell under 5, in JSON and exports, with totals that count
only the cells shown (so the hidden cell cannot be worked out); the chair and the committee see every
number; the threshold is a setting."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

from docx import Document

from devtools.waiting import eventually
from services.reporting import figures, store
from services.reporting.main import create_app
from services.reporting.settings import ReportingSettings
from shared.events import Envelope
from shared.events.intake import CaseReported
from tests.reporting.test_monthly_counts import publish
from tests.support.asgi import running
from tests.support.credentials import grant

NOV = {"period": "2026-11"}


def reported(unit: str, category: str, groups: tuple[str, ...] = ()) -> Envelope:
    event = CaseReported(
        case_id=uuid.uuid4(),
        code="TN-2026-000001",
        unit=unit,
        category=category,
        urgency="medium",
        protection_level="support",
        special_circumstances=groups,
        reported_at=datetime(2026, 11, 10, 3, tzinfo=UTC),
    )
    return Envelope.wrap(event, producer="intake")


async def test_operators_see_small_cells_suppressed_and_totals_that_do_not_reveal_them(base_env, monkeypatch):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    app = create_app(ReportingSettings())
    async with running(app) as client:
        sessions = app.state.runtime.sessions
        operator = await grant(sessions, store.credentials, "operator")
        admin = await grant(sessions, store.credentials, "admin")
        committee = await grant(sessions, store.credentials, "committee")
        envelopes = [reported("phuong-tan-ninh", "neglect") for _ in range(6)]
        envelopes += [reported("xa-tan-thanh", "child_marriage", ("orphan",)) for _ in range(2)]
        await publish(base_env["RABBITMQ_URL"], base_env["BROKER_NAMESPACE"], envelopes)

        async def all_counted() -> dict:
            body = (await client.get("/v1/reports/monthly", params=NOV, headers=committee)).json()
            return body if body["total"] == 8 else {}

        exact = await eventually(all_counted)
        assert {(r["unit"], r["cases"]) for r in exact["rows"]} == {("phuong-tan-ninh", 6), ("xa-tan-thanh", 2)}

        for reader in (operator, admin):
            monthly = (await client.get("/v1/reports/monthly", params=NOV, headers=reader)).json()
            assert {(r["unit"], r["cases"]) for r in monthly["rows"]} == {
                ("phuong-tan-ninh", 6),
                ("xa-tan-thanh", "<5"),
            }
            assert monthly["total"] == 6

            cases = (await client.get("/v1/reports/cases", params=NOV, headers=reader)).json()
            assert cases["total"] == 6 and cases["by_unit"] == {"phuong-tan-ninh": 6}
            assert cases["by_category"] == {"neglect": 6} and cases["suppressed"]["cells"] == 1
            assert sorted(str(r["cases"]) for r in cases["rows"]) == ["6", "<5"]
            rolled = (await client.get("/v1/reports/cases", params={**NOV, "rollup": "true"}, headers=reader)).json()
            assert rolled["total"] == 6 and sorted(str(r["cases"]) for r in rolled["rows"]) == ["6.0", "<5"]

            groups = (await client.get("/v1/reports/special-groups", params=NOV, headers=reader)).json()
            assert [(g["unit"], g["grp"], g["cases"]) for g in groups] == [("xa-tan-thanh", "orphan", "<5")]

            summary = (await client.get("/v1/reports/summary", params=NOV, headers=reader)).json()
            assert summary["cases"]["total"] == 6 and summary["special_groups"][0]["cases"] == "<5"

            export = await client.get("/v1/reports/export/cases", params={**NOV, "format": "csv"}, headers=reader)
            counts = [row[-1] for row in csv.reader(io.StringIO(export.content.decode("utf-8-sig")))][1:]
            assert sorted(counts) == ["6", "<5"]

        # The annual review (DOCX): the unit with 2 cases and its special group appear only for the committee.
        async with sessions() as session:
            tan_thanh = (await figures.unit_names(session))["xa-tan-thanh"]
        for reader, shown_to_reader in ((operator, False), (committee, True)):
            review = await client.get("/v1/reports/review", params={"kind": "annual", "year": 2026}, headers=reader)
            assert review.status_code == 200
            rows = {tuple(c.text for c in r.cells) for t in Document(io.BytesIO(review.content)).tables for r in t.rows}
            group_shown = any(row[0].startswith("orphan)") and row[1:] == ("2",) for row in rows)
            assert ((tan_thanh, "2") in rows) is shown_to_reader and group_shown is shown_to_reader

        cases = (await client.get("/v1/reports/cases", params=NOV, headers=committee)).json()
        assert cases["total"] == 8 and cases["by_unit"]["xa-tan-thanh"] == 2 and "suppressed" not in cases
        export = await client.get("/v1/reports/export/cases", params={**NOV, "format": "csv"}, headers=committee)
        assert sorted(row[-1] for row in csv.reader(io.StringIO(export.content.decode("utf-8-sig")))) == [
            "2",
            "6",
            "Số vụ việc",
        ]


async def test_the_threshold_is_a_setting(base_env, monkeypatch):
    for key, value in {**base_env, "SMALL_NUMBER_THRESHOLD": "8"}.items():
        monkeypatch.setenv(key, value)
    app = create_app(ReportingSettings())
    async with running(app) as client:
        operator = await grant(app.state.runtime.sessions, store.credentials, "operator")
        committee = await grant(app.state.runtime.sessions, store.credentials, "committee")
        envelopes = [reported("phuong-tan-ninh", "neglect") for _ in range(9)]
        envelopes += [reported("xa-tan-thanh", "child_marriage") for _ in range(7)]
        await publish(base_env["RABBITMQ_URL"], base_env["BROKER_NAMESPACE"], envelopes)

        async def all_counted() -> dict:
            body = (await client.get("/v1/reports/monthly", params=NOV, headers=committee)).json()
            return body if body["total"] == 16 else {}

        await eventually(all_counted)
        monthly = (await client.get("/v1/reports/monthly", params=NOV, headers=operator)).json()
        assert {(r["unit"], r["cases"]) for r in monthly["rows"]} == {("phuong-tan-ninh", 9), ("xa-tan-thanh", "<8")}
        assert monthly["total"] == 9
