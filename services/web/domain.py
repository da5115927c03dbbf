"""Rules of the pages, without I/O: Vietnamese words for codes, session lifetimes, turning a posted form
into an API body and an API's field errors back into messages beside the form's fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")

URGENCY = {"critical": "Khẩn cấp", "high": "Cao", "medium": "Trung bình", "low": "Thấp"}
URGENCY_HINT = {
    "critical": "tính mạng, sức khỏe, nhân phẩm của trẻ đang bị đe dọa nghiêm trọng (xử lý trong 12 giờ)",
    "high": "cần can thiệp sớm",
    "medium": "cần hỗ trợ",
    "low": "phòng ngừa, theo dõi",
}
URGENCY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
PROTECTION = {"prevention": "Phòng ngừa", "support": "Hỗ trợ", "intervention": "Can thiệp"}
SEX = {"female": "Nữ", "male": "Nam", "other": "Khác", "unknown": "Không rõ"}
LEGAL_BASIS = {
    "consent": "Có sự đồng ý (của trẻ từ 7 tuổi và/hoặc cha mẹ, người giám hộ)",
    "emergency_protection_of_life_or_health": "Khẩn cấp: bảo vệ tính mạng, sức khỏe của trẻ (không cần đồng ý)",
}
CASE_STATUS = {
    "reported": "Đã tiếp nhận",
    "assigned": "Đã phân công",
    "accepted": "Chuyên gia đã nhận",
    "in_progress": "Đang xử lý",
    "forwarded": "Đã chuyển Ban Thường vụ",
    "closed": "Đã kết thúc",
    "escalated": "Đã báo cáo lên cấp trên",
}
DEADLINES = {
    "emergency_intervention": "Can thiệp khẩn cấp (12 giờ, Nghị định 56)",
    "support_plan": "Kế hoạch hỗ trợ, can thiệp (5 ngày làm việc)",
}
ASSIGNMENT_STATUS = {"pending": "Chờ trả lời", "accepted": "Đã nhận", "declined": "Đã từ chối", "removed": "Đã rút"}
COUNSELING_STATUS = {
    "received": "Đã nhận, đang chờ phân công",
    "assigned": "Đã giao cho chuyên gia",
    "accepted": "Chuyên gia đang xem",
    "answered": "Đã có câu trả lời",
}
FIELDS = {
    "law": "Pháp luật",
    "psychology": "Tâm lý",
    "medicine": "Y tế",
    "education": "Giáo dục",
    "social_work": "Công tác xã hội",
}
REFERRALS = {
    "police": "Công an",
    "health_facility": "Cơ sở y tế",
    "commune_social_services": "Công chức văn hóa - xã hội cấp xã",
    "school": "Nhà trường",
    "legal_aid": "Trợ giúp pháp lý",
}
ROLES = {
    "reporter": "Cán bộ báo cáo",
    "member": "Thành viên chuyên môn",
    "chair": "Chủ nhiệm",
    "committee": "Ban Thường vụ",
    "operator": "Vận hành",
    "admin": "Quản trị",
    "web": "Dịch vụ web (máy)",
}
AGE_BAND = {"0-5": "0–5 tuổi", "6-10": "6–10 tuổi", "11-15": "11–15 tuổi", "16-17": "16–17 tuổi", "unknown": "Không rõ"}
CHILD_FIELDS = ("name", "date_of_birth", "age", "sex", "address", "school", "guardian", "contact")
CHILD_LABELS = {
    "name": "Họ và tên",
    "date_of_birth": "Ngày sinh",
    "age": "Tuổi",
    "sex": "Giới tính",
    "address": "Nơi ở",
    "school": "Trường",
    "guardian": "Cha mẹ hoặc người giám hộ (họ tên, quan hệ)",
    "contact": "Cách liên lạc với gia đình",
}


def word(table: Mapping[str, str], code: str | None) -> str:
    """The Vietnamese word for a code, or the code itself when there is none (never an empty cell)."""
    if code is None:
        return "—"
    return table.get(code, code)


# ---- sessions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lifetime:
    idle: timedelta
    absolute: timedelta

    def expires_at(self, created_at: datetime, token_expires_at: datetime | None) -> datetime:
        """A session ends at its absolute lifetime, or earlier if the token it holds expires earlier."""
        end = created_at + self.absolute
        return min(end, token_expires_at) if token_expires_at is not None else end

    def alive(self, now: datetime, last_seen_at: datetime, expires_at: datetime) -> bool:
        return now < expires_at and now - last_seen_at < self.idle


# ---- times ---------------------------------------------------------------------------------------


def local(value: datetime | str | None) -> str:
    """`dd/mm/yyyy HH:MM` in Vietnam's time zone."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(VN).strftime("%d/%m/%Y %H:%M")


