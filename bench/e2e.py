"""End-to-end latency, footprint and a profile of the slowest hop, with the four services as processes.

The system is the one the end-to-end tests run (`devtools.system.running_system`: the services started
with `python -m services.<name> serve`, seeded through their own command lines, a real SMTP server and
the Zalo stub), in a scratch database and vhost. For each steady rate (10, 50, 200 cases/s by default,
60 s each) the benchmark posts cases open-loop at that rate, then waits until every notification routing
asked for has arrived (or nothing has arrived for a while), and reports:

- latency from `201` received to the email accepted by the SMTP server and to the Zalo call received,
  p50/p95/p99 over every notification;
- cases lost (an expected email or Zalo message that never came, or a case never assigned) and
  notifications doubled (one recipient got the same case twice) — both must be 0;
- the hops of each case, from the envelopes on the wire (`case.reported` → `case.assigned` → email),
  to find the slowest one at 50/s; after the measured steps, 20 s more at 50/s with py-spy attached to
  every service (so sampling slows no measured step), and the profile of the slowest hop's service;
- resident memory of each service idle and at the end of the 50/s step.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import io
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from typing import Any

from bench import profile
from bench.backlog import BacklogProbe
from bench.counts import Counts, lines
from bench.cpu import CpuMeter
from bench.http import HttpError, KeepAliveClient
from bench.options import Options
from bench.procs import LOG_DIR, BareIntake, rss_mib
from bench.results import RESULTS_DIR, Figure
from bench.vacuum import Vacuum
from devtools.infra import migrate, scratch
from shared.settings import ServiceSettings

RATES = (10, 50)
MAX_IN_FLIGHT = 300  # POSTs awaiting an answer; beyond it the step's next POSTs are not sent (counted)
CONNECTIONS = 64  # keep-alive connections of the load generator; further POSTs in flight wait for one
POST_GRACE = 20.0  # seconds after the step's end a POST may still take before it counts as refused
# After a step, wait until every expected notification arrived. A notification still missing when nothing
# at all arrived for QUIET seconds is lost; the wait ends at CAP seconds even while notifications still
# arrive (a backlog, not a loss: the figure then says how many were still on their way).
QUIET, CAP = 20.0, 420.0
PROFILE_SECONDS = 20.0  # an extra, unmeasured load at the footprint rate while py-spy samples every service
FOOTPRINT_RATE = 50
STEADY_S = 2.0  # a step is held in steady state when its last notification arrives this soon after its last POST
# After the measured steps, rates tried for STEP_SECONDS each, upwards until one is not held in steady state (or,
# when 50/s is not held, downwards until one is): the highest rate held is reported, and on each stepping row the
# stage where the backlog built up.
STEPPING = (75, 100, 125, 150, 200)
STEPPING_DOWN = (40, 30, 25, 20, 15, 10)  # when the last measured rate (50/s) is not held
STEP_SECONDS = 20.0
# The tap records only what the benchmark reads (who was assigned, and the hops' timestamps): each event copied to
# it is a delivery the broker makes for the observer, which the CPU per case would count as the system's.
TAP_TYPES = ("case.reported", "case.assigned")


class TimedList(list):
    """Stands in for `ZaloStub.messages`: remembers when each item arrived (monotonic clock of this process,
    the same clock the POSTs are timed with; `SmtpSink.messages` keeps its own `times`)."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def append(self, item: Any) -> None:
        self.times.append(time.monotonic())
        super().append(item)


@dataclass
class Step:
    rate: int
    seconds: float
    accepted: dict[str, float] = field(default_factory=dict)  # code -> wall time the 201 came back
    sent: dict[str, float] = field(default_factory=dict)  # code -> wall time the POST was sent
    case_ids: dict[str, str] = field(default_factory=dict)  # case id -> code
    refused: int = 0
    refusals: dict[str, int] = field(default_factory=dict)  # HTTP status or error -> count
    not_sent: int = 0
    in_flight: set[int] = field(default_factory=set)
    rss_max: dict[str, float] = field(default_factory=dict)


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


