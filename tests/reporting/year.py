"""A realistic year (2025) of events for reporting, generated from a seed, with the facts the test counts.

Several units of both structures (the district-level units end on 2025-06-30, the communes start on
2025-07-01), every category, every urgency, special-circumstance groups, assignments, acceptances,
forwarding, closures, deadline breaches, counseling requests on both channels, and monthly reports
that are on time, late, revised or missing.
"""

from __future__ import annotations

import csv
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from shared.events import Envelope, Event
from shared.events.common import Recipient
from shared.events.intake import CaseReported, CounselingRequestReceived, MonthlyReportSubmitted, UnitUpserted
from shared.events.routing import (
    AssignmentAnswered,
    AssignmentInfo,
    CaseAssigned,
    CaseEscalated,
    CaseForwarded,
    CaseStatusChanged,
    CounselingRequestAnswered,
)
from tests.support.sealed import answer_for

DATA = Path(__file__).resolve().parents[2] / "data"
CATEGORIES = [r["code"] for r in csv.DictReader((DATA / "case-categories.csv").open(encoding="utf-8"))]
GROUPS = ["a", "b", "d", "đ", "i", "l"]
URGENCIES = ["critical", "high", "medium", "low"]
OLD_UNITS = ["tay-ninh", "hoa-thanh", "ben-cau", "tan-chau"]  # report January–June
NEW_UNITS = ["phuong-tan-ninh", "phuong-long-hoa", "xa-long-thuan", "xa-tan-dong"]  # report July–December
TOPICS = ["bắt nạt", "học tập", "gia đình", "sức khỏe tâm thần"]
MEMBER = Recipient(display_name="Nguyễn Văn Thành", email="thanh@example.org")


def vn_month(moment: datetime) -> str:
    return (moment + timedelta(hours=7)).strftime("%Y-%m")


@dataclass
class Case:
    case_id: uuid.UUID
    unit: str
    category: str
    urgency: str
    groups: list[str]
    reported_at: datetime
    status: str = "reported"
    assigned_at: datetime | None = None
    accepted_at: datetime | None = None
    forwarded_at: datetime | None = None
    breaches: list[tuple[str, str, str]] = field(default_factory=list)  # (deadline, highest level, due month)

    @property
    def month(self) -> str:
        return vn_month(self.reported_at)


@dataclass
class Request:
    request_id: uuid.UUID
    topic: str
    channel: str
    month: str
    answered: bool


@dataclass
class Report:
    unit: str
    period: str
    revisions: list[MonthlyReportSubmitted]


@dataclass
class Year:
    envelopes: list[Envelope]
    cases: list[Case]
    requests: list[Request]
    reports: list[Report]
    contact_unit: str
    contact_email: str


def _wrap(event: Event, producer: str, at: datetime) -> Envelope:
    return Envelope.wrap(event, producer=producer, occurred_at=at)


def generate(seed: int = 2025, cases_per_month: int = 5) -> Year:
    rng = random.Random(seed)
    out: list[tuple[datetime, int, Envelope]] = []
    order = 0

    def add(event: Event, producer: str, at: datetime) -> None:
        nonlocal order
        order += 1
        out.append((at, order, _wrap(event, producer, at)))

    start = datetime(2024, 12, 31, 17, 0, tzinfo=UTC)  # 2025-01-01 00:00 in Vietnam
    add(
        UnitUpserted(
            code="ben-cau",
            name_vi="Huyện Bến Cầu",
            kind="huyện",
            valid_to=date(2025, 6, 30),
            successors=("xa-long-chu", "xa-long-thuan", "xa-ben-cau"),
            contact_email="bencau@example.org",
        ),
        "intake",
        start,
    )
    cases: list[Case] = []
    categories = list(CATEGORIES)
    for month in range(1, 13):
        units = OLD_UNITS if month <= 6 else NEW_UNITS
        for i in range(cases_per_month):
            category = categories.pop() if categories else rng.choice(CATEGORIES)
            day = rng.randint(1, 27)
            reported = datetime(2025, month, day, rng.randint(0, 23), rng.randint(0, 59), tzinfo=UTC)
            case = Case(
                uuid.uuid4(),
                rng.choice(units),
                category,
                URGENCIES[i % 4],
                rng.sample(GROUPS, rng.choice([0, 0, 1, 2])),
                reported,
            )
            cases.append(case)
            add(
                CaseReported(
                    case_id=case.case_id,
                    code=f"TN-2025-{len(cases):06d}",
                    unit=case.unit,
                    category=category,
                    urgency=case.urgency,
                    protection_level="support",
                    special_circumstances=tuple(case.groups),
                    reported_at=reported,
                ),
                "intake",
                reported,
            )
            _follow_up(case, rng, add)
    requests = []
    for month in range(1, 13):
        for _ in range(3):
            received = datetime(2025, month, rng.randint(1, 27), 9, tzinfo=UTC)
            request = Request(
                uuid.uuid4(), rng.choice(TOPICS), rng.choice(["web", "zalo"]), f"2025-{month:02d}", rng.random() < 0.7
            )
            requests.append(request)
            add(
                CounselingRequestReceived(
                    request_id=request.request_id,
                    code=f"TV-{len(requests)}",
                    topic=request.topic,
                    channel=request.channel,
                    received_at=received,
                ),
                "intake",
                received,
            )
            if request.answered:
                add(
                    CounselingRequestAnswered(
                        request_id=request.request_id,
                        code=f"TV-{len(requests)}",
                        answer=answer_for(request.request_id, "Chào em, Câu lạc bộ đã nhận được câu hỏi."),
                        answered_by=uuid.uuid4(),
                        answered_at=received + timedelta(days=1),
                    ),
                    "routing",
                    received + timedelta(days=1),
                )
    reports = _reports(rng, add)
    # A few follow-ups delivered before the case they are about (a redelivery can do this).
    envelopes = [e for _, _, e in sorted(out, key=lambda t: (t[0], t[1]))]
    early = [e for e in envelopes if e.type == "case.status_changed"][:3]
    envelopes = early + [e for e in envelopes if e not in early]
    return Year(envelopes, cases, requests, reports, "ben-cau", "bencau@example.org")


