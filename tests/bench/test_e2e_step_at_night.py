"""The benchmark's end-to-end step gives the same answer at any hour: run as if at 23:00 in Tây Ninh (the
demo club's quiet hours begin at 21:30 and 22:00), every case of a short step is notified, none lost or
doubled."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bench import e2e
from bench.options import Options

pytestmark = pytest.mark.e2e

NIGHT = datetime(2026, 12, 1, 23, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


async def test_a_short_step_at_23_00_local_loses_and_doubles_nothing() -> None:
    figures = {f.name: f.ours for f in await e2e.run(Options(only=("e2e",), rates=(4,), duration=3, at=NIGHT))}
    assert figures["e2e 4/s accepted"] and figures["e2e 4/s accepted"] > 0
    assert figures["e2e 4/s cases lost"] == 0
    assert figures["e2e 4/s notifications doubled"] == 0
    assert figures["e2e 4/s to email p50"] is not None, "emails arrived during the night"
