"""Events emitted by intake (tiếp nhận)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import Field

from shared.events.base import AgeBand, Event, ProtectionLevel, Urgency


class CaseReported(Event):
    """A case affecting a child's rights was reported (tiếp nhận thông tin, Form 01 of Decree 56).

    Emitted by intake on `POST /v1/cases`; routing assigns experts, reporting counts it.
    Carries no child-identifying data: an age band only (16-17: a minor, not a child, counted apart).
    `learned_at` is when the reporter learned of the case (the 12-hour clock starts there).
    Version 2 adds `suggested_urgency`: the category's emergency floor when the case was filed below it
    (with a reason the chair reads on the case), else None.
    """

    TYPE = "case.reported"
    VERSION = 2
    PRODUCER = "intake"
    CONSUMERS = ("routing", "reporting")

    case_id: uuid.UUID
    code: str
    unit: str
    category: str
    urgency: Urgency
    protection_level: ProtectionLevel
    special_circumstances: tuple[str, ...] = ()
    age_band: AgeBand = "unknown"
    reported_at: datetime
    learned_at: datetime | None = None
    occurred_on: date | None = None
    possible_duplicate_of: uuid.UUID | None = None
    suggested_urgency: Urgency | None = None


class CaseReportedV1(Event):
    """Version 1 of `case.reported` (before the urgency floor), still read from queues and reporting's event
    store: it upgrades itself to version 2 with no floor."""

    TYPE = "case.reported"
    VERSION = 1
    PRODUCER = "intake"
    CONSUMERS = ("routing", "reporting")

    case_id: uuid.UUID
    code: str
    unit: str
    category: str
    urgency: Urgency
    protection_level: ProtectionLevel
    special_circumstances: tuple[str, ...] = ()
    age_band: AgeBand = "unknown"
    reported_at: datetime
    learned_at: datetime | None = None
    occurred_on: date | None = None
    possible_duplicate_of: uuid.UUID | None = None

    def upgrade(self) -> CaseReported:
        return CaseReported(**dict(self))


class MonthlyReportSubmitted(Event):
    """A unit's monthly situation report (báo cáo tình hình trẻ em hằng tháng) or a new revision of it.

    Emitted by intake; reporting sums it and tracks completeness and timeliness.
    """

    TYPE = "monthly_report.submitted"
    PRODUCER = "intake"
    CONSUMERS = ("reporting",)

    report_id: uuid.UUID
    unit: str
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    revision: int = Field(ge=1)
    submitted_at: datetime
    due_on: date
    on_time: bool
    cases_by_category: dict[str, int] = Field(default_factory=dict)
    special_circumstances_known: dict[str, int] = Field(default_factory=dict)
    activities_held: int = 0


class CounselingRequestReceived(Event):
    """A child or parent asked the club for help (web form or Zalo OA).

    Emitted by intake; routing assigns a member, reporting counts it by topic and channel.
    `reply_zalo_user_id` is the OA-scoped Zalo id a Zalo request came from (so the answer can go back
    there); web requesters' contacts stay encrypted in intake.
    """

    TYPE = "counseling_request.received"
    PRODUCER = "intake"
    CONSUMERS = ("routing", "reporting")

    request_id: uuid.UUID
    code: str
    topic: str
    channel: str = Field(pattern="^(web|zalo)$")
    age_band: AgeBand = "unknown"
    received_at: datetime
    reply_zalo_user_id: str | None = None


class ZaloUserActivity(Event):
    """A Zalo user followed or unfollowed the club's OA, or wrote to it (which opens the 7-day window
    in which the OA may send consultation messages).

    Emitted by intake from the Zalo webhook; notify keeps whom it may message on Zalo.
    """

    TYPE = "zalo.user_activity"
    PRODUCER = "intake"
    CONSUMERS = ("notify",)

    zalo_user_id: str
    activity: str = Field(pattern="^(follow|unfollow|message)$")
    at: datetime


class UnitUpserted(Event):
    """A reporting unit was added or changed (validity dates, successors after the 2025 reorganisation).

    Emitted by intake, which owns the unit registry; reporting and routing keep their own copies.
    Version 2 adds `contact_zalo_user_id`: the unit's Youth Union on Zalo, so monthly reminders reach it there.
    """

    TYPE = "unit.upserted"
    VERSION = 2
    PRODUCER = "intake"
    CONSUMERS = ("routing", "reporting")

    code: str
    name_vi: str
    kind: str
    valid_from: date | None = None
    valid_to: date | None = None
    successors: tuple[str, ...] = ()
    contact_email: str | None = None
    contact_zalo_user_id: str | None = None


class UnitUpsertedV1(Event):
    """Version 1 of `unit.upserted` (email contact only), still read from queues and reporting's event store:
    it upgrades itself to version 2 with no Zalo contact."""

    TYPE = "unit.upserted"
    VERSION = 1
    PRODUCER = "intake"
    CONSUMERS = ("routing", "reporting")

    code: str
    name_vi: str
    kind: str
    valid_from: date | None = None
    valid_to: date | None = None
    successors: tuple[str, ...] = ()
    contact_email: str | None = None

    def upgrade(self) -> UnitUpserted:
        return UnitUpserted(**dict(self))


class CategoryUpserted(Event):
    """A case category of the taxonomy was added or changed, with the expert fields it needs.

    Emitted by intake; routing uses the fields to pick experts, reporting names categories.
    """

    TYPE = "category.upserted"
    PRODUCER = "intake"
    CONSUMERS = ("routing", "reporting")

    code: str
    name_vi: str
    name_en: str
    fields: tuple[str, ...]
    suggested_urgency: Urgency
    active: bool = True


class CredentialIssued(Event):
    """An account got a credential (API key / bearer token). Intake owns accounts; the other services
    keep a copy of the hash so they can authenticate requests without calling intake.

    Only the SHA-256 of the high-entropy token travels, never the token.
    """

    TYPE = "credential.issued"
    PRODUCER = "intake"
    CONSUMERS = ("routing", "notify", "reporting")

    key_id: str
    token_sha256: str = Field(pattern="^[0-9a-f]{64}$")
    account_id: uuid.UUID
    role: str = Field(pattern="^(reporter|member|chair|committee|operator|admin|web)$")
    unit: str | None = None
    member_id: uuid.UUID | None = None
    issued_at: datetime
    expires_at: datetime | None = None


class CredentialRevoked(Event):
    """A credential was revoked; every service stops accepting it. Emitted by intake."""

    TYPE = "credential.revoked"
    PRODUCER = "intake"
    CONSUMERS = ("routing", "notify", "reporting")

    key_id: str
    revoked_at: datetime


class AccountLinkIssued(Event):
    """A person was given a one-time link to set their password: an invitation (new account, or re-sent by an
    admin) or a reset they asked for. Emitted by intake; notify emails it (email only, never Zalo).

    The link is a bearer secret until used or expired (`expires_at`): consumers must never log it. It travels
    in clear inside the broker and the services' outbox/delivery tables (issue 14 wants such secrets encrypted
    in events). Carries an adult's name and email, never anything about a child.
    """

    TYPE = "account.link_issued"
    PRODUCER = "intake"
    CONSUMERS = ("notify",)

    account_id: uuid.UUID
    kind: Literal["invitation", "reset"]
    link: str
    email: str
    display_name: str
    issued_at: datetime
    expires_at: datetime
