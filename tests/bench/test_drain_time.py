"""The "backlog drained" figure is when the step's last notification arrived (as the stand-ins recorded it),
not when the benchmark got round to seeing it: the emails are parsed after the step, and parsing a 60 s step's
9,000 emails took seconds that the figure used to count as backlog."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from bench import e2e


class _SlowDeliveries:
    """Everything arrived 0.3 s after the last POST; seeing it takes 1 s (the parse)."""

    def __init__(self, arrived: float) -> None:
        self.email = {("lan@x.vn", "TN-1"): [arrived]}
        self.zalo = {("z-lan", "TN-1"): [arrived - 0.1]}

    def refresh(self) -> int:
        time.sleep(1.0)
        return 2


async def test_the_drain_is_the_last_arrival_after_the_last_post(monkeypatch: Any) -> None:
    last_post = time.monotonic()
    step = e2e.Step(rate=10, seconds=1)
    step.accepted["TN-1"] = last_post
    monkeypatch.setattr(
        e2e, "_expected", lambda _system, codes: ({("lan@x.vn", "TN-1")}, {("z-lan", "TN-1")}, set(codes))
    )
    waited = await e2e._wait_delivered(SimpleNamespace(), _SlowDeliveries(last_post + 0.3), step, quiet=30, cap=60)
    assert waited.complete
    assert abs(waited.seconds - 0.3) < 0.01
