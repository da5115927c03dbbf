"""`--write`: put a run's table, date, machine and command into BENCHMARKS.md.

Only the part between the `bench:begin` and `bench:end` markers is replaced; the analysis written around
it (where the time goes, what was done about it) is kept.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.results import RESULTS_DIR, Run, table

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def run_section(run: Run) -> str:
    m = run.machine
    lines = [
        BEGIN,
        f"**Last run:** {run.started_at}, `{run.command}`, {run.seconds / 60:.1f} minutes.  ",
        f"**Machine:** {m.get('cores')} cores ({m.get('cpu')}), {m.get('memory_mib')} MiB memory, "
        f"Python {m.get('python')}, PostgreSQL {m.get('postgresql')}, kernel {m.get('kernel')}.",
        "",
        table(run.figures),
        "",
    ]
    if run.failures:
        lines.append("Did not run:")
        lines += [f"- `{name}`: {reason}" for name, reason in run.failures.items()]
        lines.append("")
    hops = _hops()
    if hops:
        lines += ["Hops of a case (p50 / p95, ms), from the envelopes on the wire:", "", "| rate | hop | p50 | p95 |",
                  "|---|---|---:|---:|"]  # fmt: skip
        lines += hops
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def _hops() -> list[str]:
    path = RESULTS_DIR / "e2e-details.json"
    if not path.exists():
        return []
    out = []
    for step in json.loads(path.read_text()):
        for hop, q in step.get("hops_ms", {}).items():
            p50 = "—" if q["p50"] is None else f"{q['p50']:.0f}"
            p95 = "—" if q["p95"] is None else f"{q['p95']:.0f}"
            out.append(f"| {step['rate']}/s | {hop} | {p50} | {p95} |")
    return out


def write_benchmarks_md(run: Run) -> None:
    section = run_section(run)
    text = BENCHMARKS_MD.read_text(encoding="utf-8") if BENCHMARKS_MD.exists() else ""
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        text = head + section + tail
    else:
        text = text + ("\n\n" if text else "# Benchmarks\n\n") + section + "\n"
    BENCHMARKS_MD.write_text(text, encoding="utf-8")
