"""The metric names a PromQL expression reads (ours, RabbitMQ's, the kubelet's, Prometheus's `up`), and every
expression of the alert rules and dashboards in the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus" / "rules"
DASHBOARDS = REPO / "deploy" / "grafana" / "dashboards"
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_METRIC = re.compile(r"\b((?:caunoi|rabbitmq|kubelet)_[A-Za-z0-9_]+|up)\b")


def metric_names(expr: str) -> set[str]:
    return set(_METRIC.findall(_STRING.sub('""', expr)))


def rule_expressions(*, platform: bool) -> dict[str, str]:
    """Alert name → expression, of the Cầu Nối rules (`platform=False`) or the platform ones."""
    found = {}
    for path in sorted(RULES.glob("*.rules.yml")):
        if (path.name == "platform.rules.yml") != platform:
            continue
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                found[rule.get("alert") or rule["record"]] = rule["expr"]
    return found


def dashboard_expressions() -> dict[str, str]:
    """`<dashboard file> / <panel title> / <refId>` → expression."""
    found = {}
    for path in sorted(DASHBOARDS.glob("*.json")):
        for panel in json.loads(path.read_text(encoding="utf-8"))["panels"]:
            for target in panel.get("targets", []):
                found[f"{path.name} / {panel['title']} / {target['refId']}"] = target["expr"]
    return found
