"""Jinja2 templates (files in `templates/<name>/`): an email subject, a plain-text and an HTML body, and a
Zalo text of at most 2,000 characters. Output is NFC-normalised Vietnamese."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from services.notify.domain import fit_zalo
from shared.settings import ServiceSettings

TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATES = (
    "case_assigned",
    "case_missing_experts",
    "case_members_added",
    "case_members_removed",
    "deadline_reminder",
    "case_escalated",
    "case_forwarded",
    "case_decided",
    "counseling_request_assigned",
    "counseling_answer",
    "monthly_report_reminder",
    "plan_reminder",
    "task_assigned",
    "account_invitation",
    "account_reset",
)
PARTS = ("subject.j2", "body.txt.j2", "body.html.j2", "zalo.txt.j2")
CLUB_NAME = ServiceSettings.model_fields["club_name"].default


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    zalo: str


def _vn_datetime(value: str | datetime | None, tz: str = "Asia/Ho_Chi_Minh") -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return _vn_datetime_of(value, tz)
    return value.astimezone(ZoneInfo(tz)).strftime("%H:%M ngày %d/%m/%Y")


@functools.lru_cache(maxsize=1024)  # a case's members share its deadline: parsed and formatted once
def _vn_datetime_of(value: str, tz: str) -> str:
    return datetime.fromisoformat(value).astimezone(ZoneInfo(tz)).strftime("%H:%M ngày %d/%m/%Y")


@functools.lru_cache(maxsize=1024)
def _vn_date(value: str) -> str:
    return datetime.fromisoformat(value).strftime("%d/%m/%Y")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # the templates ship with the code: no stat() of the file on every render
    )
    env.filters["vn_datetime"] = _vn_datetime
    env.filters["vn_date"] = _vn_date
    return env


_ENV = _environment()


@functools.cache  # the compiled template of each part (the environment's own cache costs a lookup with a lock)
def _template(template: str, part: str) -> Template:
    return _ENV.get_template(f"{template}/{part}")


def _part(template: str, part: str, context: dict[str, Any]) -> str:
    return unicodedata.normalize("NFC", _template(template, part).render(context))


def render(template: str, context: dict[str, Any], channel: str | None = None) -> Rendered:
    """Render the parts of `template` with `context` (JSON-shaped: dates as ISO strings): every part, or only
    those `channel` sends ("email": subject, text, html; "zalo": the Zalo text), the others left empty —
    rendering all four for every delivery was a visible share of the dispatcher's CPU."""
    if template not in TEMPLATES:
        raise KeyError(f"unknown template {template}")
    # Members and officers are addressed "đồng chí"; a unit as its Youth Union (`addressee` in the context).
    # Deliveries planned before `club_name` was in the context take the default name.
    context = {
        "club_name": CLUB_NAME,
        "addressee": f"đồng chí {context.get('recipient_name') or ''}".strip(),
        **{k: v for k, v in context.items() if k != "_secret"},
        **(context.get("_secret") or {}),  # a plan's secrets (links, an answer), when rendered straight from it
    }
    wanted = {"email": PARTS[:3], "zalo": PARTS[3:]}.get(channel or "", PARTS)
    subject, text, html, zalo = (_part(template, part, context) if part in wanted else "" for part in PARTS)
    tail = f"Xem đầy đủ tại: {context['link']}" if context.get("link") else "Xem đầy đủ bằng mã tra cứu."
    return Rendered(
        subject=" ".join(subject.split()),
        text=text.strip() + "\n",
        html=html.strip() + "\n",
        zalo=fit_zalo(zalo.strip(), tail),
    )