def _processes(system: Any, replicas: list[Any]) -> dict[str, Any]:
    """Every service process of the run by name: `intake`, … for the first group, `intake-2`, … for the
    replicas started beside it (`--replicas`)."""
    procs = dict(system.services.services)
    for k, group in enumerate(replicas, start=2):
        procs.update({f"{name}-{k}": proc for name, proc in group.services.items()})
    return procs


async def _post_steadily(system: Any, clients: list[KeepAliveClient], step: Step) -> None:
    from devtools.system import CATEGORY, REPORTER_UNIT

    loop = asyncio.get_running_loop()
    total = int(step.rate * step.seconds)
    body = {"unit": REPORTER_UNIT, "category": CATEGORY, "urgency": "high"}

    async def one(i: int) -> None:
        if len(step.in_flight) >= MAX_IN_FLIGHT:
            step.not_sent += 1  # the system is saturated: do not queue without bound
            return
        sent = time.monotonic()
        step.in_flight.add(i)
        content = json.dumps(
            {**body, "summary": f"Trẻ bị đánh nhiều lần, báo tin số {i} (đo hiệu năng)."}, ensure_ascii=False
        ).encode()
        try:
            client = clients[i % len(clients)]  # round robin over the intakes (one unless --replicas)
            status, answer = await client.post_json("/v1/cases", content, system.reporter)
        except HttpError as exc:
            step.refused += 1
            kind = str(exc).split(":")[0]
            step.refusals[kind] = step.refusals.get(kind, 0) + 1
            return
        finally:
            step.in_flight.discard(i)
        if status != 201:
            step.refused += 1
            step.refusals[str(status)] = step.refusals.get(str(status), 0) + 1
            return
        created = json.loads(answer)
        step.accepted[created["code"]] = time.monotonic()
        step.sent[created["code"]] = sent
        step.case_ids[str(created["id"])] = created["code"]

    tasks = []
    start = loop.time()
    for i in range(total):
        delay = start + i / step.rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    _done, pending = await asyncio.wait(tasks, timeout=max(1.0, start + step.seconds + POST_GRACE - loop.time()))
    for task in pending:  # still unanswered well after the step: count them refused
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    step.refused += len(pending)


async def _sample_rss(procs: dict[str, Any], step: Step, stop: asyncio.Event) -> None:
    while not stop.is_set():
        for name, proc in procs.items():
            if proc.process is not None and proc.running:
                with contextlib.suppress(OSError, RuntimeError):
                    step.rss_max[name] = max(step.rss_max.get(name, 0.0), rss_mib(proc.process.pid))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


class Deliveries:
    """Emails and Zalo messages seen so far, by (recipient, code), with their arrival times."""

    def __init__(self, system: Any) -> None:
        self.system = system
        self.email: dict[tuple[str, str], list[float]] = {}
        self.zalo: dict[tuple[str, str], list[float]] = {}
        self._email_seen = 0
        self._zalo_seen = 0

    def refresh(self) -> int:
        from devtools.system import CODE_PATTERN

        messages = self.system.smtp.messages  # devtools.mailsink.Received: raw bytes, arrival times
        n = len(messages)
        for i in range(self._email_seen, n):
            text, recipients = _codes_text(messages.raw[i])
            for code in set(CODE_PATTERN.findall(text)):
                for rcpt in recipients:
                    self.email.setdefault((rcpt, code), []).append(messages.times[i])
        self._email_seen = n
        zalo = self.system.zalo.messages
        nz = len(zalo)
        for i in range(self._zalo_seen, nz):
            m, at = zalo[i], zalo.times[i]
            for code in set(CODE_PATTERN.findall(str(m.get("text", "")))):
                self.zalo.setdefault((m["user_id"], code), []).append(at)
        self._zalo_seen = nz
        return n + nz


_HEADERS = BytesHeaderParser()  # the legacy (compat32) policy: the modern one costs a few milliseconds a message


