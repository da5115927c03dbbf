"""The reports benchmark times ours and the reference in turns, so that a busy moment falls on both."""

from __future__ import annotations

from bench.reports import _time


async def test_ours_and_the_reference_take_turns_after_one_warm_up_each():
    calls: list[str] = []

    def recorder(name: str):
        async def run() -> None:
            calls.append(name)

        return run

    ours, reference = await _time((recorder("ours"), recorder("reference")), 3)
    assert calls == ["ours", "reference"] + ["ours", "reference"] * 3
    assert len(ours) == len(reference) == 3 and all(t >= 0 for t in ours + reference)
