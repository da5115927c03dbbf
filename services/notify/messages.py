"""What each consumed event asks notify to say, to whom: event → planned messages (template + context).

The context is built field by field from the event (never the event dumped whole), so only what a message
may carry reaches a template: codes, names of units and categories, urgency, what is asked, by when, links.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from services.notify.catalog import (
    DEADLINES,
    DECISION_OUTCOMES,
    FIELDS,
    MEMBER_CHANGE_REASONS,
    PLAN_KINDS,
    PROTECTION,
    REFERRALS,
    URGENCY,
    Catalog,
)
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
)
from shared.text import joined, youth_union


@dataclass(frozen=True)
class Planned:
    template: str
    recipient: Recipient
    context: dict[str, Any]
    urgency: str | None = None
    case_id: uuid.UUID | None = None
    request_id: uuid.UUID | None = None
    code: str | None = None
    fan_out: bool = False  # every reachable channel at once (else the preferred one, others as fallbacks)
    channels: tuple[str, ...] | None = None  # restricts the channels (a counseling answer goes to Zalo only)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def recipient_key(self) -> str:
        r = self.recipient
        if r.member_id is not None:
            return f"member:{r.member_id}"
        return f"contact:{r.email or ''}|{r.zalo_user_id or ''}"


class Planner:
    def __init__(self, catalog: Catalog, public_base_url: str) -> None:
        self.catalog = catalog
        self.base = public_base_url.rstrip("/")

    def _case(self, case_id: uuid.UUID | None, code: str, urgency: str | None) -> dict[str, Any]:
        return {
            "code": code,
            "urgency": urgency or "",
            "urgency_label": URGENCY.get(urgency or "", ""),
            "critical": urgency == "critical",
            "link": f"{self.base}/cases/{case_id}" if case_id else f"{self.base}/",
        }

    def _assignment(self, a: AssignmentInfo) -> dict[str, Any]:
        return {
            "recipient_name": a.member.display_name,
            "field_label": FIELDS.get(a.field or "", ""),
            "respond_by": a.respond_by.isoformat(),
            "accept_url": a.accept_url or "",
            "decline_url": a.decline_url or "",
        }

    def case_assigned(self, e: CaseAssigned) -> list[Planned]:
        base = {
            **self._case(e.case_id, e.code, e.urgency),
            "category_name": self.catalog.category(e.category),
            "unit_name": self.catalog.unit(e.unit),
            "protection_label": PROTECTION.get(e.protection_level, e.protection_level),
        }
        plans = [
            Planned(
                "case_assigned", a.member, {**base, **self._assignment(a)}, e.urgency, e.case_id, None, e.code, True
            )
            for a in e.assignments
        ]
        if e.missing_fields:
            missing = ", ".join(FIELDS.get(f, f) for f in e.missing_fields)
            plans += [
                Planned(
                    "case_missing_experts",
                    chair,
                    {**base, "recipient_name": chair.display_name, "missing_fields": missing},
                    e.urgency,
                    e.case_id,
                    None,
                    e.code,
                    True,
                )
                for chair in e.chair
            ]
        return plans

    def members_changed(self, e: CaseMembersChanged) -> list[Planned]:
        base = {**self._case(e.case_id, e.code, e.urgency), "reason_label": MEMBER_CHANGE_REASONS[e.reason]}
        plans = [
            Planned(
                "case_members_added",
                a.member,
                {**base, **self._assignment(a)},
                e.urgency,
                e.case_id,
                None,
                e.code,
                True,
            )
            for a in e.added
        ]
        plans += [
            Planned(
                "case_members_removed",
                r,
                {**base, "recipient_name": r.display_name, "link": ""},
                e.urgency,
                e.case_id,
                None,
                e.code,
            )
            for r in e.removed
        ]
        return plans

    def deadline_reminder(self, e: DeadlineReminder) -> list[Planned]:
        ctx = {
            **self._case(e.case_id, e.code, e.urgency),
            "deadline_label": DEADLINES[e.deadline],
            "due_at": e.due_at.isoformat(),
            "is_request": e.case_id is None,
        }
        if e.case_id is None and e.request_id is not None:
            ctx["link"] = f"{self.base}/counseling/{e.request_id}"
        return [
            Planned(
                "deadline_reminder",
                r,
                {**ctx, "recipient_name": r.display_name},
                e.urgency,
                e.case_id,
                e.request_id,
                e.code,
            )
            for r in e.recipients
        ]

    def case_escalated(self, e: CaseEscalated) -> list[Planned]:
        ctx = {
            **self._case(e.case_id, e.code, e.urgency),
            "deadline_label": DEADLINES[e.deadline],
            "due_at": e.due_at.isoformat(),
            "level": e.level,
            "level_label": "Chủ nhiệm Câu lạc bộ" if e.level == "chair" else "Ban Thường vụ Tỉnh đoàn",
            "reason": e.reason,
            "subject_label": "Yêu cầu tư vấn" if e.request_id and not e.case_id else "Vụ việc",
        }
        return [
            Planned(
                "case_escalated",
                r,
                {**ctx, "recipient_name": r.display_name},
                e.urgency,
                e.case_id,
                e.request_id,
                e.code,
                True,
            )
            for r in e.recipients
        ]

    def case_forwarded(self, e: CaseForwarded) -> list[Planned]:
        ctx = {
            **self._case(e.case_id, e.code, e.urgency),
            "recommended_label": PROTECTION.get(e.recommended_level or "", ""),
            "referrals": [REFERRALS.get(r, r) for r in e.referrals],
            "forwarded_at": e.forwarded_at.isoformat(),
        }
        return [
            Planned("case_forwarded", r, {**ctx, "recipient_name": r.display_name}, e.urgency, e.case_id, None, e.code)
            for r in e.recipients
        ]

    def case_decided(self, e: CaseDecided) -> list[Planned]:
        """The chair learns the Standing Committee's outcome; the decision's text is on the case page."""
        ctx = {
            **self._case(e.case_id, e.code, e.urgency),
            "outcome_label": DECISION_OUTCOMES[e.outcome],
            "returned": e.outcome == "returned",
            "decided_at": e.decided_at.isoformat(),
        }
        return [
            Planned("case_decided", r, {**ctx, "recipient_name": r.display_name}, e.urgency, e.case_id, None, e.code)
            for r in e.recipients
        ]

    def task_assigned(self, e: TaskAssigned) -> list[Planned]:
        """Each assignee once, with every field of the task they hold."""
        ctx = {
            "code": e.code,
            "title": e.title_vi,
            "unit_name": self.catalog.unit(e.unit) if e.unit else "",
            "due_on": e.due_on.isoformat(),
            "link": f"{self.base}/tasks/{e.task_id}",
        }
        fields: dict[str, list[str]] = {}
        members: dict[str, Recipient] = {}
        for a in e.assignees:
            key = str(a.member.member_id or a.member.display_name)
            members.setdefault(key, a.member)
            fields.setdefault(key, []).append(FIELDS.get(a.field, a.field))
        return [
            Planned(
                "task_assigned",
                member,
                {**ctx, "recipient_name": member.display_name, "field_label": joined(fields[key])},
                None,
                None,
                None,
                e.code,
            )
            for key, member in members.items()
        ]

    def counseling_assigned(self, e: CounselingRequestAssigned) -> list[Planned]:
        ctx = {
            **self._case(None, e.code, None),
            "link": f"{self.base}/counseling/{e.request_id}",
            "topic_label": "chủ đề khác" if e.topic == "free" else self.catalog.category(e.topic),
            **self._assignment(e.assignment),
        }
        return [Planned("counseling_request_assigned", e.assignment.member, ctx, None, None, e.request_id, e.code)]

    def counseling_answered(self, e: CounselingRequestAnswered) -> list[Planned]:
        if not e.reply_zalo_user_id:
            return []  # a web request: the answer waits for the tracking-code lookup in intake
        requester = Recipient(display_name="Người gửi yêu cầu", zalo_user_id=e.reply_zalo_user_id, channels=("zalo",))
        ctx = {
            "code": e.code,
            "link": "",
            "answer_text": e.answer_text,
            "recipient_name": requester.display_name,
            "lookup_url": f"{self.base}/tra-cuu",
        }
        return [
            Planned(
                "counseling_answer",
                requester,
                ctx,
                None,
                None,
                e.request_id,
                e.code,
                channels=("zalo",),
                extra={"reply_window": True},
            )
        ]

    def monthly_report_reminder(self, e: MonthlyReportReminder) -> list[Planned]:
        year, month = e.period.split("-")
        unit_name = e.unit_name or self.catalog.unit(e.unit)
        ctx = {
            "code": None,
            "unit_name": unit_name,
            "addressee": youth_union(unit_name),
            "period_label": f"tháng {int(month)}/{year}",
            "due_on": e.due_on.isoformat(),
            "overdue": e.stage == "overdue",
            "link": f"{self.base}/monthly-reports/{e.unit}/{e.period}",
        }
        return [Planned("monthly_report_reminder", r, {**ctx, "recipient_name": r.display_name}) for r in e.recipients]

    def plan_reminder(self, e: PlanItemReminder) -> list[Planned]:
        ctx = {
            "code": None,
            "kind_label": PLAN_KINDS.get(e.kind, "Nhiệm vụ trong Kế hoạch 2023–2027"),
            "title": e.title_vi,
            "due_on": e.due_on.isoformat(),
            "overdue": e.stage == "overdue",
            "link": f"{self.base}/plan/{e.item_id}",
        }
        return [Planned("plan_reminder", r, {**ctx, "recipient_name": r.display_name}) for r in e.recipients]

    def account_link(self, e: AccountLinkIssued) -> list[Planned]:
        """An invitation or reset link, by email only (a bearer secret: never on Zalo, never in a log line)."""
        person = Recipient(display_name=e.display_name, email=e.email, channels=("email",))
        ctx = {
            "code": None,
            "recipient_name": e.display_name,
            "email": e.email,
            "link": e.link,
            "expires_at": e.expires_at.isoformat(),
        }
        return [Planned(f"account_{e.kind}", person, ctx, channels=("email",))]
