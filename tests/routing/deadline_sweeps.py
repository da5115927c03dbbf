"""Waiting for timer sweeps: a test that checks "nothing (more) fired" first lets every replica sweep."""

from __future__ import annotations

from devtools.waiting import eventually


async def sweeps_pass(*apps) -> None:
    """Wait until every replica has swept its timers at least twice more (so any duplicate would show)."""
    marks = [app.state.runtime.extras.get("timer_sweeps", 0) for app in apps]

    async def done() -> bool:
        return all(
            app.state.runtime.extras.get("timer_sweeps", 0) >= mark + 2 for app, mark in zip(apps, marks, strict=True)
        )

    await eventually(done)
