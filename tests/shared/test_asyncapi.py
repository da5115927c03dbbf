"""The AsyncAPI document in the repository is the one FastStream generates from the catalogue today."""

from __future__ import annotations

import yaml

from shared.asyncapi import DOCUMENT, document
from shared.events import all_events


def test_the_kept_asyncapi_document_is_not_stale():
    assert DOCUMENT.read_text(encoding="utf-8") == document(), "run `python -m shared.asyncapi --write`"


def test_every_event_is_sent_by_its_producer_and_received_by_each_consumer():
    operations = yaml.safe_load(document())["operations"]
    titles = {(op["action"], title) for title, op in operations.items()}
    expected = set()
    for event in all_events():
        expected.add(("send", f"{event.PRODUCER} sends {event.TYPE} v{event.VERSION}"))
        expected |= {("receive", f"{c} receives {event.TYPE} v{event.VERSION}") for c in event.CONSUMERS}
    assert titles == expected
