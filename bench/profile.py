"""Sampling profiles of a running service with py-spy (attaches to the process; nothing to change in it).

`record()` writes the collapsed stacks (`<name>.folded`, loadable in speedscope or flamegraph.pl) under
bench/results/profiles/ and returns a summary: the functions holding the most samples, by self time and
by inclusive time, restricted to the project's and the libraries' frames that say where the time goes.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections import Counter
from pathlib import Path

from bench.results import RESULTS_DIR

PROFILES = RESULTS_DIR / "profiles"


def py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


def summarise(folded: str, top: int = 12) -> dict:
    """Self and inclusive shares of the busiest frames, from py-spy's collapsed output."""
    self_counts: Counter[str] = Counter()
    incl_counts: Counter[str] = Counter()
    project_counts: Counter[str] = Counter()
    total = 0
    for line in folded.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        raw = stack.split(";")
        frames = [_short(f) for f in raw]
        self_counts[frames[-1]] += n
        for frame in set(frames):
            incl_counts[frame] += n
        for frame in {_short(f) for f in raw if _project(f)}:
            project_counts[frame] += n
    if not total:
        return {"samples": 0}

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(frame, round(100 * n / total, 1)) for frame, n in counter.most_common(top)]

    inclusive = [
        (f, s) for f, s in share(Counter({k: v for k, v in incl_counts.items() if _interesting(k)})) if s < 99.5
    ]
    return {
        "samples": total,
        "self_pct": share(self_counts),
        "project_inclusive_pct": share(project_counts),
        "inclusive_pct": inclusive,
    }


def _project(frame: str) -> bool:
    """A frame of the project's own code (services/, shared/), not of a library."""
    where = frame.partition(" (")[2]
    if frame.startswith("<module>") or "site-packages" in where or "cli.py" in where:
        return False
    return "services/" in where or "shared/" in where


def _short(frame: str) -> str:
    """`func (path/to/module.py:12)` -> `func (module.py)`."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(path).parts
    tail = "/".join(parts[-2:]) if parts else path
    return f"{name} ({tail})"


def _interesting(frame: str) -> bool:
    return not any(s in frame for s in ("asyncio/", "uvloop", "<module>", "runpy", "run (", "_run_once"))


async def record(service: str, pid: int, seconds: float, why: str = "") -> dict:
    """Profile `pid` for `seconds`; returns the summary (with the path of the collapsed stacks)."""
    exe = py_spy()
    if exe is None:
        return {"error": "py-spy not installed (pip install py-spy)"}
    PROFILES.mkdir(parents=True, exist_ok=True)
    out = PROFILES / f"{service}.folded"
    proc = await asyncio.create_subprocess_exec(
        exe,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        "100",
        "--format",
        "raw",
        "--output",
        str(out),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    log, _ = await proc.communicate()
    if proc.returncode != 0 or not out.exists():
        return {"error": f"py-spy failed: {log.decode(errors='replace')[-300:]}"}
    summary = summarise(out.read_text())
    return {
        "service": service,
        "why": why,
        "seconds": seconds,
        "file": str(out.relative_to(RESULTS_DIR.parent.parent)),
        **summary,
    }
