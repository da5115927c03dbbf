"""Decree 56/2017/NĐ-CP, Mẫu số 01: "BÁO CÁO TIẾP NHẬN THÔNG TIN TRẺ EM …", filled from a case (no I/O).

The form's layout as the decree's appendix gives it (checked against two published copies of the appendix):
the receiving body (1) top left with "Số: …/BC-(2)", the national motto top right with the place and date
(3); the title with what the child is (4): bị xâm hại / có nguy cơ bị bạo lực, bóc lột, bỏ rơi / có hoàn
cảnh đặc biệt; A. Thông tin chung: 1. Nguồn nhận thông tin, 2. Thông tin về trẻ em, 3. Thông tin người
cung cấp thông tin (nếu đồng ý cung cấp); Ghi thêm; the receiving officer's signature.

Fields the club does not record (the parents' names, ages and occupations, help given before the report)
are left dotted, to be completed by hand, as the form intends for what the officer does not know.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from services.intake.domain import VN

FONT = "Times New Roman"
DOTS = "……………………"
# Categories of abuse (Law on Children Art. 4; the plan's school violence and online harm).
ABUSE = frozenset(
    {
        "violence_physical",
        "violence_emotional",
        "sexual_abuse",
        "exploitation_labour",
        "exploitation_sexual",
        "trafficking",
        "abandonment",
        "neglect",
        "child_marriage",
        "school_violence",
        "online_harm",
    }
)
SEX_VI = {"male": "Nam", "female": "Nữ"}
URGENCY_VI = {"critical": "Khẩn cấp", "high": "Cao", "medium": "Trung bình", "low": "Thấp"}
PROTECTION_VI = {"prevention": "Phòng ngừa", "support": "Hỗ trợ", "intervention": "Can thiệp"}


@dataclass(frozen=True)
class Form01:
    """What the form shows; built by the endpoint from the case, its decrypted child data and names."""

    code: str
    receiving_body: str
    reported_at: datetime
    learned_at: datetime
    unit_name: str
    category_code: str
    category_name: str
    urgency: str
    protection_level: str
    summary: str
    special_circumstances: list[str] = field(default_factory=list)  # names
    child: dict[str, str] = field(default_factory=dict)
    reporter: dict[str, str] = field(default_factory=dict)
    occurred_on: date | None = None


def subject_line(form: Form01) -> str:
    """(4): what the child is, from the case's category and groups."""
    if form.category_code in ABUSE:
        return "BỊ XÂM HẠI"
    if form.category_code == "special_circumstances" or form.special_circumstances:
        return "CÓ HOÀN CẢNH ĐẶC BIỆT"
    return "CÓ NGUY CƠ BỊ BẠO LỰC, BÓC LỘT, BỎ RƠI"


def _date_line(moment: datetime) -> str:
    local = moment.astimezone(VN)
    month = f"{local.month:02d}" if local.month < 3 else str(local.month)
    return f"Tây Ninh, ngày {local.day:02d} tháng {month} năm {local.year}"


def _vn(moment: datetime) -> datetime:
    return moment.astimezone(VN)


def _birth(child: dict[str, str]) -> str:
    if child.get("date_of_birth"):
        born = date.fromisoformat(child["date_of_birth"])
        return f"{born.day:02d}/{born.month:02d}/{born.year}"
    if child.get("age"):
        return f"{DOTS} hoặc ước lượng tuổi: {child['age']} tuổi"
    return f"{DOTS} hoặc ước lượng tuổi: {DOTS}"


