"""Every template renders with realistic data into correct NFC Vietnamese, within Zalo's 2,000 characters,
and carries no child data; plus the pure rules (quiet hours, Zalo/SMTP verdicts, backoff)."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.notify.catalog import load_catalog
from services.notify.domain import after_quiet_hours, backoff, smtp_verdict, zalo_verdict
from services.notify.messages import Planner
from services.notify.settings import DATA_DIR
from services.notify.templates import TEMPLATES, render
from shared.events.base import FORBIDDEN_FIELD_NAMES
from shared.events.intake import AccountLinkIssued
from shared.events.reporting import MonthlyReportReminder, PlanItemReminder
from shared.events.routing import (
    AssignmentInfo,
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
from tests.notify.conftest import case_assigned, member

VN = ZoneInfo("Asia/Ho_Chi_Minh")
# What intake keeps encrypted about a child (DOMAIN.md §5): none of it may appear in any message.
CHILD = {
    "name": "Nguyễn Thị Bích Ngọc",
    "date_of_birth": "12/03/2014",
    "address": "ấp Bàu Sen, xã Tân Hưng",
    "school": "Trường Tiểu học Tân Hưng",
    "class": "lớp 5A",
    "phone": "0912345678",
    "guardian": "Nguyễn Văn Tư",
}
MOJIBAKE = re.compile(r"Ã|Æ|á»|áº|Ä'|\ufffd")


def every_message():
    planner = Planner(load_catalog(DATA_DIR), "https://caunoi.tinhdoan-tayninh.vn")
    now = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    lan = member("Trần Thị Lan", email="lan@tinhdoan-tayninh.vn", zalo="z-lan")
    chair = member("Huỳnh Văn Đức", email="chunhiem@tinhdoan-tayninh.vn")
    assigned = case_assigned(lan, urgency="critical", category="sexual_abuse", unit="xa-tan-hung")
    assigned = assigned.model_copy(update={"missing_fields": ("medicine",), "chair": (chair,)})
    info = AssignmentInfo(assignment_id=uuid.uuid4(), field="law", member=lan, respond_by=now + timedelta(hours=4))
    case_id = uuid.uuid4()
    events = [
        planner.case_assigned(assigned),
        planner.members_changed(
            CaseMembersChanged(
                case_id=case_id,
                code="TN-2026-000124",
                urgency="high",
                reason="declined",
                added=(info,),
                removed=(chair,),
                changed_at=now,
            )
        ),
        planner.deadline_reminder(
            DeadlineReminder(
                case_id=case_id,
                code="TN-2026-000124",
                deadline="emergency_intervention",
                due_at=now,
                urgency="critical",
                recipients=(lan,),
            )
        ),
        planner.deadline_reminder(
            DeadlineReminder(
                request_id=uuid.uuid4(),
                code="TV-2026-000031",
                deadline="answer",
                due_at=now,
                urgency="medium",
                recipients=(lan,),
            )
        ),
        planner.case_escalated(
            CaseEscalated(
                case_id=case_id,
                code="TN-2026-000124",
                deadline="acceptance",
                due_at=now,
                urgency="high",
                level="committee",
                recipients=(chair,),
                escalated_at=now,
            )
        ),
        planner.case_escalated(
            CaseEscalated(
                request_id=uuid.uuid4(),
                code="TV-2026-000032",
                deadline="acceptance",
                due_at=now,
                urgency="medium",
                level="chair",
                recipients=(chair,),
                escalated_at=now,
                reason="nobody_available",
            )
        ),
        planner.case_forwarded(
            CaseForwarded(
                case_id=case_id,
                code="TN-2026-000124",
                urgency="high",
                recommended_level="intervention",
                referrals=("Phòng Lao động – Thương binh và Xã hội", "Công an xã"),
                recipients=(chair,),
                forwarded_at=now,
            )
        ),
        planner.case_decided(
            CaseDecided(
                case_id=case_id,
                code="TN-2026-000124",
                unit="phuong-tan-ninh",
                urgency="high",
                outcome="returned",
                decided_by=uuid.uuid4(),
                decided_at=now,
                forwarded_at=now,
                recipients=(chair,),
            )
        ),
        planner.counseling_assigned(
            CounselingRequestAssigned(
                request_id=uuid.uuid4(),
                code="TV-2026-000031",
                topic="school_violence",
                assignment=info,
                assigned_at=now,
            )
        ),
        planner.counseling_answered(
            CounselingRequestAnswered(
                request_id=uuid.uuid4(),
                code="TV-2026-000031",
                answered_by=uuid.uuid4(),
                answered_at=now,
                reply_zalo_user_id="z-requester",
                answer_text="Chào bạn, cảm ơn bạn đã tin tưởng Câu lạc bộ. "
                + "Bạn hãy nói chuyện với thầy cô chủ nhiệm. " * 80,
            )
        ),
        planner.monthly_report_reminder(
            MonthlyReportReminder(
                unit="phuong-hoa-thanh",
                unit_name=unicodedata.normalize("NFD", "Phường Hòa Thành"),
                period="2026-11",
                due_on=date(2026, 12, 5),
                stage="overdue",
                recipients=(chair,),
                at=now,
            )
        ),
        planner.plan_reminder(
            PlanItemReminder(
                item_id="2026-board-q4",
                kind="board_meeting",
                title_vi="Họp Ban Chủ nhiệm quý IV năm 2026",
                due_on=date(2026, 12, 31),
                stage="due",
                recipients=(chair,),
                at=now,
            )
        ),
        planner.task_assigned(
            TaskAssigned(
                task_id=uuid.uuid4(),
                code="NV-2026-003",
                title_vi="Góp ý dự thảo Kế hoạch Tháng hành động vì trẻ em",
                fields=("law", "psychology"),
                unit="xa-long-thuan",
                due_on=date(2026, 12, 15),
                assignees=(TaskAssignee(field="law", member=lan), TaskAssignee(field="psychology", member=lan)),
                assigned_at=now,
            )
        ),
        *(
            planner.account_link(
                AccountLinkIssued(
                    account_id=uuid.uuid4(),
                    kind=kind,
                    link=f"https://caunoi.tinhdoan-tayninh.vn/moi/{'x' * 43}",
                    email="lan@tinhdoan-tayninh.vn",
                    display_name="Trần Thị Lan",
                    issued_at=now,
                    expires_at=now + timedelta(hours=72),
                )
            )
            for kind in ("invitation", "reset")
        ),
    ]
    return [planned for batch in events for planned in batch]


MESSAGES = every_message()


def test_every_template_is_exercised():
    assert {p.template for p in MESSAGES} == set(TEMPLATES)


@pytest.mark.parametrize("planned", MESSAGES, ids=lambda p: p.template)
def test_rendered_message_is_nfc_vietnamese_without_child_data_and_fits_zalo(planned):
    assert not FORBIDDEN_FIELD_NAMES & set(planned.context)
    rendered = render(planned.template, planned.context)
    for part in (rendered.subject, rendered.text, rendered.html, rendered.zalo):
        assert part == unicodedata.normalize("NFC", part)
        assert not MOJIBAKE.search(part), part
        assert "None" not in part and "{{" not in part and "{%" not in part
        for value in CHILD.values():
            assert value.casefold() not in part.casefold()
    assert 0 < len(rendered.zalo) <= 2000
    assert "\n" not in rendered.subject and len(rendered.subject) < 200
    if planned.context.get("code"):
        assert planned.context["code"] in rendered.subject and planned.context["code"] in rendered.zalo
    if planned.context.get("link"):
        assert planned.context["link"] in rendered.text and planned.context["link"] in rendered.zalo


def test_messages_name_units_and_categories_in_vietnamese():
    by_template = {p.template: render(p.template, p.context) for p in MESSAGES}
    assigned = by_template["case_assigned"]
    assert assigned.subject.startswith("[KHẨN CẤP] Vụ việc TN-2026-000123 cần đồng chí hỗ trợ: Xâm hại tình dục")
    assert "Xã Tân Hưng" in assigned.text and "Khẩn cấp" in assigned.zalo and "tâm lý" in assigned.text
    assert "y tế" in by_template["case_missing_experts"].subject
    invitation, reset = by_template["account_invitation"], by_template["account_reset"]
    assert invitation.subject == "Lời mời sử dụng hệ thống Cầu Nối của Câu lạc bộ tư vấn, giúp đỡ trẻ em tỉnh Tây Ninh"
    assert reset.subject == "Đặt lại mật khẩu hệ thống Cầu Nối"
    assert "lan@tinhdoan-tayninh.vn" in invitation.text and "16:00 ngày 02/12/2026" in invitation.text
    assert "không yêu cầu đặt lại mật khẩu" in reset.text and "Đặt mật khẩu mới</a>" in reset.html
    assert "Phường Hòa Thành" in by_template["monthly_report_reminder"].subject  # NFD input, NFC output
    assert "[QUÁ HẠN]" in by_template["monthly_report_reminder"].subject
    assert "Phòng Lao động – Thương binh và Xã hội" in by_template["case_forwarded"].html
    assert by_template["counseling_answer"].zalo.endswith("Xem đầy đủ bằng mã tra cứu.")  # a long answer is cut
    assert "Họp Ban Chủ nhiệm hằng quý" in by_template["plan_reminder"].subject


def test_nobody_available_asks_the_chair_to_assign_and_speaks_of_no_overdue_deadline():
    notices = [p for p in MESSAGES if p.template == "case_escalated"]
    by_reason = {p.context["reason"]: render(p.template, p.context) for p in notices}
    nobody = by_reason["nobody_available"]
    assert nobody.subject.startswith("[CẦN PHÂN CÔNG] Yêu cầu tư vấn TV-2026-000032")
    for part in (nobody.subject, nobody.text, nobody.html, nobody.zalo):
        assert "QUÁ HẠN" not in part and "quá thời hạn" not in part.lower()
    assert "phân công trực tiếp" in nobody.text and "phân công trực tiếp" in nobody.zalo
    assert by_reason["deadline_passed"].subject.startswith("[QUÁ HẠN] Vụ việc TN-2026-000124")


def test_html_escapes_what_it_shows():
    planned = next(p for p in MESSAGES if p.template == "plan_reminder")
    html = render("plan_reminder", {**planned.context, "title": "<script>alert(1)</script>"}).html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_quiet_hours_wrap_midnight_and_end_at_the_local_end_time():
    late = datetime(2026, 11, 29, 16, 30, tzinfo=UTC)  # 23:30 in Vietnam
    until = after_quiet_hours(late, time(22, 0), time(6, 30), VN)
    assert until.astimezone(VN).replace(tzinfo=None) == datetime(2026, 11, 30, 6, 30)
    noon = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
    assert after_quiet_hours(noon, time(22, 0), time(6, 30), VN) == noon
    assert after_quiet_hours(late, None, None, VN) == late


def test_provider_answers_map_to_the_documented_actions():
    assert zalo_verdict(0)[0] == "sent"
    assert zalo_verdict(-32)[0] == "rate_limited"
    assert all(zalo_verdict(c)[0] == "fallback" for c in (-213, -227, -230, -232, -244))
    assert zalo_verdict(-234)[0] == "defer_morning"
    assert zalo_verdict(-216)[0] == zalo_verdict(-220)[0] == "refresh_token"
    assert zalo_verdict(-211) == ("retry", "zalo_error_-211")
    assert smtp_verdict(None)[0] == smtp_verdict(451)[0] == "retry"
    assert smtp_verdict(550)[0] == "fallback"
    assert [backoff(n, 30, 100).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


def test_the_register_of_a_youth_union_letter():
    """Members are "đồng chí", a unit is its Youth Union, deadlines are "chậm nhất", the club has its name,
    the Standing Committee is told whom the club proposes to involve by name, and a child hears of 111."""
    by_template = {p.template: render(p.template, p.context) for p in MESSAGES}
    assigned = by_template["case_assigned"]
    assert assigned.text.startswith("Kính gửi đồng chí Trần Thị Lan,")
    assert "<p>Kính gửi đồng chí Trần Thị Lan,</p>" in assigned.html
    assert "Đề nghị đồng chí xác nhận nhận hoặc từ chối chậm nhất " in assigned.text
    assert "Câu lạc bộ tư vấn, giúp đỡ trẻ em tỉnh Tây Ninh" in assigned.text
    for rendered in by_template.values():
        for part in (rendered.subject, rendered.text, rendered.html, rendered.zalo):
            assert "Anh/Chị" not in part and "trợ giúp trẻ em" not in part and "hạn chót" not in part
    monthly = by_template["monthly_report_reminder"]
    assert monthly.text.startswith("Kính gửi Ban Thường vụ Đoàn phường Hòa Thành,")
    assert "Đề nghị Ban Thường vụ Đoàn phường Hòa Thành gửi báo cáo ngay." in monthly.zalo
    answer = by_template["counseling_answer"]
    assert "111" in answer.zalo and "111" in answer.text and "111" in answer.html


def test_referrals_reach_the_committee_by_their_vietnamese_names_and_the_club_name_is_a_setting():
    planner = Planner(load_catalog(DATA_DIR), "https://caunoi.example")
    chair = member("Huỳnh Văn Đức", email="chunhiem@tinhdoan-tayninh.vn")
    [planned] = planner.case_forwarded(
        CaseForwarded(
            case_id=uuid.uuid4(),
            code="TN-2026-000200",
            urgency="critical",
            recommended_level="intervention",
            referrals=("police", "commune_social_services"),
            recipients=(chair,),
            forwarded_at=datetime(2026, 11, 29, 9, 0, tzinfo=UTC),
        )
    )
    rendered = render(planned.template, {**planned.context, "club_name": "Câu lạc bộ thử nghiệm"})
    assert "cơ quan công an, Ủy ban nhân dân cấp xã (công chức làm công tác bảo vệ trẻ em)" in rendered.text
    assert "police" not in rendered.text and "commune_social_services" not in rendered.html
    assert "Tin nhắn tự động của Câu lạc bộ thử nghiệm." in rendered.text


def test_a_committee_task_reaches_each_assignee_once_with_all_their_fields_and_a_deadline_in_words():
    planner = Planner(load_catalog(DATA_DIR), "https://caunoi.example")
    lan, minh = member("Trần Thị Lan"), member("Lê Quang Minh")
    planned = planner.task_assigned(
        TaskAssigned(
            task_id=uuid.uuid4(),
            code="NV-2026-003",
            title_vi="Góp ý dự thảo Kế hoạch Tháng hành động vì trẻ em",
            fields=("law", "psychology", "education"),
            due_on=date(2026, 12, 5),
            assignees=(
                TaskAssignee(field="law", member=lan),
                TaskAssignee(field="psychology", member=minh),
                TaskAssignee(field="education", member=lan),
            ),
            assigned_at=datetime(2026, 11, 30, 2, 0, tzinfo=UTC),
        )
    )
    assert [p.recipient.display_name for p in planned] == ["Trần Thị Lan", "Lê Quang Minh"]
    text = render(planned[0].template, planned[0].context).text
    assert text.startswith("Kính gửi đồng chí Trần Thị Lan,")
    assert "lĩnh vực pháp luật và giáo dục" in text and "chậm nhất ngày 05/12/2026" in text
    assert "Ban Thường vụ Tỉnh đoàn giao" in text and "law" not in text
