"""Routing's rules, without I/O: who is available, who gets which field of a case, and which case
transitions are allowed.

The assignment policy (issue 4): for each required field, among the members who have the field and are
available (inside their active period, not on leave, below capacity), prefer one who covers the case's
unit, then the lowest current load, then the one least recently assigned. One member may hold several
fields of the same case; that counts once against their capacity.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from shared.errors import Conflict

FIELDS = ("law", "psychology", "medicine", "education", "social_work")
# Roles that can be given a field of a case; the Standing Committee only receives escalations and proposals.
ASSIGNABLE_ROLES = ("chair", "vice_chair", "board_member", "member")


@dataclass(frozen=True)
class Candidate:
    """A member as the policy sees them."""

    member_id: uuid.UUID
    fields: frozenset[str]
    units: frozenset[str]  # the units they cover, successors of old districts included
    load: int  # open cases and requests they currently hold
    capacity: int
    last_assigned_at: datetime | None = None
    available: bool = True  # in their active period and not on leave


@dataclass(frozen=True)
class Choice:
    picks: dict[str, uuid.UUID]  # field -> member
    missing: tuple[str, ...]  # fields nobody available can take

    @property
    def members(self) -> list[uuid.UUID]:
        """Each picked member once, in the order of the fields."""
        return list(dict.fromkeys(self.picks.values()))


def is_available(
    today: date, active_from: date | None, active_to: date | None, leaves: Iterable[tuple[date, date]]
) -> bool:
    """In the active period (bounds inclusive) and on no leave that includes `today`."""
    if active_from is not None and today < active_from:
        return False
    if active_to is not None and today > active_to:
        return False
    return not any(start <= today <= end for start, end in leaves)


def choose(
    required_fields: Sequence[str],
    unit: str | None,
    candidates: Sequence[Candidate],
    *,
    excluded: dict[str, set[uuid.UUID]] | None = None,
    already_on_subject: Iterable[uuid.UUID] = (),
) -> Choice:
    """Pick a member for each required field (duplicates ignored).

    `excluded[field]` are members who must not get that field again (they declined it, or the chair
    removed them). `already_on_subject` hold another field of the same case: taking one more field costs
    them no capacity.
    """
    excluded = excluded or {}
    on_subject = set(already_on_subject)
    load = {c.member_id: c.load for c in candidates}
    # Seconds since the epoch, so naive and aware datetimes never meet; a pick this round counts as latest.
    recent = {c.member_id: c.last_assigned_at.timestamp() if c.last_assigned_at else -math.inf for c in candidates}
    order = {c.member_id: i for i, c in enumerate(candidates)}  # stable final tie-break
    picks: dict[str, uuid.UUID] = {}
    missing: list[str] = []
    for wanted in dict.fromkeys(required_fields):
        eligible = [
            c
            for c in candidates
            if wanted in c.fields
            and c.available
            and c.member_id not in excluded.get(wanted, set())
            and (c.member_id in on_subject or load[c.member_id] < c.capacity)
        ]
        if not eligible:
            missing.append(wanted)
            continue
        best = min(
            eligible,
            key=lambda c: (
                unit is None or unit not in c.units,
                load[c.member_id],
                recent[c.member_id],
                order[c.member_id],
            ),
        )
        picks[wanted] = best.member_id
        if best.member_id not in on_subject:
            on_subject.add(best.member_id)
            load[best.member_id] += 1
        recent[best.member_id] = math.inf
    return Choice(picks=picks, missing=tuple(missing))


# --- the case's life ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """Who gets which field of a case (`None`: a board member's place without a field), and the fields
    nobody available can take."""

    picks: tuple[tuple[uuid.UUID, str | None], ...]
    missing: tuple[str, ...]


def decide(
    required_fields: Sequence[str],
    unit: str | None,
    candidates: Sequence[Candidate],
    *,
    urgency: str,
    board: Sequence[uuid.UUID] = (),
    chairs: Sequence[uuid.UUID] = (),
    excluded: dict[str, set[uuid.UUID]] | None = None,
    already_on_subject: Iterable[uuid.UUID] = (),
) -> Decision:
    """The one decision for a new case and for a handed-over field: `choose` a member per field; a new
    case also puts the board on it (`board`: the available chairs and vice-chairs; `chairs`: the available
    chairs, in order): a critical case goes to the whole board as well, a case of no field to the first chair.
    A hand-over passes no board (the chair's own place is not handed to anyone)."""
    choice = choose(required_fields, unit, candidates, excluded=excluded, already_on_subject=already_on_subject)
    picks: list[tuple[uuid.UUID, str | None]] = list((m, f) for f, m in choice.picks.items())
    places: list[uuid.UUID] = []
    if urgency == "critical":
        places = list(board)
    elif not required_fields:
        places = list(chairs[:1])
    picked = set(choice.picks.values())
    picks += [(member, None) for member in dict.fromkeys(places) if member not in picked]
    return Decision(tuple(picks), tuple(choice.missing))


CASE_STATES = ("reported", "assigned", "accepted", "in_progress", "forwarded", "closed")

TRANSITIONS: dict[str, frozenset[str]] = {
    "reported": frozenset({"assigned"}),
    "assigned": frozenset({"accepted"}),
    "accepted": frozenset({"in_progress"}),
    "in_progress": frozenset({"forwarded"}),
    "forwarded": frozenset({"closed", "in_progress"}),  # in_progress: the committee returned it to the club
    "closed": frozenset({"in_progress"}),  # reopen
}


# The Standing Committee's decision on a forwarded case, and the state it leaves the case in: approved
# (as proposed or with changes) the case stays forwarded until the chair closes it with its outcome;
# returned, it is in progress again, for the club to complete and forward anew.
DECISION_OUTCOMES = ("approved", "amended", "returned")
DECISION_MOVES_TO = {"returned": "in_progress"}
# What the committee may read: a case while it is with the committee, and once closed (only a forwarded
# case can be closed). A case returned to the club is the club's again until it is forwarded anew.
COMMITTEE_SEES = ("forwarded", "closed")


def committee_sees(status: str) -> bool:
    return status in COMMITTEE_SEES


class ForbiddenTransition(Conflict):
    """The case is not in a state that allows this step (answered with 409)."""

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(
            f"A case in state '{current}' cannot move to '{wanted}'.",
            f"Vụ việc đang ở trạng thái '{current}' không thể chuyển sang '{wanted}'.",
        )
        self.current = current
        self.wanted = wanted


def check_transition(current: str, wanted: str) -> None:
    if wanted not in TRANSITIONS.get(current, frozenset()):
        raise ForbiddenTransition(current, wanted)


@dataclass(frozen=True)
class OpinionSummary:
    """What the chair's compiled proposal recommends when they do not say otherwise."""

    level: str | None
    referrals: tuple[str, ...] = field(default_factory=tuple)


_LEVEL_ORDER = {"prevention": 0, "support": 1, "intervention": 2}


def summarise_opinions(opinions: Iterable[tuple[str | None, Iterable[str]]]) -> OpinionSummary:
    """The strongest protection level any member recommended, and every referral anyone proposed.

    Erring towards the stronger level is the cautious reading for a child at risk.
    """
    level: str | None = None
    referrals: dict[str, None] = {}
    for recommended, refs in opinions:
        if recommended is not None and (level is None or _LEVEL_ORDER[recommended] > _LEVEL_ORDER[level]):
            level = recommended
        referrals.update(dict.fromkeys(refs))
    return OpinionSummary(level=level, referrals=tuple(referrals))


# --- what the chair sees: suggestions with their reasons, and what a case still lacks ------------------


@dataclass(frozen=True)
class Suggestion:
    """One member considered for one field of a case, with the policy's reasons (the same order as `choose`).

    `eligible` is what `choose` would consider; `rank` is 1 for the member `choose` would pick."""

    member_id: uuid.UUID
    field: str
    rank: int | None
    eligible: bool
    covers_unit: bool
    load: int
    capacity: int
    available: bool
    excluded: bool  # declined this field of the case, or the chair removed them from it
    on_case: bool  # already holds another field of the case: no extra load


def suggest(
    wanted: str,
    unit: str | None,
    candidates: Sequence[Candidate],
    *,
    excluded: Iterable[uuid.UUID] = (),
    on_case: Iterable[uuid.UUID] = (),
) -> list[Suggestion]:
    """Every member with the field `wanted`, best first by `choose`'s own order (the unit, then the load,
    then the least recently assigned); those `choose` would skip come last, unranked."""
    out, on, recent = set(excluded), set(on_case), {}
    for c in candidates:
        recent[c.member_id] = c.last_assigned_at.timestamp() if c.last_assigned_at else -math.inf
    order = {c.member_id: i for i, c in enumerate(candidates)}
    having = [c for c in candidates if wanted in c.fields]

    def eligible(c: Candidate) -> bool:
        return c.available and c.member_id not in out and (c.member_id in on or c.load < c.capacity)

    def covers(c: Candidate) -> bool:
        return unit is not None and unit in c.units

    ranked = sorted(
        having,
        key=lambda c: (not eligible(c), not covers(c), c.load, recent[c.member_id], order[c.member_id]),
    )
    result, rank = [], 0
    for c in ranked:
        ok = eligible(c)
        rank += ok
        result.append(
            Suggestion(
                member_id=c.member_id,
                field=wanted,
                rank=rank if ok else None,
                eligible=ok,
                covers_unit=covers(c),
                load=c.load,
                capacity=c.capacity,
                available=c.available,
                excluded=c.member_id in out,
                on_case=c.member_id in on,
            )
        )
    return result


def missing_fields(required: Iterable[str], held: Iterable[str | None]) -> tuple[str, ...]:
    """The case's required fields that no member holds (pending or accepted)."""
    have = set(held)
    return tuple(f for f in dict.fromkeys(required) if f not in have)


def opinions_complete(holders: Iterable[uuid.UUID], pending: int, authors: Iterable[uuid.UUID]) -> bool:
    """Every member who accepted a field of the case wrote an opinion, and nobody is still to answer."""
    expected, wrote = set(holders), set(authors)
    return pending == 0 and bool(expected) and expected <= wrote
