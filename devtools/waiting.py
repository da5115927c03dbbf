"""Poll instead of sleeping: wait until a condition holds, or fail with what was last seen."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], *, timeout: float = 15.0, interval: float = 0.1) -> T:
    """Call `probe` until it returns a truthy value (returned) or raises nothing truthy in time."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            last = await probe()
            if last:
                return last  # type: ignore[return-value]
        except AssertionError as exc:
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last: {last!r}")
        await asyncio.sleep(interval)
