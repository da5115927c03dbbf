"""Every metric an alert rule or a dashboard reads exists: exported on `/metrics` by one of the running
services (the four real processes, after one case has travelled through them), or by RabbitMQ's
rabbitmq_prometheus plugin (the names we rely on, checked against a real scrape of the local broker), or
synthesized by Prometheus (`up`). The platform rules read the kubelet's volume statistics, named below.
A renamed metric, or a typo in a rule or a panel, fails here instead of leaving a silent alert."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devtools.system import RunningSystem, running_system
from devtools.waiting import eventually
from tests.deploy.promql import dashboard_expressions, metric_names, rule_expressions

RABBITMQ_PLUGIN = "http://127.0.0.1:15692"
# rabbitmq_prometheus (3.10–3.13) metrics the rules and dashboards use, by the endpoint that serves them
# (deploy/prometheus scrapes both: job rabbitmq, and job rabbitmq-alarms keeping only the alarms).
RABBITMQ_ENDPOINTS = {
    "/metrics/per-object": {
        "rabbitmq_queue_messages",
        "rabbitmq_queue_messages_ready",
        "rabbitmq_queue_messages_unacked",
        "rabbitmq_queue_consumers",
        "rabbitmq_disk_space_available_bytes",
        "rabbitmq_disk_space_available_limit_bytes",
    },
    "/metrics": {
        "rabbitmq_alarms_free_disk_space_watermark",
        "rabbitmq_alarms_memory_used_watermark",
        "rabbitmq_alarms_file_descriptor_limit",
    },
}
RABBITMQ_METRICS = set().union(*RABBITMQ_ENDPOINTS.values())
PROMETHEUS_METRICS = {"up"}
# Kubelet volume statistics (Kubernetes only; the cluster's Prometheus scrapes the kubelets).
KUBELET_METRICS = {"kubelet_volume_stats_available_bytes", "kubelet_volume_stats_capacity_bytes"}
_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created")}


def sample_names(exposition: str) -> set[str]:
    """Every series name a scrape can hold, from the declared families (a labelled family with no child yet
    declares its name too)."""
    names = set()
    for family in text_string_to_metric_families(exposition):
        names.add(family.name)
        names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ()))
        names.update(sample.name for sample in family.samples)
    return names


def used_metrics() -> dict[str, set[str]]:
    """Metric name → where it is read (rules and dashboards of Cầu Nối, not the platform rules)."""
    used: dict[str, set[str]] = {}
    for where, expr in {**rule_expressions(platform=False), **dashboard_expressions()}.items():
        for name in metric_names(expr):
            used.setdefault(name, set()).add(where)
    return used


@pytest.mark.e2e
async def test_every_metric_of_a_rule_or_dashboard_is_exported_by_a_service_or_rabbitmq(base_env, tmp_path):
    async with running_system(base_env, tmp_path / "logs", show_logs=False) as system:
        exported = await _scrape_after_one_case(system)
    for service, names in exported.items():
        assert "caunoi_http_request_seconds_bucket" in names, f"{service} exports no HTTP metrics"
    everything = set().union(*exported.values()) | RABBITMQ_METRICS | PROMETHEUS_METRICS
    missing = {name: sorted(where) for name, where in used_metrics().items() if name not in everything}
    assert not missing, f"read by rules or dashboards but exported by nobody: {missing}"


async def _scrape_after_one_case(system: RunningSystem) -> dict[str, set[str]]:
    async with httpx.AsyncClient(timeout=10) as client:
        created = await system.post_case(client)

        async def told() -> bool:
            return bool(system.emails_for(created["code"]))

        await eventually(told, timeout=60)
        exported = {}
        for service in system.services.services:
            response = await client.get(f"{system.url(service)}/metrics")
            assert response.status_code == 200
            exported[service] = sample_names(response.text)
    return exported


@pytest.mark.parametrize("endpoint", sorted(RABBITMQ_ENDPOINTS))
def test_the_rabbitmq_metrics_we_rely_on_are_in_the_plugin_s_scrape(endpoint):
    try:
        response = httpx.get(RABBITMQ_PLUGIN + endpoint, timeout=10)
    except httpx.HTTPError as exc:
        pytest.skip(f"rabbitmq_prometheus is not enabled here ({exc!r}): `rabbitmq-plugins enable rabbitmq_prometheus`")
    assert response.status_code == 200
    assert RABBITMQ_ENDPOINTS[endpoint] - sample_names(response.text) == set()
    used = {name for name in used_metrics() if name.startswith("rabbitmq_")}
    assert used <= RABBITMQ_METRICS, (
        f"add to RABBITMQ_METRICS (and check the plugin exports them): {used - RABBITMQ_METRICS}"
    )


def test_platform_rules_read_only_the_kubelet_volume_statistics():
    used = set().union(*(metric_names(expr) for expr in rule_expressions(platform=True).values()))
    assert used and used <= KUBELET_METRICS
