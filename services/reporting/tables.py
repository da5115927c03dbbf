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


@dataclass
class Sheet:
    name: str  # sheet name (≤ 31 characters)
    title: str
    headers: list[str]
    rows: list[list[Any]]


REPORTS = ("cases", "special-groups", "timings", "breaches", "counseling", "unit-reports", "completeness", "plan")


async def sheet(session: AsyncSession, report: str, period: Period, *, today: date, rollup: bool = False) -> Sheet:
    names = await figures.unit_names(session)
    cats = await figures.category_names(session)
    if report == "cases":
        rows = await figures.case_counts(session, period, rollup=rollup)
        return Sheet(
            "Vụ việc",
            f"Vụ việc {period.label_vi}",
            ["Tháng", "Mã đơn vị", "Đơn vị", "Lĩnh vực", "Mức độ khẩn cấp", "Trạng thái", "Số vụ việc"],
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
        rows = await figures.special_groups(session, period, rollup=rollup)
        return Sheet(
            "Hoàn cảnh đặc biệt",
            f"Trẻ em có hoàn cảnh đặc biệt {period.label_vi}",
            ["Mã đơn vị", "Đơn vị", "Nhóm", "Tên nhóm", "Số vụ việc"],
            [
                [r["unit"], names.get(r["unit"], r["unit"]), r["grp"], groups.get(r["grp"], r["grp"]), r["cases"]]
                for r in rows
            ],
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
                [r["topic"], CHANNEL_VI.get(r["channel"], r["channel"]), r["requests"], r["answered"], r["waiting"]]
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
