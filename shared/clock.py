"""Injectable time source, so deadlines, quiet hours and local dates can be tested at any instant.

Every read of "now" in product code goes through a `Clock`: `ServiceRuntime.clock` in routes and workers,
`HandlerContext.clock` in event handlers, `clock_from_settings(settings)` in command lines.

In-process tests use `FakeClock`. Service processes started by the end-to-end tests, the benchmark or
`make run --at …` read `CLOCK_OFFSET_SECONDS`: their clock runs at the real pace but shifted, so several
processes given the same offset agree on the instant they live at. The offset is refused unless
`DEVELOPMENT_MODE` is on (see `shared.settings`), so a production process always reads the real time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real time, optionally shifted by a fixed offset (development and tests only)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment


class _ClockSettings(Protocol):
    clock_offset_seconds: float


def clock_from_settings(settings: _ClockSettings) -> SystemClock:
    """The process clock its settings ask for (the settings refuse an offset outside development mode)."""
    return SystemClock(timedelta(seconds=settings.clock_offset_seconds))


def offset_to(instant: datetime) -> float:
    """Seconds to set in `CLOCK_OFFSET_SECONDS` so that a process clock reads `instant` now."""
    if instant.tzinfo is None:
        raise ValueError("offset_to needs an aware datetime")
    return round(instant.timestamp() - time.time(), 3)
