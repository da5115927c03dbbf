"""`python -m bench`: run every benchmark, print one table, keep the run under bench/results/.

    python -m bench                      # everything (under 15 minutes on 2 cores)
    python -m bench --only relay         # one benchmark (repeat --only for several)
    python -m bench --quick              # shorter durations and smaller data, for a smoke run
    python -m bench --write              # also put the table into BENCHMARKS.md

A benchmark that cannot run (a service not built yet, a tool missing) is reported as a failure with its
reason; the others still run.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import shlex
import sys
import time
import traceback
from datetime import datetime

from bench.options import BENCHMARKS, Options
from bench.results import new_run, save, table


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=list(BENCHMARKS), help="run only this benchmark")
    parser.add_argument("--quick", action="store_true", help="shorter durations, smaller data (smoke run)")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md with this run's table")
    parser.add_argument(
        "--duration", type=float, default=None, help="seconds per load step (default 60 for e2e, 12 for intake)"
    )
    parser.add_argument("--cases", type=int, default=None, help="cases loaded for the report benchmark")
    parser.add_argument("--rate", type=int, action="append", default=[], help="an e2e step in cases/s (repeatable)")
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE",
        help="a setting for the services of the e2e benchmark, e.g. NOTIFY_CONCURRENCY=16 (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--at", type=datetime.fromisoformat, default=None, metavar="INSTANT",
        help="run the e2e system as if at this instant, e.g. 2026-12-01T23:00+07:00 (default: a weekday morning)",
    )  # fmt: skip
    parser.add_argument(
        "--replicas", type=int, default=1, metavar="N",
        help="e2e: run N instances of every service, cases posted round robin to the N intakes (sizing run)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    if args.at is not None and args.at.tzinfo is None:
        parser.error("--at needs a UTC offset, e.g. 2026-12-01T23:00+07:00")
    return Options(
        only=tuple(args.only or BENCHMARKS),
        quick=args.quick,
        write=args.write,
        duration=args.duration,
        cases=args.cases,
        rates=tuple(args.rate),
        service_env=tuple(tuple(item.split("=", 1)) for item in args.env),  # type: ignore[misc]
        at=args.at,
        replicas=args.replicas,
    )


async def main(opts: Options, command: str) -> int:
    run = new_run(command)
    started = time.monotonic()
    for name in opts.only:
        print(f"== {name}: {BENCHMARKS[name]}", flush=True)
        t0 = time.monotonic()
        try:
            module = importlib.import_module(f"bench.{name}")
            figures = await module.run(opts)
            run.figures.extend(figures)
            for fig in figures:
                ratio = f"  ratio {fig.ratio:.2f}" if fig.ratio is not None else ""
                print(f"   {fig.name}: ours {fig.ours} ref {fig.reference} {fig.unit}{ratio}", flush=True)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            run.failures[name] = f"{type(exc).__name__}: {exc}"
            print(f"   FAILED: {run.failures[name]}", flush=True)
            traceback.print_exc()
        print(f"   ({time.monotonic() - t0:.0f} s)", flush=True)
    run.seconds = time.monotonic() - started
    path = save(run)
    print()
    print(table(run.figures))
    for name, reason in run.failures.items():
        print(f"- {name} did not run: {reason}")
    print(f"\n{run.seconds:.0f} s in all; results in {path}")
    if opts.write:
        from bench.report import write_benchmarks_md

        write_benchmarks_md(run)
        print("BENCHMARKS.md updated")
    return 1 if run.failures else 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    options = parse(sys.argv[1:])
    sys.exit(asyncio.run(main(options, "python -m bench " + shlex.join(sys.argv[1:]))))