def local_date(value: date | str | None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


def time_left(deadline: datetime | str, now: datetime) -> str:
    """'còn 3 giờ 20 phút' or 'quá hạn 2 giờ'."""
    if isinstance(deadline, str):
        deadline = datetime.fromisoformat(deadline)
    delta = deadline - now
    late = delta.total_seconds() < 0
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        text = f"{days} ngày {hours} giờ"
    elif hours:
        text = f"{hours} giờ {mins} phút"
    else:
        text = f"{mins} phút"
    return f"quá hạn {text}" if late else f"còn {text}"


# ---- the chair's pages ------------------------------------------------------------------------------

CLUB_ROLES = {
    "chair": "Chủ nhiệm",
    "vice_chair": "Phó Chủ nhiệm",
    "board_member": "Ủy viên Ban Chủ nhiệm",
    "member": "Thành viên",
    "committee": "Ban Thường vụ",
}
ORGANISATION_KINDS = {
    "provincial": "Cấp tỉnh",
    "department": "Sở, ngành",
    "district": "Cấp huyện (cũ)",
    "committee": "Ban Thường vụ",
}
CHANNELS = {"email": "Email", "zalo": "Zalo"}
DEADLINE_SHORT = {
    "emergency_intervention": "Can thiệp khẩn cấp 12 giờ",
    "support_plan": "Kế hoạch hỗ trợ 5 ngày làm việc",
    "acceptance": "Hạn trả lời phân công",
    "answer": "Hạn trả lời tư vấn",
}
ESCALATION_LEVEL = {"chair": "Đã báo Chủ nhiệm", "committee": "Đã báo Ban Thường vụ"}
# The dashboard's lists, in the order shown: (key of routing's answer, heading, said when empty).
DASHBOARD_LISTS = (
    ("deadlines_passed", "Quá hạn", "Không có thời hạn nào đã qua."),
    ("escalated", "Đã báo lên cấp trên", "Không có việc nào bị báo lên."),
    ("waiting", "Chờ phân công hoặc thiếu chuyên gia", "Không có vụ việc nào chờ phân công."),
    ("declined", "Bị từ chối", "Không có phân công nào bị từ chối."),
    ("unanswered", "Phân công chưa trả lời", "Mọi phân công đã được trả lời."),
    ("deadlines_coming", "Thời hạn sắp tới", "Không có thời hạn nào sắp tới."),
    ("opinions_in", "Đã đủ ý kiến, chờ tổng hợp", "Chưa có vụ việc nào đủ ý kiến."),
    ("counseling", "Yêu cầu tư vấn chưa trả lời", "Mọi yêu cầu tư vấn đã được trả lời."),
)


def long_date(value: datetime | str | None) -> str:
    """`ngày 10 tháng 11 năm 2026` (Vietnam's date of an instant), as documents are dated."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    day = value.astimezone(VN)
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def shown_value(value: Any) -> str:
    """A value of a member's record as the import preview shows it: lists joined, leave periods as dates."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(
            f"{local_date(v['starts_on'])}–{local_date(v['ends_on'])}" if isinstance(v, dict) else str(v) for v in value
        )
    return str(value)


def overdue(deadline: datetime | str | None, now: datetime) -> bool:
    if deadline is None or deadline == "":
        return False
    if isinstance(deadline, str):
        deadline = datetime.fromisoformat(deadline)
    return deadline < now


