"""The reviews' sections about the club's own records (not figures from events): its funding, and (added
with them) the Standing Committee's tasks, the support to the provincial Children's Council and what the
club wrote as assessment, lessons and recommendations. Rendered into the review by `documents.render_review`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import documents as layout
from services.reporting import funding, store
from services.reporting.domain import Period


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


def _notes(notes: list[dict[str, Any]], section: str) -> list[str]:
    return [n["text_vi"].rstrip(".") + "." for n in notes if n["section"] == section]


def assessment_section(
    doc: Any, heading: str, data: dict[str, Any], tracker: dict[str, Any], notes: list[dict[str, Any]]
) -> None:
    """Đánh giá chung: strengths and limitations the figures show, then what the club wrote; the lessons."""
    layout._heading(doc, heading)
    counts = tracker["counts"]
    planned = counts["done"] + counts["due"] + counts["overdue"]
    completeness = data["completeness"]["total"]
    answered = sum(r["answered"] for r in data["counseling"])
    layout._heading(doc, "1. Ưu điểm")
    layout._para(
        doc,
        f"- Thực hiện {counts['done']}/{planned} nội dung theo lộ trình của Kế hoạch; tiếp nhận "
        f"{layout.vn_number(data['cases']['total'])} vụ việc, trả lời {layout.vn_number(answered)} yêu cầu tư vấn.",
    )
    for text in _notes(notes, "strength"):
        layout._para(doc, f"- {text}")
    layout._heading(doc, "2. Hạn chế, nguyên nhân")
    limits = []
    overdue = [r["title_vi"] for r in tracker["items"] if r["status"] == "overdue"]
    if overdue:
        limits.append(f"Còn {len(overdue)} nội dung của Kế hoạch chưa thực hiện đúng hạn: {'; '.join(overdue)}.")
    breaches = sum(r["breaches"] for r in data["breaches"])
    if breaches:
        limits.append(f"Có {layout.vn_number(breaches)} lần quá thời hạn xử lý phải báo cáo lên cấp trên.")
    if completeness["missing"]:
        limits.append(f"Còn {layout.vn_number(completeness['missing'])} báo cáo tháng của các đơn vị chưa nộp.")
    limits += _notes(notes, "limitation")
    for text in limits or ["Câu lạc bộ chưa ghi nhận hạn chế trong kỳ."]:
        layout._para(doc, f"- {text}")
    layout._heading(doc, "3. Bài học kinh nghiệm")
    for text in _notes(notes, "lesson") or ["Câu lạc bộ chưa ghi nhận bài học kinh nghiệm cho kỳ này."]:
        layout._para(doc, f"- {text}")


def recommendations_section(doc: Any, heading: str, notes: list[dict[str, Any]], proposals: int) -> None:
    """Kiến nghị, đề xuất: what the club recorded, and the members' proposals compiled quarterly."""
    layout._heading(doc, heading)
    lines = _notes(notes, "recommendation")
    if proposals:
        lines.append(
            f"Trong kỳ, thành viên Câu lạc bộ có {layout.vn_number(proposals)} ý kiến, đề xuất gửi Ban Thường vụ "
            "Tỉnh đoàn (đã tổng hợp theo quý)."
        )
    for text in lines or ["Không có kiến nghị, đề xuất."]:
        layout._para(doc, f"- {text}")


async def notes_of(session: AsyncSession, period: Period) -> list[dict[str, Any]]:
    n = store.review_notes.c
    years = period.years()
    rows = await session.execute(
        select(n.year, n.section, n.text_vi).where(n.year.between(years[0], years[-1])).order_by(n.year, n.recorded_at)
    )
    return [dict(r._mapping) for r in rows]


async def proposals_in(session: AsyncSession, period: Period) -> int:
    p = store.proposals.c
    total = await session.execute(
        select(func.count()).where(p.submitted_on >= period.start, p.submitted_on <= period.end)
    )
    return int(total.scalar_one())