def _codes_text(raw: bytes) -> tuple[str, list[str]]:
    """The text to look for case codes in, and the To/Cc addresses of a raw email: the decoded subject when it
    holds a code (every case notification's does), else the subject and the decoded text parts. Parsing the
    headers alone costs ~0.2 ms a message against ~0.55 for the whole multipart message (its boundary is a
    regular expression compiled anew for every message): CPU taken from the system under test."""
    from devtools.system import CODE_PATTERN

    head = _HEADERS.parsebytes(raw)
    subject = str(make_header(decode_header(head.get("Subject", ""))))
    recipients = [a.lower() for _, a in getaddresses(head.get_all("To", []) + head.get_all("Cc", []))]
    if CODE_PATTERN.search(subject):
        return subject, recipients
    parts = [subject]
    for part in email.message_from_bytes(raw).walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                parts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(parts), recipients


def _expected(system: Any, codes: set[str]) -> tuple[set[tuple[str, str]], set[tuple[str, str]], set[str]]:
    from devtools.tap import email_recipients, zalo_recipients

    emails: set[tuple[str, str]] = set()
    zalos: set[tuple[str, str]] = set()
    assigned = set()
    for code, envelopes in system.tap.assigned_by_case().items():
        if code not in codes:
            continue
        assigned.add(code)
        for env in envelopes:
            emails.update((r, code) for r in email_recipients(env))
            zalos.update((u, code) for u in zalo_recipients(env))
    return emails, zalos, assigned


@dataclass
class Wait:
    seconds: float  # from the step's end until every notification arrived (or the wait ended)
    complete: bool  # every expected notification arrived
    stalled: bool  # nothing arrived for QUIET s while some were missing: those are lost


async def _wait_delivered(system: Any, deliveries: Deliveries, step: Step, *, quiet: float, cap: float) -> Wait:
    """Wait until every expected notification of the step arrived, nothing arrived for `quiet` s, or `cap` s."""
    codes = set(step.accepted)
    started = time.monotonic()
    last_progress, last_count = time.monotonic(), -1
    while time.monotonic() - started < cap:
        count = deliveries.refresh()
        emails, zalos, assigned = _expected(system, codes)
        done = assigned == codes and emails <= deliveries.email.keys() and zalos <= deliveries.zalo.keys()
        if done:
            # From the arrival times the stand-ins recorded, not from when this loop noticed: the emails are
            # parsed here, after the step (not to take CPU from the system under test), and parsing a 60 s step's
            # 9,000 took 2-3 s, which this figure used to count as backlog.
            last = max(
                [deliveries.email[key][0] for key in emails] + [deliveries.zalo[key][0] for key in zalos],
                default=started,
            )
            finished = max(last - max(step.accepted.values(), default=started), 0.0)  # after the last POST
            _say(f"   last notification {finished:.2f} s after the last POST (all seen here after "
                 f"{time.monotonic() - started:.1f} s)")  # fmt: skip
            await asyncio.sleep(2)  # late duplicates, if any, have a chance to show
            deliveries.refresh()
            return Wait(finished, True, False)
        if count != last_count:
            last_progress, last_count = time.monotonic(), count
        elif time.monotonic() - last_progress > quiet:
            return Wait(time.monotonic() - started, False, True)
        await asyncio.sleep(0.5)
    return Wait(time.monotonic() - started, False, False)


