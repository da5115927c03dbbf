"""Review reports as DOCX in the Youth Union document layout (DOMAIN.md §10, guide 29-HD/TWĐTN-VP).

Header block: the issuing body (BCH TỈNH TÂY NINH, ***, Số: …-BC/TĐTN-TTNTH) on the left, ĐOÀN TNCS HỒ CHÍ
MINH with a rule under it and the place-date line on the right; then BÁO CÁO and the subject; numbered
sections (I., 1., -); the signature block (TM. BAN THƯỜNG VỤ TỈNH ĐOÀN) and Nơi nhận. A4 portrait,
margins 20/20/30/20 mm, Times New Roman.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import club_sections, council, figures, funding, plan, suppression
from services.reporting.domain import Period, parse_period
from services.reporting.seed import special_circumstance_names
from services.reporting.settings import DATA_DIR, ReportingSettings
from services.reporting.tables import (
    CHANNEL_VI,
    DEADLINE_VI,
    PLAN_STATUS_VI,
    REFERRAL_VI,
    STAGE_VI,
    STATUS_VI,
    URGENCY_VI,
    age_groups,
    topic_name,
)

FONT = "Times New Roman"
CLUB = "Câu lạc bộ tư vấn, giúp đỡ trẻ em tỉnh Tây Ninh"
SIGNING_BODY = "TM. BAN THƯỜNG VỤ TỈNH ĐOÀN"


@dataclass(frozen=True)
class Signing:
    """Who issues and signs the reviews, and who receives them (settings)."""

    club_name: str = CLUB
    signer_title: str = "PHÓ BÍ THƯ"
    signer_name: str = ""
    recipients: tuple[str, ...] = ()

    @classmethod
    def of(cls, settings: ReportingSettings) -> Signing:
        recipients = tuple(r.strip() for r in settings.document_recipients.split(";") if r.strip())
        return cls(settings.club_name, settings.document_signer_title, settings.document_signer_name, recipients)

    def recipient_lines(self) -> list[str]:
        """“Nơi nhận” lines: the Standing Committee signs the review, so it is not sent to itself."""
        lines = [r.rstrip(";.") for r in self.recipients if not _is_signer(r)]
        return [f"- {line};" for line in lines[:-1]] + [f"- {line}." for line in lines[-1:]]


def _is_signer(recipient: str) -> bool:
    return recipient.casefold().strip(" -;.") in {"ban thường vụ tỉnh đoàn", "btv tỉnh đoàn", "thường trực tỉnh đoàn"}


@dataclass(frozen=True)
class ReviewKind:
    code: str
    subject: str
    period: str


def review_kind(kind: str, year: int | None, club: str = CLUB) -> ReviewKind:
    """annual (sơ kết năm), three_year (sơ kết 2023–2025) or five_year (tổng kết 2023–2027)."""
    if kind == "annual":
        if year is None:
            raise ValueError("year is required for an annual review")
        return ReviewKind("annual", f"Sơ kết hoạt động {club} năm {year}", str(year))
    if kind == "three_year":
        return ReviewKind("three_year", f"Sơ kết 03 năm hoạt động {club} giai đoạn 2023–2025", "2023..2025")
    if kind == "five_year":
        return ReviewKind("five_year", f"Tổng kết 05 năm hoạt động {club} giai đoạn 2023–2027", "2023..2027")
    raise ValueError(f"unknown review kind {kind!r}")


def vn_number(value: Any) -> str:
    """Numbers as a Vietnamese report writes them: 1.234.567 and 12,5. Text (years, codes) stays as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if isinstance(value, float) and not value.is_integer():
        whole, _, fraction = f"{value:,.2f}".rstrip("0").partition(".")
        return whole.replace(",", ".") + ("," + fraction if fraction else "")
    return f"{int(value):,}".replace(",", ".")


def _font(run: Any, *, bold: bool = False, italic: bool = False, size: float = 13, underline: bool = False) -> None:
    run.font.name = FONT
    run.font.size = Pt(size)
    run.bold = bold
    run.italic = italic
    run.underline = underline
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)


def _para(container: Any, text: str, *, align: Any = None, space_after: float = 3, **style: Any) -> Paragraph:
    paragraph = container.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(space_after)
    paragraph.paragraph_format.space_before = Pt(0)
    _font(paragraph.add_run(text), **style)
    return paragraph


