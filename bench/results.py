"""Figures, the table they print as, and where a run's results are kept."""

from __future__ import annotations

import json
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Figure:
    """One measured figure and its bare reference from the same run (None when there is none)."""

    benchmark: str
    name: str
    unit: str
    ours: float | None
    reference: float | None = None
    reference_name: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.reference:
            return None
        return self.ours / self.reference


@dataclass
class Run:
    started_at: str
    command: str
    machine: dict[str, str]
    figures: list[Figure] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> str:
        data = asdict(self)
        for fig, raw in zip(self.figures, data["figures"], strict=True):
            raw["ratio"] = fig.ratio
        return json.dumps(data, indent=2, ensure_ascii=False)


def machine() -> dict[str, str]:
    """Cores and memory, as `nproc` and `free` say, plus the versions that matter."""

    def out(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    mem = out("free", "-m").splitlines()
    total = mem[1].split()[1] if len(mem) > 1 else "?"
    return {
        "cores": out("nproc"),
        "memory_mib": total,
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "postgresql": _after(out("psql", "--version"), "(PostgreSQL)"),
    }


def _after(text: str, marker: str) -> str:
    """The word after `marker` in `text` (`psql (PostgreSQL) 15.2 (Debian ...)` -> `15.2`), or `?`."""
    words = text.split()
    return words[words.index(marker) + 1] if marker in words[:-1] else "?"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def new_run(command: str) -> Run:
    return Run(started_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), command=command, machine=machine())


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(figures: list[Figure]) -> str:
    """A Markdown table: figure, ours, bare reference, ratio (ours / reference)."""
    lines = [
        "| figure | unit | ours | bare reference | ratio | reference is |",
        "|---|---|---:|---:|---:|---|",
    ]
    for f in figures:
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else "—"
        name = f"{f.name} ({f.note})" if f.note else f.name
        lines.append(f"| {name} | {f.unit} | {_num(f.ours)} | {_num(f.reference)} | {ratio} | {f.reference_name} |")
    return "\n".join(lines)


def save(run: Run) -> Path:
    """Write the run as JSON and as Markdown under bench/results/ (git-ignored); return the JSON path."""
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"run-{stamp}.json"
    path.write_text(run.to_json(), encoding="utf-8")
    (RESULTS_DIR / "latest.json").write_text(run.to_json(), encoding="utf-8")
    (RESULTS_DIR / "latest.md").write_text(table(run.figures) + "\n", encoding="utf-8")
    return path
