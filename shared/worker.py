"""The one background-worker loop of every service: run a step, then sleep until the next poll or until
woken, back off on failures, stop cleanly.

A step returns how much it did. When it did a full batch (`busy(done)`), there is probably more waiting,
so the next step runs at once; otherwise the loop waits up to `interval` seconds or until its `Signal`
is set (a commit that made work for it: `UnitOfWork.wake(name)`, a PostgreSQL NOTIFY, an HTTP request).
A step that raises is logged and retried after a back-off that doubles up to `max_backoff` (a database
that is restarting is not hammered), and the back-off resets after the first step that succeeds.
Cancelling the task (the service stopping) ends the loop between steps or while it waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from shared.dberrors import is_transient

log = logging.getLogger(__name__)


async def wait_at_most(event: asyncio.Event, seconds: float) -> None:
    """Until `event` is set or `seconds` have passed.

    Not `asyncio.wait_for`: on Python 3.11 it swallows a cancellation that arrives in the same turn of the
    loop as the event (it returns the inner wait's result instead), so a worker cancelled by its stopping
    service as a wake-up came ran on and held the shutdown until the process was killed."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


class Signal:
    """A wake-up for one worker; setting it while the worker is busy is not lost."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait(self, at_most: float) -> bool:
        """Until set or `at_most` seconds; clears it. True if it was set.

        Whether it was set is read from the flag, not from how the wait ended: a set that came before the
        wait (while the step ran), or in the same turn of the loop as the timeout, is reported and consumed,
        never cleared unseen (`asyncio.wait_for` with a zero timeout, or one that fires as the event is set,
        ends with TimeoutError although the event is set)."""
        if not self._event.is_set():
            await wait_at_most(self._event, at_most)
        woken = self._event.is_set()
        self._event.clear()
        return woken


class Signals:
    """The service's wake-ups by worker name (`ServiceRuntime.signals`). With `forward`, a wake-up goes to
    `forward(name)` instead of a local signal: the workers run in another process (`shared.roles`)."""

    def __init__(self, forward: Callable[[str], None] | None = None) -> None:
        self._signals: dict[str, Signal] = {}
        self._forward = forward

    def __getitem__(self, name: str) -> Signal:
        return self._signals.setdefault(name, Signal())

    def set(self, name: str) -> None:
        if self._forward is not None:
            self._forward(name)
        else:
            self[name].set()

    def set_all(self) -> None:
        """Wake every worker that waits on a signal here (after a missed wake-up may have been lost)."""
        for signal in self._signals.values():
            signal.set()


Step = Callable[[], Awaitable[int | None]]


async def run_worker(
    name: str,
    step: Step,
    *,
    interval: float,
    signal: Signal | None = None,
    busy: Callable[[int], bool] = lambda _done: False,
    min_backoff: float = 0.5,
    max_backoff: float = 30.0,
    after_step: Callable[[], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run `step` until cancelled, or until `stop` is set (checked between steps; whoever sets it also sets
    `signal`, so a waiting worker notices at once). See the module doc."""
    signal = signal or Signal()
    backoff = 0.0
    while stop is None or not stop.is_set():
        done = 0
        try:
            done = await step() or 0
            backoff = 0.0
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            backoff = min(max(backoff * 2, min_backoff), max_backoff)
            if on_error is not None:
                on_error(exc)
                log.warning("%s failed, retrying in %.1fs: %r", name, backoff, exc)
            elif is_transient(exc):
                log.warning("%s: transient failure, retrying in %.1fs: %r", name, backoff, exc)
            else:
                log.exception("%s failed; retrying in %.1fs", name, backoff)
        if after_step is not None:
            after_step()
        if backoff:
            await _sleep(backoff, stop)
        elif not busy(done):
            await signal.wait(interval)


async def retry_until_done(name: str, action: Callable[[], Awaitable[None]], *, max_backoff: float = 30.0) -> None:
    """Run `action` until it succeeds once (a start-up step that needs the database), backing off between
    tries like `run_worker`."""
    succeeded = False

    async def step() -> int:
        nonlocal succeeded
        await action()
        succeeded = True
        return 0

    stop = asyncio.Event()

    def stop_when_done() -> None:
        if succeeded:
            stop.set()

    await run_worker(name, step, interval=0, max_backoff=max_backoff, after_step=stop_when_done, stop=stop)


async def _sleep(seconds: float, stop: asyncio.Event | None) -> None:
    if stop is None:
        await asyncio.sleep(seconds)
        return
    await wait_at_most(stop, seconds)
