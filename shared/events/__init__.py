"""The event catalogue: every event of the system, one module per producing service.

Importing this package registers every event; `consumed_by(service)` gives what a service's queue is
bound to.
"""

from shared.events import intake, notify, reporting, routing
from shared.events.base import (
    AgeBand,
    Channel,
    Envelope,
    Event,
    ExpertField,
    ProtectionLevel,
    UnknownEvent,
    Urgency,
    age_band,
    all_events,
    consumed_by,
    event_class,
)
from shared.events.common import Recipient

__all__ = [
    "AgeBand",
    "Channel",
    "Envelope",
    "Event",
    "ExpertField",
    "ProtectionLevel",
    "Recipient",
    "UnknownEvent",
    "Urgency",
    "age_band",
    "all_events",
    "consumed_by",
    "event_class",
    "intake",
    "notify",
    "reporting",
    "routing",
]
