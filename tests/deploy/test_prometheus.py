"""deploy/prometheus: the scrape configurations and alert rules are valid (`promtool check`), every alert
has unit tests that see it fire and stay quiet (`promtool test rules`), a severity, and a runbook section
of its own name in docs/operations.md that its `runbook_url` points at."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.deploy.tools import REPO, run

PROMETHEUS = REPO / "deploy" / "prometheus"
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.rules.yml"))
UNIT_TESTS = PROMETHEUS / "tests" / "alerts.test.yml"
SERVICES = {"intake": 8001, "routing": 8002, "notify": 8003, "reporting": 8004, "web": 8005}


def alerts() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    assert rule["alert"] not in found, f"alert {rule['alert']} defined twice"
                    found[rule["alert"]] = rule
    return found


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus-kubernetes.yml"])
def test_scrape_configuration_is_valid(config):
    run("promtool", "check", "config", "--syntax-only", config, cwd=PROMETHEUS)


def test_compose_scrape_configuration_scrapes_the_five_services_and_rabbitmq():
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for service, port in SERVICES.items():
        assert jobs[service]["static_configs"][0]["targets"] == [f"{service}:{port}"]
    assert jobs["rabbitmq"]["static_configs"][0]["targets"] == ["rabbitmq:15692"]
    assert jobs["rabbitmq"]["metrics_path"] == "/metrics/per-object"  # a series per queue
    alarms = jobs["rabbitmq-alarms"]  # only the aggregated endpoint serves the alarms: those alone
    assert alarms["static_configs"][0]["targets"] == ["rabbitmq:15692"] and "metrics_path" not in alarms
    assert alarms["metric_relabel_configs"] == [
        {"source_labels": ["__name__"], "regex": "rabbitmq_alarms_.*", "action": "keep"}
    ]
    assert config["rule_files"] == ["/etc/prometheus/rules/*.rules.yml"]


def test_rules_are_valid():
    assert RULE_FILES
    run("promtool", "check", "rules", *(str(p) for p in RULE_FILES))


def test_every_alert_fires_and_stays_quiet_in_promtool_unit_tests():
    run("promtool", "test", "rules", str(UNIT_TESTS), cwd=UNIT_TESTS.parent)
    spec = yaml.safe_load(UNIT_TESTS.read_text(encoding="utf-8"))
    assert sorted(spec["rule_files"]) == sorted(f"../rules/{p.name}" for p in RULE_FILES)
    fired, quiet = set(), set()
    for case in spec["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = set(alerts())
    assert names - fired == set(), "alerts never seen firing"
    assert names - quiet == set(), "alerts never seen quiet"
    assert (fired | quiet) - names == set(), "tests of alerts that do not exist"


def test_the_issue_s_alerts_exist():
    names = set(alerts())
    wanted = {
        "CaunoiServiceDown",
        "CaunoiHttpErrors",
        "CaunoiOutboxBacklogGrowing",
        "CaunoiDeadLetters",
        "CaunoiDeliveryFailing",
        "CaunoiZaloTokenRefreshFailing",
        "CaunoiDecree56ClockPassed",
        "CaunoiMonthlyReportsLate",
        "CaunoiDatabaseConnectionsNearLimit",
        "CaunoiRabbitmqResourceAlarm",
        "CaunoiVolumeNearFull",
    }
    assert wanted <= names


def test_every_alert_has_a_severity_and_a_runbook_section():
    operations = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^### (\w+)$", operations, flags=re.MULTILINE))
    for name, rule in alerts().items():
        assert rule["labels"]["severity"] in {"page", "ticket"}, name
        assert {"summary", "description", "runbook_url"} <= set(rule["annotations"]), name
        assert rule["annotations"]["runbook_url"] == f"docs/operations.md#{name.lower()}", name
        assert name in headings, f"docs/operations.md has no '### {name}' runbook section"
        section = operations.split(f"### {name}\n", 1)[1].split("\n### ", 1)[0]
        for part in ("What it means", "What to check", "How to fix"):
            assert f"**{part}**" in section, f"{name}'s runbook lacks '{part}'"