def _step_figures(system: Any, deliveries: Deliveries, step: Step, waited: Wait) -> tuple[list[Figure], dict]:
    codes = set(step.accepted)
    emails, zalos, assigned = _expected(system, codes)
    email_lat = [
        (t - step.accepted[code]) * 1000
        for (rcpt, code), times in deliveries.email.items()
        if code in codes
        for t in times[:1]
    ]
    zalo_lat = [
        (t - step.accepted[code]) * 1000
        for (user, code), times in deliveries.zalo.items()
        if code in codes
        for t in times[:1]
    ]
    first_by_case: dict[str, float] = {}
    all_by_case: dict[str, float] = {}
    for (_rcpt, code), times in deliveries.email.items():
        if code in codes:
            first_by_case[code] = min(first_by_case.get(code, times[0]), times[0])
            all_by_case[code] = max(all_by_case.get(code, times[0]), times[0])
    first_lat = [(t - step.accepted[code]) * 1000 for code, t in first_by_case.items()]
    all_lat = [(t - step.accepted[code]) * 1000 for code, t in all_by_case.items()]
    missing = (emails - deliveries.email.keys()) | (zalos - deliveries.zalo.keys())
    lost_cases = (codes - assigned) | {code for _, code in missing}
    doubled = sum(len(t) - 1 for (_, c), t in deliveries.email.items() if c in codes and len(t) > 1) + sum(
        len(t) - 1 for (_, c), t in deliveries.zalo.items() if c in codes and len(t) > 1
    )
    n = len(codes)
    note = f"{step.rate}/s × {step.seconds:.0f} s, {n} cases"
    figs = []
    for channel, lat in (("email", email_lat), ("Zalo", zalo_lat)):
        for q in (50, 95, 99):
            figs.append(
                Figure("e2e", f"e2e {step.rate}/s to {channel} p{q}", "ms", pct(lat, q), note=note if q == 50 else "")
            )
    targets = {10: (60.0, None), 50: (500.0, 1000.0)}.get(step.rate, (None, None))
    for label, lat, target in (("first email", first_lat, targets[0]), ("all members' email", all_lat, targets[1])):
        figs.append(
            Figure("e2e", f"e2e {step.rate}/s {label} p99 (per case)", "ms", pct(lat, 99), target,
                   "target (issue 17)" if target else "", note=f"p50 {pct(lat, 50) or 0:.0f} ms")
        )  # fmt: skip
    if waited.complete:
        lost_note = ""
    elif waited.stalled:
        lost_note = f"not notified; nothing arrived for {QUIET:.0f} s"
    else:
        lost_note = f"still arriving when the wait ended ({waited.seconds:.0f} s): a backlog, not proven lost"
    figs.append(
        Figure("e2e", f"e2e {step.rate}/s accepted", "cases/s", len(codes) / step.seconds,
               note=f"offered {step.rate}/s; the rest refused or not sent (below)")
    )  # fmt: skip
    figs.append(
        Figure("e2e", f"e2e {step.rate}/s backlog drained", "s", waited.seconds, STEADY_S,
               f"steady state: ≤ {STEADY_S:.0f} s",
               note="after the step's last POST, until the last notification arrived" if waited.complete else lost_note)
    )  # fmt: skip
    figs.append(Figure("e2e", f"e2e {step.rate}/s cases lost", "cases", float(len(lost_cases)), note=lost_note))
    figs.append(Figure("e2e", f"e2e {step.rate}/s notifications doubled", "msgs", float(doubled)))
    figs.append(
        Figure("e2e", f"e2e {step.rate}/s POSTs refused or not sent", "requests", float(step.refused + step.not_sent),
               note=f"{step.not_sent} not sent: {MAX_IN_FLIGHT} already waiting" if step.not_sent else "")
    )  # fmt: skip
    detail = {
        "rate": step.rate,
        "cases": n,
        "emails_expected": len(emails),
        "zalo_expected": len(zalos),
        "lost_cases": sorted(lost_cases)[:20],
        "doubled": doubled,
        "refusals": step.refusals,
        "waited_s": round(waited.seconds, 1),
        "complete": waited.complete,
        "stalled": waited.stalled,
        "hops_ms": _hops(system, step, deliveries),
        "rss_max_mib": step.rss_max,
    }
    return figs, detail


def _hops(system: Any, step: Step, deliveries: Deliveries) -> dict[str, dict[str, float | None]]:
    """Median and p95 of each hop of a case's journey, from client clocks and envelope timestamps."""
    # Envelopes carry the services' clock times (the real time shifted to the instant the system lives at);
    # shift them onto this process's monotonic clock.
    shift = time.monotonic() - system.clock.now().timestamp()
    reported = {e.payload.get("code"): e.occurred_at.timestamp() + shift for e in system.tap.of_type("case.reported")}
    assigned = {e.payload.get("code"): e.occurred_at.timestamp() + shift for e in system.tap.of_type("case.assigned")}
    first_email: dict[str, float] = {}
    for (_, code), times in deliveries.email.items():
        first_email[code] = min(first_email.get(code, times[0]), times[0])
    hops: dict[str, list[float]] = {
        "POST (intake, client-timed)": [],
        "case.reported -> case.assigned": [],
        "case.assigned -> first email": [],
    }
    for code, accepted in step.accepted.items():
        hops["POST (intake, client-timed)"].append((accepted - step.sent[code]) * 1000)
        if code in reported and code in assigned:
            hops["case.reported -> case.assigned"].append((assigned[code] - reported[code]) * 1000)
        if code in assigned and code in first_email:
            hops["case.assigned -> first email"].append((first_email[code] - assigned[code]) * 1000)
    return {name: {"p50": pct(v, 50), "p95": pct(v, 95)} for name, v in hops.items()}