def suggestion_reasons(s: Mapping[str, Any]) -> list[str]:
    """Why the policy ranks a member where it does (field, unit, load), in words."""
    reasons = [f"lĩnh vực {word(FIELDS, str(s.get('field'))).lower()}"]
    reasons.append("phụ trách đơn vị của vụ việc" if s.get("covers_unit") else "không phụ trách đơn vị này")
    reasons.append(f"đang xử lý {s.get('load', 0)}/{s.get('capacity', 0)} việc")
    if s.get("on_case"):
        reasons.append("đã ở trong vụ việc (không tính thêm)")
    if s.get("excluded"):
        reasons.append("đã từ chối hoặc đã rút khỏi lĩnh vực này")
    elif not s.get("available"):
        reasons.append("đang nghỉ hoặc ngoài thời gian hoạt động")
    elif not s.get("eligible"):
        reasons.append("đã đủ số việc tối đa")
    return reasons


def compile_opinions(opinions: Iterable[Mapping[str, Any]], names: Mapping[str, str]) -> str:
    """The chair's draft proposal: every member's opinion, under their name."""
    parts = [
        f"- Ý kiến của đồng chí {names.get(str(o.get('member_id')), 'thành viên')}: {str(o.get('text', '')).strip()}"
        for o in opinions
    ]
    return "Tổng hợp ý kiến chuyên môn:\n" + "\n".join(parts) + "\n\nĐề xuất của Chủ nhiệm:\n" if parts else ""


def strongest_level(opinions: Iterable[Mapping[str, Any]]) -> str | None:
    """The strongest protection level any member recommended (routing's default for the proposal)."""
    order = {"prevention": 0, "support": 1, "intervention": 2}
    levels = [str(o["recommended_level"]) for o in opinions if o.get("recommended_level") in order]
    return max(levels, key=order.__getitem__) if levels else None


def month_of(value: str | None, today: date) -> date:
    """`2026-12` as the first day of that month; anything else: this month."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


def shift_month(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class AwayRow:
    """One member in a month's leave calendar: for each day of the month, whether they are away."""

    member_id: str
    name: str
    days: tuple[bool, ...]


def away_calendar(first: date, members: Iterable[Mapping[str, Any]]) -> tuple[list[date], list[AwayRow]]:
    """The days of `first`'s month, and the members away on at least one of them (on leave, or outside
    their active period), by name."""
    days = []
    day = first
    while day.month == first.month:
        days.append(day)
        day += timedelta(days=1)
    rows = []
    for m in members:
        leaves = [(date.fromisoformat(p["starts_on"]), date.fromisoformat(p["ends_on"])) for p in m["leave_periods"]]
        start = date.fromisoformat(m["active_from"]) if m.get("active_from") else None
        end = date.fromisoformat(m["active_to"]) if m.get("active_to") else None
        away = tuple(
            any(a <= d <= b for a, b in leaves) or (start is not None and d < start) or (end is not None and d > end)
            for d in days
        )
        if any(away):
            rows.append(AwayRow(str(m["member_id"]), str(m["display_name"]), away))
    return days, sorted(rows, key=lambda r: r.name.casefold())