def lines(form: Form01) -> list[tuple[str, str]]:
    """The form's body as (style, text) pairs: "h" heading, "p" line."""
    child, reporter = form.child, form.reporter
    at = _vn(form.reported_at)
    learned = _vn(form.learned_at)
    out = [
        ("h", "A. Thông tin chung"),
        ("h", "1. Nguồn nhận thông tin"),
        ("p", f"Thông qua (điện thoại/gặp trực tiếp/người khác báo): người khác báo ({form.unit_name})"),
        ("p", f"Thời gian (mấy giờ): {at.hour} giờ {at.minute:02d}. Ngày {at.day} tháng {at.month} năm {at.year}"),
        ("h", "2. Thông tin về trẻ em"),
        ("p", f"Họ và tên trẻ em: {child.get('name') or DOTS}"),
        ("p", f"Ngày tháng năm sinh: {_birth(child)}"),
        ("p", f"Giới tính: {SEX_VI.get(child.get('sex', ''), 'Không biết')}"),
        ("p", f"Địa điểm xảy ra vụ việc: trên địa bàn {form.unit_name}"),
        ("p", f"Tình trạng hiện tại của trẻ em: {form.summary}"),
        (
            "p",
            "Phỏng đoán hậu quả có thể sẽ xảy ra cho trẻ em nếu không có được hỗ trợ, can thiệp? "
            f"Loại vụ việc: {form.category_name}; mức độ khẩn cấp: {URGENCY_VI.get(form.urgency, form.urgency)}; "
            f"cấp độ bảo vệ đề nghị: {PROTECTION_VI.get(form.protection_level, form.protection_level)}.",
        ),
        ("p", f"Họ và tên cha: {DOTS} Tuổi: {DOTS} Nghề nghiệp: {DOTS}"),
        ("p", f"Họ và tên mẹ: {DOTS} Tuổi: {DOTS} Nghề nghiệp: {DOTS}"),
        ("p", "Hoàn cảnh gia đình: " + ("; ".join(form.special_circumstances) or DOTS)),
        ("p", f"Hiện ai là người chăm sóc trẻ em (nếu biết): {child.get('guardian') or DOTS}"),
        ("p", f"Những hành động hỗ trợ, can thiệp đã thực hiện đối với trẻ em trước khi nhận thông tin: {DOTS}"),
        ("h", "3. Thông tin người cung cấp thông tin (nếu đồng ý cung cấp)"),
        ("p", f"Họ và tên: {reporter.get('name') or DOTS}"),
        ("p", f"Số điện thoại: {reporter.get('phone') or DOTS}"),
        ("p", f"Địa chỉ: {DOTS}"),
        ("h", "Ghi thêm:"),
        ("p", f"- Mã vụ việc trong hệ thống Cầu Nối: {form.code}."),
        ("p", f"- Người báo tin biết sự việc lúc {learned.hour} giờ {learned.minute:02d} ngày {learned:%d/%m/%Y}."),
    ]
    if form.occurred_on is not None:
        out.append(("p", f"- Sự việc xảy ra ngày {form.occurred_on:%d/%m/%Y}."))
    if child.get("address"):
        out.append(("p", f"- Nơi ở của trẻ em: {child['address']}."))
    if child.get("school"):
        out.append(("p", f"- Trường: {child['school']}."))
    if child.get("contact"):
        out.append(("p", f"- Liên hệ gia đình: {child['contact']}."))
    if reporter.get("email"):
        out.append(("p", f"- Thư điện tử của người cung cấp thông tin: {reporter['email']}."))
    return out


def _font(run: Any, *, bold: bool = False, italic: bool = False, size: float = 13) -> None:
    run.font.name = FONT
    run.font.size = Pt(size)
    run.bold = bold
    run.italic = italic
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)


def _cell_line(cell: Any, text: str, *, first: bool = False, **style: Any) -> None:
    paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(0)
    _font(paragraph.add_run(text), **style)


def _no_borders(table: Any) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.append(borders)


def render(form: Form01) -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(20)
    doc.styles["Normal"].font.name = FONT
    doc.styles["Normal"].font.size = Pt(13)

    marker = doc.add_paragraph()
    marker.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _font(marker.add_run("Mẫu số 01"), bold=True)
    header = doc.add_table(rows=1, cols=2)
    _no_borders(header)
    left, right = header.rows[0].cells
    _cell_line(left, form.receiving_body.upper(), first=True, bold=True, size=12)
    _cell_line(left, "-------")
    _cell_line(left, f"Số: {form.code}/BC-CLB", size=12)
    _cell_line(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", first=True, bold=True, size=12)
    _cell_line(right, "Độc lập - Tự do - Hạnh phúc", bold=True)
    _cell_line(right, "---------------")
    _cell_line(right, _date_line(form.reported_at), italic=True)

    for text, size in (("BÁO CÁO", 14), (f"TIẾP NHẬN THÔNG TIN TRẺ EM {subject_line(form)}", 14)):
        paragraph = doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.space_after = Pt(0)
        _font(paragraph.add_run(text), bold=True, size=size)
    doc.add_paragraph()
    for style, text in lines(form):
        paragraph = doc.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(3)
        _font(paragraph.add_run(text), bold=style == "h")

    signature = doc.add_table(rows=1, cols=2)
    _no_borders(signature)
    _cell_line(signature.rows[0].cells[1], "Cán bộ tiếp nhận thông tin", first=True, bold=True)
    _cell_line(signature.rows[0].cells[1], "(Ký, ghi rõ họ tên)", italic=True)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