def _rule_under(paragraph: Paragraph) -> None:
    """A bottom border on the paragraph: the rule under ĐOÀN TNCS HỒ CHÍ MINH."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    ppr.append(borders)


def _no_borders(table: Table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.append(borders)


def _first_cell_paragraph(cell: Any, text: str, **style: Any) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(0)
    _font(paragraph.add_run(text), **style)


def _data_table(doc: Any, headers: list[str], rows: list[list[Any]]) -> None:
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        _first_cell_paragraph(cell, header, bold=True, size=11)
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            text = vn_number(value)
            _first_cell_paragraph(cell, text, size=11)
    _para(doc, "", space_after=2)


def _setup(doc: Any) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(20)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(13)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    table_style = doc.styles["Table Grid"]
    table_style.font.name = FONT


def _header(doc: Any, number: str, place_date: str) -> None:
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    left, right = table.rows[0].cells
    left.width, right.width = Mm(70), Mm(90)
    _first_cell_paragraph(left, "BCH TỈNH TÂY NINH", bold=True)
    _para(left, "***", align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    _para(left, f"Số: {number}-BC/TĐTN-TTNTH", align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0, size=13)
    _first_cell_paragraph(right, "ĐOÀN TNCS HỒ CHÍ MINH", bold=True, size=14)
    _rule_under(right.paragraphs[0])
    _para(right, "", space_after=0)
    _para(right, place_date, align=WD_ALIGN_PARAGRAPH.CENTER, italic=True, space_after=0)


def place_date(today: date, place: str = "Tây Ninh") -> str:
    """The place and date line as Decree 30/2020 (Appendix I) writes it: a leading zero only for days below
    10 and for months 1 and 2 (“ngày 05 tháng 02 năm 2026”, “ngày 29 tháng 11 năm 2026”)."""
    month = f"{today.month:02d}" if today.month < 3 else str(today.month)
    return f"{place}, ngày {today.day:02d} tháng {month} năm {today.year}"


@dataclass(frozen=True)
class ReviewData:
    """Everything a review shows, read from the database (`gather`) or made up for a sample."""

    kind: ReviewKind
    period: Period
    today: date
    summary: dict[str, Any]
    tracker: dict[str, Any]
    unit_names: dict[str, str]
    category_names: dict[str, str]
    group_names: dict[str, str]
    number: str = "    "
    signing: Signing = Signing()
    funding: dict[str, Any] | None = None  # funding.summary of the period
    council: list[dict[str, Any]] | None = None  # council.requests of the period
    notes: list[dict[str, Any]] | None = None  # review_notes of the period's years
    proposals: int = 0  # members' proposals to the Standing Committee in the period


async def gather(
    session: AsyncSession,
    kind: ReviewKind,
    today: date,
    number: str = "    ",
    signing: Signing | None = None,
    small: int = 0,
) -> ReviewData:
    """`small` > 1 suppresses counts under it (services.reporting.suppression)."""
    period = parse_period(kind.period)
    summary = await figures.summary(session, period)
    if small:
        cases = suppression.cases_report(await figures.case_counts(session, period), small, figures.DIMENSIONS)
        summary["cases"] = {key: value for key, value in cases.items() if key != "rows"}
        summary["special_groups"] = suppression.suppress_rows(summary["special_groups"], small)
    return ReviewData(
        kind=kind,
        period=period,
        today=today,
        summary=summary,
        tracker=await plan.tracker(session, period, today),
        unit_names=await figures.unit_names(session),
        category_names=await figures.category_names(session),
        group_names=special_circumstance_names(DATA_DIR),
        number=number,
        signing=signing or Signing(),
        funding=await funding.summary(session, period),
        council=await council.requests(session, period),
        notes=await club_sections.notes_of(session, period),
        proposals=await club_sections.proposals_in(session, period),
    )


async def review_docx(
    session: AsyncSession,
    kind: ReviewKind,
    today: date,
    number: str = "    ",
    signing: Signing | None = None,
    small: int = 0,
) -> bytes:
    return to_bytes(render_review(await gather(session, kind, today, number, signing, small)))


def to_bytes(doc: Any) -> bytes:
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def render_review(review: ReviewData) -> Any:
    """The review as a python-docx `Document` (no I/O)."""
    kind, period, data, tracker = review.kind, review.period, review.summary, review.tracker
    names, cats = review.unit_names, review.category_names
    club = review.signing.club_name
    doc = Document()
    _setup(doc)
    _header(doc, review.number, place_date(review.today))
    _para(doc, "", space_after=6)
    _para(doc, "BÁO CÁO", align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=14, space_after=0)
    _para(doc, kind.subject, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=14, space_after=0)
    _para(doc, "-----", align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
    _para(
        doc,
        f"Ban Thường vụ Tỉnh đoàn báo cáo kết quả hoạt động của {club} {period.label_vi} như sau:",
        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
    )
    _cases_section(doc, data, period, names, cats, review.group_names)
    _counseling_section(doc, data, cats)
    _reporting_section(doc, data)
    _plan_section(doc, tracker, names)
    numerals = iter(("V", "VI", "VII", "VIII", "IX", "X", "XI"))
    if review.council is not None:
        club_sections.council_section(doc, f"{next(numerals)}. HỖ TRỢ, TƯ VẤN CHO HỘI ĐỒNG TRẺ EM TỈNH", review.council)
    if "tasks" in data:
        club_sections.tasks_section(
            doc, f"{next(numerals)}. THỰC HIỆN NHIỆM VỤ DO BAN THƯỜNG VỤ TỈNH ĐOÀN GIAO", data["tasks"]
        )
    if review.funding is not None:
        club_sections.funding_section(doc, f"{next(numerals)}. KINH PHÍ HOẠT ĐỘNG", review.funding)
    if review.notes is not None:
        club_sections.assessment_section(doc, f"{next(numerals)}. ĐÁNH GIÁ CHUNG", data, tracker, review.notes)
    _direction_section(doc, kind, period, next(numerals))
    if review.notes is not None:
        club_sections.recommendations_section(
            doc, f"{next(numerals)}. KIẾN NGHỊ, ĐỀ XUẤT", review.notes, review.proposals
        )
    _signature(doc, review.signing)
    return doc


def _heading(doc: Any, text: str) -> None:
    _para(doc, text, bold=True, space_after=3)


def _cases_section(
    doc: Any,
    data: dict[str, Any],
    period: Period,
    names: dict[str, str],
    cats: dict[str, str],
    group_names: dict[str, str],
) -> None:
    cases = data["cases"]
    _heading(doc, "I. TÌNH HÌNH TIẾP NHẬN VÀ XỬ LÝ VỤ VIỆC")
    _para(doc, f"- Tổng số vụ việc ảnh hưởng đến quyền trẻ em được tiếp nhận: {vn_number(cases['total'])} vụ việc.")
    _heading(doc, "1. Số vụ việc theo đơn vị")
    _para(
        doc,
        "- Các đơn vị được thống kê theo tên gọi tại thời điểm tiếp nhận (trước và sau ngày 01/7/2025).",
        italic=True,
    )
    _data_table(doc, ["Đơn vị", "Số vụ việc"], [[names.get(u, u), n] for u, n in cases["by_unit"].items()])
    _heading(doc, "2. Số vụ việc theo loại vụ việc")
    _data_table(doc, ["Loại vụ việc", "Số vụ việc"], [[cats.get(c, c), n] for c, n in cases["by_category"].items()])
    _heading(doc, "3. Số vụ việc theo mức độ khẩn cấp và trạng thái")
    _data_table(
        doc, ["Mức độ khẩn cấp", "Số vụ việc"], [[URGENCY_VI.get(u, u), n] for u, n in cases["by_urgency"].items()]
    )
    _data_table(doc, ["Trạng thái", "Số vụ việc"], [[STATUS_VI.get(s, s), n] for s, n in cases["by_status"].items()])
    _heading(doc, "4. Độ tuổi")
    _para(
        doc,
        "- Trẻ em là người dưới 16 tuổi (Điều 1 Luật Trẻ em); người từ đủ 16 đến dưới 18 tuổi là người chưa "
        "thành niên, được tiếp nhận và thống kê riêng.",
        italic=True,
    )
    groups_by_age = age_groups(data.get("age_bands", {}))
    _data_table(doc, ["Độ tuổi", "Số vụ việc"], [[label, n] for label, n in groups_by_age])
    _heading(doc, "5. Trẻ em có hoàn cảnh đặc biệt")
    groups: dict[str, int] = {}
    for row in data["special_groups"]:
        if suppression.count(row["cases"]):  # a suppressed cell ("<5") counts for nothing in the sums
            groups[row["grp"]] = groups.get(row["grp"], 0) + row["cases"]
    _data_table(
        doc,
        ["Nhóm (khoản Điều 10 Luật Trẻ em)", "Số vụ việc"],
        [[f"{g}) {group_names.get(g, g)}", n] for g, n in sorted(groups.items())],
    )
    below = data.get("below_suggested_urgency", 0)
    if below:
        _para(
            doc,
            f"- Số vụ việc thuộc loại pháp luật coi là khẩn cấp nhưng được ghi mức độ thấp hơn mức đề xuất "
            f"(có nêu lý do): {vn_number(below)}.",
        )
    _heading(doc, "6. Chuyển gửi cơ quan có trách nhiệm")
    _para(
        doc,
        "- Theo Nghị định số 56/2017/NĐ-CP, Chủ tịch Ủy ban nhân dân cấp xã và người làm công tác bảo vệ trẻ em "
        "cấp xã áp dụng biện pháp can thiệp khẩn cấp và xây dựng kế hoạch hỗ trợ; Câu lạc bộ tư vấn, kết nối.",
        italic=True,
    )
    _data_table(
        doc,
        ["Nơi nhận chuyển gửi", "Số lần chuyển gửi", "Đã có phản hồi tiếp nhận"],
        [[REFERRAL_VI.get(r["to"], r["to"]), r["referrals"], r["acknowledged"]] for r in data.get("referrals", [])],
    )
    _heading(doc, "7. Thời gian xử lý và vi phạm thời hạn")
    _data_table(
        doc,
        ["Giai đoạn", "Mức độ", "Số vụ việc", "Trung bình (giờ)", "Tối đa (giờ)"],
        [
            [STAGE_VI[r["stage"]], URGENCY_VI[r["urgency"]], r["cases"], r["mean_hours"], r["max_hours"]]
            for r in data["timings"]
        ],
    )
    total_breaches = sum(r["breaches"] for r in data["breaches"])
    _para(doc, f"- Số lần quá thời hạn phải báo cáo lên cấp trên: {vn_number(total_breaches)}.")
    _data_table(
        doc,
        ["Thời hạn", "Mức độ", "Số lần"],
        [
            [DEADLINE_VI.get(r["deadline"], r["deadline"]), URGENCY_VI[r["urgency"]], r["breaches"]]
            for r in data["breaches"]
        ],
    )


def _counseling_section(doc: Any, data: dict[str, Any], cats: dict[str, str]) -> None:
    _heading(doc, "II. HOẠT ĐỘNG TƯ VẤN")
    total = sum(r["requests"] for r in data["counseling"])
    answered = sum(r["answered"] for r in data["counseling"])
    _para(
        doc,
        f"- Tổng số yêu cầu tư vấn: {vn_number(total)}; đã trả lời: {vn_number(answered)}; "
        f"đang chờ: {vn_number(total - answered)}.",
    )
    _data_table(
        doc,
        ["Chủ đề", "Kênh", "Số yêu cầu", "Đã trả lời"],
        [
            [topic_name(r["topic"], cats), CHANNEL_VI.get(r["channel"], r["channel"]), r["requests"], r["answered"]]
            for r in data["counseling"]
        ],
    )


def _reporting_section(doc: Any, data: dict[str, Any]) -> None:
    completeness = data["completeness"]
    total = completeness["total"]
    _heading(doc, "III. TÌNH HÌNH BÁO CÁO CỦA CÁC ĐƠN VỊ")
    _para(
        doc,
        f"- Số báo cáo tháng dự kiến: {vn_number(total['expected'])}; đã nhận: {vn_number(total['received'])} "
        f"(tỷ lệ {vn_number(total['rate'])}%); đúng hạn: {vn_number(total['on_time'])}; "
        f"trễ hạn: {vn_number(total['late'])}; chưa nộp: {vn_number(total['missing'])}.",
    )
    _data_table(
        doc,
        ["Đơn vị", "Dự kiến", "Đã nhận", "Đúng hạn", "Trễ hạn", "Chưa nộp", "Tỷ lệ (%)"],
        [
            [r["unit_name"], r["expected"], r["received"], r["on_time"], r["late"], r["missing"], r["rate"]]
            for r in completeness["rows"]
        ],
    )
    sums = data["unit_reports"]
    _para(
        doc,
        f"- Tổng số vụ việc các đơn vị báo cáo trong báo cáo tháng: {vn_number(sum(r['cases'] for r in sums))}; "
        f"số hoạt động đã tổ chức: {vn_number(sum(r['activities_held'] for r in sums))}.",
    )


def _plan_section(doc: Any, tracker: dict[str, Any], names: dict[str, str]) -> None:
    _heading(doc, "IV. KẾT QUẢ THỰC HIỆN KẾ HOẠCH")
    counts = tracker["counts"]
    _para(
        doc, f"- Nội dung đã thực hiện: {counts['done']}; chưa đến hạn: {counts['due']}; quá hạn: {counts['overdue']}."
    )
    _heading(doc, "1. Các nội dung theo lộ trình")
    _data_table(
        doc,
        ["Năm", "Nội dung", "Hạn", "Trạng thái"],
        [
            [str(r["year"]), r["title_vi"], r["due_on"].strftime("%d/%m/%Y"), PLAN_STATUS_VI[r["status"]]]
            for r in tracker["items"]
        ],
    )
    _heading(doc, "2. Họp Ban Chủ nhiệm và sinh hoạt Câu lạc bộ")
    _data_table(
        doc,
        ["Nội dung", "Số lần", "Trạng thái"],
        [
            [r["title_vi"], r["held"], PLAN_STATUS_VI[r["status"]]]
            for r in [*tracker["board_meetings"], *tracker["club_meetings"]]
        ],
    )
    _heading(doc, "3. Các hoạt động đã tổ chức")
    for activity in tracker["activities"]:
        _para(
            doc,
            f"- Ngày {activity['held_on'].strftime('%d/%m/%Y')}: {activity['title_vi']} "
            f"({plan.ACTIVITY_KINDS.get(activity['kind'], activity['kind'])}, "
            f"{activity['participants']} người tham dự).",
        )
    clubs = tracker.get("local_clubs", [])
    _heading(doc, "4. Câu lạc bộ tư vấn, giúp đỡ trẻ em cấp xã, phường")
    if not clubs:
        _para(doc, "- Chưa có đơn vị thành lập Câu lạc bộ cấp xã, phường.")
    else:
        listed = "; ".join(
            f"{names.get(c['unit'], c['unit'])}, từ ngày {c['first_on'].strftime('%d/%m/%Y')}" for c in clubs
        )
        _para(doc, f"- Số Câu lạc bộ cấp xã, phường đang hoạt động: {vn_number(len(clubs))} ({listed}).")


def _direction_section(doc: Any, kind: ReviewKind, period: Period, numeral: str) -> None:
    _heading(doc, f"{numeral}. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI")
    if kind.code == "five_year":
        _para(doc, "- Xây dựng chương trình hoạt động giai đoạn 2027–2032.")
    else:
        _para(doc, f"- Tiếp tục thực hiện các nội dung của kế hoạch năm {period.last.year + 1} theo lộ trình.")
    _para(doc, "- Duy trì họp Ban Chủ nhiệm hằng quý và sinh hoạt Câu lạc bộ ít nhất 02 lần/năm.")


def _signature(doc: Any, signing: Signing) -> None:
    _para(doc, "", space_after=6)
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    left, right = table.rows[0].cells
    paragraph = left.paragraphs[0]
    _font(paragraph.add_run("Nơi nhận:"), bold=True, italic=True, size=12)
    for line in signing.recipient_lines():
        _para(left, line, size=11, space_after=0)
    _first_cell_paragraph(right, SIGNING_BODY, bold=True)
    _para(right, signing.signer_title.upper(), align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, space_after=48)
    if signing.signer_name:
        _para(right, signing.signer_name, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, space_after=0)


def docx_markdown(doc: Any) -> str:
    """A reviewable Markdown rendering of a DOCX (paragraphs and tables in document order), for docs/samples:
    a grid table as a Markdown table, a borderless layout table (header, signature) cell by cell."""
    blocks: list[str] = []
    for child in doc.element.body.iterchildren():
        if child.tag == qn("w:p"):
            text = Paragraph(child, doc).text.strip()
            if text:
                blocks.append(text)
        elif child.tag == qn("w:tbl"):
            table = Table(child, doc)
            borderless = child.find(qn("w:tblPr")).find(qn("w:tblBorders")) is not None
            if borderless:
                for row in table.rows:
                    for cell in row.cells:
                        lines = [p.text.strip() for p in cell.paragraphs if p.text.strip()]
                        if lines:
                            blocks.append("  \n".join(lines))
            else:
                rows = [[cell.text.strip().replace("|", "\\|") for cell in row.cells] for row in table.rows]
                lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
                lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
                blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