def member_body(current: Mapping[str, Any], form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The PUT body of a member from the edit form (the key stays), and errors found before sending."""
    text = {name: str(form.get(name) or "").strip() for name in MEMBER_TEXT}
    body: dict[str, Any] = {"key": current["key"]}
    for name in ("display_name", "organisation", "organisation_kind", "club_role"):
        body[name] = text[name]
    for name in ("email", "zalo_user_id", "phone", "quiet_start", "quiet_end", "active_from", "active_to"):
        body[name] = text[name] or None
    body["fields"] = [str(v) for v in form.getlist("fields")]
    body["units"] = [str(v) for v in form.getlist("units")]
    body["channels"] = [str(v) for v in form.getlist("channels")]
    errors: dict[str, str] = {}
    try:
        body["capacity"] = int(text["capacity"])
    except ValueError:
        body["capacity"] = text["capacity"]
        errors["capacity"] = "Hãy nhập số việc tối đa là một số nguyên (0 trở lên)."
    removed = set(form.getlist("remove_leave"))
    body["leave_periods"] = [p for i, p in enumerate(current.get("leave_periods", [])) if str(i) not in removed]
    starts, ends = text["leave_starts_on"], text["leave_ends_on"]
    if starts or ends:
        if not (starts and ends):
            errors["leave_starts_on"] = "Hãy nhập cả ngày bắt đầu và ngày kết thúc nghỉ."
        elif ends < starts:
            errors["leave_ends_on"] = "Ngày kết thúc nghỉ phải sau hoặc bằng ngày bắt đầu."
        else:
            body["leave_periods"].append({"starts_on": starts, "ends_on": ends})
    if bool(body["quiet_start"]) != bool(body["quiet_end"]):
        errors["quiet_end"] = "Giờ yên lặng cần cả giờ bắt đầu và giờ kết thúc."
    if body["active_from"] and body["active_to"] and body["active_to"] < body["active_from"]:
        errors["active_to"] = "Ngày kết thúc hoạt động phải sau ngày bắt đầu."
    if not (body["email"] or body["zalo_user_id"]):
        errors["email"] = "Thành viên cần có email hoặc tài khoản Zalo để nhận thông báo."
    if not body["display_name"]:
        errors["display_name"] = "Hãy nhập họ tên."
    return body, errors


MEMBER_TEXT = (
    "display_name",
    "organisation",
    "organisation_kind",
    "club_role",
    "email",
    "zalo_user_id",
    "phone",
    "quiet_start",
    "quiet_end",
    "active_from",
    "active_to",
    "capacity",
    "leave_starts_on",
    "leave_ends_on",
)


def local_input_to_iso(value: str) -> str | None:
    """A `datetime-local` input (`2026-11-30T08:15`, Vietnam time) as an aware ISO 8601 string."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value  # intake answers with a field error in Vietnamese
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=VN)
    return parsed.isoformat()


def iso_to_local_input(value: str | None) -> str:
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(VN).strftime("%Y-%m-%dT%H:%M")


# ---- forms ---------------------------------------------------------------------------------------


def _text(form: Mapping[str, str], name: str) -> str | None:
    value = (form.get(name) or "").strip()
    return value or None


