"""`mandatory` publishing against the real RabbitMQ: an event that no queue would keep is a failure (the relay
leaves its row pending and retries), never a confirm of a silent drop."""

from __future__ import annotations

from shared.events import Envelope
from shared.publisher import EventPublisher, Outgoing, to_outgoing
from shared.topology import Topology
from tests.shared.toy import case_reported


async def test_an_event_no_queue_is_bound_to_is_not_counted_as_published(amqp_vhost_url: str, broker_namespace: str):
    publisher = EventPublisher(amqp_vhost_url, Topology(broker_namespace))
    await publisher.connect()  # declares the topology: `case.reported` is bound to its consumers' queues
    try:
        routed = to_outgoing(Envelope.wrap(case_reported("TN-2026-000101"), producer="intake"))
        unrouted = to_outgoing(Envelope.wrap(case_reported("TN-2026-000102"), producer="intake"))
        unrouted = Outgoing("nobody.listens.to.this", unrouted.body, unrouted.properties)
        after = to_outgoing(Envelope.wrap(case_reported("TN-2026-000103"), producer="intake"))

        assert await publisher.confirmed(await publisher.send([routed, unrouted, after])) == [True, False, True]
    finally:
        await publisher.close()
