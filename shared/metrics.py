"""Prometheus metrics every service exposes on `/metrics`. Business gauges live in the services."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

EVENTS_PUBLISHED = Counter(
    "caunoi_events_published_total",
    "Events the outbox relay published with a broker confirm.",
    ["service", "type"],
)
RELAY_FAILURES = Counter(
    "caunoi_relay_failures_total",
    "Relay rounds that could not publish everything (broker down, unconfirmed).",
    ["service"],
)
OUTBOX_PENDING = Gauge("caunoi_outbox_pending", "Outbox rows not yet published.", ["service"])
OUTBOX_OLDEST_PENDING = Gauge(
    "caunoi_outbox_oldest_pending_seconds", "Age of the oldest unpublished outbox row.", ["service"]
)
EVENTS_CONSUMED = Counter(
    "caunoi_events_consumed_total",
    "Events taken from the service's queue, by outcome (processed, duplicate, ignored, poison, retried).",
    ["service", "type", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "caunoi_event_handler_seconds",
    "Time to handle one event, commit included.",
    ["service", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HTTP_SECONDS = Histogram(
    "caunoi_http_request_seconds",
    "HTTP requests by route template and status.",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


def render() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST
