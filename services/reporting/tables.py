"""Every report as a table with Vietnamese headers: the common shape behind CSV, XLSX and DOCX exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import figures, plan
from services.reporting.domain import Period
from services.reporting.seed import special_circumstance_names
from services.reporting.settings import DATA_DIR
from services.reporting.suppression import suppress_rows

STATUS_VI = {
    "reported": "Mới tiếp nhận",
    "assigned": "Đã phân công",
    "accepted": "Đã nhận xử lý",
    "in_progress": "Đang xử lý",
    "forwarded": "Đã chuyển Ban Thường vụ",
    "closed": "Đã kết thúc",
    "reopened": "Mở lại",
}
URGENCY_VI = {"critical": "Khẩn cấp", "high": "Cao", "medium": "Trung bình", "low": "Thấp"}
STAGE_VI = {
    "assigned": "Tiếp nhận → phân công",
    "accepted": "Tiếp nhận → nhận xử lý",
    "forwarded": "Tiếp nhận → chuyển Ban Thường vụ",
}
DEADLINE_VI = {
    "acceptance": "Nhận xử lý",
    "emergency_intervention": "Can thiệp khẩn cấp (12 giờ)",
    "support_plan": "Kế hoạch hỗ trợ (5 ngày làm việc)",
    "answer": "Trả lời tư vấn",
}
PLAN_STATUS_VI = {"done": "Đã thực hiện", "due": "Chưa đến hạn", "overdue": "Quá hạn"}
CHANNEL_VI = {"web": "Trang web", "zalo": "Zalo"}
# Counseling topics are category codes or `free` (the requester chose none).
FREE_TOPIC_VI = "Chủ đề khác (người hỏi không chọn chủ đề)"
# Age bands of events. A child is under 16 (Law on Children, Art. 1); 16–17 are minors (người chưa thành
# niên) accepted by the club and counted separately.
AGE_BAND_VI = {
    "0-5": "Dưới 6 tuổi",
    "6-10": "Từ 6 đến dưới 11 tuổi",
    "11-15": "Từ 11 đến dưới 16 tuổi",
    "16-17": "Người chưa thành niên từ đủ 16 đến dưới 18 tuổi",
    "unknown": "Không rõ tuổi",
}
CHILD_BANDS = ("0-5", "6-10", "11-15")
REFERRAL_VI = {
    # routing's referrals (first-class facts)
    "commune_committee": "Ủy ban nhân dân cấp xã",
    "commune_child_protection_officer": "Công chức làm công tác bảo vệ trẻ em cấp xã",
    "police": "Cơ quan công an",
    "hotline_111": "Tổng đài quốc gia bảo vệ trẻ em 111",
    "health": "Cơ sở y tế",
    "school": "Nhà trường",
    "other": "Cơ quan, tổ chức khác",
    # proposals to the Standing Committee
    "health_facility": "Cơ sở y tế",
    "commune_social_services": "Ủy ban nhân dân cấp xã (công chức làm công tác bảo vệ trẻ em)",
    "legal_aid": "Trợ giúp pháp lý",
}
PROTECTION_LEVEL_VI = {"prevention": "Phòng ngừa", "support": "Hỗ trợ", "intervention": "Can thiệp"}


def topic_name(topic: str, categories: dict[str, str]) -> str:
    """A counseling topic as a reader sees it: the category's name, the `free` topic's label, or the text."""
    if topic == "free":
        return FREE_TOPIC_VI
    return categories.get(topic, topic)


def age_groups(bands: dict[str, int]) -> list[tuple[str, int]]:
    """Rows for a report: children under 16 (total and by band), then minors 16–17, then unknown."""
    children = sum(bands.get(b, 0) for b in CHILD_BANDS)
    rows = [("Trẻ em (dưới 16 tuổi)", children)]
    rows += [(f"   Trong đó: {AGE_BAND_VI[b].lower()}", bands.get(b, 0)) for b in CHILD_BANDS]
    rows += [(AGE_BAND_VI["16-17"], bands.get("16-17", 0)), (AGE_BAND_VI["unknown"], bands.get("unknown", 0))]
    return rows


@dataclass
class Sheet:
    name: str  # sheet name (≤ 31 characters)
    title: str
    headers: list[str]
    rows: list[list[Any]]


REPORTS = (
    "cases",
    "special-groups",
    "ages",
    "referrals",
    "timings",
    "breaches",
    "counseling",
    "unit-reports",
    "completeness",
    "plan",
)


async def sheet(
    session: AsyncSession,
    report: str,
    period: Period,
    *,
    today: date,
    rollup: bool = False,
    small: int = 0,
) -> Sheet:
    """One report as a table; `small` > 1 suppresses counts under it (services.reporting.suppression)."""
    names = await figures.unit_names(session)
    cats = await figures.category_names(session)
    if report == "cases":
        rows = suppress_rows(await figures.case_counts(session, period, rollup=rollup), small)
        return Sheet(
            "Vụ việc",
            f"Vụ việc {period.label_vi}",
            ["Tháng", "Mã đơn vị", "Đơn vị", "Loại vụ việc", "Mức độ khẩn cấp", "Trạng thái", "Số vụ việc"],
            [
                [
                    r["period"],
                    r["unit"],
                    names.get(r["unit"], r["unit"]),
                    cats.get(r["category"], r["category"]),
                    URGENCY_VI.get(r["urgency"], r["urgency"]),
                    STATUS_VI.get(r["status"], r["status"]),
                    r["cases"],
                ]
                for r in rows
            ],
        )
    if report == "special-groups":
        groups = special_circumstance_names(DATA_DIR)
        rows = suppress_rows(await figures.special_groups(session, period, rollup=rollup), small)
        return Sheet(
            "Hoàn cảnh đặc biệt",
            f"Trẻ em có hoàn cảnh đặc biệt {period.label_vi}",
            ["Mã đơn vị", "Đơn vị", "Mã nhóm", "Nhóm hoàn cảnh đặc biệt", "Số vụ việc"],
            [
                [r["unit"], names.get(r["unit"], r["unit"]), r["grp"], groups.get(r["grp"], r["grp"]), r["cases"]]
                for r in rows
            ],
        )
    if report == "ages":
        bands = await figures.age_bands(session, period)
        return Sheet(
            "Độ tuổi",
            f"Vụ việc theo độ tuổi {period.label_vi}",
            ["Độ tuổi", "Số vụ việc"],
            [[label, n] for label, n in age_groups(bands)],
        )
    if report == "referrals":
        rows = await figures.referrals(session, period)
        return Sheet(
            "Chuyển gửi",
            f"Vụ việc đã chuyển gửi cơ quan có trách nhiệm {period.label_vi}",
            ["Nơi nhận chuyển gửi", "Số lần chuyển gửi", "Đã có phản hồi tiếp nhận"],
            [[REFERRAL_VI.get(r["to"], r["to"]), r["referrals"], r["acknowledged"]] for r in rows],
        )
    if report == "timings":
        rows = await figures.timings(session, period)
        return Sheet(
            "Thời gian xử lý",
            f"Thời gian xử lý {period.label_vi}",
            ["Giai đoạn", "Mức độ khẩn cấp", "Số vụ việc", "Trung bình (giờ)", "Tối đa (giờ)"],
            [
                [STAGE_VI[r["stage"]], URGENCY_VI[r["urgency"]], r["cases"], r["mean_hours"], r["max_hours"]]
                for r in rows
            ],
        )
    if report == "breaches":
        rows = await figures.breaches(session, period)
        return Sheet(
            "Quá hạn",
            f"Vi phạm thời hạn {period.label_vi}",
            ["Thời hạn", "Mức độ khẩn cấp", "Đối tượng", "Cấp đã báo cáo", "Số lần quá hạn"],
            [
                [
                    DEADLINE_VI.get(r["deadline"], r["deadline"]),
                    URGENCY_VI[r["urgency"]],
                    "Vụ việc" if r["subject"] == "case" else "Yêu cầu tư vấn",
                    "Ban Thường vụ" if r["level"] == "committee" else "Chủ nhiệm",
                    r["breaches"],
                ]
                for r in rows
            ],
        )
    if report == "counseling":
        rows = await figures.counseling(session, period)
        return Sheet(
            "Tư vấn",
            f"Yêu cầu tư vấn {period.label_vi}",
            ["Chủ đề", "Kênh", "Số yêu cầu", "Đã trả lời", "Đang chờ"],
            [
                [
                    topic_name(r["topic"], cats),
                    CHANNEL_VI.get(r["channel"], r["channel"]),
                    r["requests"],
                    r["answered"],
                    r["waiting"],
                ]
                for r in rows
            ],
        )
    if report == "unit-reports":
        rows = await figures.unit_reports(session, period, rollup=rollup)
        categories = sorted({k.split(":", 1)[1] for r in rows for k in r if k.startswith("cases:")})
        return Sheet(
            "Báo cáo đơn vị",
            f"Tổng hợp báo cáo tháng của các đơn vị {period.label_vi}",
            [
                "Mã đơn vị",
                "Đơn vị",
                "Số báo cáo",
                "Tổng số vụ việc",
                "Số hoạt động",
                *[cats.get(c, c) for c in categories],
            ],
            [
                [
                    r["unit"],
                    names.get(r["unit"], r["unit"]),
                    r["reports"],
                    r["cases"],
                    r["activities_held"],
                    *[r.get(f"cases:{c}", 0) for c in categories],
                ]
                for r in rows
            ],
        )
    if report == "completeness":
        data = await figures.completeness(session, period, rollup=rollup)
        rows = [*data["rows"], {**data["total"], "unit": "", "unit_name": "Toàn tỉnh"}]
        return Sheet(
            "Tính đầy đủ",
            f"Tình hình nộp báo cáo tháng {period.label_vi}",
            [
                "Mã đơn vị",
                "Đơn vị",
                "Dự kiến",
                "Đã nhận",
                "Đúng hạn",
                "Trễ hạn",
                "Chưa nộp",
                "Tỷ lệ nộp (%)",
                "Tỷ lệ đúng hạn (%)",
            ],
            [
                [
                    r["unit"],
                    r["unit_name"],
                    r["expected"],
                    r["received"],
                    r["on_time"],
                    r["late"],
                    r["missing"],
                    r["rate"],
                    r["on_time_rate"],
                ]
                for r in rows
            ],
        )
    if report == "plan":
        data = await plan.tracker(session, period, today)
        rows = [*data["items"], *data["board_meetings"], *data["club_meetings"]]
        rows.sort(key=lambda r: (r["due_on"], r["item_id"]))
        return Sheet(
            "Kế hoạch",
            f"Tiến độ thực hiện kế hoạch {period.label_vi}",
            ["Mã", "Năm", "Nội dung", "Hạn", "Trạng thái", "Đã tổ chức"],
            [
                [
                    r["item_id"],
                    r["year"],
                    r["title_vi"],
                    r["due_on"],
                    PLAN_STATUS_VI[r["status"]],
                    r.get("held_on") or r.get("held"),
                ]
                for r in rows
            ],
        )
    raise KeyError(report)
