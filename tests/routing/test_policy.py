"""The assignment policy (issue 4) as properties that hold for any club and any case."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.routing.domain import FIELDS, Candidate, choose, decide

UNITS = ("tay-ninh", "go-dau", "ben-cau")
T0 = datetime(2026, 11, 1, tzinfo=UTC)


@st.composite
def clubs(draw: st.DrawFn) -> list[Candidate]:
    size = draw(st.integers(min_value=0, max_value=8))
    club = []
    for i in range(size):
        capacity = draw(st.integers(min_value=0, max_value=4))
        club.append(
            Candidate(
                member_id=uuid.UUID(int=i + 1),
                fields=frozenset(draw(st.sets(st.sampled_from(FIELDS), max_size=3))),
                units=frozenset(draw(st.sets(st.sampled_from(UNITS), max_size=2))),
                load=draw(st.integers(min_value=0, max_value=capacity + 1)),
                capacity=capacity,
                last_assigned_at=draw(st.none() | st.integers(0, 1000).map(lambda h: T0 + timedelta(hours=h))),
                available=draw(st.booleans()),
            )
        )
    return club


required = st.lists(st.sampled_from(FIELDS), max_size=5)
units = st.sampled_from(UNITS)


@settings(max_examples=60, deadline=None)
@given(club=clubs(), fields=required, unit=units)
def test_every_field_some_available_member_can_take_is_covered(club, fields, unit):
    choice = choose(fields, unit, club)
    for field in set(fields):
        coverable = any(field in c.fields and c.available and c.load < c.capacity for c in club)
        assert (field in choice.picks) == coverable
        assert (field in choice.missing) == (not coverable)


@settings(max_examples=60, deadline=None)
@given(club=clubs(), fields=required, unit=units)
def test_nobody_is_picked_who_is_unavailable_lacks_the_field_or_is_at_capacity(club, fields, unit):
    by_id = {c.member_id: c for c in club}
    choice = choose(fields, unit, club)
    for field, member_id in choice.picks.items():
        member = by_id[member_id]
        assert field in member.fields and member.available and member.load < member.capacity


@settings(max_examples=50, deadline=None)
@given(club=clubs(), cases=st.lists(st.tuples(required, units), max_size=15))
def test_a_stream_of_cases_never_takes_anyone_past_capacity(club, cases):
    loads = {c.member_id: c.load for c in club}
    for fields, unit in cases:
        current = [
            Candidate(c.member_id, c.fields, c.units, loads[c.member_id], c.capacity, None, c.available) for c in club
        ]
        for member_id in choose(fields, unit, current).members:
            loads[member_id] += 1
    for c in club:
        assert loads[c.member_id] <= max(c.capacity, c.load)


@settings(max_examples=50, deadline=None)
@given(members=st.integers(min_value=1, max_value=8), cases=st.integers(min_value=0, max_value=40))
def test_identical_members_share_identical_cases_evenly(members, cases):
    loads = {uuid.UUID(int=i + 1): 0 for i in range(members)}
    last: dict[uuid.UUID, datetime | None] = dict.fromkeys(loads)
    for n in range(cases):
        club = [Candidate(m, frozenset({"law"}), frozenset(), loads[m], 100, last[m]) for m in loads]
        (picked,) = choose(["law"], "tay-ninh", club).members
        loads[picked] += 1
        last[picked] = T0 + timedelta(minutes=n)
    assert max(loads.values()) - min(loads.values()) <= 1


@settings(max_examples=60, deadline=None)
@given(club=clubs(), field=st.sampled_from(FIELDS), unit=units)
def test_the_pick_covers_the_unit_if_anyone_eligible_does_then_has_the_lowest_load(club, field, unit):
    eligible = [c for c in club if field in c.fields and c.available and c.load < c.capacity]
    choice = choose([field], unit, club)
    if not eligible:
        assert choice.missing == (field,)
        return
    picked = next(c for c in club if c.member_id == choice.picks[field])
    local = [c for c in eligible if unit in c.units]
    pool = local or eligible
    assert picked in pool
    assert picked.load == min(c.load for c in pool)


def test_one_member_may_hold_several_fields_of_a_case_for_one_unit_of_capacity():
    only = Candidate(uuid.UUID(int=1), frozenset({"law", "psychology"}), frozenset(), load=0, capacity=1)
    choice = choose(["law", "psychology"], "go-dau", [only])
    assert choice.picks == {"law": only.member_id, "psychology": only.member_id}
    assert choice.missing == ()


def test_ties_go_to_the_member_least_recently_assigned():
    older = Candidate(uuid.UUID(int=1), frozenset({"law"}), frozenset(), 1, 5, T0)
    newer = Candidate(uuid.UUID(int=2), frozenset({"law"}), frozenset(), 1, 5, T0 + timedelta(days=1))
    never = Candidate(uuid.UUID(int=3), frozenset({"law"}), frozenset(), 1, 5, None)
    assert choose(["law"], None, [newer, older]).picks["law"] == older.member_id
    assert choose(["law"], None, [newer, older, never]).picks["law"] == never.member_id


def test_declined_members_are_not_asked_again_for_the_same_field():
    a = Candidate(uuid.UUID(int=1), frozenset({"law"}), frozenset(), 0, 5)
    b = Candidate(uuid.UUID(int=2), frozenset({"law"}), frozenset(), 3, 5)
    assert choose(["law"], None, [a, b], excluded={"law": {a.member_id}}).picks["law"] == b.member_id
    assert choose(["law"], None, [a], excluded={"law": {a.member_id}}).missing == ("law",)


def test_a_new_case_and_a_handed_over_field_take_the_same_decision():
    """`decide` is the one decision: the field's pick is the same whether the case is new or the field is
    handed over; only a new case adds the board's places (all of it when critical, a chair when no field)."""
    law_a = Candidate(uuid.uuid4(), frozenset({"law"}), frozenset({"u"}), load=0, capacity=3)
    law_b = Candidate(uuid.uuid4(), frozenset({"law"}), frozenset(), load=0, capacity=3)
    chair, vice = uuid.uuid4(), uuid.uuid4()
    new = decide(["law"], "u", [law_b, law_a], urgency="critical", board=[chair, vice], chairs=[chair])
    handed = decide(["law"], "u", [law_b, law_a], urgency="critical", excluded={"law": set()})
    assert new.picks == ((law_a.member_id, "law"), (chair, None), (vice, None))
    assert handed.picks == ((law_a.member_id, "law"),)
    again = decide(["law"], "u", [law_b, law_a], urgency="high", excluded={"law": {law_a.member_id}})
    assert again.picks == ((law_b.member_id, "law"),)
    nothing = decide([], "u", [law_a], urgency="medium", board=[chair, vice], chairs=[chair])
    assert (nothing.picks, nothing.missing) == (((chair, None),), ())
    none_left = decide(["medicine"], "u", [law_a], urgency="high")
    assert (none_left.picks, none_left.missing) == ((), ("medicine",))
