"""The quarterly compilation of members' opinions and proposals to the Standing Committee (báo cáo tổng
hợp ý kiến, đề xuất của thành viên), beside the per-case forwarding: the cases the chair forwarded in the
quarter with what the club recommended (protection level, to whom to refer: from `case.forwarded`, never
the proposal's text, which stays in routing), then the members' proposals not tied to a case, by topic.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import figures, store
from services.reporting.documents import (
    _data_table,
    _first_cell_paragraph,
    _font,
    _heading,
    _no_borders,
    _para,
    _rule_under,
    _setup,
    place_date,
    vn_number,
)
from services.reporting.domain import VN, Period
from services.reporting.settings import ReportingSettings
from services.reporting.tables import PROTECTION_LEVEL_VI, REFERRAL_VI, URGENCY_VI
from shared.text import joined


@dataclass(frozen=True)
class Compilation:
    period: Period  # a quarter
    today: date
    forwarded: list[dict[str, Any]]  # code, unit_name, category_name, urgency, level, referrals, forwarded_on
    proposals: list[dict[str, Any]]  # submitted_on, topic_vi, text_vi, proposed_by
    number: str = "    "
    signing: ClubSigning = field(default_factory=lambda: ClubSigning())


@dataclass(frozen=True)
class ClubSigning:
    """The club issues the compilation (its chair signs for the board) and sends it to the Standing Committee."""

    club_name: str = "Câu lạc bộ tư vấn, giúp đỡ trẻ em tỉnh Tây Ninh"
    chair_name: str = ""

    @classmethod
    def of(cls, settings: ReportingSettings) -> ClubSigning:
        return cls(settings.club_name, settings.club_chair_name)


def _bounds(period: Period) -> tuple[datetime, datetime]:
    start = datetime.combine(period.start, time.min, VN)
    end = datetime.combine(period.end, time.max, VN)
    return start, end


async def gather(
    session: AsyncSession, period: Period, today: date, number: str = "    ", signing: ClubSigning | None = None
) -> Compilation:
    start, end = _bounds(period)
    e, c = store.events.c, store.cases.c
    # Forwardings are few (a handful a month): read them all and keep the quarter's by `forwarded_at`.
    envelopes = (await session.execute(select(e.envelope).where(e.type == "case.forwarded").order_by(e.seq))).scalars()
    latest: dict[str, dict[str, Any]] = {}
    for body in envelopes:
        payload = json.loads(body)["payload"]
        if start <= datetime.fromisoformat(payload["forwarded_at"]) <= end:
            latest[payload["case_id"]] = payload  # a case forwarded twice: its last forwarding
    cases = {
        str(row.case_id): row
        for row in await session.execute(select(c.case_id, c.unit, c.category).where(c.case_id.in_(list(latest))))
    }
    units, categories = await figures.unit_names(session), await figures.category_names(session)
    forwarded = []
    for case_id, p in sorted(latest.items(), key=lambda item: (item[1]["forwarded_at"], item[1]["code"])):
        row = cases.get(case_id)
        forwarded.append(
            dict(
                code=p["code"],
                unit_name=units.get(row.unit, row.unit) if row else "",
                category_name=categories.get(row.category, row.category) if row else "",
                urgency=URGENCY_VI.get(p["urgency"], p["urgency"]),
                level=PROTECTION_LEVEL_VI.get(p.get("recommended_level") or "", "Chưa đề xuất"),
                referrals=joined([REFERRAL_VI.get(r, r) for r in p.get("referrals", [])]) or "Không",
                forwarded_on=datetime.fromisoformat(p["forwarded_at"]).astimezone(VN).date(),
            )
        )
    pr = store.proposals.c
    proposals = [
        dict(row._mapping)
        for row in await session.execute(
            select(pr.submitted_on, pr.topic_vi, pr.text_vi, pr.proposed_by)
            .where(pr.submitted_on >= period.start, pr.submitted_on <= period.end)
            .order_by(pr.topic_vi, pr.submitted_on, pr.recorded_at)
        )
    ]
    return Compilation(period, today, forwarded, proposals, number, signing or ClubSigning())


def _club_header(doc: Any, club_name: str, number: str, place_date_line: str) -> None:
    """Left: the parent body, the club (bold), ***, Số: …-BC/CLB; right: ĐOÀN TNCS HỒ CHÍ MINH and the date."""
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    left, right = table.rows[0].cells
    left.width, right.width = Mm(80), Mm(80)
    _first_cell_paragraph(left, "BCH TỈNH ĐOÀN TÂY NINH")
    _para(left, club_name.upper(), align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, space_after=0, size=12)
    _para(left, "***", align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    _para(left, f"Số: {number}-BC/CLB", align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    _first_cell_paragraph(right, "ĐOÀN TNCS HỒ CHÍ MINH", bold=True, size=14)
    _rule_under(right.paragraphs[0])
    _para(right, "", space_after=0)
    _para(right, place_date_line, align=WD_ALIGN_PARAGRAPH.CENTER, italic=True, space_after=0)


def _club_signature(doc: Any, signing: ClubSigning) -> None:
    _para(doc, "", space_after=6)
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    left, right = table.rows[0].cells
    _font(left.paragraphs[0].add_run("Nơi nhận:"), bold=True, italic=True, size=12)
    for line in ("- Ban Thường vụ Tỉnh đoàn (để báo cáo);", "- Thành viên Câu lạc bộ;", "- Lưu: CLB."):
        _para(left, line, size=11, space_after=0)
    _first_cell_paragraph(right, "TM. BAN CHỦ NHIỆM", bold=True)
    _para(right, "CHỦ NHIỆM", align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, space_after=48)
    if signing.chair_name:
        _para(right, signing.chair_name, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, space_after=0)


def render_compilation(data: Compilation) -> Any:
    """The compilation as a python-docx `Document` (no I/O)."""
    doc = Document()
    _setup(doc)
    _club_header(doc, data.signing.club_name, data.number, place_date(data.today))
    _para(doc, "", space_after=6)
    _para(doc, "BÁO CÁO", align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=14, space_after=0)
    _para(
        doc,
        f"Tổng hợp ý kiến, đề xuất của thành viên {data.signing.club_name} {data.period.label_vi}",
        align=WD_ALIGN_PARAGRAPH.CENTER,
        bold=True,
        space_after=6,
    )
    _para(doc, "Kính gửi: Ban Thường vụ Tỉnh đoàn Tây Ninh.", align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
    _para(
        doc,
        f"{data.signing.club_name} tổng hợp ý kiến, đề xuất của các thành viên {data.period.label_vi} "
        "như sau (báo cáo không chứa thông tin nhận dạng trẻ em):",
    )
    _heading(doc, "I. ĐỀ XUẤT VỀ CÁC VỤ VIỆC ĐÃ CHUYỂN BAN THƯỜNG VỤ")
    levels = Counter(f["level"] for f in data.forwarded)
    _para(
        doc,
        f"- Số vụ việc đã chuyển ý kiến đề xuất: {vn_number(len(data.forwarded))}"
        + (
            f" ({joined([f'{level.lower()}: {vn_number(n)}' for level, n in sorted(levels.items())])})."
            if levels
            else "."
        ),
    )
    if data.forwarded:
        _data_table(
            doc,
            [
                "Mã vụ việc",
                "Loại vụ việc",
                "Đơn vị",
                "Mức độ",
                "Cấp độ bảo vệ đề xuất",
                "Đề nghị phối hợp",
                "Ngày chuyển",
            ],
            [
                [
                    f["code"],
                    f["category_name"],
                    f["unit_name"],
                    f["urgency"],
                    f["level"],
                    f["referrals"],
                    f["forwarded_on"].strftime("%d/%m/%Y"),
                ]
                for f in data.forwarded
            ],
        )
    _heading(doc, "II. Ý KIẾN, ĐỀ XUẤT CHUNG CỦA THÀNH VIÊN")
    if not data.proposals:
        _para(doc, "- Trong kỳ, thành viên không có ý kiến, đề xuất chung.")
    topic = None
    number = 0
    for proposal in data.proposals:
        if proposal["topic_vi"] != topic:
            topic, number = proposal["topic_vi"], number + 1
            _heading(doc, f"{number}. {topic}")
        _para(
            doc,
            f"- {proposal['text_vi'].rstrip('.')}. (Đồng chí {proposal['proposed_by']}, "
            f"ngày {proposal['submitted_on'].strftime('%d/%m/%Y')}).",
        )
    _heading(doc, "III. KIẾN NGHỊ")
    _para(
        doc,
        "- Đề nghị Ban Thường vụ Tỉnh đoàn xem xét các đề xuất nêu trên, chỉ đạo các cơ quan, đơn vị liên quan "
        "phối hợp giải quyết và thông tin kết quả để Câu lạc bộ theo dõi.",
    )
    _club_signature(doc, data.signing)
    return doc
