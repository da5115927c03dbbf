"""The reviews' sections about the club's own records (not figures from events): its funding, and (added
with them) the Standing Committee's tasks, the support to the provincial Children's Council and what the
club wrote as assessment, lessons and recommendations. Rendered into the review by `documents.render_review`.
"""

from __future__ import annotations

from typing import Any

from services.reporting import documents as layout
from services.reporting import funding


def funding_section(doc: Any, heading: str, total: dict[str, Any]) -> None:
    layout._heading(doc, heading)
    dong = funding.dong
    layout._para(
        doc,
        f"- Số dư đầu kỳ: {dong(total['opening_balance'])}; tổng thu: {dong(total['total_income'])}; "
        f"tổng chi: {dong(total['total_expense'])}; số dư cuối kỳ: {dong(total['closing_balance'])}.",
    )
    layout._heading(doc, "1. Nguồn thu")
    layout._data_table(
        doc, ["Nguồn thu", "Số tiền (đồng)"], [[r["name_vi"], r["amount"]] for r in total["income"] if r["amount"]]
    )
    layout._heading(doc, "2. Nội dung chi")
    layout._data_table(
        doc,
        ["Nội dung chi", "Số tiền (đồng)"],
        [[r["name_vi"], r["amount"]] for r in total["expense"] if r["amount"]],
    )
