"""Build the Grafana dashboards of `deploy/grafana/dashboards/` from this one description:
`python -m scripts.grafana_dashboards --write` rewrites the JSON files (tests/deploy/test_grafana.py fails when
they differ from what this script builds, so edit here, not in the JSON).

Dashboards: the overview (the path of a case, intake → routing → notify, with rates and latencies per hop
and every backlog), one per service, and one for the club (cases, clocks, reports). Every query reads the
metrics the services export on `/metrics` or RabbitMQ's `rabbitmq_prometheus` plugin; the job label is the
service's name (deploy/prometheus).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "deploy" / "grafana" / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
SERVICES = ("intake", "routing", "notify", "reporting", "web")
CONSUMERS = ("intake", "routing", "notify", "reporting")  # services with a queue of their own


@dataclass
class Panel:
    title: str
    targets: list[tuple[str, str]]  # (PromQL, legend)
    unit: str = "short"
    kind: str = "timeseries"
    width: int = 12
    height: int = 8
    description: str = ""
    stacked: bool = False


@dataclass
class Dashboard:
    uid: str
    title: str
    description: str
    rows: list[tuple[str, list[Panel]]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        panels: list[dict[str, Any]] = []
        y = 0
        next_id = 1
        for row_title, row_panels in self.rows:
            panels.append(
                {
                    "type": "row",
                    "id": next_id,
                    "title": row_title,
                    "collapsed": False,
                    "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                    "panels": [],
                }
            )
            next_id += 1
            y += 1
            x = 0
            row_height = 0
            for panel in row_panels:
                if x + panel.width > 24:
                    x, y = 0, y + row_height
                    row_height = 0
                panels.append(_panel(panel, next_id, x, y))
                next_id += 1
                x += panel.width
                row_height = max(row_height, panel.height)
            y += row_height
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": ["caunoi"],
            "timezone": "browser",
            "editable": True,
            "graphTooltip": 1,
            "refresh": "30s",
            "schemaVersion": 39,
            "version": 1,
            "time": {"from": "now-6h", "to": "now"},
            "templating": {"list": []},
            "annotations": {"list": []},
            "links": [
                {"type": "dashboards", "tags": ["caunoi"], "asDropdown": True, "title": "Cầu Nối", "includeVars": False}
            ],
            "panels": panels,
        }


def _panel(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    custom: dict[str, Any] = {}
    options: dict[str, Any]
    if panel.kind == "timeseries":
        custom = {"fillOpacity": 10, "lineWidth": 1, "showPoints": "never"}
        if panel.stacked:
            custom["stacking"] = {"mode": "normal", "group": "A"}
        options = {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi"},
        }
    else:
        options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value"}
    return {
        "type": panel.kind,
        "id": panel_id,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit, "custom": custom}, "overrides": []},
        "options": options,
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(panel.targets)
        ],
    }


# --- building blocks ------------------------------------------------------------------------------------


def _p95(metric: str, selector: str, by: str) -> str:
    return f"histogram_quantile(0.95, sum by (le, {by}) (rate({metric}_bucket{{{selector}}}[5m])))"


def http_panels(service: str) -> list[Panel]:
    sel = f'job="{service}"'
    return [
        Panel(
            "Requests per second by route",
            [
                (
                    f"sum by (method, route) (rate(caunoi_http_request_seconds_count{{{sel}}}[5m]))",
                    "{{method}} {{route}}",
                )
            ],
            unit="reqps",
        ),
        Panel(
            "5xx per second by route",
            [
                (
                    "sum by (method, route, status) "
                    f'(rate(caunoi_http_request_seconds_count{{{sel}, status=~"5.."}}[5m]))',
                    "{{status}} {{method}} {{route}}",
                )
            ],
            unit="reqps",
        ),
        Panel(
            "Latency p95 by route",
            [(_p95("caunoi_http_request_seconds", sel, "method, route"), "{{method}} {{route}}")],
            unit="s",
        ),
        Panel(
            "Replicas up; database connections in use of the pool",
            [
                (f"sum(up{{{sel}}})", "replicas up"),
                (f"sum(caunoi_db_pool_connections_in_use{{{sel}}})", "connections in use"),
                (f"sum(caunoi_db_pool_connections_limit{{{sel}}})", "pool limit"),
            ],
        ),
    ]


def event_panels(service: str, *, consumes: bool = True) -> list[Panel]:
    sel = f'job="{service}"'
    panels = [
        Panel(
            "Events published per second by type",
            [(f"sum by (type) (rate(caunoi_events_published_total{{{sel}}}[5m]))", "{{type}}")],
            unit="ops",
        ),
        Panel(
            "Outbox: events waiting, oldest age",
            [
                (f"max(caunoi_outbox_pending{{{sel}}})", "waiting"),
                (f"max(caunoi_outbox_oldest_pending_seconds{{{sel}}})", "oldest (s)"),
                (f"sum(rate(caunoi_relay_failures_total{{{sel}}}[5m]))", "relay failures/s"),
            ],
        ),
    ]
    if consumes:
        queue = f'queue=~".+\\\\.{service}"'
        dead = f'queue=~".+\\\\.{service}\\\\.dead-letter"'
        panels += [
            Panel(
                "Events consumed per second by type and outcome",
                [
                    (
                        f"sum by (type, outcome) (rate(caunoi_events_consumed_total{{{sel}}}[5m]))",
                        "{{type}} {{outcome}}",
                    )
                ],
                unit="ops",
            ),
            Panel(
                "Handler time p95 by event type",
                [(_p95("caunoi_event_handler_seconds", sel, "type"), "{{type}}")],
                unit="s",
            ),
            Panel(
                "Queue: ready, unacknowledged, dead letters",
                [
                    (f"sum(rabbitmq_queue_messages_ready{{{queue}}})", "ready"),
                    (f"sum(rabbitmq_queue_messages_unacked{{{queue}}})", "unacknowledged"),
                    (f"sum(rabbitmq_queue_messages{{{dead}}})", "dead letters"),
                    (f"sum(rabbitmq_queue_consumers{{{queue}}})", "consumers"),
                ],
            ),
            Panel(
                "Events dead-lettered by type and reason (last hour)",
                [
                    (
                        f"sum by (type, reason) (increase(caunoi_events_dead_lettered_total{{{sel}}}[1h]))",
                        "{{type}} {{reason}}",
                    )
                ],
            ),
        ]
    return panels


# --- the dashboards --------------------------------------------------------------------------------------


def overview() -> Dashboard:
    case_post = 'job="intake", method="POST", route="/v1/cases"'
    hop = [
        Panel(
            "1. Intake: cases reported per second (201) and errors",
            [
                (f'sum(rate(caunoi_http_request_seconds_count{{{case_post}, status="201"}}[5m]))', "created"),
                (f'sum(rate(caunoi_http_request_seconds_count{{{case_post}, status=~"4.."}}[5m]))', "refused (4xx)"),
                (f'sum(rate(caunoi_http_request_seconds_count{{{case_post}, status=~"5.."}}[5m]))', "failed (5xx)"),
            ],
            unit="reqps",
            width=8,
        ),
        Panel(
            "2. Routing: case.reported consumed, case.assigned published",
            [
                (
                    'sum(rate(caunoi_events_consumed_total{job="routing", type="case.reported", '
                    'outcome="processed"}[5m]))',
                    "case.reported handled",
                ),
                (
                    'sum(rate(caunoi_events_published_total{job="routing", type="case.assigned"}[5m]))',
                    "case.assigned out",
                ),
            ],
            unit="ops",
            width=8,
        ),
        Panel(
            "3. Notify: case.assigned consumed, messages sent by channel",
            [
                (
                    'sum(rate(caunoi_events_consumed_total{job="notify", type="case.assigned", '
                    'outcome="processed"}[5m]))',
                    "case.assigned handled",
                ),
                ('sum by (channel) (rate(caunoi_notifications_total{outcome="sent"}[5m]))', "sent by {{channel}}"),
            ],
            unit="ops",
            width=8,
        ),
        Panel(
            "Latency p95 per hop",
            [
                (
                    "histogram_quantile(0.95, sum by (le) "
                    f"(rate(caunoi_http_request_seconds_bucket{{{case_post}}}[5m])))",
                    "intake POST /v1/cases",
                ),
                (
                    "histogram_quantile(0.95, sum by (le) "
                    '(rate(caunoi_event_handler_seconds_bucket{job="routing", type="case.reported"}[5m])))',
                    "routing case.reported",
                ),
                (
                    "histogram_quantile(0.95, sum by (le) "
                    '(rate(caunoi_event_handler_seconds_bucket{job="notify", type="case.assigned"}[5m])))',
                    "notify case.assigned",
                ),
            ],
            unit="s",
            width=24,
        ),
    ]
    backlogs = [
        Panel(
            "Outbox: events waiting per service",
            [("max by (service) (caunoi_outbox_pending)", "{{service}}")],
        ),
        Panel(
            "Outbox: oldest waiting event per service",
            [("max by (service) (caunoi_outbox_oldest_pending_seconds)", "{{service}}")],
            unit="s",
        ),
        Panel(
            "Queues: events waiting (consumer lag)",
            [('sum by (queue) (rabbitmq_queue_messages{queue!~".+\\\\.dead-letter"})', "{{queue}}")],
        ),
        Panel(
            "Dead-letter queues",
            [('sum by (queue) (rabbitmq_queue_messages{queue=~".+\\\\.dead-letter"})', "{{queue}}")],
        ),
        Panel(
            "Notifications: undelivered and the oldest",
            [
                ("max(caunoi_notifications_pending)", "undelivered"),
                ("max(caunoi_notifications_oldest_pending_seconds)", "oldest undelivered (s)"),
                ("max by (channel) (caunoi_notifications_oldest_failing_seconds)", "oldest failing {{channel}} (s)"),
            ],
        ),
        Panel(
            "Services up",
            [(f'sum by (job) (up{{job=~"{"|".join((*SERVICES, "rabbitmq"))}"}})', "{{job}}")],
            kind="stat",
        ),
    ]
    errors = [
        Panel(
            "5xx per second by service",
            [('sum by (job) (rate(caunoi_http_request_seconds_count{status=~"5.."}[5m]))', "{{job}}")],
            unit="reqps",
        ),
        Panel(
            "Event handler failures per second by service",
            [
                (
                    'sum by (job, type) (rate(caunoi_events_consumed_total{outcome=~"retried|poison"}[5m]))',
                    "{{job}} {{type}}",
                )
            ],
            unit="ops",
        ),
        Panel(
            "PostgreSQL connections",
            [
                ("max(caunoi_db_server_connections)", "open"),
                ("max(caunoi_db_server_max_connections)", "limit"),
            ],
        ),
        Panel(
            "RabbitMQ: free disk and its alarm limit",
            [
                ("min(rabbitmq_disk_space_available_bytes)", "free"),
                ("max(rabbitmq_disk_space_available_limit_bytes)", "alarm limit"),
            ],
            unit="bytes",
        ),
        Panel(
            "PostgreSQL: dead rows by table (vacuum reclaims them), autovacuum on (1) or off (0)",
            [
                ("topk(8, max by (table) (caunoi_db_dead_tuples))", "{{table}}"),
                ("min(caunoi_db_autovacuum_enabled)", "autovacuum"),
            ],
        ),
    ]
    return Dashboard(
        "caunoi-overview",
        "Cầu Nối — overview",
        "The path of a case (intake → routing → notify): rates and p95 latency per hop, and every backlog.",
        [("The path of a case", hop), ("Backlogs", backlogs), ("Errors and resources", errors)],
    )


def service_dashboard(service: str) -> Dashboard:
    rows: list[tuple[str, list[Panel]]] = [("HTTP", http_panels(service))]
    if service != "web":
        rows.append(("Events", event_panels(service, consumes=service in CONSUMERS)))
    if service == "notify":
        rows.append(
            (
                "Deliveries",
                [
                    Panel(
                        "Deliveries per second by channel and outcome",
                        [
                            (
                                "sum by (channel, outcome) (rate(caunoi_notifications_total[5m]))",
                                "{{channel}} {{outcome}}",
                            )
                        ],
                        unit="ops",
                    ),
                    Panel(
                        "Undelivered, dead",
                        [
                            ("max(caunoi_notifications_pending)", "undelivered"),
                            ("max(caunoi_notifications_dead_letter)", "dead"),
                        ],
                    ),
                    Panel(
                        "Oldest undelivered; oldest failing by channel",
                        [
                            ("max(caunoi_notifications_oldest_pending_seconds)", "oldest undelivered"),
                            ("max by (channel) (caunoi_notifications_oldest_failing_seconds)", "failing {{channel}}"),
                        ],
                        unit="s",
                    ),
                    Panel(
                        "Zalo token refreshes by outcome (last hour)",
                        [
                            (
                                "sum by (outcome) (increase(caunoi_zalo_token_refreshes_total[1h]))",
                                "{{outcome}}",
                            )
                        ],
                    ),
                ],
            )
        )
    if service == "routing":
        rows.append(
            (
                "Deadlines",
                [
                    Panel(
                        "Overdue now by clock",
                        [("max by (deadline) (caunoi_deadlines_overdue)", "{{deadline}}")],
                        width=24,
                    )
                ],
            )
        )
    if service == "reporting":
        rows.append(
            (
                "Figures",
                [
                    Panel("Cases by state", [("max by (state) (caunoi_cases)", "{{state}}")], stacked=True),
                    Panel(
                        "Monthly reports: missing, late",
                        [
                            ("max(caunoi_monthly_reports_missing)", "missing"),
                            ("max(caunoi_monthly_reports_late)", "late"),
                        ],
                    ),
                ],
            )
        )
    return Dashboard(
        f"caunoi-{service}",
        f"Cầu Nối — {service}",
        f"{service}: HTTP by route, events in and out, backlogs"
        + (", deliveries" if service == "notify" else "")
        + ".",
        rows,
    )


def club() -> Dashboard:
    cases = [
        Panel("Cases by state", [("max by (state) (caunoi_cases)", "{{state}}")], kind="stat", width=24, height=5),
        Panel("Open cases by urgency", [("max by (urgency) (caunoi_open_cases)", "{{urgency}}")], stacked=True),
        Panel(
            "Cases reported per hour",
            [
                (
                    'sum(increase(caunoi_http_request_seconds_count{job="intake", method="POST", route="/v1/cases", '
                    'status="201"}[1h]))',
                    "reported",
                )
            ],
        ),
    ]
    clocks = [
        Panel(
            "Overdue right now, by clock",
            [("max by (deadline) (caunoi_deadlines_overdue)", "{{deadline}}")],
            kind="stat",
            width=24,
            height=5,
            description="acceptance; emergency_intervention = Decree 56's 12 hours; support_plan = its 5 working "
            "days; answer = counseling.",
        ),
        Panel(
            "Overdue over time",
            [("max by (deadline) (caunoi_deadlines_overdue)", "{{deadline}}")],
        ),
        Panel(
            "Deadlines breached since the start",
            [("max by (deadline) (caunoi_deadline_breaches)", "{{deadline}}")],
        ),
    ]
    reports = [
        Panel(
            "Last month's reports: missing, late (after the due day)",
            [
                ("max(caunoi_monthly_reports_missing)", "missing"),
                ("max(caunoi_monthly_reports_late)", "late"),
            ],
            kind="stat",
        ),
        Panel("Counseling requests waiting", [("max(caunoi_counseling_requests_waiting)", "waiting")], kind="stat"),
        Panel(
            "Members not reached (dead deliveries)",
            [("max(caunoi_notifications_dead_letter)", "dead")],
            kind="stat",
            width=24,
            height=5,
        ),
    ]
    return Dashboard(
        "caunoi-club",
        "Cầu Nối — the club",
        "Cases, Decree 56 clocks and monthly reports: what the club's chair and the Standing Committee watch.",
        [("Cases", cases), ("Clocks", clocks), ("Reports and counseling", reports)],
    )


def dashboards() -> dict[str, dict[str, Any]]:
    built = [overview(), *(service_dashboard(s) for s in SERVICES), club()]
    return {f"{d.uid}.json": d.to_json() for d in built}


def render(dashboard: dict[str, Any]) -> str:
    return json.dumps(dashboard, ensure_ascii=False, indent=2) + "\n"


def main() -> None:
    if "--write" in sys.argv[1:]:
        OUT.mkdir(parents=True, exist_ok=True)
        for name, dashboard in dashboards().items():
            (OUT / name).write_text(render(dashboard), encoding="utf-8")
            print(OUT / name)
    else:
        print(json.dumps(sorted(dashboards()), indent=2))


if __name__ == "__main__":
    main()
