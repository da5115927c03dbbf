"""Vietnamese names for the codes events carry (units, categories, fields, deadlines), read from `data/*.csv`.

Events carry codes only; a message shows names. Unknown codes show as themselves rather than failing a send.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from shared.text import nfc

URGENCY = {"critical": "Khẩn cấp", "high": "Cao", "medium": "Trung bình", "low": "Thấp"}
FIELDS = {
    "law": "pháp luật",
    "psychology": "tâm lý",
    "medicine": "y tế",
    "education": "giáo dục",
    "social_work": "công tác xã hội",
}
DECISION_OUTCOMES = {
    "approved": "thông qua đề xuất của Câu lạc bộ",
    "amended": "thông qua có điều chỉnh",
    "returned": "trả lại để Câu lạc bộ bổ sung",
}
PROTECTION = {"prevention": "phòng ngừa", "support": "hỗ trợ", "intervention": "can thiệp"}
DEADLINES = {
    "acceptance": "xác nhận nhận xử lý vụ việc",
    "emergency_intervention": "can thiệp khẩn cấp (trong 12 giờ kể từ khi nhận thông tin)",
    "support_plan": "xây dựng kế hoạch hỗ trợ, can thiệp (trong 5 ngày làm việc)",
    "answer": "trả lời yêu cầu tư vấn",
}
MEMBER_CHANGE_REASONS = {
    "chair": "theo phân công của Chủ nhiệm",
    "declined": "do thành viên được phân công trước đó đã từ chối",
    "leave": "do thành viên được phân công trước đó đang vắng",
    "timeout": "do quá thời hạn xác nhận mà chưa có phản hồi",
}
# Whom the club proposes to involve (routing's referrals), as a reader names them.
REFERRALS = {
    "police": "cơ quan công an",
    "health_facility": "cơ sở y tế",
    "commune_social_services": "Ủy ban nhân dân cấp xã (công chức làm công tác bảo vệ trẻ em)",
    "school": "nhà trường",
    "legal_aid": "trợ giúp pháp lý",
    "hotline_111": "Tổng đài quốc gia bảo vệ trẻ em 111",
}
PLAN_KINDS = {
    "board_meeting": "Họp Ban Chủ nhiệm hằng quý",
    "club_meeting": "Sinh hoạt Câu lạc bộ",
    "board_training": "Tập huấn Ban Chủ nhiệm",
    "thematic_programme": "Chương trình chuyên đề",
    "children_council_support": "Hỗ trợ, tư vấn cho Hội đồng trẻ em tỉnh",
}


class Catalog:
    def __init__(self, data_dir: Path) -> None:
        self.units = _names(data_dir, ("units-tay-ninh-2025.csv", "units-tay-ninh-2023.csv"))
        self.categories = _names(data_dir, ("case-categories.csv",))

    def unit(self, code: str) -> str:
        return self.units.get(code, code)

    def category(self, code: str) -> str:
        return self.categories.get(code, code)


def _names(data_dir: Path, files: tuple[str, ...]) -> dict[str, str]:
    names: dict[str, str] = {}
    for name in files:
        path = data_dir / name
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                names.setdefault(row["code"], nfc(row["name_vi"]))
    return names


@lru_cache(maxsize=4)
def load_catalog(data_dir: Path) -> Catalog:
    return Catalog(data_dir)
