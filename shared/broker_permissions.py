"""Each service's RabbitMQ user and permissions, derived from the event catalogue (the broker as a trust
boundary: a service can publish only the events it produces and read only its own queue).

For service `s` in namespace `ns` (user `<ns>-<s>`):
- configure `^$`: it declares nothing (the topology is declared by `python -m scripts.broker_users apply`
  with the administrator's login; a service whose declaration is refused checks it exists instead);
- write `^<ns>\\.events$` if it produces events, else nothing; topic permission on that exchange: write
  only the routing keys (event types) `s` produces, read only those it consumes;
- read `^<ns>\\.<s>$`, its own queue, and `^<ns>\\.<s>\\.dead-letter$`, its dead letters, if it consumes events;
- write `^<ns>\\.replay$` with the topic permission of its own name only, if it consumes events: an operator's
  replay of its dead letters (`shared.deadletters`) goes back to its own queue, never to another's.

So a service cannot publish another's event (the topic permission refuses the routing key), cannot
publish into a queue through the default exchange, cannot declare or bind anything (no new route to
a queue), and cannot consume another service's queue. Consumers also check that the delivery's routing
key is the envelope's type and that the envelope names the catalogue's producer (`shared.consumer`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.events import all_events, consumed_by
from shared.events.base import SERVICES
from shared.topology import Topology

NOTHING = "^$"


@dataclass(frozen=True)
class BrokerUser:
    service: str
    name: str
    configure: str
    write: str
    read: str
    exchange: str  # the topic exchange the topic permissions are on
    topic_write: str
    topic_read: str
    replay_exchange: str = ""  # a second topic exchange: the replay of the service's own dead letters
    replay_topic_write: str = NOTHING

    def topic_permissions(self) -> list[tuple[str, str, str]]:
        """(exchange, write, read) of each topic permission."""
        found = [(self.exchange, self.topic_write, self.topic_read)]
        if self.replay_exchange:
            found.append((self.replay_exchange, self.replay_topic_write, NOTHING))
        return found


def produced_by(service: str) -> list[str]:
    return sorted({cls.TYPE for cls in all_events() if service == cls.PRODUCER})


def _exactly(names: list[str]) -> str:
    return "^(" + "|".join(re.escape(n) for n in names) + ")$" if names else NOTHING


def user_name(namespace: str, service: str) -> str:
    return f"{namespace}-{service}"


def broker_user(topology: Topology, service: str) -> BrokerUser:
    produces = produced_by(service)
    consumes = sorted({cls.TYPE for cls in consumed_by(service)})
    return BrokerUser(
        service=service,
        name=user_name(topology.namespace, service),
        configure=NOTHING,
        write=_exactly(
            ([topology.events_exchange] if produces else []) + ([topology.replay_exchange] if consumes else [])
        ),
        read=_exactly([topology.queue(service), topology.dead_letter_queue(service)]) if consumes else NOTHING,
        exchange=topology.events_exchange,
        topic_write=_exactly(produces),
        topic_read=_exactly(consumes),
        replay_exchange=topology.replay_exchange if consumes else "",
        replay_topic_write=_exactly([service]) if consumes else NOTHING,
    )


def broker_users(topology: Topology) -> list[BrokerUser]:
    return [broker_user(topology, service) for service in SERVICES]
