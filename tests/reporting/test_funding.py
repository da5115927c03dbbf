"""The club's funding (plan II.3): income by source and spending by activity in đồng (integers), with
receipts referenced; entries are never changed or deleted (a correction is a new entry, and the database
refuses UPDATE/DELETE); the balance; the figures in the annual review and the 5-year summary; XLSX export."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import docx
import openpyxl
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.reporting import store
from services.reporting.documents import docx_markdown
from services.reporting.main import create_app
from services.reporting.settings import ReportingSettings
from shared.clock import FakeClock
from tests.support.asgi import running
from tests.support.credentials import grant


def entry(day: str, direction: str, category: str, amount: int, receipt: str, what: str) -> dict:
    return dict(
        entry_on=day, direction=direction, category=category, amount=amount, receipt_ref=receipt, description_vi=what
    )


async def test_funding_is_an_append_only_ledger_in_dong_with_its_balance_in_the_reviews_and_xlsx(base_env, monkeypatch):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    app = create_app(ReportingSettings(), clock=FakeClock(datetime(2026, 12, 20, 2, 0, tzinfo=UTC)))
    async with running(app) as client:
        sessions = app.state.runtime.sessions
        chair = await grant(sessions, store.credentials, "chair")
        vi = {**chair, "Accept-Language": "vi"}
        post = lambda body: client.post("/v1/funding/entries", json=body, headers=vi)  # noqa: E731
        assert (
            await post(entry("2025-12-10", "income", "provincial_support", 5_000_000, "PT-2025-09", "Hỗ trợ năm 2025"))
        ).status_code == 201
        support = await post(
            entry(
                "2026-03-02",
                "income",
                "provincial_support",
                20_000_000,
                "PT-2026-01",
                "Tỉnh đoàn hỗ trợ kinh phí năm 2026",
            )
        )
        assert support.status_code == 201 and support.json()["category_vi"] == "Ban Thường vụ Tỉnh đoàn hỗ trợ"
        await post(
            entry("2026-04-15", "income", "member_contributions", 3_600_000, "PT-2026-02", "Thành viên đóng góp")
        )
        await post(entry("2026-05-20", "income", "sponsor", 15_000_000, "PT-2026-03", "Công ty X tài trợ"))
        training = await post(
            entry("2026-06-01", "expense", "training", 6_500_000, "PC-2026-05", "Tập huấn Ban Chủ nhiệm")
        )
        await post(entry("2026-09-12", "expense", "child_support", 7_000_000, "PC-2026-09", "Hỗ trợ học phí cho 02 em"))
        # a typo of 500.000 đồng is corrected by a new entry, never by changing the first one
        url = f"/v1/funding/entries/{training.json()['entry_id']}/corrections"
        fix = {
            "entry_on": "2026-06-03",
            "amount": -500_000,
            "receipt_ref": "PC-2026-05",
            "description_vi": "Ghi nhầm số tiền",
        }
        corrected = await client.post(url, json=fix, headers=vi)
        assert corrected.status_code == 201 and corrected.json()["category"] == "training"
        too_much = await client.post(url, json={**fix, "amount": -6_500_000}, headers=vi)
        assert (
            too_much.status_code == 422
            and too_much.json()["detail"][0]["message"] == "Số tiền sau điều chỉnh không được âm."
        )
        again = await client.post(
            f"/v1/funding/entries/{corrected.json()['entry_id']}/corrections", json=fix, headers=vi
        )
        assert again.status_code == 409

        wrong = await post(entry("2026-06-01", "expense", "sponsor", 1_000, "PC-1", "Sai"))
        assert wrong.status_code == 422 and wrong.json()["detail"][0]["field"] == "body.category"
        assert wrong.json()["detail"][0]["message"].startswith(
            "Nội dung chi phải là một trong: Chương trình chuyên đề,"
        )
        fraction = await post({**entry("2026-06-01", "expense", "meeting", 1, "PC-2", "Họp"), "amount": 1500.5})
        assert fraction.status_code == 422
        no_receipt = await post({**entry("2026-06-01", "expense", "meeting", 1, "PC-2", "Họp"), "receipt_ref": ""})
        assert no_receipt.status_code == 422 and no_receipt.json()["detail"][0]["field"] == "body.receipt_ref"
        assert (await post(entry("2026-12-25", "expense", "meeting", 1, "PC-3", "Họp"))).status_code == 422
        entry_id = support.json()["entry_id"]
        assert (await client.delete(f"/v1/funding/entries/{entry_id}", headers=chair)).status_code in (404, 405)
        committee = await grant(sessions, store.credentials, "committee")
        assert (
            await client.post(
                "/v1/funding/entries", json=entry("2026-06-01", "expense", "meeting", 1, "PC", "x"), headers=committee
            )
        ).status_code == 403
        async with sessions() as session, session.begin():
            with pytest.raises(DBAPIError, match="never changed or deleted"):
                await session.execute(text("UPDATE reporting.funding_entries SET amount = 1"))
        async with sessions() as session, session.begin():
            with pytest.raises(DBAPIError, match="never changed or deleted"):
                await session.execute(text("DELETE FROM reporting.funding_entries"))

        figures = (await client.get("/v1/funding", params={"period": "2026"}, headers=committee)).json()
        assert figures["opening_balance"] == 5_000_000
        assert figures["total_income"] == 38_600_000 and figures["total_expense"] == 13_000_000
        assert figures["closing_balance"] == 5_000_000 + 38_600_000 - 13_000_000
        assert {r["category"]: r["amount"] for r in figures["expense"]}["training"] == 6_000_000
        assert len(figures["entries"]) == 6 and all(isinstance(e["amount"], int) for e in figures["entries"])

        review = await client.get("/v1/reports/review", params={"kind": "annual", "year": 2026}, headers=chair)
        text_ = docx_markdown(docx.Document(io.BytesIO(review.content)))
        assert "VII. KINH PHÍ HOẠT ĐỘNG" in text_
        assert (
            "Số dư đầu kỳ: 5.000.000 đồng; tổng thu: 38.600.000 đồng; tổng chi: 13.000.000 đồng; "
            "số dư cuối kỳ: 30.600.000 đồng." in text_
        )
        assert "| Tập huấn | 6.000.000 |" in text_ and "| Vận động tài trợ | 15.000.000 |" in text_
        five = await client.get("/v1/reports/review", params={"kind": "five_year"}, headers=chair)
        five_text = docx_markdown(docx.Document(io.BytesIO(five.content)))
        assert "Số dư đầu kỳ: 0 đồng; tổng thu: 43.600.000 đồng" in five_text

        sheet = await client.get("/v1/funding/export", params={"period": "2026"}, headers=chair)
        assert sheet.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(sheet.content))
        assert book.sheetnames == ["Tổng hợp kinh phí", "Sổ thu chi"]
        rows = list(book["Sổ thu chi"].iter_rows(min_row=3, values_only=True))
        assert (
            "03/06/2026",
            "Chi",
            "Tập huấn",
            -500000,
            "PC-2026-05",
            "Ghi nhầm số tiền",
            "Điều chỉnh chứng từ PC-2026-05",
        ) in rows
        summary = {r[1] or r[0]: r[2] for r in book["Tổng hợp kinh phí"].iter_rows(min_row=3, values_only=True)}
        assert summary["Số dư cuối kỳ"] == 30_600_000 and isinstance(summary["Tổng thu"], int)