def _int(form: Mapping[str, str], name: str) -> int | str | None:
    value = _text(form, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return value  # intake answers "Phải là số nguyên." beside the field


def case_body(form: Mapping[str, str], circumstances: Iterable[str], unit: str | None) -> dict[str, Any]:
    """The JSON body of `POST /v1/cases` from the report form (names as in the form: `child.name`, ...).
    Empty inputs are left out, so only what the reporter wrote is sent."""
    body: dict[str, Any] = {
        "unit": unit or _text(form, "unit") or "",
        "category": _text(form, "category") or "",
        "urgency": _text(form, "urgency") or "",
        "summary": form.get("summary") or "",
        "special_circumstances": sorted(set(circumstances)),
        "legal_basis": _text(form, "legal_basis") or "consent",
    }
    if level := _text(form, "protection_level"):
        body["protection_level"] = level
    if body["legal_basis"] == "emergency_protection_of_life_or_health" and (reason := _text(form, "emergency_reason")):
        body["emergency_reason"] = reason
    for name in ("learned_at", "occurred_at"):
        if value := local_input_to_iso(form.get(name, "")):
            body[name] = value
    if occurred_on := _text(form, "occurred_on"):
        body["occurred_on"] = occurred_on
    child: dict[str, Any] = {}
    for name in ("name", "address", "school", "guardian", "contact", "sex", "date_of_birth"):
        if value := _text(form, f"child.{name}"):
            child[name] = value
    if (age := _int(form, "child.age")) is not None:
        child["age"] = age
    if child:
        body["child"] = child
    consent: dict[str, Any] = {}
    for who in ("child", "guardian"):
        if form.get(f"consent.{who}.given"):
            consent[who] = {
                "recorded_by": form.get(f"consent.{who}.recorded_by", ""),
                "recorded_at": local_input_to_iso(form.get(f"consent.{who}.recorded_at", "")) or "",
            }
    if consent:
        body["consent"] = consent
    contact = {
        name: value
        for name in ("name", "phone", "email")
        if (value := _text(form, f"reporter_contact.{name}")) is not None
    }
    if contact:
        body["reporter_contact"] = contact
    return body


def field_errors(detail: Any, fallback_field: str = "") -> dict[str, str]:
    """Intake's 422 `detail` (`[{"field": "body.child.name", "message": "..."}]`) as {form name: message};
    the `body.` / `path.` prefix is dropped so the key is the input's name. Anything not tied to a field
    goes under `fallback_field` ('' = the top of the form)."""
    errors: dict[str, str] = {}
    if isinstance(detail, str):
        return {fallback_field: detail}
    for item in detail or []:
        if not isinstance(item, dict):
            continue
        field = str(item.get("field") or ".".join(str(p) for p in item.get("loc", [])))
        for prefix in ("body.", "path.", "query."):
            if field.startswith(prefix):
                field = field[len(prefix) :]
                break
        if field == "body":
            field = fallback_field
        message = str(item.get("message") or item.get("msg") or "Giá trị không hợp lệ.")
        errors.setdefault(field, message)
    return errors


def place_errors(errors: Mapping[str, str], known: Iterable[str]) -> dict[str, str]:
    """Errors keyed by an input of the form; an error about a part with no input of its own (e.g.
    `child.date_of_birth` when only `child` is known, or `consent.child`) goes to its nearest known
    parent, and whatever has no input at all goes to '' (shown at the top)."""
    names = set(known)
    placed: dict[str, str] = {}
    for field, message in errors.items():
        target = field
        while target and target not in names:
            target = target.rpartition(".")[0]
        placed.setdefault(target, message)
    return placed


def assignment_order(item: Mapping[str, Any]) -> tuple[int, int, float]:
    """Pending first, then the most urgent, then the newest."""
    pending = 0 if item.get("status") == "pending" else 1
    assigned = item.get("assigned_at") or ""
    stamp = datetime.fromisoformat(assigned).timestamp() if assigned else 0.0
    return (pending, URGENCY_RANK.get(str(item.get("urgency")), 9), -stamp)


# ---- administration and operations ------------------------------------------------------------------

AUDIT_ACTIONS = {
    "read_child": "Xem thông tin của trẻ",
    "form_01": "Tải Mẫu 01 (có thông tin của trẻ)",
    "read_counseling": "Đọc nội dung yêu cầu tư vấn",
}
DEATH_REASONS = {
    "rejected": "Bị từ chối (không đọc được hoặc sai nguồn gửi)",
    "delivery_limit": "Xử lý lỗi quá số lần cho phép",
    "expired": "Hết hạn",
    "maxlen": "Hàng đợi đầy",
}
DELIVERY_STATUS = {
    "pending": "Chờ gửi",
    "sending": "Đang gửi",
    "sent": "Đã gửi",
    "fell_back": "Chuyển kênh khác",
    "dead": "Gửi thất bại",
    "skipped": "Bỏ qua",
}
CHANNELS = {"email": "Email", "zalo": "Zalo"}
BROKER_SERVICES = {"intake": "Tiếp nhận", "routing": "Điều phối", "notify": "Thông báo", "reporting": "Báo cáo"}
AUDIT_PAGE = 50


@dataclass(frozen=True)
class AuditFilter:
    """The audit-log page's filters, as the form gave them and as intake's query parameters."""

    case_code: str = ""
    account_id: str = ""
    date_from: str = ""
    date_to: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> tuple[AuditFilter, dict[str, str]]:
        """The filters of `?ma-vu-viec=&nguoi=&tu=&den=&trang=` and the messages of those that are wrong."""
        errors: dict[str, str] = {}
        dates: dict[str, str] = {}
        for name in ("tu", "den"):
            value = (query.get(name) or "").strip()
            if value:
                try:
                    date.fromisoformat(value)
                except ValueError:
                    errors[name] = "Ngày không hợp lệ (chọn ngày trong lịch)."
                    value = ""
            dates[name] = value
        if dates["tu"] and dates["den"] and dates["tu"] > dates["den"]:
            errors["den"] = "Ngày kết thúc không được trước ngày bắt đầu."
        person = (query.get("nguoi") or "").strip()
        if person and not _is_uuid(person):
            errors["nguoi"] = "Hãy chọn người trong danh sách."
            person = ""
        raw_page = (query.get("trang") or "1").strip()
        page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) <= 10_000 else 1
        code = (query.get("ma-vu-viec") or "").strip().upper()[:32]
        return cls(code, person, dates["tu"], dates["den"], page), errors

    def params(self) -> dict[str, str]:
        """Intake's `GET /v1/audit-log` parameters (days are Vietnam's: from 00:00 to the next day's 00:00)."""
        params: dict[str, str] = {}
        if self.case_code:
            params["case_code"] = self.case_code
        if self.account_id:
            params["account_id"] = self.account_id
        if self.date_from:
            params["since"] = datetime.combine(date.fromisoformat(self.date_from), datetime.min.time(), VN).isoformat()
        if self.date_to:
            end = date.fromisoformat(self.date_to) + timedelta(days=1)
            params["until"] = datetime.combine(end, datetime.min.time(), VN).isoformat()
        return params

    def query(self, page: int | None = None) -> str:
        """This filter as the page's query string (for the pages' links and the CSV link)."""
        from urllib.parse import urlencode

        values = {"ma-vu-viec": self.case_code, "nguoi": self.account_id, "tu": self.date_from, "den": self.date_to}
        kept = {k: v for k, v in values.items() if v}
        if page is not None and page > 1:
            kept["trang"] = str(page)
        return urlencode(kept)


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


