"""Notify's Prometheus metrics (on `/metrics` with the shared ones)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

NOTIFICATIONS = Counter(
    "caunoi_notifications_total",
    "Delivery outcomes: sent, retried, deferred, fell_back, dead (dead-lettered), skipped.",
    ["channel", "template", "outcome"],
)
DEAD_LETTERED = Counter(
    "caunoi_notifications_dead_lettered_total",
    "Deliveries that ended in the dead-letter state (no attempt or fallback left); notification.failed emitted.",
    ["channel"],
)
DEAD_LETTER_SIZE = Gauge(
    "caunoi_notifications_dead_letter", "Deliveries currently in the dead-letter state (status = 'dead')."
)
PENDING = Gauge("caunoi_notifications_pending", "Deliveries waiting to be sent (pending or being sent).")
ZALO_TOKEN_REFRESHES = Counter(
    "caunoi_zalo_token_refreshes_total",
    "Zalo access-token refreshes: ok, reused (another replica refreshed), refused, error.",
    ["outcome"],
)
OLDEST_PENDING = Gauge(
    "caunoi_notifications_oldest_pending_seconds",
    "Age of the oldest delivery not yet sent (pending or being sent; quiet hours included), 0 when none.",
)
OLDEST_FAILING = Gauge(
    "caunoi_notifications_oldest_failing_seconds",
    "Age of the oldest delivery waiting for a retry after a failed attempt, 0 when none.",
    ["channel"],
)
CHANNELS = ("email", "zalo")