def _follow_up(case: Case, rng: random.Random, add) -> None:
    at = case.reported_at
    roll = rng.random()
    if roll < 0.1:
        if rng.random() < 0.5:  # nobody took it: a breach of the acceptance deadline
            due = at + timedelta(hours=2)
            level = rng.choice(["chair", "committee"])
            for step in ["chair", "committee"][: 1 + (level == "committee")]:
                add(
                    CaseEscalated(
                        case_id=case.case_id,
                        code="x",
                        deadline="acceptance",
                        due_at=due,
                        urgency=case.urgency,
                        level=step,
                        recipients=(MEMBER,),
                        escalated_at=due + timedelta(minutes=5),
                    ),
                    "routing",
                    due + timedelta(minutes=5),
                )
            case.breaches.append(("acceptance", level, vn_month(due)))
        return
    case.assigned_at = at + timedelta(minutes=rng.randint(1, 120))
    add(
        CaseAssigned(
            case_id=case.case_id,
            code="x",
            unit=case.unit,
            category=case.category,
            urgency=case.urgency,
            protection_level="support",
            assignments=(
                AssignmentInfo(
                    assignment_id=uuid.uuid4(),
                    field="law",
                    member=MEMBER,
                    respond_by=case.assigned_at + timedelta(hours=4),
                ),
            ),
            assigned_at=case.assigned_at,
        ),
        "routing",
        case.assigned_at,
    )
    _status(case, "assigned", case.assigned_at, add)
    if roll < 0.25:
        return
    case.accepted_at = case.assigned_at + timedelta(minutes=rng.randint(5, 600))
    add(
        AssignmentAnswered(
            case_id=case.case_id,
            assignment_id=uuid.uuid4(),
            member_id=uuid.uuid4(),
            accepted=True,
            answered_at=case.accepted_at,
        ),
        "routing",
        case.accepted_at,
    )
    _status(case, "accepted", case.accepted_at, add)
    if roll < 0.45:
        return
    step = case.accepted_at + timedelta(hours=rng.randint(1, 48))
    _status(case, "in_progress", step, add)
    if roll < 0.6:
        if roll < 0.5:
            due = step + timedelta(days=5)
            add(
                CaseEscalated(
                    case_id=case.case_id,
                    code="x",
                    deadline="support_plan",
                    due_at=due,
                    urgency=case.urgency,
                    level="chair",
                    recipients=(MEMBER,),
                    escalated_at=due,
                ),
                "routing",
                due,
            )
            case.breaches.append(("support_plan", "chair", vn_month(due)))
        return
    case.forwarded_at = step + timedelta(days=rng.randint(1, 5))
    add(
        CaseForwarded(case_id=case.case_id, code="x", urgency=case.urgency, forwarded_at=case.forwarded_at),
        "routing",
        case.forwarded_at,
    )
    _status(case, "forwarded", case.forwarded_at, add)
    if roll < 0.8:
        _status(case, "closed", case.forwarded_at + timedelta(days=3), add)


def _status(case: Case, to: str, at: datetime, add) -> None:
    add(
        CaseStatusChanged(case_id=case.case_id, code="x", from_status=case.status, to_status=to, changed_at=at),
        "routing",
        at,
    )
    case.status = to


def _reports(rng: random.Random, add) -> list[Report]:
    reports = []
    for month in range(1, 13):
        period = f"2025-{month:02d}"
        nxt = date(2025 + month // 12, month % 12 + 1, 5)
        for unit in OLD_UNITS if month <= 6 else NEW_UNITS:
            roll = rng.random()
            if roll < 0.15:
                continue  # missing
            on_time = roll < 0.75
            submitted = datetime.combine(nxt - timedelta(days=2 if on_time else -4), datetime.min.time(), UTC)
            revisions = []
            for revision in range(1, 3 if roll > 0.9 or roll < 0.2 else 2):
                event = MonthlyReportSubmitted(
                    report_id=uuid.uuid4(),
                    unit=unit,
                    period=period,
                    revision=revision,
                    submitted_at=submitted + timedelta(days=7 * (revision - 1)),
                    due_on=nxt,
                    on_time=on_time and revision == 1,  # a correction a week later is past the deadline
                    cases_by_category={c: rng.randint(0, 4) for c in rng.sample(CATEGORIES, 3)},
                    special_circumstances_known={g: rng.randint(0, 3) for g in rng.sample(GROUPS, 2)},
                    activities_held=rng.randint(0, 5),
                )
                revisions.append(event)
                add(event, "intake", event.submitted_at)
            reports.append(Report(unit, period, revisions))
    return reports
