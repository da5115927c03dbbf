"""Intake's rules, without I/O: codes, ages and consent, defaults, unit validity, report timeliness."""

from __future__ import annotations

import secrets
import unicodedata
from calendar import monthrange
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.events import age_band

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CONSENT_AGE = 7  # Law on Children / Law 91/2025: the child's own consent is needed from age 7
EMERGENCY = "emergency_protection_of_life_or_health"
SUMMARY_MAX = 5000
COUNSELING_MESSAGE_MAX = 2000
OPEN_COUNSELING = ("received", "assigned")

DEFAULT_PROTECTION_LEVEL = {"critical": "intervention", "high": "support", "medium": "support", "low": "prevention"}

# Who may do what with cases; reporters additionally only within their own unit.
CASE_CREATORS = ("reporter", "chair")
CASE_LISTERS = ("reporter", "chair", "committee")
# Members additionally only the cases routing assigned them to.
CASE_READERS = (*CASE_LISTERS, "member")
CHILD_READERS = ("reporter", "chair", "member")
# The Standing Committee reads a case only while it is forwarded to it, and once closed (routing's states,
# from `case.status_changed`; a case returned to the club is the club's again until forwarded anew).
COMMITTEE_SEES = ("forwarded", "closed")
REPORT_WRITERS = ("reporter",)
REPORT_READERS = ("reporter", "chair", "committee", "admin")


def local_date(moment: datetime) -> date:
    return moment.astimezone(VN).date()


def age_on(date_of_birth: date, on: date) -> int:
    return on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))


def child_age(age: int | None, date_of_birth: date | None, on: date) -> int | None:
    if age is not None:
        return age
    if date_of_birth is not None:
        return age_on(date_of_birth, on)
    return None


def child_age_band(age: int | None) -> str:
    return age_band(age)


def normalised_name(name: str) -> str:
    """Name as compared for duplicates: NFC, case-folded, single spaces (diacritics kept: Hòa ≠ Hoa)."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def consent_problems(
    *, has_child_identity: bool, age: int | None, legal_basis: str, child_consent: bool, guardian_consent: bool
) -> list[tuple[str, str, str]]:
    """What is missing for processing the child's data: (field, English, Vietnamese) per problem.

    Silence is not consent. Without child data there is nothing to consent to; under the emergency basis
    (protection of life or health) processing needs no consent. Otherwise the guardian consents, and the
    child too from age 7 (an unknown age counts as 7 or more).
    """
    if not has_child_identity or legal_basis == EMERGENCY:
        return []
    problems = []
    if not guardian_consent:
        problems.append(
            (
                "body.consent.guardian",
                "The guardian's consent is required to record the child's data (or use the emergency legal basis).",
                "Cần sự đồng ý của cha mẹ hoặc người giám hộ để ghi thông tin của trẻ (hoặc căn cứ khẩn cấp).",
            )
        )
    if not child_consent and (age is None or age >= CONSENT_AGE):
        problems.append(
            (
                "body.consent.child",
                "The child's own consent is required from age 7 (or when the age is unknown).",
                "Cần sự đồng ý của trẻ từ đủ 7 tuổi trở lên (hoặc khi chưa rõ tuổi).",
            )
        )
    return problems


def unit_valid_on(valid_from: date | None, valid_to: date | None, day: date) -> bool:
    return (valid_from is None or valid_from <= day) and (valid_to is None or day <= valid_to)


URGENCY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
URGENCY_VI = {"critical": "Khẩn cấp", "high": "Cao", "medium": "Trung bình", "low": "Thấp"}


def urgency_floor(suggested_urgency: str | None) -> str | None:
    """A category's suggested urgency is a floor when the law treats the category as an emergency: the ones
    suggested `critical` (sexual abuse, sexual exploitation, trafficking: the child's life, health or
    dignity at serious risk, Decree 56's 12-hour emergency measures). Others are only a suggestion."""
    return suggested_urgency if suggested_urgency == "critical" else None


def below_floor(urgency: str, floor: str | None) -> bool:
    return floor is not None and URGENCY_RANK[urgency] < URGENCY_RANK[floor]


def urgency_floor_messages(category_name: str, floor: str) -> tuple[str, str]:
    """(English, Vietnamese) when an emergency category is filed below its floor without a reason."""
    return (
        f"The law treats “{category_name}” as an emergency: filing it below {floor!r} needs a reason.",
        f"Loại vụ việc “{category_name}” được pháp luật coi là khẩn cấp: ghi mức độ thấp hơn "
        f"“{URGENCY_VI[floor]}” cần nêu lý do.",
    )


def vn_date(day: date) -> str:
    """A date as Vietnamese people write it in running text: 30/6/2025, 1/7/2025 (no leading zeros)."""
    return f"{day.day}/{day.month}/{day.year}"


def unit_validity_messages(
    name_vi: str, valid_from: date | None, valid_to: date | None, day: date, successor_names: list[str]
) -> tuple[str, str]:
    """(English, Vietnamese) for a unit that did not exist on `day`, naming its successors by name:
    "Huyện Bến Cầu chỉ có hiệu lực đến ngày 30/6/2025. Đơn vị kế thừa: Xã Bến Cầu, Xã Long Chữ, Xã Long Thuận."
    """
    names = sorted(successor_names, key=lambda n: n.casefold())
    if valid_to is not None and day > valid_to:
        english = f"{name_vi} was valid only until {vn_date(valid_to)}."
        vietnamese = f"{name_vi} chỉ có hiệu lực đến ngày {vn_date(valid_to)}."
    elif valid_from is not None:
        english = f"{name_vi} is valid only from {vn_date(valid_from)}."
        vietnamese = f"{name_vi} chỉ có hiệu lực từ ngày {vn_date(valid_from)}."
    else:
        english = f"{name_vi} is not valid on {vn_date(day)}."
        vietnamese = f"{name_vi} không có hiệu lực vào ngày {vn_date(day)}."
    if names:
        english += f" Successor units: {', '.join(names)}."
        vietnamese += f" Đơn vị kế thừa: {', '.join(names)}."
    return english, vietnamese


def unit_overlaps_month(valid_from: date | None, valid_to: date | None, period: str) -> bool:
    first, last = period_bounds(period)
    return (valid_from is None or valid_from <= last) and (valid_to is None or first <= valid_to)


def period_bounds(period: str) -> tuple[date, date]:
    year, month = (int(part) for part in period.split("-"))
    return date(year, month, 1), date(year, month, monthrange(year, month)[1])


def report_due_on(period: str, due_day: int) -> date:
    """The due day of the month after the period (default the 5th)."""
    year, month = (int(part) for part in period.split("-"))
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(year, month, due_day)


def on_time(submitted_at: datetime, due_on: date) -> bool:
    return local_date(submitted_at) <= due_on


PERIOD_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"  # the 2000s: also keeps date arithmetic in range
UNIT_PATTERN = r"^[a-z0-9][a-z0-9-]{0,99}$"


def counseling_code(year: int) -> str:
    """Tracking code: short, unguessable on its own (the secret is what protects it)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return f"TV-{year}-" + "".join(secrets.choice(alphabet) for _ in range(8))


def counseling_secret() -> str:
    return secrets.token_urlsafe(18)
