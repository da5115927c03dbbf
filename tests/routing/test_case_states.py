"""The case's states and allowed transitions are explicit: anything else is refused."""

from __future__ import annotations

import pytest

from services.routing.domain import CASE_STATES, TRANSITIONS, ForbiddenTransition, check_transition, summarise_opinions

ALLOWED = {
    ("reported", "assigned"),
    ("assigned", "accepted"),
    ("accepted", "in_progress"),
    ("in_progress", "forwarded"),
    ("forwarded", "closed"),
    ("forwarded", "in_progress"),  # the Standing Committee returned it to the club
    ("closed", "in_progress"),  # reopen
}


@pytest.mark.parametrize("current", CASE_STATES)
@pytest.mark.parametrize("wanted", CASE_STATES)
def test_only_the_lifecycle_steps_and_reopen_are_allowed(current, wanted):
    if (current, wanted) in ALLOWED:
        check_transition(current, wanted)
    else:
        with pytest.raises(ForbiddenTransition):
            check_transition(current, wanted)


def test_the_transition_table_names_only_known_states():
    assert set(TRANSITIONS) == set(CASE_STATES)
    assert all(targets <= set(CASE_STATES) for targets in TRANSITIONS.values())


def test_the_compiled_proposal_takes_the_strongest_level_and_every_referral():
    summary = summarise_opinions(
        [("support", ["school"]), (None, ["police", "school"]), ("intervention", ["legal_aid"]), ("prevention", [])]
    )
    assert summary.level == "intervention"
    assert summary.referrals == ("school", "police", "legal_aid")