AUDIT_CSV_HEADERS = (
    "Thời điểm",
    "Mã tài khoản",
    "Người đọc",
    "Vai trò",
    "Hành động",
    "Mã vụ việc",
    "Mã đối tượng",
    "Trường đã đọc",
)


def audit_csv_rows(entries: Iterable[Mapping[str, Any]], people: Mapping[str, str]) -> list[list[Any]]:
    """The audit log's rows for the CSV: times in Vietnam, names, words (never a child's data: only the names
    of the fields that were read)."""
    rows = []
    for e in entries:
        rows.append(
            [
                local(e.get("at")),
                str(e.get("account_id") or ""),
                people.get(str(e.get("account_id")), ""),
                word(ROLES, e.get("role")),
                word(AUDIT_ACTIONS, e.get("action")),
                e.get("case_code") or "",
                str(e.get("case_id") or ""),
                field_names(e.get("fields") or []),
            ]
        )
    return rows


def field_names(fields: Iterable[str]) -> str:
    """The child's fields that were read, by their Vietnamese labels in the form's order ('—' for none)."""
    read = set(fields)
    known = [CHILD_LABELS[f] for f in CHILD_FIELDS if f in read]
    others = sorted(read - set(CHILD_FIELDS))
    return ", ".join(known + others) or "—"


def units_by_era(units: Iterable[Mapping[str, Any]]) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """(current units, former units): a unit with a `valid_to` is a former one (the nine districts and towns
    that ended on 2025-06-30, shown with their successor communes)."""
    current, former = [], []
    for unit in units:
        (former if unit.get("valid_to") else current).append(unit)
    key = lambda u: str(u.get("name_vi", "")).casefold()  # noqa: E731
    return sorted(current, key=key), sorted(former, key=key)


MESSAGE_TEMPLATES = {
    "case_assigned": "Phân công vụ việc",
    "case_missing_experts": "Thiếu chuyên gia cho vụ việc",
    "case_members_added": "Thêm thành viên vào vụ việc",
    "case_members_removed": "Rút thành viên khỏi vụ việc",
    "deadline_reminder": "Nhắc hạn",
    "case_escalated": "Báo cáo lên cấp trên",
    "case_forwarded": "Chuyển Ban Thường vụ",
    "counseling_request_assigned": "Giao yêu cầu tư vấn",
    "counseling_answer": "Trả lời tư vấn",
    "monthly_report_reminder": "Nhắc báo cáo tháng",
    "plan_reminder": "Nhắc kế hoạch",
    "account_invitation": "Lời mời đăng nhập",
    "account_reset": "Đặt lại mật khẩu",
}
