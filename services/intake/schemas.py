"""Request and response bodies of intake's HTTP API.

Every text field is NFC-normalised and trimmed before its length is checked, and refuses NUL and lone
surrogates (which PostgreSQL cannot store), so malformed text is a 422, never a 500.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from services.intake.domain import COUNSELING_MESSAGE_MAX, EMERGENCY, PERIOD_PATTERN, SUMMARY_MAX, UNIT_PATTERN
from services.intake.signin_schemas import Email
from shared.events import ProtectionLevel, Urgency
from shared.text import nfc


def _clean(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text must be valid UTF-8") from exc
    return nfc(value)


def Text(max_length: int, min_length: int = 1) -> Any:
    """A string, NFC-normalised and trimmed, whose length is checked after normalisation."""

    def check(value: str) -> str:
        if len(value) < min_length:
            raise PydanticCustomError(
                "string_too_short", "String should have at least {min_length} characters", {"min_length": min_length}
            )
        if len(value) > max_length:
            raise PydanticCustomError(
                "string_too_long", "String should have at most {max_length} characters", {"max_length": max_length}
            )
        return value

    return Annotated[
        str,
        BeforeValidator(_clean),
        AfterValidator(check),
        Field(json_schema_extra={"minLength": min_length, "maxLength": max_length}),
    ]


Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_đ][a-z0-9_đ-]{0,63}$")]
UnitCode = Annotated[str, StringConstraints(pattern=UNIT_PATTERN)]
Period = Annotated[str, StringConstraints(pattern=PERIOD_PATTERN)]
LegalBasis = Literal["consent", "emergency_protection_of_life_or_health"]
assert EMERGENCY in LegalBasis.__args__  # type: ignore[attr-defined]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsentRecord(Strict):
    """A consent that was given (silence is not consent): who recorded it and when."""

    recorded_by: Text(200)  # type: ignore[valid-type]
    recorded_at: AwareDatetime


class Consent(Strict):
    child: ConsentRecord | None = Field(default=None, description="The child's own consent (needed from age 7).")
    guardian: ConsentRecord | None = Field(default=None, description="The parent's or guardian's consent.")


class Child(Strict):
    """The child's identifying data: all optional, all encrypted at rest, every read audited."""

    name: Text(200) | None = None  # type: ignore[valid-type]
    date_of_birth: date | None = None
    age: int | None = Field(default=None, ge=0, le=17)
    sex: Literal["female", "male", "other", "unknown"] | None = None
    address: Text(500) | None = None  # type: ignore[valid-type]
    school: Text(200) | None = None  # type: ignore[valid-type]
    guardian: Text(300) | None = Field(default=None, description="Name and relation of the parent or guardian.")  # type: ignore[valid-type]
    contact: Text(200) | None = Field(default=None, description="Phone or other way to reach the family.")  # type: ignore[valid-type]


class ReporterContact(Strict):
    name: Text(200) | None = None  # type: ignore[valid-type]
    phone: Text(40) | None = None  # type: ignore[valid-type]
    email: Text(254) | None = None  # type: ignore[valid-type]


class CaseIn(Strict):
    """A case affecting a child's rights (Form 01 of Decree 56). Only unit, category, urgency and summary
    are required."""

    unit: UnitCode
    category: Code = Field(description="A code of the case taxonomy (`GET /v1/categories`).")
    urgency: Urgency = Field(description="`critical`: life, health or dignity at serious risk (12-hour clock).")
    urgency_reason: Text(1000) | None = Field(  # type: ignore[valid-type]
        default=None,
        description="Required when a category the law treats as an emergency (suggested urgency `critical`) is "
        "filed below it; the chair reads it on the case.",
    )
    protection_level: ProtectionLevel | None = Field(
        default=None, description="Default from urgency: critical → intervention, low → prevention, else support."
    )
    summary: Text(SUMMARY_MAX) = Field(description=f"Vietnamese free text, at most {SUMMARY_MAX} characters.")  # type: ignore[valid-type]
    learned_at: AwareDatetime | None = Field(default=None, description="When the reporter learned of it (default now).")
    occurred_at: AwareDatetime | None = None
    occurred_on: date | None = None
    special_circumstances: list[Annotated[str, StringConstraints(max_length=2)]] = Field(
        default_factory=list, max_length=14, description="Codes of `GET /v1/special-circumstances` (Art. 10)."
    )
    child: Child | None = None
    consent: Consent | None = None
    legal_basis: LegalBasis = Field(
        default="consent",
        description="`emergency_protection_of_life_or_health` allows processing the child's data without consent.",
    )
    reporter_contact: ReporterContact | None = None


class CaseCreated(BaseModel):
    id: uuid.UUID
    code: str = Field(examples=["TN-2026-000123"])
    status: str


class ConsentOut(BaseModel):
    child: ConsentRecord | None = None
    guardian: ConsentRecord | None = None


class CaseOut(BaseModel):
    id: uuid.UUID
    code: str
    status: str
    unit: str
    category: str
    urgency: str
    protection_level: str
    special_circumstances: list[str]
    summary: str
    learned_at: datetime
    occurred_at: datetime | None
    occurred_on: date | None
    reported_at: datetime
    age_band: str
    legal_basis: str
    consent: ConsentOut
    has_child_data: bool
    possible_duplicate_of: uuid.UUID | None = Field(
        default=None, description="Shown to the chair and the committee only."
    )
    urgency_reason: str | None = Field(
        default=None,
        description="Why an emergency category was filed below its suggested urgency (chair and committee only).",
    )
    suggested_urgency: str | None = Field(
        default=None, description="The category's urgency floor when the case was filed below it."
    )


