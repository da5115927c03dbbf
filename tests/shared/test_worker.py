"""The one worker loop (`shared.worker.run_worker`): a wake-up is never lost, full batches run back to back,
failures back off, `stop` ends the loop. The intervals are long (30 s) and every wait is bounded by 5 s, so
a lost wake-up fails the test instead of being hidden by the fallback poll."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from shared.worker import Signal, Signals, run_worker

LONG = 30.0  # the fallback poll: a test that needs it to pass has lost a wake-up
BOUND = 5.0


async def _until(condition: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), BOUND)


async def test_a_wake_during_a_running_step_causes_another_step() -> None:
    signal = Signal()
    steps = 0
    in_step = asyncio.Event()
    release = asyncio.Event()

    async def step() -> int:
        nonlocal steps
        steps += 1
        if steps == 1:
            in_step.set()
            await release.wait()  # the step is running when the wake-up comes
        return 1

    worker = asyncio.create_task(run_worker("w", step, interval=LONG, signal=signal))
    try:
        await asyncio.wait_for(in_step.wait(), BOUND)
        signal.set()  # e.g. a commit that made work while the step was reading
        release.set()
        await _until(lambda: steps >= 2)
    finally:
        worker.cancel()


async def test_many_wakes_during_a_step_and_between_steps_are_each_served() -> None:
    signals = Signals()
    woken = signals["assigner"]
    steps = 0
    gate = asyncio.Queue[None]()

    async def step() -> int:
        nonlocal steps
        steps += 1
        await gate.get()
        return 0

    worker = asyncio.create_task(run_worker("w", step, interval=LONG, signal=woken))
    try:
        for round_ in range(1, 20):
            await _until(lambda round_=round_: steps == round_)  # type: ignore[misc]
            for _ in range(3):
                signals.set("assigner")  # several commits while the step runs
            gate.put_nowait(None)
        await _until(lambda: steps == 20)
    finally:
        worker.cancel()


class _Steps:
    """A step that only counts its runs."""

    def __init__(self) -> None:
        self.runs = 0

    async def __call__(self) -> int:
        self.runs += 1
        return 0


async def test_a_wake_while_waiting_starts_a_step_at_once() -> None:
    signal = Signal()
    step = _Steps()
    worker = asyncio.create_task(run_worker("w", step, interval=LONG, signal=signal))
    try:
        for n in range(1, 6):
            await _until(lambda n=n: step.runs == n)  # type: ignore[misc]
            await asyncio.sleep(0.02)  # now waiting
            signal.set()
        await _until(lambda: step.runs == 6)
    finally:
        worker.cancel()


async def test_a_full_batch_runs_the_next_step_without_waiting() -> None:
    left = [200, 200, 200, 13]
    done: list[int] = []

    async def step() -> int:
        n = left.pop(0) if left else 0
        done.append(n)
        return n

    worker = asyncio.create_task(run_worker("w", step, interval=LONG, busy=lambda n: n >= 200))
    try:
        await _until(lambda: len(done) == 4)
        await asyncio.sleep(0.05)
        assert done == [200, 200, 200, 13]  # and then it waits: no fifth step without a wake-up
    finally:
        worker.cancel()


async def test_a_failing_step_is_retried_after_a_backoff_and_stop_ends_the_loop() -> None:
    tries = 0
    stop = asyncio.Event()
    signal = Signal()

    async def step() -> int:
        nonlocal tries
        tries += 1
        if tries < 3:
            raise ConnectionError("database restarting")
        return 0

    worker = asyncio.create_task(
        run_worker("w", step, interval=LONG, signal=signal, min_backoff=0.01, max_backoff=0.02, stop=stop)
    )
    await _until(lambda: tries == 3)
    stop.set()
    signal.set()
    await asyncio.wait_for(worker, BOUND)
    assert worker.exception() is None


@pytest.mark.parametrize("at_most", [0.0, 0.001])
async def test_a_signal_set_before_the_wait_is_seen_whatever_the_timeout(at_most: float) -> None:
    signal = Signal()
    signal.set()
    assert await signal.wait(at_most) is True
    assert await signal.wait(0.001) is False  # and it was consumed


async def test_a_worker_cancelled_as_its_signal_is_set_stops() -> None:
    """The service stopping cancels its workers; a wake-up in the same turn of the loop (an outcome queued, a
    NOTIFY) must not swallow the cancellation. With `asyncio.wait_for` it did on Python 3.11, and notify's
    recorder ran on, blocking the shutdown until the process was killed."""
    signal = Signal()
    step = _Steps()
    worker = asyncio.create_task(run_worker("w", step, interval=LONG, signal=signal))
    await _until(lambda: step.runs == 1)
    await asyncio.sleep(0)  # the worker is waiting on its signal
    signal.set()
    worker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(worker, BOUND)
    assert step.runs == 1


def test_signals_with_forward_send_each_wake_up_away_and_set_all_wakes_every_local_one() -> None:
    sent: list[str] = []
    remote = Signals(forward=sent.append)  # the `api` role: the workers run elsewhere (`shared.roles`)
    remote.set("dispatcher")
    remote.set("zalo")
    assert sent == ["dispatcher", "zalo"]
    assert not remote["dispatcher"]._event.is_set()

    local = Signals()
    a, b = local["a"], local["b"]
    local.set_all()  # the `workers` role after (re)connecting its LISTEN: a wake-up may have been missed
    assert a._event.is_set() and b._event.is_set()
