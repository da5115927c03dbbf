from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import ServiceSettings

DATA_DIR = Path(__file__).resolve().parents[2] / "data"


class ReportingSettings(ServiceSettings):
    http_port: int = Field(default=8004)
    consumer_batch_wait: float = Field(
        default=0.25,
        ge=0,
        description="Seconds a batch's first event waits for more (figures need not be up to the millisecond; one "
        "transaction per few events costs several times the CPU per event of one per batch).",
    )
    reporting_data_dir: Path = Field(
        default=DATA_DIR,
        description="Folder with the default units, successors, categories and roadmap CSV files loaded at start.",
    )
    monthly_report_due_day: int = Field(
        default=5, ge=1, le=28, description="Day of the following month a unit's monthly report is due."
    )
    monthly_report_remind_days: int = Field(
        default=3, ge=0, description="Days before the due date the `due` reminder goes to units not yet reported."
    )
    plan_remind_days: int = Field(default=14, ge=0, description="Days before a plan item's due date it is reminded.")
    plan_overdue_window_days: int = Field(
        default=31, ge=1, description="Overdue plan items are reminded only if they fell due this recently."
    )
    plan_reminder_emails: str = Field(
        default="", description="Comma-separated addresses (the chair) that receive plan reminders."
    )
    small_number_threshold: int = Field(
        default=5,
        ge=0,
        description='Counts of cases under this are shown as "<N" in breakdowns and exports to roles that may not '
        "list cases (operator, admin), totals counting only the cells shown; 0 or 1 turns it off.",
    )
    scheduler_interval: float = Field(default=300.0, gt=0, description="Seconds between scheduler runs.")
    gauges_interval: float = Field(default=30.0, gt=0, description="Seconds between refreshes of business gauges.")
    document_signer_title: str = Field(
        default="PHÓ BÍ THƯ", description="The signer's title under TM. BAN THƯỜNG VỤ TỈNH ĐOÀN in the reviews (DOCX)."
    )
    document_signer_name: str = Field(default="", description="The signer's full name printed under the signature.")
    club_chair_name: str = Field(
        default="",
        description="The club chair's full name, signing the club's own documents (the quarterly compilation of "
        "members' proposals to the Standing Committee).",
    )
    document_recipients: str = Field(
        default="Ban Thanh thiếu nhi – Trường học Trung ương Đoàn; Ban Dân vận Tỉnh ủy; "
        "Các ban, đơn vị trực thuộc Tỉnh đoàn; Thành viên Câu lạc bộ; Lưu VT, TTNTH",
        description="The reviews' “Nơi nhận”, separated by `;` (the signing Standing Committee is never listed).",
    )
