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
