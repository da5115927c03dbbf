"""Values that travel in an event for one consumer only (issue 14: events carry references, not content).

A bearer accept/decline link, an invitation link, a requester's Zalo id, the club's answer to a child: a
consumer needs them, but the broker, the producer's outbox, every other consumer and reporting's event store
must not hold them readable. The producer seals such values with the key of the consumer that needs them:
AES-256-GCM, padded (`shared.crypto.pad`), bound to the consumer and to a context naming the subject
(`counseling:<id>:answer`), so a sealed value copied to another request or consumer does not open. The
result is a string `s1:<consumer>:<key_id>:<base64(nonce|ciphertext)>` that the event carries.

Keys: `EVENT_KEYS` is `consumer:key_id:base64(32 bytes)`, comma-separated; each service is given the keys of
the consumers it seals for and its own (intake: notify's and its own; routing: notify's and intake's;
notify: its own). A service without a consumer's key can neither open nor forge its values. The first key
listed for a consumer seals; every listed key opens (rotation).
"""

from __future__ import annotations

import base64
import json
import os
import re
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import Field

from shared.crypto import KeyError_, pad, unpad
from shared.settings import DEVELOPMENT_SECRET, ServiceSettings

PREFIX = "s1"
SEALED = "_sealed"  # the key of a delivery row's context that holds its sealed secrets (notify)
DEV_EVENT_KEYS = (
    "notify:dev1:ZGV2LW9ubHktbm90aWZ5LWV2ZW50LWtleS0zMmJ5dGU=,intake:dev1:ZGV2LW9ubHktaW50YWtlLWV2ZW50LWtleS0zMmJ5dGU="
)


class SealingSettings(ServiceSettings):
    """The settings of a service that seals values for a consumer or opens its own (intake, routing, notify)."""

    event_keys: str = Field(
        default=DEV_EVENT_KEYS,
        description="Keys of values sealed in events for one consumer: `consumer:key_id:base64(32 bytes)`, "
        "comma-separated (intake: notify's and intake's; routing: notify's and intake's; notify: its own).",
        json_schema_extra=DEVELOPMENT_SECRET,
    )


def parse_event_keys(spec: str) -> dict[str, dict[str, bytes]]:
    keys: dict[str, dict[str, bytes]] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        consumer, key_id, encoded = [*item.split(":", 2), "", ""][:3]
        if not re.fullmatch(r"[a-z]{1,32}", consumer) or not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", key_id):
            raise KeyError_(f"bad event key {consumer!r}:{key_id!r}")
        key = base64.b64decode(encoded)
        if len(key) != 32:
            raise KeyError_(f"event key {consumer}:{key_id} must be 32 bytes, got {len(key)}")
        keys.setdefault(consumer, {})[key_id] = key
    return keys


class Sealer:
    def __init__(self, keys: dict[str, dict[str, bytes]]) -> None:
        self.keys = keys

    @classmethod
    def from_settings(cls, settings: SealingSettings) -> Sealer:
        return _sealer(settings.event_keys)

    def seal(self, consumer: str, value: Any, context: str) -> str:
        """`value` (anything JSON) readable only with `consumer`'s key, in `context`."""
        if consumer not in self.keys:
            raise KeyError_(f"no event key for {consumer!r} (EVENT_KEYS)")
        key_id, key = next(iter(self.keys[consumer].items()))
        nonce = os.urandom(12)
        plain = pad(json.dumps(value, ensure_ascii=False).encode())
        sealed = AESGCM(key).encrypt(nonce, plain, f"{consumer}|{context}".encode())
        return f"{PREFIX}:{consumer}:{key_id}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, consumer: str, sealed: str, context: str) -> Any:
        """The value sealed for `consumer` (this service) in `context`; raises on any other."""
        prefix, for_consumer, key_id, encoded = sealed.split(":", 3)
        if prefix != PREFIX or for_consumer != consumer or key_id not in self.keys.get(consumer, {}):
            raise KeyError_(f"cannot open a value sealed for {for_consumer!r} under {key_id!r}")
        raw = base64.b64decode(encoded)
        opened = AESGCM(self.keys[consumer][key_id]).decrypt(raw[:12], raw[12:], f"{consumer}|{context}".encode())
        return json.loads(unpad(opened))


def development_sealer() -> Sealer:
    """The sealer of the committed development keys (tests, samples)."""
    return _sealer(DEV_EVENT_KEYS)


def delivery_context(source_event_id: object, recipient_key: str) -> str:
    """Context of the secrets notify keeps sealed in a delivery row (`context["_sealed"]`)."""
    return f"delivery:{source_event_id}:{recipient_key}"


@lru_cache(maxsize=8)
def _sealer(spec: str) -> Sealer:
    return Sealer(parse_event_keys(spec))


def answer_context(request_id: object) -> str:
    return f"counseling:{request_id}:answer"


def reply_to_context(request_id: object) -> str:
    return f"counseling:{request_id}:reply_to"


def links_context(assignment_id: object) -> str:
    return f"assignment:{assignment_id}:links"


def account_link_context(account_id: object) -> str:
    return f"account:{account_id}:link"


ZALO_USER_CONTEXT = "zalo.user_activity:user"
