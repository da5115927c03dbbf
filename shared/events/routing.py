"""Events emitted by routing (điều phối chuyên gia)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.base import Event, ExpertField, ProtectionLevel, Urgency
from shared.events.common import Recipient


class AssignmentInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    assignment_id: uuid.UUID
    field: ExpertField | None = None  # None: sent to the chair/vice-chairs for a critical case
    member: Recipient
    respond_by: datetime
    accept_url: str | None = None
    decline_url: str | None = None


class CaseAssigned(Event):
    """Experts were chosen for a case (chủ nhiệm triển khai vụ việc tới thành viên chuyên môn).

    Emitted by routing on `case.reported`; notify messages each member, reporting times it.
    `missing_fields` are fields no available member covers; `chair` then lists whom to tell.
    """

    TYPE = "case.assigned"
    PRODUCER = "routing"
    CONSUMERS = ("intake", "notify", "reporting")

    case_id: uuid.UUID
    code: str
    unit: str
    category: str
    urgency: Urgency
    protection_level: ProtectionLevel
    assignments: tuple[AssignmentInfo, ...]
    missing_fields: tuple[str, ...] = ()
    chair: tuple[Recipient, ...] = ()
    assigned_at: datetime


class CaseMembersChanged(Event):
    """Members were added to, removed from or replaced on a case: by the chair, after a decline, or
    because a member went on leave.

    Emitted by routing; notify tells the people concerned, reporting keeps the history.
    """

    TYPE = "case.members_changed"
    PRODUCER = "routing"
    CONSUMERS = ("intake", "notify", "reporting")

    case_id: uuid.UUID
    code: str
    urgency: Urgency
    reason: str = Field(pattern="^(chair|declined|leave|timeout)$")
    added: tuple[AssignmentInfo, ...] = ()
    removed: tuple[Recipient, ...] = ()
    changed_at: datetime
    # A field nobody available could take over (after a decline or a leave); `chair` lists whom to tell.
    missing_fields: tuple[str, ...] = ()
    chair: tuple[Recipient, ...] = ()


class AssignmentAnswered(Event):
    """A member accepted or declined an assignment.

    Emitted by routing; reporting measures time to acceptance.
    """

    TYPE = "assignment.answered"
    PRODUCER = "routing"
    CONSUMERS = ("reporting",)

    case_id: uuid.UUID | None = None
    request_id: uuid.UUID | None = None
    assignment_id: uuid.UUID
    member_id: uuid.UUID
    accepted: bool
    answered_at: datetime


class DeadlineReminder(Event):
    """A deadline is near or has passed: the first step, a reminder to the member who holds it.

    Emitted by routing's timers; notify delivers it.
    """

    TYPE = "deadline.reminder"
    PRODUCER = "routing"
    CONSUMERS = ("notify",)

    case_id: uuid.UUID | None = None
    request_id: uuid.UUID | None = None
    code: str
    deadline: str = Field(pattern="^(acceptance|emergency_intervention|support_plan|answer)$")
    due_at: datetime
    urgency: Urgency
    recipients: tuple[Recipient, ...]


class CaseEscalated(Event):
    """A deadline passed with nobody acting: escalation to the chair, then the Standing Committee; or
    (`reason=nobody_available`) a counseling request nobody available can take, told to the chair.

    Emitted by routing; notify delivers it, reporting counts breaches (those with `deadline_passed`).
    """

    TYPE = "case.escalated"
    PRODUCER = "routing"
    CONSUMERS = ("notify", "reporting")

    case_id: uuid.UUID | None = None
    request_id: uuid.UUID | None = None
    code: str
    deadline: str = Field(pattern="^(acceptance|emergency_intervention|support_plan|answer)$")
    due_at: datetime
    urgency: Urgency
    level: str = Field(pattern="^(chair|committee)$")
    recipients: tuple[Recipient, ...]
    escalated_at: datetime
    # `deadline_passed`: the deadline above passed with nobody acting (the ladder of timers).
    # `nobody_available`: a counseling request nobody available can take (at receipt or after a decline
    # or leave), told to the chair at once with `deadline=acceptance` and `due_at` = now; not a breach.
    reason: str = Field(default="deadline_passed", pattern="^(deadline_passed|nobody_available)$")


class CaseStatusChanged(Event):
    """A case moved between states (reported → assigned → accepted → in_progress → forwarded → closed,
    and reopened). Emitted by routing on every transition; intake shows the state to reporters, reporting
    counts cases by state.
    """

    TYPE = "case.status_changed"
    PRODUCER = "routing"
    CONSUMERS = ("intake", "reporting")

    case_id: uuid.UUID
    code: str
    from_status: str
    to_status: str
    changed_at: datetime
    outcome: str | None = None


class CaseForwarded(Event):
    """The chair compiled the members' opinions into one proposal and sent it to the provincial
    Standing Committee (Ban Thường vụ Tỉnh đoàn).

    Emitted by routing; notify tells the committee, reporting times it. The proposal's text stays in
    routing; the event carries the recommendations only.
    """

    TYPE = "case.forwarded"
    PRODUCER = "routing"
    CONSUMERS = ("notify", "reporting")

    case_id: uuid.UUID
    code: str
    urgency: Urgency
    recommended_level: ProtectionLevel | None = None
    referrals: tuple[str, ...] = ()
    recipients: tuple[Recipient, ...] = ()
    forwarded_at: datetime


DecisionOutcome = Literal["approved", "amended", "returned"]


class CaseDecided(Event):
    """The provincial Standing Committee (Ban Thường vụ Tỉnh đoàn) recorded its decision on a forwarded case:
    `approved` (the chair's proposal as it stands), `amended` (approved with changes written in the decision)
    or `returned` (sent back to the club to complete; the case is in progress again and may be forwarded anew).

    Emitted by routing; notify tells the chair (the vice-chairs when the club has no chair), reporting counts
    the decisions by outcome. The decision's text stays in routing (it may name the child); the event carries
    the outcome only.
    """

    TYPE = "case.decided"
    PRODUCER = "routing"
    CONSUMERS = ("notify", "reporting")

    case_id: uuid.UUID
    code: str
    unit: str
    urgency: Urgency
    outcome: DecisionOutcome
    decided_by: uuid.UUID
    decided_at: datetime
    forwarded_at: datetime
    recipients: tuple[Recipient, ...] = ()


class CounselingRequestAssigned(Event):
    """A counseling request was given to a member. Emitted by routing; notify tells the member, intake lets
    that member read the request's words."""

    TYPE = "counseling_request.assigned"
    PRODUCER = "routing"
    CONSUMERS = ("intake", "notify", "reporting")

    request_id: uuid.UUID
    code: str
    topic: str
    assignment: AssignmentInfo
    assigned_at: datetime


class CounselingRequestAnswered(Event):
    """A member answered a counseling request.

    Emitted by routing; notify sends the answer back over Zalo within the 7-day window, intake keeps it
    for the tracking-code lookup, reporting counts it. The answer is the club's text to the requester.
    """

    TYPE = "counseling_request.answered"
    PRODUCER = "routing"
    CONSUMERS = ("intake", "notify", "reporting")

    request_id: uuid.UUID
    code: str
    answer_text: str = Field(max_length=4000)
    answered_by: uuid.UUID
    answered_at: datetime
    reply_zalo_user_id: str | None = None


ReferralTarget = Literal[
    "commune_committee",
    "commune_child_protection_officer",
    "police",
    "hotline_111",
    "health",
    "school",
    "other",
]


class CaseReferred(Event):
    """The club referred a case to the body whose duty it is (Decree 56 Art. 26–28: the commune People's
    Committee chairman and its child-protection officer take the 12-hour emergency measures and the
    support plan; the club advises and connects): to whom, when, recorded by whom.

    Emitted by routing; reporting counts referrals by recipient. A referral to the commune People's
    Committee, its child-protection officer, the police or hotline 111 meets the 12-hour emergency deadline.
    """

    TYPE = "case.referred"
    PRODUCER = "routing"
    CONSUMERS = ("reporting",)

    referral_id: uuid.UUID
    case_id: uuid.UUID
    code: str
    unit: str
    urgency: Urgency
    to: ReferralTarget
    referred_at: datetime
    recorded_by: uuid.UUID | None = None


class ReferralAcknowledged(Event):
    """The body a case was referred to acknowledged it (received and took it up). Emitted by routing;
    reporting counts acknowledged referrals."""

    TYPE = "referral.acknowledged"
    PRODUCER = "routing"
    CONSUMERS = ("reporting",)

    referral_id: uuid.UUID
    case_id: uuid.UUID
    code: str
    unit: str
    to: ReferralTarget
    referred_at: datetime
    acknowledged_at: datetime


class TaskAssignee(BaseModel):
    """A member given one field of a Standing Committee task."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: ExpertField
    member: Recipient


class TaskAssigned(Event):
    """The provincial Standing Committee assigned the club a task (nhiệm vụ do Ban Thường vụ Tỉnh đoàn
    giao), routed like a case to members by field. A task carries no child data: a title, the fields it
    needs, an optional unit and a deadline.

    Emitted by routing when a committee member creates a task; notify tells each assignee, reporting
    counts tasks in the reviews.
    """

    TYPE = "task.assigned"
    PRODUCER = "routing"
    CONSUMERS = ("notify", "reporting")

    task_id: uuid.UUID
    code: str
    title_vi: str = Field(max_length=300)
    fields: tuple[ExpertField, ...]
    unit: str | None = None
    due_on: date
    assignees: tuple[TaskAssignee, ...] = ()
    missing_fields: tuple[str, ...] = ()  # fields no available member covers (the API shows them)
    assigned_at: datetime


class TaskCompleted(Event):
    """Every assignee of a Standing Committee task reported their part done.

    Emitted by routing; reporting counts it (on time or late against `due_on`).
    """

    TYPE = "task.completed"
    PRODUCER = "routing"
    CONSUMERS = ("reporting",)

    task_id: uuid.UUID
    code: str
    due_on: date
    completed_at: datetime