def _say(text: str) -> None:
    """Progress on the real stdout (the harness's own output is swallowed while the system runs)."""
    print(text, file=sys.__stdout__, flush=True)


SYSTEM_GROUPS = ("intake", "routing", "notify", "reporting", "web", "PostgreSQL", "RabbitMQ")


def cpu_per_case_figures(rate: int, cpu: dict[str, float], cases: int) -> list[Figure]:
    """Milliseconds of CPU per accepted case, per process group, from the step's start to its last
    notification; the total counts the services, PostgreSQL's backends of this run's database and RabbitMQ
    (not the load generator, the SMTP and Zalo stand-ins, nor other databases' backends). The server's own
    processes (WAL writer, checkpointer) serve every database on the machine: shown, not in the total."""
    if not cases:
        return []
    per_case = {group: 1000 * seconds / cases for group, seconds in cpu.items()}
    total = sum(ms for group, ms in per_case.items() if group.split("-")[0] in SYSTEM_GROUPS)  # replicas: intake-2
    figs = [
        Figure("cpu", f"CPU per case at {rate}/s: system total", "ms", total, 25.0,
               "target (issue 17)", note=f"{cases} cases; services + PostgreSQL (this database) + RabbitMQ")
    ]  # fmt: skip
    for group, ms in sorted(per_case.items(), key=lambda kv: -kv[1]):
        if ms >= 0.1:
            figs.append(Figure("cpu", f"CPU per case at {rate}/s: {group}", "ms", ms))
    return figs


async def _members_take_everything_at_once(dsn: str) -> None:
    """The demo club's members take every case (their usual capacity is 5 open cases) and keep no quiet
    hours, so every case of the run is assigned and notified at once, whatever the hour: the benchmark
    measures the pipeline, not the club's workload rule or its members' nights."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("UPDATE routing.members SET capacity = 1000000, quiet_start = NULL, quiet_end = NULL")
    finally:
        await conn.close()


async def _profile_step(system: Any, clients: list[KeepAliveClient], deliveries: Deliveries, measured: dict) -> dict:
    """The same load again for PROFILE_SECONDS with py-spy attached to every service (after the measured
    steps, so the sampling does not slow them). Returns the profile of the service behind the slowest hop
    of the measured step, and where the others' profiles are."""
    hops = {k: v["p50"] or 0 for k, v in measured["hops_ms"].items()}
    slowest = max(hops, key=lambda k: hops[k])
    step = Step(measured["rate"], PROFILE_SECONDS)
    recorders = {
        name: asyncio.create_task(profile.record(name, proc.process.pid, PROFILE_SECONDS, f"{step.rate}/s load"))
        for name, proc in system.services.services.items()
    }
    await _post_steadily(system, clients, step)
    profiles = {name: await task for name, task in recorders.items()}
    await _wait_delivered(system, deliveries, step, quiet=QUIET, cap=CAP)
    service = SERVICE_OF_HOP[slowest]
    top = profiles[service].get("project_inclusive_pct", [])[:6]
    _say(
        f"   slowest hop at {step.rate}/s: {slowest} ({service}); its profile: "
        + ", ".join(f"{frame} {share}%" for frame, share in top)
    )
    return {
        "slowest_hop": slowest,
        "profile": profiles[service],
        "other_profiles": {n: p.get("file") for n, p in profiles.items() if n != service},
    }


SERVICE_OF_HOP = {
    "POST (intake, client-timed)": "intake",
    "case.reported -> case.assigned": "routing",
    "case.assigned -> first email": "notify",
}