class ChildOut(BaseModel):
    case_id: uuid.UUID
    child: Child


class AuditEntry(BaseModel):
    id: int
    at: datetime
    account_id: uuid.UUID
    key_id: str
    role: str
    action: str
    case_id: uuid.UUID | None
    case_code: str | None = Field(default=None, description="The case's code (none for a counseling request)")
    fields: list[str]


class MonthlyReportIn(Strict):
    """A unit's monthly situation report (báo cáo tình hình trẻ em hằng tháng)."""

    cases_by_category: dict[Code, Annotated[int, Field(ge=0, le=100_000)]] = Field(default_factory=dict, max_length=100)
    special_circumstances_known: dict[
        Annotated[str, StringConstraints(max_length=2)], Annotated[int, Field(ge=0, le=1_000_000)]
    ] = Field(
        default_factory=dict, max_length=20, description="Children in special circumstances known in the area, by code."
    )
    activities_held: int = Field(default=0, ge=0, le=10_000)
    notes: Text(5000, 0) | None = None  # type: ignore[valid-type]


class MonthlyReportOut(BaseModel):
    id: uuid.UUID
    unit: str
    period: str
    revision: int
    submitted_at: datetime
    due_on: date
    on_time: bool
    cases_by_category: dict[str, int]
    special_circumstances_known: dict[str, int]
    activities_held: int
    notes: str | None


class MonthlyReportHistory(BaseModel):
    unit: str
    period: str
    latest: MonthlyReportOut
    revisions: list[MonthlyReportOut]


class CounselingContact(Strict):
    phone: Text(40) | None = None  # type: ignore[valid-type]
    email: Text(254) | None = None  # type: ignore[valid-type]
    zalo: Text(100) | None = None  # type: ignore[valid-type]


class CounselingIn(Strict):
    """A child's or parent's request for help; no account needed."""

    topic: Code = Field(default="free", description="A category code, or `free`.")
    message: Text(COUNSELING_MESSAGE_MAX) = Field(description=f"At most {COUNSELING_MESSAGE_MAX} characters.")  # type: ignore[valid-type]
    age: int | None = Field(default=None, ge=0, le=25)
    contact: CounselingContact | None = Field(default=None, description="A way to answer (optional).")


class CounselingCreated(BaseModel):
    code: str
    secret: str = Field(description="Shown once: with the code, it reads the status and the answer.")
    status: str
    received_at: datetime


class CounselingStatus(BaseModel):
    code: str
    status: str
    topic: str
    received_at: datetime
    answer: str | None
    answered_at: datetime | None


class AccountIn(Strict):
    role: Literal["reporter", "member", "chair", "committee", "operator", "admin", "web"]
    name: Text(200)  # type: ignore[valid-type]
    unit: UnitCode | None = None
    member_id: uuid.UUID | None = None
    expires_days: int | None = Field(default=None, ge=1, le=3650)
    email: Email | None = Field(
        default=None, description="A person: the account gets this email and an emailed invitation, no token."
    )


class CredentialIn(Strict):
    expires_days: int | None = Field(default=None, ge=1, le=3650)


class IssuedOut(BaseModel):
    account_id: uuid.UUID
    key_id: str
    token: str = Field(description="Shown once; send it as `Authorization: Bearer <token>`.")
    role: str
    unit: str | None
    member_id: uuid.UUID | None
    expires_at: datetime | None


class CredentialOut(BaseModel):
    key_id: str
    issued_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class AccountOut(BaseModel):
    account_id: uuid.UUID
    name: str
    role: str
    unit: str | None
    member_id: uuid.UUID | None
    created_at: datetime
    email: str | None = None
    password_set: bool = False
    disabled_at: datetime | None = None
    last_sign_in_at: datetime | None = Field(default=None, description="The last successful sign-in (password)")
    credentials: list[CredentialOut]


class AccountChange(Strict):
    """What an administrator may change on an account. A change of role, unit or member revokes the account's
    live credentials and sessions: the person signs in again and gets a credential with the new role."""

    name: Text(200) | None = None  # type: ignore[valid-type]
    role: Literal["reporter", "member", "chair", "committee", "operator", "admin"] | None = None
    unit: UnitCode | None = None
    member_id: uuid.UUID | None = None


class UnitIn(Strict):
    name_vi: Text(200)  # type: ignore[valid-type]
    kind: Text(50)  # type: ignore[valid-type]
    valid_from: date | None = None
    valid_to: date | None = None
    successors: list[UnitCode] = Field(default_factory=list, max_length=50)
    contact_email: Text(254) | None = None  # type: ignore[valid-type]
    contact_zalo_user_id: str | None = Field(default=None, pattern=r"^[0-9A-Za-z_-]{1,64}$")


class UnitOut(BaseModel):
    code: str
    name_vi: str
    kind: str
    valid_from: date | None
    valid_to: date | None
    successors: list[str]
    contact_email: str | None
    contact_zalo_user_id: str | None = None


class CategoryIn(Strict):
    name_vi: Text(200)  # type: ignore[valid-type]
    name_en: Text(200)  # type: ignore[valid-type]
    fields: list[Literal["law", "psychology", "medicine", "education", "social_work"]] = Field(
        default_factory=list, max_length=5
    )
    suggested_urgency: Urgency = "medium"
    active: bool = True


class CategoryOut(BaseModel):
    code: str
    name_vi: str
    name_en: str
    fields: list[str]
    suggested_urgency: str
    active: bool


class SpecialCircumstanceOut(BaseModel):
    code: str
    name_vi: str
    name_en: str


_ = Period  # re-exported for path parameters
