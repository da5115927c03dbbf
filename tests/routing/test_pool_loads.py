"""The pool's loads (`pool.load_pool`, `pool.load_covering_pool`): each member's open cases and counseling
requests, as defined from the start: the distinct subjects of their pending or accepted assignments with a
field, leaving out closed cases and answered requests; however the query computes it."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select

from services.routing import store
from services.routing.pool import load_covering_pool, load_pool
from services.routing.seed import seed
from shared.db import make_engine, make_session_factory
from tests.routing.support import START, routing_settings

CASE_STATES = ("reported", "assigned", "accepted", "in_progress", "forwarded", "closed")
REQUEST_STATES = ("received", "assigned", "accepted", "answered")
ASSIGNMENT_STATES = ("pending", "accepted", "declined", "removed")


def _expected(assignments: list[dict], case_status: dict, request_status: dict) -> dict[uuid.UUID, int]:
    held: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for a in assignments:
        if a["status"] not in ("pending", "accepted") or a["field"] is None:
            continue
        if a["case_id"] is not None and case_status.get(a["case_id"]) == "closed":
            continue
        if a["request_id"] is not None and request_status.get(a["request_id"]) == "answered":
            continue
        held[a["member_id"]].add(a["case_id"] or a["request_id"])
    return {member: len(subjects) for member, subjects in held.items()}


async def test_each_members_load_counts_their_open_subjects_once_leaving_out_closed_and_answered(base_env):
    settings = routing_settings(base_env)
    await seed(settings)
    engine = make_engine(settings.database_url, pool_size=1)
    rng = random.Random(17)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            members = [row.member_id for row in await session.execute(select(store.members.c.member_id))]
            case_status = {uuid.uuid4(): CASE_STATES[i % len(CASE_STATES)] for i in range(60)}
            request_status = {uuid.uuid4(): REQUEST_STATES[i % len(REQUEST_STATES)] for i in range(30)}
            await session.execute(
                store.cases.insert(),
                [
                    dict(
                        case_id=case_id,
                        code=f"C{i}",
                        unit="tay-ninh",
                        category="other",
                        urgency="medium",
                        protection_level="prevention",
                        status=status,
                        reported_at=START,
                        updated_at=START,
                    )
                    for i, (case_id, status) in enumerate(case_status.items())
                ],
            )
            await session.execute(
                store.counseling_requests.insert(),
                [
                    dict(
                        request_id=request_id,
                        code=f"R{i}",
                        topic="other",
                        channel="web",
                        status=status,
                        received_at=START,
                    )
                    for i, (request_id, status) in enumerate(request_status.items())
                ],
            )
            # Every assignment's subject is a case or request routing has a row for (neither is ever deleted).
            subjects = [("case_id", c) for c in case_status] + [("request_id", r) for r in request_status]
            assignments = []
            for i in range(600):
                kind, subject = rng.choice(subjects)
                assignments.append(
                    {
                        "assignment_id": uuid.uuid4(),
                        "case_id": subject if kind == "case_id" else None,
                        "request_id": subject if kind == "request_id" else None,
                        "member_id": rng.choice(members),
                        # Several fields of one subject for one member count once; no field (the board) never.
                        "field": rng.choice(("law", "psychology", "education", None)),
                        "status": rng.choice(ASSIGNMENT_STATES),
                        "assigned_at": START + timedelta(minutes=i),
                        "respond_by": START + timedelta(minutes=i, hours=4),
                    }
                )
            await session.execute(store.assignments.insert(), assignments)
            expected = _expected(assignments, case_status, request_status)
            assert len(set(expected.values())) > 3  # loads that differ, so a wrong count shows

            for pool in (await load_pool(session, START), await load_pool(session, START, "tay-ninh")):
                assert {c.member_id: c.load for c in pool.candidates} == {
                    c.member_id: expected.get(c.member_id, 0) for c in pool.candidates
                }
            covering = await load_covering_pool(session, START)
            assert {c.member_id: c.load for c in covering.candidates} == {
                c.member_id: expected.get(c.member_id, 0) for c in covering.candidates
            }
            assert sum(c.load for c in covering.candidates) > 50

            # The loads are kept as the work changes (routing migration 0013's triggers): answers, hand-overs,
            # closings and reopenings, new assignments, deletions; compared with the definition after each round.
            for _round in range(8):
                for a in rng.sample(assignments, 40):
                    change = rng.choice(("status", "field", "member", "subject"))
                    if change == "status":
                        a["status"] = rng.choice(ASSIGNMENT_STATES)
                    elif change == "field":
                        a["field"] = rng.choice(("law", "psychology", None))
                    elif change == "member":
                        a["member_id"] = rng.choice(members)
                    else:
                        kind, subject = rng.choice(subjects)
                        a["case_id"] = subject if kind == "case_id" else None
                        a["request_id"] = subject if kind == "request_id" else None
                    keys = ("status", "field", "member_id", "case_id", "request_id")
                    await session.execute(
                        store.assignments.update()
                        .where(store.assignments.c.assignment_id == a["assignment_id"])
                        .values({k: a[k] for k in keys})
                    )
                for case_id in rng.sample(list(case_status), 10):
                    case_status[case_id] = rng.choice(CASE_STATES)
                    await session.execute(
                        store.cases.update().where(store.cases.c.case_id == case_id).values(status=case_status[case_id])
                    )
                for request_id in rng.sample(list(request_status), 5):
                    request_status[request_id] = rng.choice(REQUEST_STATES)
                    await session.execute(
                        store.counseling_requests.update()
                        .where(store.counseling_requests.c.request_id == request_id)
                        .values(status=request_status[request_id])
                    )
                gone = assignments.pop(rng.randrange(len(assignments)))
                await session.execute(
                    store.assignments.delete().where(store.assignments.c.assignment_id == gone["assignment_id"])
                )
                expected = _expected(assignments, case_status, request_status)
                covering = await load_covering_pool(session, START)
                assert {c.member_id: c.load for c in covering.candidates} == {
                    c.member_id: expected.get(c.member_id, 0) for c in covering.candidates
                }, f"round {_round}"
    finally:
        await engine.dispose()


async def test_a_case_closed_while_a_member_is_assigned_to_it_is_counted_once_whichever_commits_first(base_env):
    """The assignment's trigger locks the case row before reading whether it is live: the closing waits for it,
    or it waits for the closing and reads `closed`. Either way the member's load ends at 0."""
    settings = routing_settings(base_env)
    await seed(settings)
    engine = make_engine(settings.database_url, pool_size=2)
    sessions = make_session_factory(engine)
    try:
        async with sessions() as session:
            member = (await session.execute(select(store.members.c.member_id).limit(1))).scalar_one()
        for closing_first in (True, False):
            case_id = uuid.uuid4()
            async with sessions() as session, session.begin():
                await session.execute(
                    store.cases.insert().values(
                        case_id=case_id, code=f"RACE-{closing_first}", unit="tay-ninh", category="other",
                        urgency="medium", protection_level="prevention", status="assigned", reported_at=START,
                        updated_at=START,
                    )
                )  # fmt: skip
            closing, assigning = sessions(), sessions()
            try:
                close = store.cases.update().where(store.cases.c.case_id == case_id).values(status="closed")
                assign = store.assignments.insert().values(
                    assignment_id=uuid.uuid4(), case_id=case_id, member_id=member, field="law", status="pending",
                    assigned_at=START, respond_by=START + timedelta(hours=4),
                )  # fmt: skip
                first, second = (closing, close), (assigning, assign)
                if not closing_first:
                    first, second = second, first
                await first[0].execute(first[1])  # uncommitted
                waiting = asyncio.create_task(second[0].execute(second[1]))
                await asyncio.sleep(0.3)
                assert not waiting.done(), "the second transaction waits for the first's row lock"
                await first[0].commit()
                await waiting
                await second[0].commit()
            finally:
                await closing.close()
                await assigning.close()
            async with sessions() as session:
                m = store.members.c
                load = (await session.execute(select(m.open_load).where(m.member_id == member))).scalar_one()
            assert load == 0, f"closing first: {closing_first}"
    finally:
        await engine.dispose()