async def run(opts: Options) -> list[Figure]:
    from devtools.system import DAYTIME, running_system

    seconds = opts.seconds(full=60, quick=10)
    rates = opts.rates or RATES
    figures: list[Figure] = []
    details: list[dict] = []
    async with scratch("e2e") as res:
        await migrate(res.database_url)
        base_env = {
            "DATABASE_URL": res.database_url,
            "RABBITMQ_URL": res.amqp_url,
            "BROKER_NAMESPACE": "bench",
            # The relays' fallback poll at its deployed default (the test harness polls every 0.5 s): each empty poll
            # is a transaction per relay, which the CPU per case would count.
            "OUTBOX_POLL_INTERVAL": str(ServiceSettings.model_fields["outbox_poll_interval"].default),
            **dict(opts.service_env),
        }
        from devtools.processes import ServiceGroup, free_port

        bare = BareIntake(res.pg_dsn, free_port())
        await bare.start()
        quiet_output = io.StringIO()
        try:
            async with contextlib.AsyncExitStack() as stack:
                stack.enter_context(contextlib.redirect_stdout(quiet_output))  # the harness prints logs on exit
                system = await stack.enter_async_context(
                    running_system(base_env, LOG_DIR / "e2e", at=opts.at or DAYTIME, tap_types=TAP_TYPES)
                )
                system.zalo.messages = TimedList()
                await _members_take_everything_at_once(res.pg_dsn)
                replicas = [ServiceGroup(system.env, LOG_DIR / f"e2e-replica-{k}") for k in range(2, opts.replicas + 1)]
                for group in replicas:  # stopped before the system (the stack unwinds in reverse)
                    stack.push_async_callback(asyncio.to_thread, group.stop)
                    await group.start()
                procs = _processes(system, replicas)
                await asyncio.sleep(3)
                idle = {n: rss_mib(p.process.pid) for n, p in procs.items()}
                bare_idle = rss_mib(bare.process.pid)  # type: ignore[union-attr]
                deliveries = Deliveries(system)

                intakes = [system.url("intake")] + [group.url("intake") for group in replicas]
                clients = [KeepAliveClient(url, connections=CONNECTIONS // len(intakes)) for url in intakes]
                try:
                    schedule = [(rate, seconds, False) for rate in rates]
                    may_step = not opts.rates and not opts.quick
                    stepping_seconds = min(STEP_SECONDS, opts.duration or STEP_SECONDS)
                    upwards = True
                    held: int | None = None
                    for index, (rate, step_seconds, stepping) in enumerate(schedule):  # stepping extends it
                        step = Step(rate, step_seconds)
                        stop = asyncio.Event()
                        sampler = asyncio.create_task(_sample_rss(procs, step, stop))
                        meter = CpuMeter({n: p.process.pid for n, p in procs.items()}, database=res.database)
                        counts = Counts(res.pg_dsn)
                        await counts.start()
                        meter.start()
                        vacuum = Vacuum(res.pg_dsn)
                        if await vacuum.start() and index == 0:
                            _say("   autovacuum is off on this PostgreSQL: the benchmark vacuums its database every "
                                 f"{vacuum.every:.0f} s during the steps (bench/vacuum.py)")  # fmt: skip
                        probe = BacklogProbe(res.pg_dsn, res.amqp_url, "bench")
                        probe.start()
                        await _post_steadily(system, clients, step)
                        stop.set()
                        await sampler
                        waited = await _wait_delivered(system, deliveries, step, quiet=QUIET, cap=CAP)
                        await vacuum.stop()
                        cpu = meter.stop()
                        figs, detail = _step_figures(system, deliveries, step, waited)
                        steady = waited.complete and waited.seconds <= STEADY_S
                        detail["steady"] = steady
                        if not stepping:
                            figures.extend(figs)
                        detail["cpu_seconds"] = cpu
                        detail["counts"] = await counts.stop(len(step.accepted))
                        published = detail["counts"].get("rabbitmq", {}).get("published")
                        if published and not stepping:
                            figures.append(
                                Figure("e2e", f"e2e {rate}/s events published per case", "events/case", published,
                                       note="the broker's count, the whole node")
                            )  # fmt: skip
                        for line in lines(detail["counts"]):
                            _say(line)
                        detail["backlog"] = await probe.stop()
                        detail["backlog_peaks"] = probe.peaks()
                        _say(f"   {rate}/s backlog peaks: {detail['backlog_peaks']}")
                        if not stepping:
                            figures.extend(cpu_per_case_figures(rate, cpu, len(step.accepted)))
                        if rate == FOOTPRINT_RATE:
                            total = sum(cpu.values()) or 1.0
                            figures.extend(
                                Figure("cpu", f"CPU share at {rate}/s: {group}", "%", 100 * sec / total,
                                       note=f"{sec:.0f} CPU-s of {total:.0f}, step and drain" if i == 0 else "")
                                for i, (group, sec) in enumerate(cpu.items())
                                if 100 * sec / total >= 1
                            )  # fmt: skip
                        details.append(detail)
                        if steady:
                            held = max(held or 0, rate)
                        if may_step and index == len(rates) - 1:
                            # From the last measured rate: up while held, or down until held.
                            upwards = steady
                            ladder = STEPPING if steady else STEPPING_DOWN
                            schedule += [(r, stepping_seconds, True) for r in ladder]
                        if stepping:
                            peaks = detail["backlog_peaks"]
                            stage = max(peaks, key=lambda k: peaks[k]) if peaks else "?"
                            first = next(f for f in figs if "first email p99" in f.name)
                            figures.append(
                                Figure("e2e", f"e2e stepping {rate}/s × {step_seconds:.0f} s: drained after", "s",
                                       waited.seconds, STEADY_S, f"steady state: ≤ {STEADY_S:.0f} s",
                                       note=f"first email p99 {first.ours or 0:.0f} ms; largest backlog: {stage} "
                                       f"({peaks.get(stage, 0)})")
                            )  # fmt: skip
                            if steady != upwards:
                                break  # upwards: the first rate not held; downwards: the first held
                        arrived = "all" if waited.complete else f"NOT all ({len(detail['lost_cases'])}+ cases missing)"
                        _say(
                            f"   {rate}/s: {len(step.accepted)} accepted, {detail['emails_expected']} emails and "
                            f"{detail['zalo_expected']} Zalo messages expected, {arrived} in {waited.seconds:.0f} s "
                            "after the step; hops "
                            + ", ".join(f"{k} p50 {v['p50'] or 0:.0f} ms" for k, v in detail["hops_ms"].items())
                        )
                        if rate == FOOTPRINT_RATE:
                            for name in idle:
                                figures.append(
                                    Figure(
                                        "footprint",
                                        f"RSS {name} at {rate}/s (max)",
                                        "MiB",
                                        step.rss_max.get(name),
                                        bare_idle,
                                        "bare FastAPI process, idle",
                                    )
                                )
                    if any(stepping for *_, stepping in schedule):
                        figures.append(
                            Figure("e2e", "highest rate held in steady state (stepping)", "cases/s", held, 200.0,
                                   "target (issue 17)", note="the next step's largest backlog is the next bottleneck")
                        )  # fmt: skip
                    footprint_step = next((d for d in details if d["rate"] == FOOTPRINT_RATE), None)
                    if footprint_step is not None:
                        footprint_step.update(await _profile_step(system, clients, deliveries, footprint_step))
                finally:
                    for client in clients:
                        await client.aclose()
                for name, mib in idle.items():
                    figures.insert(
                        0, Figure("footprint", f"RSS {name} idle", "MiB", mib, bare_idle, "bare FastAPI process, idle")
                    )
        finally:
            bare.stop()
    if opts.service_env:  # a tuning experiment: say so on every figure it produced
        settings = " ".join(f"{k}={v}" for k, v in opts.service_env)
        for fig in figures:
            fig.note = f"{fig.note}; {settings}" if fig.note else settings
    (RESULTS_DIR / "e2e-details.json").write_text(json.dumps(details, indent=2, default=str))
    return figures
