"""Events emitted by reporting (tổng hợp, báo cáo): reminders of what is due."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from shared.events.base import Event
from shared.events.common import Recipient


class MonthlyReportReminder(Event):
    """A unit's monthly report is due soon (`due`) or late (`overdue`).

    Emitted by reporting's scheduler for units that have not reported; notify reminds them.
    """

    TYPE = "monthly_report.reminder"
    PRODUCER = "reporting"
    CONSUMERS = ("notify",)

    unit: str
    unit_name: str
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    due_on: date
    stage: str = Field(pattern="^(due|overdue)$")
    recipients: tuple[Recipient, ...] = ()
    at: datetime


class PlanItemReminder(Event):
    """A roadmap item of the 2023–2027 plan, a quarterly board meeting or a club meeting is coming due
    or is overdue. Emitted by reporting's plan tracker; notify reminds the chair.
    """

    TYPE = "plan.reminder"
    PRODUCER = "reporting"
    CONSUMERS = ("notify",)

    item_id: str
    kind: str
    title_vi: str
    due_on: date
    stage: str = Field(pattern="^(due|overdue)$")
    recipients: tuple[Recipient, ...] = ()
    at: datetime
