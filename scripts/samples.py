"""Render a sample of every message (notify's email and Zalo templates), every review document and the
Vietnamese errors a person meets, into `docs/samples/`, so a Vietnamese reader can review them.

    python -m scripts.samples          # write docs/samples/
    python -m scripts.samples --check  # list stale or missing samples (exit 1 if any)

The samples use made-up, deterministic data (fixed ids and dates; no real child). A test runs `--check`,
so a template or document change without regenerated samples fails.
"""

from __future__ import annotations

import io
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import docx

from services.intake import domain as intake_domain
from services.intake import form01
from services.notify.catalog import load_catalog
from services.notify.messages import Planned, Planner
from services.notify.settings import DATA_DIR as NOTIFY_DATA
from services.notify.templates import CLUB_NAME, render
from services.reporting import funding
from services.reporting.compilation import ClubSigning, Compilation, render_compilation
from services.reporting.documents import ReviewData, Signing, docx_markdown, render_review, review_kind, to_bytes
from services.reporting.domain import parse_period
from services.reporting.seed import special_circumstance_names
from services.reporting.settings import DATA_DIR as REPORTING_DATA
from shared.events.common import Recipient
from shared.events.intake import AccountLinkIssued
from shared.events.reporting import MonthlyReportReminder, PlanItemReminder
from shared.events.routing import (
    AssignmentInfo,
    CaseAssigned,
    CaseDecided,
    CaseEscalated,
    CaseForwarded,
    CaseMembersChanged,
    CounselingRequestAnswered,
    CounselingRequestAssigned,
    DeadlineReminder,
    TaskAssigned,
    TaskAssignee,
)

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "samples"
BASE = "https://caunoi.tinhdoan-tayninh.vn"
NOW = datetime(2026, 11, 30, 2, 30, tzinfo=UTC)  # 09:30 on Monday 30/11/2026 in Vietnam


