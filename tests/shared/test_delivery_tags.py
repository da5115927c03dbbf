"""When a consumer batch may be acknowledged with one `basic.ack multiple=True` (`shared.consumer.DeliveryTags`):
only when no earlier delivery of the channel can still be unsettled, which a `multiple` ack would acknowledge."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from shared.consumer import DeliveryTags


def delivery(channel: object, tag: int) -> Any:
    return SimpleNamespace(raw_message=SimpleNamespace(channel=channel, delivery_tag=tag))


def test_consecutive_deliveries_of_one_channel_are_acknowledged_together() -> None:
    tags, channel = DeliveryTags(), object()
    batch = [delivery(channel, t) for t in (1, 2, 3)]
    for message in batch:
        tags.seen(message)
    assert tags.together(batch)
    assert tags.together(batch[1:])  # the rest of a split batch: tag 1 was settled before
    assert not tags.together(batch[:1])  # one delivery: its own ack


def test_a_gap_in_the_tags_stops_multiple_acks_on_that_channel() -> None:
    """Tag 2 never reached the worker (left unacknowledged while stopping, or consumed elsewhere): an ack of
    tag 3 with `multiple` would acknowledge it unprocessed."""
    tags, channel = DeliveryTags(), object()
    batch = [delivery(channel, 1), delivery(channel, 3), delivery(channel, 4)]
    for message in batch:
        tags.seen(message)
    assert not tags.together(batch)
    assert not tags.together(batch[1:])


def test_deliveries_out_of_order_are_acknowledged_one_by_one() -> None:
    tags, channel = DeliveryTags(), object()
    first, second = delivery(channel, 1), delivery(channel, 2)
    tags.seen(second)
    tags.seen(first)
    assert not tags.together([second, first])


def test_an_abandoned_batch_stops_multiple_acks() -> None:
    tags, channel = DeliveryTags(), object()
    batch = [delivery(channel, t) for t in (1, 2, 3, 4)]
    for message in batch:
        tags.seen(message)
    tags.abandoned()  # tags 1 and 2 were left unsettled
    assert not tags.together(batch[2:])


def test_a_new_channel_starts_again_and_the_old_channels_deliveries_go_alone() -> None:
    tags, old, new = DeliveryTags(), object(), object()
    stale = [delivery(old, 1), delivery(old, 3)]  # a gap on the old channel
    fresh = [delivery(new, 1), delivery(new, 2)]
    for message in stale + fresh:
        tags.seen(message)
    assert tags.together(fresh)
    assert not tags.together(stale)
    assert not tags.together([stale[1], *fresh])
