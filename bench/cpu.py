"""Where the CPU went during a load step: CPU seconds of every process on the machine, grouped.

Read from `/proc/<pid>/stat` (user + system time, and that of reaped children) at the step's start and
end. Groups: each service process by pid, PostgreSQL (the backends of the benchmark's own database;
other databases' backends, which on a shared machine serve other people's work, and the server's own
processes are their own groups), RabbitMQ (the Erlang VM), this benchmark process (the load generator, the SMTP
server, the Zalo stand-in and the event tap, which stand for the outside world), kernel threads by name
(loopback traffic is partly processed in `ksoftirqd`), and the rest by program name.
"""

from __future__ import annotations

import os
from collections import Counter

TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[str, float, int]]:
    """pid -> (command line, CPU seconds incl. reaped children, parent pid)."""
    out: dict[int, tuple[str, float, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        ppid = int(fields[1])
        seconds = sum(int(x) for x in fields[11:15]) / TICK  # utime stime cutime cstime
        if not cmd.strip():  # a kernel thread: name it by its comm (ksoftirqd/0, kworker/...)
            cmd = "[" + stat[stat.index("(") + 1 : stat.rindex(")")] + "]"
        out[int(entry)] = (cmd, seconds, ppid)
    return out


PG_SERVER = "PostgreSQL (server processes, all databases)"
PG_OTHERS = "PostgreSQL (other databases' backends)"


def postgres_group(cmd: str, database: str | None) -> str:
    """`postgres: 15/main: user db host(port) state` is a backend of `db`; `postgres: 15/main: walwriter` is
    the server's. Without a database to single out, every postgres process is PostgreSQL."""
    if database is None:
        return "PostgreSQL"
    parts = cmd.split(": ", 2)
    words = parts[2].split() if len(parts) == 3 else []
    if len(words) >= 3 and ("(" in words[2] or words[2] == "[local]"):
        return "PostgreSQL" if words[1] == database else PG_OTHERS
    return PG_SERVER


class CpuMeter:
    def __init__(self, services: dict[str, int], database: str | None = None) -> None:
        self.services = {pid: name for name, pid in services.items()}
        self.database = database
        self.me = os.getpid()
        self._start: dict[int, tuple[str, float, int]] = {}

    def start(self) -> None:
        self._start = _processes()

    def stop(self) -> dict[str, float]:
        """CPU seconds by group since `start` (the groups of the module doc)."""
        end = _processes()
        used: Counter[str] = Counter()
        for pid, (cmd, seconds, _ppid) in end.items():
            before = self._start.get(pid)
            delta = seconds - (before[1] if before and before[0] == cmd else 0.0)
            used[self._group(pid, cmd)] += max(delta, 0.0)
        return {k: round(v, 1) for k, v in used.most_common() if v >= 0.05}

    def _group(self, pid: int, cmd: str) -> str:
        if pid in self.services:
            return self.services[pid]
        if pid == self.me:
            return "benchmark (load, SMTP server, Zalo stand-in, tap)"
        if cmd.startswith("postgres") or os.path.basename(cmd.split(" ")[0]) == "postgres":
            return postgres_group(cmd, self.database)
        if "beam.smp" in cmd:
            return "RabbitMQ"
        if "py-spy" in cmd:
            return "py-spy"
        if cmd.startswith("["):
            return "kernel (" + cmd.strip("[]").split("/")[0] + ")"  # e.g. softirq work of loopback traffic
        return "other: " + os.path.basename(cmd.split(" ")[0])
