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


def council_section(doc: Any, heading: str, requests: list[dict[str, Any]]) -> None:
    """The Council's requests, the club's advice and follow-up (counts, then one line per request)."""
    layout._heading(doc, heading)
    advised = [r for r in requests if r["advised_on"] is not None]
    followed = [r for r in advised if r["follow_ups"]]
    layout._para(
        doc,
        f"- Hội đồng trẻ em tỉnh đề nghị Câu lạc bộ hỗ trợ, tư vấn: {len(requests)} lượt; Câu lạc bộ đã tư vấn: "
        f"{len(advised)} lượt; đã theo dõi, đôn đốc việc thực hiện: {len(followed)} lượt; "
        f"đang chuẩn bị ý kiến: {len(requests) - len(advised)} lượt.",
    )
    for r in requests:
        received = r["received_on"].strftime("%d/%m/%Y")
        line = f"- Ngày {received}, Hội đồng trẻ em tỉnh đề nghị: {r['subject_vi'].rstrip('.')}."
        if r["advised_on"] is not None:
            line += (
                f" Ngày {r['advised_on'].strftime('%d/%m/%Y')}, Câu lạc bộ tư vấn ({comrades(r['advised_by'])}): "
                f"{r['advice_vi'].rstrip('.')}."
            )
        for f in r["follow_ups"]:
            line += f" Theo dõi ngày {f['on'].strftime('%d/%m/%Y')}: {f['note_vi'].rstrip('.')}."
        layout._para(doc, line)


def tasks_section(doc: Any, heading: str, tallies: dict[str, int]) -> None:
    """The Standing Committee's tasks (task.assigned / task.completed tallies)."""
    layout._heading(doc, heading)
    assigned, on_time, late = tallies.get("assigned", 0), tallies.get("done", 0), tallies.get("done_late", 0)
    layout._para(
        doc,
        f"- Ban Thường vụ Tỉnh đoàn giao Câu lạc bộ {assigned} nhiệm vụ; đã hoàn thành {on_time + late} nhiệm vụ "
        f"({on_time} đúng hạn, {late} trễ hạn).",
    )


def comrades(names: str) -> str:
    """ "đồng chí Võ Thị Mai", or "các đồng chí Võ Thị Mai, Trần Thị Lan" for several people."""
    return f"các đồng chí {names}" if "," in names or ";" in names else f"đồng chí {names}"
