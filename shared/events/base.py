"""The event envelope and the base of every event payload.

Every event travels as an `Envelope` whose `payload` is one of the catalogue's `Event` models. A payload
class declares its wire name (`TYPE`), schema version (`VERSION`), the service that emits it
(`PRODUCER`) and the services that listen (`CONSUMERS`); broker bindings are derived from
`CONSUMERS`, so the catalogue is the one place that says who talks to whom.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

SERVICES = ("intake", "routing", "notify", "reporting")

# Names that would carry a child's identity. An event model with such a field fails at import: the
# child's data stays encrypted in intake's tables (DOMAIN.md §5).
FORBIDDEN_FIELD_NAMES = frozenset(
    {
        "child",
        "child_name",
        "name_of_child",
        "full_name",
        "date_of_birth",
        "dob",
        "birth_date",
        "address",
        "school",
        "class_name",
        "guardian",
        "guardian_name",
        "child_phone",
        "child_contact",
        "child_email",
        "photo",
        "image",
        "summary",
        "identity_hash",
    }
)

Urgency = Literal["critical", "high", "medium", "low"]
ProtectionLevel = Literal["prevention", "support", "intervention"]
ExpertField = Literal["law", "psychology", "medicine", "education", "social_work"]
AgeBand = Literal["0-5", "6-10", "11-15", "16-17", "unknown"]
Channel = Literal["email", "zalo"]


def age_band(age: int | None) -> AgeBand:
    """The only age information events carry."""
    if age is None or age < 0:
        return "unknown"
    if age <= 5:
        return "0-5"
    if age <= 10:
        return "6-10"
    if age <= 15:
        return "11-15"
    if age <= 17:
        return "16-17"
    return "unknown"


_REGISTRY: dict[tuple[str, int], type[Event]] = {}


class Event(BaseModel):
    """Base of every payload. Subclasses set the four class variables and a docstring."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    PRODUCER: ClassVar[str]
    CONSUMERS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "TYPE" not in cls.__dict__:
            return  # an abstract intermediate class
        bad = FORBIDDEN_FIELD_NAMES.intersection(cls.model_fields)
        if bad:
            raise TypeError(f"{cls.__name__} must not carry child-identifying fields: {sorted(bad)}")
        if cls.PRODUCER not in SERVICES or not set(cls.CONSUMERS) <= set(SERVICES):
            raise TypeError(f"{cls.__name__}: unknown producer or consumer")
        key = (cls.TYPE, cls.VERSION)
        if key in _REGISTRY and _REGISTRY[key] is not cls:
            raise TypeError(f"event {key} is declared twice")
        _REGISTRY[key] = cls


def event_class(event_type: str, version: int) -> type[Event] | None:
    return _REGISTRY.get((event_type, version))


def wire_versions(cls: type[Event]) -> list[tuple[str, int]]:
    """The (type, version) pairs a handler of `cls` receives: its own and every older version of the type,
    which `Envelope.event()` upgrades to `cls` (so a consumer keeps handling events published before a
    field was added, and reporting can replay its event store)."""
    return sorted(key for key in _REGISTRY if key[0] == cls.TYPE and key[1] <= cls.VERSION)


def all_events() -> list[type[Event]]:
    return list(_REGISTRY.values())


def consumed_by(service: str) -> list[type[Event]]:
    return [cls for cls in _REGISTRY.values() if service in cls.CONSUMERS]


class UnknownEvent(Exception):
    """The envelope names a type/version this build does not know."""


class Envelope(BaseModel):
    """What goes on the wire. The body of every AMQP message is one envelope as JSON."""

    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID
    type: str
    version: int
    occurred_at: datetime
    producer: str
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    payload: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        producer: str,
        caused_by: Envelope | None = None,
        correlation_id: uuid.UUID | None = None,
        occurred_at: datetime | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Envelope:
        if producer != event.PRODUCER:
            raise ValueError(f"{event.TYPE} is emitted by {event.PRODUCER}, not {producer}")
        return cls(
            event_id=event_id or uuid.uuid4(),
            type=event.TYPE,
            version=event.VERSION,
            occurred_at=occurred_at or datetime.now(UTC),
            producer=producer,
            correlation_id=correlation_id or (caused_by.correlation_id if caused_by else uuid.uuid4()),
            causation_id=caused_by.event_id if caused_by else None,
            payload=event.model_dump(mode="json"),
        )

    def event(self) -> Event:
        """The typed payload; raises `UnknownEvent` or pydantic's `ValidationError`."""
        cls = event_class(self.type, self.version)
        if cls is None:
            raise UnknownEvent(f"{self.type} v{self.version}")
        event = cls.model_validate(self.payload)
        # An older version of an event upgrades itself to the next (`upgrade()`), up to the current one.
        while (upgrade := getattr(event, "upgrade", None)) is not None:
            event = upgrade()
        return event
