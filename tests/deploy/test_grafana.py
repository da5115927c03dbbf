"""deploy/grafana: the dashboards are what `scripts/grafana_dashboards.py` builds, every query parses as
PromQL (promtool), reads at least one metric and uses the provisioned data source; the provisioning files
point where docker-compose.yml mounts them."""

from __future__ import annotations

import json

import pytest
import yaml

from scripts.grafana_dashboards import dashboards, render
from tests.deploy.promql import DASHBOARDS, dashboard_expressions, metric_names
from tests.deploy.tools import REPO, run

GRAFANA = REPO / "deploy" / "grafana"


def test_committed_dashboards_are_what_the_script_builds():
    built = dashboards()
    on_disk = {p.name for p in DASHBOARDS.glob("*.json")}
    assert on_disk == set(built), "run `python -m scripts.grafana_dashboards --write`"
    for name, dashboard in built.items():
        assert (DASHBOARDS / name).read_text(encoding="utf-8") == render(dashboard), (
            f"{name} differs: run `python -m scripts.grafana_dashboards --write`"
        )


def test_an_overview_one_dashboard_per_service_and_one_for_the_club():
    uids = {json.loads(p.read_text(encoding="utf-8"))["uid"] for p in DASHBOARDS.glob("*.json")}
    services = {f"caunoi-{s}" for s in ("intake", "routing", "notify", "reporting", "web")}
    assert uids == {"caunoi-overview", "caunoi-club"} | services
    overview = json.loads((DASHBOARDS / "caunoi-overview.json").read_text(encoding="utf-8"))
    titles = " ".join(p["title"] for p in overview["panels"])
    for hop in ("Intake", "Routing", "Notify", "Latency p95 per hop", "Outbox", "Queues", "Dead-letter"):
        assert hop in titles


def test_every_query_parses_and_reads_a_metric(tmp_path):
    expressions = dashboard_expressions()
    assert len(expressions) > 50
    for where, expr in expressions.items():
        assert metric_names(expr), f"{where} reads no metric: {expr}"
    # promtool parses rule files: every query as a recording rule.
    rules = [{"record": f"dashboard:query_{i}", "expr": expr} for i, expr in enumerate(expressions.values())]
    path = tmp_path / "dashboards.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}), encoding="utf-8")
    run("promtool", "check", "rules", str(path))


def test_every_panel_uses_the_provisioned_data_source():
    datasource = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text(encoding="utf-8"))
    (source,) = datasource["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    for path in DASHBOARDS.glob("*.json"):
        for panel in json.loads(path.read_text(encoding="utf-8"))["panels"]:
            if panel["type"] == "row":
                continue
            assert panel["datasource"] == {"type": "prometheus", "uid": source["uid"]}, (path.name, panel["title"])
            assert panel["targets"], (path.name, panel["title"])


@pytest.mark.parametrize("mount", ["provisioning", "dashboards"])
def test_compose_mounts_the_provisioning_where_it_points(mount):
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    volumes = compose["services"]["grafana"]["volumes"]
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/caunoi.yml").read_text(encoding="utf-8"))
    wanted = {
        "provisioning": "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro",
        "dashboards": f"./deploy/grafana/dashboards:{provider['providers'][0]['options']['path']}:ro",
    }[mount]
    assert wanted in volumes
