"""Closed-loop HTTP load on loopback: `wrk` (Debian's package) when installed, else a Python fallback.

Both send `POST` bodies that differ per request (a counter in the summary), keep `connections` requests
in flight for `duration` seconds, and report requests/s, p50/p99 latency and the count of non-2xx answers.
The Python fallback is slower than wrk (it competes with the server for the same 2 cores), so figures
from the two are not comparable; the run records which one measured.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LoadResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    tool: str


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


_LUA = """
local template = [==[%s]==]
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
%s
request = function()
  counter = counter + 1
  return wrk.format("POST", "%s", nil, string.gsub(template, "__N__", tostring(counter)))
end
"""


def _lua(path: str, body: dict, headers: dict[str, str]) -> str:
    template = json.dumps(body, ensure_ascii=False)
    header_lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    return _LUA % (template, header_lines, path)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> LoadResult:
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return LoadResult(rps, p50, p99, total, errors, "wrk")


async def run_wrk(
    base_url: str, path: str, body: dict, headers: dict[str, str], *, duration: float, connections: int
) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as script:
        script.write(_lua(path, body, headers))
    try:
        proc = await asyncio.create_subprocess_exec(
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            script.name,
            base_url,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
    finally:
        Path(script.name).unlink(missing_ok=True)  # noqa: ASYNC240 - a local temp file
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {text[-500:]}")
    return parse_wrk(text)


async def run_python(
    base_url: str, path: str, body: dict, headers: dict[str, str], *, duration: float, connections: int
) -> LoadResult:
    from bench.http import HttpError, KeepAliveClient

    template = json.dumps(body, ensure_ascii=False)
    latencies: list[float] = []
    errors = 0
    counter = 0
    deadline = time.perf_counter() + duration

    async def worker(client: KeepAliveClient) -> None:
        nonlocal errors, counter
        while time.perf_counter() < deadline:
            counter += 1
            content = template.replace("__N__", str(counter)).encode()
            t0 = time.perf_counter()
            try:
                status, _ = await client.post_json(path, content, headers)
                if status >= 300:
                    errors += 1
            except HttpError:
                errors += 1
            latencies.append((time.perf_counter() - t0) * 1000)

    client = KeepAliveClient(base_url, connections=connections, timeout=10)
    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(connections)))
        elapsed = time.perf_counter() - started
    finally:
        await client.aclose()
    q = statistics.quantiles(latencies, n=100)
    return LoadResult(len(latencies) / elapsed, q[49], q[98], len(latencies), errors, "python (bench.http)")


async def run_load(
    base_url: str, path: str, body: dict, headers: dict[str, str], *, duration: float, connections: int = 32
) -> LoadResult:
    runner = run_wrk if wrk_available() else run_python
    return await runner(base_url, path, body, headers, duration=duration, connections=connections)