def _id(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def _member(n: int, name: str, email: str, zalo: str | None = None) -> Recipient:
    return Recipient(member_id=_id(n), display_name=name, email=email, zalo_user_id=zalo)


LAN = _member(1, "Trần Thị Lan", "lan@tinhdoan-tayninh.vn", "8800000000000000001")
DUC = _member(2, "Huỳnh Văn Đức", "chunhiem@tinhdoan-tayninh.vn", "8800000000000000002")
MINH = _member(3, "Lê Quang Minh", "minh@sotuphap.tayninh.gov.vn")
COMMITTEE = _member(4, "Nguyễn Thị Thu Hà", "thuongvu@tinhdoan-tayninh.vn")
UNIT_OFFICER = Recipient(display_name="Phường Tân Ninh", email="doanphuongtanninh@tayninh.vn", channels=("email",))


def _assignment(n: int, member: Recipient, field: str | None, hours: int) -> AssignmentInfo:
    return AssignmentInfo(
        assignment_id=_id(100 + n),
        field=field,  # type: ignore[arg-type]
        member=member,
        respond_by=NOW + timedelta(hours=hours),
        accept_url=f"{BASE}/links/{_id(100 + n)}/accept",
        decline_url=f"{BASE}/links/{_id(100 + n)}/decline",
    )


@dataclass(frozen=True)
class MessageSample:
    name: str
    title: str
    planned: Planned


def messages() -> list[MessageSample]:
    """One sample per template and variant, as notify plans them from the events."""
    p = Planner(load_catalog(NOTIFY_DATA), BASE)
    case_id = _id(10)
    critical = CaseAssigned(
        case_id=case_id,
        code="TN-2026-000123",
        unit="xa-tan-hung",
        category="sexual_abuse",
        urgency="critical",
        protection_level="intervention",
        assignments=(_assignment(1, LAN, "psychology", 1), _assignment(2, DUC, None, 1)),
        missing_fields=("medicine",),
        chair=(DUC,),
        assigned_at=NOW,
    )
    samples: list[tuple[str, str, list[Planned]]] = [
        ("case_assigned", "Phân công thành viên tham gia vụ việc khẩn cấp", p.case_assigned(critical)[:1]),
        (
            "case_missing_experts",
            "Báo Chủ nhiệm: chưa có thành viên cho một lĩnh vực",
            [x for x in p.case_assigned(critical) if x.template == "case_missing_experts"],
        ),
        (
            "case_members_added",
            "Phân công bổ sung (thành viên trước đã từ chối)",
            p.members_changed(
                CaseMembersChanged(
                    case_id=case_id,
                    code="TN-2026-000123",
                    urgency="critical",
                    reason="declined",
                    added=(_assignment(3, MINH, "law", 1),),
                    removed=(),
                    changed_at=NOW,
                )
            ),
        ),
        (
            "case_members_removed",
            "Thôi phân công thành viên",
            p.members_changed(
                CaseMembersChanged(
                    case_id=case_id,
                    code="TN-2026-000123",
                    urgency="critical",
                    reason="chair",
                    added=(),
                    removed=(MINH,),
                    changed_at=NOW,
                )
            ),
        ),
        (
            "deadline_reminder",
            "Nhắc hạn can thiệp khẩn cấp 12 giờ",
            p.deadline_reminder(
                DeadlineReminder(
                    case_id=case_id,
                    code="TN-2026-000123",
                    deadline="emergency_intervention",
                    due_at=NOW + timedelta(hours=2),
                    urgency="critical",
                    recipients=(LAN,),
                )
            ),
        ),
        (
            "deadline_reminder-counseling",
            "Nhắc hạn trả lời yêu cầu tư vấn",
            p.deadline_reminder(
                DeadlineReminder(
                    request_id=_id(20),
                    code="TV-2026-000031",
                    deadline="answer",
                    due_at=NOW + timedelta(days=1),
                    urgency="medium",
                    recipients=(LAN,),
                )
            ),
        ),
        (
            "case_escalated",
            "Quá hạn: chuyển Ban Thường vụ Tỉnh đoàn",
            p.case_escalated(
                CaseEscalated(
                    case_id=case_id,
                    code="TN-2026-000123",
                    deadline="acceptance",
                    due_at=NOW - timedelta(hours=2),
                    urgency="critical",
                    level="committee",
                    recipients=(COMMITTEE,),
                    escalated_at=NOW,
                )
            ),
        ),
        (
            "case_escalated-nobody-available",
            "Không có thành viên nhận: đề nghị Chủ nhiệm phân công",
            p.case_escalated(
                CaseEscalated(
                    request_id=_id(21),
                    code="TV-2026-000032",
                    deadline="acceptance",
                    due_at=NOW,
                    urgency="medium",
                    level="chair",
                    recipients=(DUC,),
                    escalated_at=NOW,
                    reason="nobody_available",
                )
            ),
        ),
        (
            "case_forwarded",
            "Chuyển ý kiến đề xuất tới Ban Thường vụ Tỉnh đoàn",
            p.case_forwarded(
                CaseForwarded(
                    case_id=case_id,
                    code="TN-2026-000123",
                    urgency="critical",
                    recommended_level="intervention",
                    referrals=("commune_social_services", "police", "health_facility"),
                    recipients=(COMMITTEE,),
                    forwarded_at=NOW,
                )
            ),
        ),
        (
            "case_decided",
            "Ban Thường vụ quyết định về đề xuất (báo Chủ nhiệm)",
            p.case_decided(
                CaseDecided(
                    case_id=case_id,
                    code="TN-2026-000123",
                    unit="phuong-tan-ninh",
                    urgency="critical",
                    outcome="amended",
                    decided_by=_id(90),
                    decided_at=NOW,
                    forwarded_at=NOW,
                    recipients=(DUC,),
                )
            ),
        ),
        (
            "counseling_request_assigned",
            "Phân công trả lời yêu cầu tư vấn",
            p.counseling_assigned(
                CounselingRequestAssigned(
                    request_id=_id(20),
                    code="TV-2026-000031",
                    topic="school_violence",
                    assignment=_assignment(4, LAN, "psychology", 24),
                    assigned_at=NOW,
                )
            ),
        ),
        (
            "counseling_answer",
            "Trả lời một em nhỏ qua Zalo",
            p.counseling_answered(
                CounselingRequestAnswered(
                    request_id=_id(20),
                    code="TV-2026-000031",
                    answered_by=LAN.member_id or _id(1),
                    answered_at=NOW,
                    reply_zalo_user_id="8800000000000000999",
                    answer_text="Chào em, cảm ơn em đã tin tưởng kể cho Câu lạc bộ nghe. Bị bạn bè trêu chọc "
                    "nhiều lần là điều không ai đáng phải chịu, và đó không phải lỗi của em. Em hãy kể chuyện "
                    "này với bố mẹ hoặc cô giáo chủ nhiệm, người em tin nhất. Nếu em muốn, em có thể nhắn tiếp "
                    "cho Câu lạc bộ bất cứ lúc nào.",
                )
            ),
        ),
        (
            "monthly_report_reminder",
            "Nhắc đơn vị gửi báo cáo tháng",
            p.monthly_report_reminder(
                MonthlyReportReminder(
                    unit="phuong-tan-ninh",
                    unit_name="Phường Tân Ninh",
                    period="2026-11",
                    due_on=date(2026, 12, 5),
                    stage="due",
                    recipients=(UNIT_OFFICER,),
                    at=NOW,
                )
            ),
        ),
        (
            "monthly_report_reminder-overdue",
            "Đơn vị chưa gửi báo cáo tháng (quá hạn)",
            p.monthly_report_reminder(
                MonthlyReportReminder(
                    unit="xa-ben-cau",
                    unit_name="Xã Bến Cầu",
                    period="2026-10",
                    due_on=date(2026, 11, 5),
                    stage="overdue",
                    recipients=(
                        Recipient(display_name="Xã Bến Cầu", email="doanxabencau@tayninh.vn", channels=("email",)),
                    ),
                    at=NOW,
                )
            ),
        ),
        (
            "task_assigned",
            "Nhiệm vụ do Ban Thường vụ Tỉnh đoàn giao Câu lạc bộ",
            p.task_assigned(
                TaskAssigned(
                    task_id=_id(30),
                    code="NV-2026-004",
                    title_vi="Góp ý dự thảo Kế hoạch triển khai Tháng hành động vì trẻ em năm 2027",
                    fields=("law", "psychology"),
                    unit="xa-long-thuan",
                    due_on=date(2026, 12, 15),
                    assignees=(TaskAssignee(field="law", member=MINH), TaskAssignee(field="psychology", member=MINH)),
                    assigned_at=NOW,
                )
            ),
        ),
        (
            "plan_reminder",
            "Nhắc Chủ nhiệm nội dung Kế hoạch sắp đến hạn",
            p.plan_reminder(
                PlanItemReminder(
                    item_id="board-2026-Q4",
                    kind="board_meeting",
                    title_vi="Họp Ban Chủ nhiệm quý IV năm 2026",
                    due_on=date(2026, 12, 31),
                    stage="due",
                    recipients=(Recipient(display_name="Chủ nhiệm Câu lạc bộ", email="chunhiem@tinhdoan-tayninh.vn"),),
                    at=NOW,
                )
            ),
        ),
    ]
    for kind, title in (("invitation", "Lời mời đăng nhập (tài khoản mới)"), ("reset", "Đặt lại mật khẩu")):
        link = AccountLinkIssued(
            account_id=_id(20),
            kind=kind,  # type: ignore[arg-type]
            link=f"{BASE}/moi/mau-lien-ket-chi-dung-mot-lan",
            email="canbo.tanninh@tinhdoan-tayninh.vn",
            display_name="Nguyễn Văn An",
            issued_at=NOW,
            expires_at=NOW + timedelta(hours=72),
        )
        samples.append((f"account_{kind}", title, p.account_link(link)))
    return [MessageSample(name, title, planned[0]) for name, title, planned in samples]


def message_markdown(sample: MessageSample) -> tuple[str, str]:
    """(Markdown with subject, text and Zalo; the HTML body) of one message."""
    context: dict[str, Any] = {"club_name": CLUB_NAME, **sample.planned.context}
    rendered = render(sample.planned.template, context)
    who = sample.planned.recipient.display_name
    markdown = "\n".join(
        [
            f"# {sample.title}",
            "",
            f"Mẫu `{sample.planned.template}` · người nhận: {who} · dữ liệu giả định.",
            "",
            "## Tiêu đề thư",
            "",
            rendered.subject,
            "",
            "## Nội dung thư",
            "",
            "```text",
            rendered.text.rstrip("\n"),
            "```",
            "",
            "## Tin nhắn Zalo",
            "",
            "```text",
            rendered.zalo.rstrip("\n"),
            "```",
            "",
            f"Bản HTML của thư: [{sample.name}.html]({sample.name}.html)",
            "",
        ]
    )
    return markdown, rendered.html


def _sample_summary(year_cases: int) -> dict[str, Any]:
    return {
        "tasks": {"assigned": 4, "done": 3, "done_late": 1},
        "cases": {
            "total": year_cases,
            "by_unit": {"ben-cau": 5, "tay-ninh": 4, "phuong-tan-ninh": 9, "xa-ben-cau": 3, "xa-long-thuan": 2},
            "by_category": {
                "violence_physical": 4,
                "sexual_abuse": 3,
                "online_harm": 6,
                "school_violence": 5,
                "child_marriage": 2,
                "neglect": 3,
            },
            "by_urgency": {"critical": 4, "high": 13, "medium": 6},
            "by_status": {"closed": 17, "in_progress": 4, "forwarded": 2},
        },
        "special_groups": [
            {"unit": "ben-cau", "grp": "a", "cases": 1},
            {"unit": "phuong-tan-ninh", "grp": "d", "cases": 2},
            {"unit": "xa-ben-cau", "grp": "i", "cases": 1},
            {"unit": "tay-ninh", "grp": "l", "cases": 2},
        ],
        "age_bands": {"0-5": 1, "6-10": 6, "11-15": 11, "16-17": 4, "unknown": 1},
        "below_suggested_urgency": 1,
        "referrals": [
            {"to": "commune_committee", "referrals": 3, "acknowledged": 3},
            {"to": "commune_child_protection_officer", "referrals": 5, "acknowledged": 4},
            {"to": "police", "referrals": 2, "acknowledged": 2},
            {"to": "school", "referrals": 4, "acknowledged": 3},
        ],
        "timings": [
            {"stage": "assigned", "urgency": "critical", "cases": 4, "mean_hours": 0.2, "max_hours": 0.5},
            {"stage": "accepted", "urgency": "critical", "cases": 4, "mean_hours": 0.8, "max_hours": 1.5},
            {"stage": "accepted", "urgency": "high", "cases": 13, "mean_hours": 3.1, "max_hours": 7.25},
        ],
        "breaches": [{"deadline": "acceptance", "urgency": "high", "breaches": 2}],
        "counseling": [
            {"topic": "school_violence", "channel": "zalo", "requests": 14, "answered": 14},
            {"topic": "mental_health", "channel": "web", "requests": 9, "answered": 8},
            {"topic": "free", "channel": "zalo", "requests": 6, "answered": 6},
        ],
        "completeness": {
            "total": {"expected": 1260, "received": 1187, "rate": 94.2, "on_time": 1102, "late": 85, "missing": 73},
            "rows": [
                {
                    "unit_name": "Phường Tân Ninh",
                    "expected": 6,
                    "received": 6,
                    "on_time": 6,
                    "late": 0,
                    "missing": 0,
                    "rate": 100.0,
                },
                {
                    "unit_name": "Xã Bến Cầu",
                    "expected": 6,
                    "received": 5,
                    "on_time": 4,
                    "late": 1,
                    "missing": 1,
                    "rate": 83.33,
                },
            ],
        },
        "unit_reports": [{"cases": 41, "activities_held": 118}],
    }


def _sample_funding(scale: int) -> dict[str, Any]:
    """Made-up funding of a period (đồng), the shape of `funding.summary`."""
    income = {"provincial_support": 20_000_000, "member_contributions": 3_600_000, "sponsor": 15_000_000}
    expense = {
        "thematic_programme": 18_500_000,
        "meeting": 2_400_000,
        "training": 6_000_000,
        "child_support": 7_000_000,
    }
    income = {k: v * scale for k, v in income.items()}
    expense = {k: v * scale for k, v in expense.items()}
    opening = 4_250_000
    return {
        "opening_balance": opening,
        "income": [{"category": k, "name_vi": n, "amount": income.get(k, 0)} for k, n in funding.SOURCES.items()],
        "expense": [{"category": k, "name_vi": n, "amount": expense.get(k, 0)} for k, n in funding.ACTIVITIES.items()],
        "total_income": sum(income.values()),
        "total_expense": sum(expense.values()),
        "closing_balance": opening + sum(income.values()) - sum(expense.values()),
    }


def _sample_notes() -> list[dict[str, Any]]:
    """What the chair wrote for the review (made up)."""
    notes = [
        (
            "strength",
            "Các thành viên nhận vụ việc kịp thời, phối hợp chặt chẽ với công chức làm công tác bảo vệ trẻ em",
        ),
        (
            "limitation",
            "Một số đơn vị mới sau sắp xếp chưa quen quy trình báo cáo tháng, nguyên nhân do thay đổi nhân sự",
        ),
        ("lesson", "Giữ liên hệ thường xuyên với Đoàn các xã, phường giúp phát hiện sớm trẻ em cần hỗ trợ"),
        ("recommendation", "Đề nghị Ủy ban nhân dân tỉnh hỗ trợ kinh phí tập huấn cho Ban Chủ nhiệm hằng năm"),
    ]
    return [{"year": 2025, "section": section, "text_vi": text} for section, text in notes]


def _sample_council() -> list[dict[str, Any]]:
    """Made-up requests of the provincial Children's Council and the club's advice."""
    return [
        {
            "received_on": date(2025, 3, 10),
            "subject_vi": "Góp ý nội dung Diễn đàn trẻ em tỉnh năm 2025 về phòng, chống bạo lực học đường",
            "advised_on": date(2025, 3, 24),
            "advised_by": "Võ Thị Mai, Trần Thị Lan",
            "advice_vi": "Đề xuất bổ sung phần hỏi đáp với chuyên gia tâm lý và cách tìm sự giúp đỡ qua Tổng đài 111",
            "follow_ups": [
                {"on": date(2025, 6, 2), "note_vi": "Diễn đàn đã tổ chức, có phần hỏi đáp với chuyên gia"},
            ],
        },
        {
            "received_on": date(2025, 11, 18),
            "subject_vi": "Tư vấn kiến nghị của trẻ em gửi Ủy ban nhân dân tỉnh về an toàn trên mạng",
            "advised_on": None,
            "advised_by": None,
            "advice_vi": None,
            "follow_ups": [],
        },
    ]


def _sample_tracker() -> dict[str, Any]:
    return {
        "counts": {"done": 3, "due": 1, "overdue": 0},
        "items": [
            {
                "year": 2025,
                "title_vi": "Xây dựng chương trình hoạt động năm 2025",
                "due_on": date(2025, 3, 31),
                "status": "done",
            },
            {
                "year": 2025,
                "title_vi": "Tập huấn cách bảo vệ trẻ em trên không gian mạng",
                "due_on": date(2025, 11, 30),
                "status": "done",
            },
            {
                "year": 2025,
                "title_vi": "Hỗ trợ và tư vấn cho Hội đồng trẻ em cấp tỉnh",
                "due_on": date(2025, 12, 31),
                "status": "done",
            },
            {
                "year": 2025,
                "title_vi": "Sơ kết 03 năm hoạt động của Câu lạc bộ giai đoạn 2023 – 2027",
                "due_on": date(2025, 12, 31),
                "status": "due",
            },
        ],
        "board_meetings": [
            {"title_vi": f"Họp Ban Chủ nhiệm quý {q}/2025", "held": 1, "status": "done"}
            for q in ("I", "II", "III", "IV")
        ],
        "club_meetings": [{"title_vi": "Sinh hoạt Câu lạc bộ năm 2025", "held": 2, "status": "done"}],
        "activities": [
            {
                "held_on": date(2025, 11, 10),
                "title_vi": "Tập huấn cách bảo vệ trẻ em trên không gian mạng",
                "kind": "thematic_programme",
                "participants": 120,
            },
            {
                "held_on": date(2025, 8, 16),
                "title_vi": "Tập huấn kỹ năng tư vấn cho đội ngũ Ban Chủ nhiệm Câu lạc bộ",
                "kind": "board_training",
                "participants": 25,
            },
        ],
        "local_clubs": [
            {"unit": "xa-long-thuan", "first_on": date(2025, 9, 6), "activities": 2, "title_vi": "Ra mắt"},
        ],
    }


SIGNING = Signing(
    club_name=CLUB_NAME,
    signer_title="Phó Bí thư",
    signer_name="Trịnh Thị Như Trang",
    recipients=(
        "Ban Thường vụ Tỉnh đoàn",  # the signer: left out of "Nơi nhận"
        "Ban Thanh thiếu nhi – Trường học Trung ương Đoàn",
        "Ban Dân vận Tỉnh ủy",
        "Các ban, đơn vị trực thuộc Tỉnh đoàn",
        "Thành viên Câu lạc bộ",
        "Lưu VT, TTNTH",
    ),
)


def reviews() -> list[tuple[str, ReviewData]]:
    units = {
        "ben-cau": "Huyện Bến Cầu",
        "tay-ninh": "Thành phố Tây Ninh",
        "phuong-tan-ninh": "Phường Tân Ninh",
        "xa-ben-cau": "Xã Bến Cầu",
        "xa-long-thuan": "Xã Long Thuận",
    }
    categories = dict(load_catalog(NOTIFY_DATA).categories)
    groups = special_circumstance_names(REPORTING_DATA)
    out = []
    for name, kind, year, today, scale in (
        ("so-ket-nam-2025", "annual", 2025, date(2026, 1, 8), 1),
        ("tong-ket-5-nam-2023-2027", "five_year", None, date(2027, 12, 15), 5),
    ):
        chosen = review_kind(kind, year, SIGNING.club_name)
        out.append(
            (
                name,
                ReviewData(
                    kind=chosen,
                    period=parse_period(chosen.period),
                    today=today,
                    summary=_sample_summary(23),
                    tracker=_sample_tracker(),
                    unit_names=units,
                    category_names=categories,
                    group_names=groups,
                    number="15",
                    signing=SIGNING,
                    funding=_sample_funding(scale),
                    council=_sample_council(),
                    notes=_sample_notes(),
                    proposals=6,
                ),
            )
        )
    return out


def compilation_sample() -> Compilation:
    """The quarter IV/2026 compilation of members' opinions and proposals (made-up cases and proposals)."""
    return Compilation(
        period=parse_period("2026-Q4"),
        today=date(2026, 12, 28),
        forwarded=[
            dict(
                code="TN-2026-000102",
                unit_name="Xã Long Thuận",
                category_name="Xâm hại trên không gian mạng",
                urgency="Cao",
                level="Hỗ trợ",
                referrals="Nhà trường",
                forwarded_on=date(2026, 10, 20),
            ),
            dict(
                code="TN-2026-000123",
                unit_name="Xã Tân Hưng",
                category_name="Xâm hại tình dục",
                urgency="Khẩn cấp",
                level="Can thiệp",
                referrals="Ủy ban nhân dân cấp xã và Cơ quan công an",
                forwarded_on=date(2026, 11, 30),
            ),
        ],
        proposals=[
            dict(
                submitted_on=date(2026, 11, 20),
                topic_vi="Phòng, chống xâm hại trẻ em trên môi trường mạng",
                text_vi="Đề nghị tổ chức tập huấn kỹ năng an toàn trên mạng cho học sinh trung học cơ sở",
                proposed_by="Lê Quang Minh (Sở Tư pháp)",
            ),
            dict(
                submitted_on=date(2026, 12, 2),
                topic_vi="Phòng, chống đuối nước trẻ em",
                text_vi="Đề nghị Đoàn các xã ven sông Vàm Cỏ mở lớp dạy bơi miễn phí trong dịp hè 2027",
                proposed_by="Huỳnh Văn Đức (Tỉnh đoàn)",
            ),
        ],
        number="21",
        signing=ClubSigning(SIGNING.club_name, "Huỳnh Văn Đức"),
    )


def form_01() -> form01.Form01:
    """Form 01 of a made-up case (no real child)."""
    return form01.Form01(
        code="TN-2026-000123",
        receiving_body=CLUB_NAME,
        reported_at=NOW,
        learned_at=NOW - timedelta(hours=14),
        unit_name="Xã Tân Hưng",
        category_code="sexual_abuse",
        category_name="Xâm hại tình dục",
        urgency="critical",
        protection_level="intervention",
        summary="Em bị một người hàng xóm sàm sỡ nhiều lần khi ở nhà một mình; em đang sợ hãi, không dám đi học.",
        special_circumstances=["Trẻ em bị xâm hại tình dục"],
        child={"name": "Nguyễn Thị A", "age": "11", "sex": "female", "guardian": "Bà ngoại (Trần Thị B)"},
        reporter={"name": "Lê Văn C (giáo viên chủ nhiệm)", "phone": "09xx xxx xxx"},
        occurred_on=date(2026, 11, 28),
    )


def errors_markdown() -> str:
    ben_cau = intake_domain.unit_validity_messages(
        "Huyện Bến Cầu", None, date(2025, 6, 30), date(2026, 11, 30), ["Xã Long Chữ", "Xã Bến Cầu", "Xã Long Thuận"]
    )
    tan_ninh = intake_domain.unit_validity_messages("Phường Tân Ninh", date(2025, 7, 1), None, date(2025, 5, 1), [])
    rows = [
        ("Báo vụ việc cho đơn vị đã hết hiệu lực (`body.unit`)", ben_cau[1]),
        ("Báo cáo tháng 5/2025 của đơn vị chưa có hiệu lực (`path.unit`)", tan_ninh[1]),
        (
            "Loại vụ việc khẩn cấp ghi mức thấp hơn mà không nêu lý do (`body.urgency_reason`)",
            intake_domain.urgency_floor_messages("Xâm hại tình dục", "critical")[1],
        ),
    ]
    lines = ["# Thông báo lỗi gửi tới người dùng", "", "| Tình huống | Thông báo |", "|---|---|"]
    lines += [f"| {case} | {message} |" for case, message in rows]
    return "\n".join(lines) + "\n"


def rendered() -> dict[str, str | bytes]:
    """Every sample file: path relative to docs/samples → content."""
    files: dict[str, str | bytes] = {}
    for sample in messages():
        markdown, html = message_markdown(sample)
        files[f"messages/{sample.name}.md"] = markdown
        files[f"messages/{sample.name}.html"] = html
    for name, review in reviews():
        document = render_review(review)
        files[f"documents/{name}.md"] = docx_markdown(document)
        files[f"documents/{name}.docx"] = to_bytes(document)
    document = render_compilation(compilation_sample())
    files["documents/tong-hop-de-xuat-quy-4-2026.md"] = docx_markdown(document)
    files["documents/tong-hop-de-xuat-quy-4-2026.docx"] = to_bytes(document)
    form = form01.render(form_01())
    files["documents/mau-01-nghi-dinh-56.docx"] = form
    files["documents/mau-01-nghi-dinh-56.md"] = _docx_text(form)
    files["errors.md"] = errors_markdown()
    return files


def _docx_text(content: bytes) -> str:
    return docx_markdown(docx.Document(io.BytesIO(content)))


def stale(out: Path = OUT) -> list[str]:
    """Sample files that are missing or differ from what the code renders now (a DOCX by its text)."""
    problems = []
    for relative, content in rendered().items():
        path = out / relative
        if not path.exists():
            problems.append(f"missing {relative}")
        elif isinstance(content, bytes):
            if _docx_text(path.read_bytes()) != _docx_text(content):
                problems.append(f"stale {relative}")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"stale {relative}")
    return problems


def write(out: Path = OUT) -> None:
    for relative, content in rendered().items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            if path.exists() and _docx_text(path.read_bytes()) == _docx_text(content):
                continue  # a DOCX's zip timestamps change on every save: keep the file when its text is the same
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def main(argv: list[str]) -> int:
    if "--check" in argv:
        problems = stale()
        for problem in problems:
            print(problem)
        if problems:
            print("run `python -m scripts.samples` and commit docs/samples/")
        return 1 if problems else 0
    write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
