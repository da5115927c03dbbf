"""The club's funding (plan II.3): where its money comes from, what it is spent on, and the balance.

Why in reporting: the figures belong to the annual review, the 5-year summary and the XLSX exports that
reporting already makes; nothing else in the system needs money, so no event is needed (the chair records
entries over reporting's API, as they record plan activities). Amounts are integers in đồng. The ledger
is append-only (a database trigger refuses UPDATE and DELETE): a mistake is corrected by a new entry that
references the one it corrects and carries the signed difference.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import store
from services.reporting.domain import Period
from services.reporting.tables import Sheet

SOURCES = {
    "provincial_support": "Ban Thường vụ Tỉnh đoàn hỗ trợ",
    "member_contributions": "Thành viên đóng góp",
    "sponsor": "Vận động tài trợ",
    "project_fund": "Công trình, đề tài, dự án",
    "other_income": "Nguồn hợp pháp khác",
}
ACTIVITIES = {
    "thematic_programme": "Chương trình chuyên đề",
    "meeting": "Họp Ban Chủ nhiệm, sinh hoạt Câu lạc bộ",
    "training": "Tập huấn",
    "child_support": "Hỗ trợ trẻ em",
    "other_expense": "Chi khác",
}
DIRECTION_VI = {"income": "Thu", "expense": "Chi"}


def category_name(direction: str, category: str) -> str:
    return (SOURCES if direction == "income" else ACTIVITIES).get(category, category)


def dong(amount: int) -> str:
    """An amount as a Vietnamese document writes it: 12.500.000 đồng."""
    return f"{amount:,}".replace(",", ".") + " đồng"


async def net_of(session: AsyncSession, entry_id: Any) -> int:
    """An entry's amount after its corrections."""
    f = store.funding_entries.c
    total = await session.execute(
        select(func.coalesce(func.sum(f.amount), 0)).where((f.entry_id == entry_id) | (f.corrects == entry_id))
    )
    return int(total.scalar_one())


async def summary(session: AsyncSession, period: Period) -> dict[str, Any]:
    """Income by source and spending by activity in the period (corrections counted on their own date), the
    balance brought forward from before it and the balance at its end."""
    f = store.funding_entries.c
    signed = case((f.direction == "income", f.amount), else_=-f.amount)
    before = await session.execute(select(func.coalesce(func.sum(signed), 0)).where(f.entry_on < period.start))
    opening = int(before.scalar_one())
    rows = await session.execute(
        select(f.direction, f.category, func.sum(f.amount))
        .where(f.entry_on >= period.start, f.entry_on <= period.end)
        .group_by(f.direction, f.category)
    )
    totals: dict[tuple[str, str], int] = {(d, c): int(n) for d, c, n in rows}
    income = [
        {"category": code, "name_vi": name, "amount": totals.get(("income", code), 0)} for code, name in SOURCES.items()
    ]
    expense = [
        {"category": code, "name_vi": name, "amount": totals.get(("expense", code), 0)}
        for code, name in ACTIVITIES.items()
    ]
    total_income, total_expense = sum(r["amount"] for r in income), sum(r["amount"] for r in expense)
    return {
        "period": period.label,
        "label_vi": period.label_vi,
        "opening_balance": opening,
        "income": income,
        "expense": expense,
        "total_income": total_income,
        "total_expense": total_expense,
        "closing_balance": opening + total_income - total_expense,
    }


async def entries(session: AsyncSession, period: Period) -> list[dict[str, Any]]:
    f = store.funding_entries
    corrected = f.alias("corrected")
    rows = await session.execute(
        select(f, corrected.c.receipt_ref.label("corrects_receipt"))
        .outerjoin(corrected, corrected.c.entry_id == f.c.corrects)
        .where(f.c.entry_on >= period.start, f.c.entry_on <= period.end)
        .order_by(f.c.entry_on, f.c.seq)
    )
    return [dict(row._mapping) for row in rows]


def sheets(total: dict[str, Any], ledger: list[dict[str, Any]]) -> list[Sheet]:
    """The XLSX export: the summary, then the ledger (sổ thu chi) with every entry and correction."""
    summary_rows: list[list[Any]] = [["Số dư đầu kỳ", "", total["opening_balance"]]]
    summary_rows += [["Thu", r["name_vi"], r["amount"]] for r in total["income"]]
    summary_rows += [["Tổng thu", "", total["total_income"]]]
    summary_rows += [["Chi", r["name_vi"], r["amount"]] for r in total["expense"]]
    summary_rows += [["Tổng chi", "", total["total_expense"]], ["Số dư cuối kỳ", "", total["closing_balance"]]]
    ledger_rows = [
        [
            e["entry_on"].strftime("%d/%m/%Y"),
            DIRECTION_VI[e["direction"]],
            category_name(e["direction"], e["category"]),
            e["amount"],
            e["receipt_ref"],
            e["description_vi"],
            f"Điều chỉnh chứng từ {e['corrects_receipt']}" if e["corrects"] else "",
        ]
        for e in ledger
    ]
    return [
        Sheet(
            "Tổng hợp kinh phí",
            f"Kinh phí hoạt động {total['label_vi']} (đồng)",
            ["Thu/Chi", "Nguồn thu / Nội dung chi", "Số tiền (đồng)"],
            summary_rows,
        ),
        Sheet(
            "Sổ thu chi",
            f"Sổ thu chi {total['label_vi']} (đồng)",
            ["Ngày", "Thu/Chi", "Nguồn thu / Nội dung chi", "Số tiền (đồng)", "Số chứng từ", "Diễn giải", "Ghi chú"],
            ledger_rows,
        ),
    ]
