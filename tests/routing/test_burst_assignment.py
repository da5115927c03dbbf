"""A burst of reports, assigned many to a transaction, follows the same policy as one at a time: the
experts share the cases evenly, nobody goes past capacity, and the overflow names the missing field."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from pathlib import Path

from devtools.waiting import eventually
from services.routing.assigner import assign_batch, assign_pending
from services.routing.cases import record_new_case
from services.routing.seed import import_file
from shared.clock import FakeClock
from shared.uow import unit_of_work
from tests.routing.support import START, case_reported, emitted, publish, routing_app, routing_settings

TWO_DOCTORS = """key,display_name,organisation,organisation_kind,club_role,fields,units,email,zalo_user_id,capacity
chu-nhiem,Nguyễn Văn An,Tỉnh đoàn,provincial,chair,,,an@club.example,111,3
bac-si-1,Lý Văn Bảo,Sở Y tế,department,member,medicine,,bao@club.example,555,2
bac-si-2,Võ Thị Cúc,Sở Y tế,department,member,medicine,,cuc@club.example,666,2
"""
BURST = 5


async def test_a_burst_of_cases_is_shared_evenly_within_capacity_and_the_overflow_goes_to_the_chair(
    base_env, tmp_path: Path
):
    settings = routing_settings(base_env)
    club = tmp_path / "club.csv"
    club.write_text(TWO_DOCTORS, encoding="utf-8")
    assert await import_file(settings, club) == 3
    async with routing_app(settings, FakeClock(START)) as (app, _client):
        burst = [
            case_reported("physical_health", "phuong-tan-ninh", "medium", level="prevention") for _ in range(BURST)
        ]
        await publish(settings, *burst)

        async def all_assigned() -> list[dict] | None:
            found = await emitted(app, "case.assigned")
            return found if len(found) == BURST else None

        assigned = await eventually(all_assigned)
        assert sorted(a["case_id"] for a in assigned) == sorted(str(e.payload["case_id"]) for e in burst)
        held = Counter(x["member"]["display_name"] for a in assigned for x in a["assignments"])
        assert held == {"Lý Văn Bảo": 2, "Võ Thị Cúc": 2}
        overflow = [a for a in assigned if not a["assignments"]]
        assert len(overflow) == 1
        assert overflow[0]["missing_fields"] == ["medicine"]
        assert [r["display_name"] for r in overflow[0]["chair"]] == ["Nguyễn Văn An"]
        statuses = await emitted(app, "case.status_changed")
        assert sorted(s["to_status"] for s in statuses) == ["assigned"] * (BURST - 1)


ONE_DOCTOR = """key,display_name,organisation,organisation_kind,club_role,fields,units,email,zalo_user_id,capacity
chu-nhiem,Nguyễn Văn An,Tỉnh đoàn,provincial,chair,,,an@club.example,111,3
bac-si-1,Lý Văn Bảo,Sở Y tế,department,member,medicine,,bao@club.example,555,1
"""


async def test_two_assigners_at_once_never_both_take_a_members_last_slot(base_env, tmp_path: Path):
    """The assignment lock is taken with the pending cases (`assigner._SQL.pending`): a second batch waits for
    the first to commit and then reads the pool with its pick counted."""
    settings = routing_settings(base_env, assign_poll_interval=3600, assign_batch_size=1)
    club = tmp_path / "club.csv"
    club.write_text(ONE_DOCTOR, encoding="utf-8")
    assert await import_file(settings, club) == 2
    async with routing_app(settings, FakeClock(START)) as (app, _client):
        runtime = app.state.runtime
        # The service's own assigner stops: the two batches below are the only ones.
        (worker,) = [t for t in runtime.tasks if t.get_name() == "routing-assignment_worker"]
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        reports = [case_reported("physical_health", "phuong-tan-ninh", "medium", level="prevention") for _ in range(2)]
        async with unit_of_work(runtime) as fx:
            for envelope in reports:
                assert await record_new_case(fx, envelope.event(), envelope)  # type: ignore[arg-type]

        async with unit_of_work(runtime) as first:
            assert await assign_batch(first) == 1
            second = asyncio.create_task(assign_pending(runtime))
            await asyncio.sleep(0.5)
            assert not second.done()  # waiting for the lock the first batch holds
        assert await second == 1

        assigned = await emitted(app, "case.assigned")
        assert sorted(a["case_id"] for a in assigned) == sorted(str(e.payload["case_id"]) for e in reports)
        held = [x["member"]["display_name"] for a in assigned for x in a["assignments"]]
        assert held == ["Lý Văn Bảo"]  # once: the second batch saw the first's pick
        assert [a["missing_fields"] for a in assigned] == [[], ["medicine"]]
