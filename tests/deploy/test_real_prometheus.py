"""A real Prometheus (Debian's `prometheus`, the same package as promtool) with the repository's scrape
configuration and rules, pointed at the four running services and the local RabbitMQ: every target is up,
every rule evaluates without error, and every dashboard query evaluates (the path of a case returns data
after cases went through)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from devtools.processes import free_port
from devtools.system import RunningSystem, running_system
from devtools.waiting import eventually
from tests.deploy.promql import DASHBOARDS, RULES

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS = REPO / "deploy" / "prometheus" / "prometheus.yml"
HOP_QUERIES = (
    "1. Intake: cases reported per second (201) and errors / A",
    "2. Routing: case.reported consumed, case.assigned published / A",
    "3. Notify: case.assigned consumed, messages sent by channel / A",
)


def local_config(system: RunningSystem) -> dict:
    """The compose configuration with each target replaced by the local process (web: when it exists)."""
    config = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(RULES / "*.rules.yml")]
    jobs = []
    for job in config["scrape_configs"]:
        name = job["job_name"]
        if name in system.services.services:
            job["static_configs"] = [{"targets": [f"127.0.0.1:{system.services[name].port}"]}]
        elif name.startswith("rabbitmq"):
            job["static_configs"] = [{"targets": ["127.0.0.1:15692"]}]
        else:
            continue  # the web service, not part of this run
        jobs.append(job)
    config["scrape_configs"] = jobs
    return config


@pytest.mark.e2e
async def test_a_real_prometheus_scrapes_everything_and_evaluates_every_rule_and_dashboard_query(base_env, tmp_path):
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed: `apt-get install -y prometheus` (.ci/run does it)", pytrace=False)
    async with running_system(base_env, tmp_path / "logs", show_logs=False) as system:
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(local_config(system)), encoding="utf-8")
        port = free_port()
        with (tmp_path / "prometheus.log").open("w") as log:
            server = subprocess.Popen(
                [
                    binary,
                    f"--config.file={tmp_path / 'prometheus.yml'}",
                    f"--storage.tsdb.path={tmp_path / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            await _check(system, f"http://127.0.0.1:{port}", tmp_path / "prometheus.log")
        finally:
            server.terminate()
            server.wait(20)


async def _check(system: RunningSystem, base: str, log: Path) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(5):
            await system.post_case(client)

        async def all_up() -> dict | None:
            try:
                response = await client.get(f"{base}/api/v1/targets")
            except httpx.HTTPError:
                return None
            if response.status_code != 200:  # "Service Unavailable" (plain text) until its storage is ready
                return None
            targets = {t["labels"]["job"]: t["health"] for t in response.json()["data"]["activeTargets"]}
            return targets if targets and set(targets.values()) == {"up"} else None

        targets = await eventually(all_up, timeout=60)
        assert set(targets) == {*system.services.services, "rabbitmq", "rabbitmq-alarms"}

        async def rules_evaluated() -> list | None:
            groups = (await client.get(f"{base}/api/v1/rules")).json()["data"]["groups"]
            rules = [r for g in groups for r in g["rules"]]
            return rules if rules and all(r.get("lastEvaluation", "").startswith("20") for r in rules) else None

        rules = await eventually(rules_evaluated, timeout=30)
        assert len(rules) == sum(
            len(g["rules"]) for p in RULES.glob("*.rules.yml") for g in yaml.safe_load(p.read_text())["groups"]
        )
        assert {r["name"]: r["health"] for r in rules if r["health"] != "ok"} == {}, log.read_text()[-3000:]

        async def hops_have_data() -> bool:
            results = await _dashboard_results(client, base)
            return all(results[f"caunoi-overview.json / {hop}"] for hop in HOP_QUERIES)

        await eventually(hops_have_data, timeout=60)


async def _dashboard_results(client: httpx.AsyncClient, base: str) -> dict[str, int]:
    """Every dashboard query evaluated now: the number of series each returns (failing on any error)."""
    results = {}
    for path in sorted(DASHBOARDS.glob("*.json")):
        for panel in json.loads(path.read_text(encoding="utf-8"))["panels"]:
            for target in panel.get("targets", []):
                answer = (await client.get(f"{base}/api/v1/query", params={"query": target["expr"]})).json()
                where = f"{path.name} / {panel['title']} / {target['refId']}"
                assert answer["status"] == "success", f"{where}: {answer}"
                results[where] = len(answer["data"]["result"])
    return results
