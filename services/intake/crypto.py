"""Encryption of children's data at rest, and the keyed hash used to spot possible duplicates.

Each value is encrypted on its own with AES-256-GCM and stored as `v1:<key_id>:<base64(nonce|ciphertext)>`,
bound (as associated data) to the row and column it belongs to, so a value copied to another case or field
does not decrypt. The key id travels with the value: add a new key, make it active, and run
`python -m services.intake rotate-keys` to re-encrypt old values; old keys stay readable until removed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1"


class KeyError_(ValueError):
    """A value names a key this process does not have, or the settings hold a malformed key."""


def parse_keys(spec: str) -> dict[str, bytes]:
    """`id:base64,id2:base64` → {id: 32-byte key}."""
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key_id, _, encoded = item.partition(":")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", key_id):
            raise KeyError_(f"bad key id {key_id!r}")
        key = base64.b64decode(encoded)
        if len(key) != 32:
            raise KeyError_(f"key {key_id!r} must be 32 bytes (AES-256), got {len(key)}")
        keys[key_id] = key
    if not keys:
        raise KeyError_("no encryption key configured")
    return keys


class FieldCipher:
    def __init__(self, keys: dict[str, bytes], active: str | None = None) -> None:
        self.keys = keys
        self.active = active or next(iter(keys))
        if self.active not in keys:
            raise KeyError_(f"active key {self.active!r} is not among the configured keys")
        self._aead = {key_id: AESGCM(key) for key_id, key in keys.items()}

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead[self.active].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{PREFIX}:{self.active}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str, context: str) -> str:
        prefix, key_id, encoded = stored.split(":", 2)
        if prefix != PREFIX or key_id not in self._aead:
            raise KeyError_(f"cannot decrypt a value under key {key_id!r}")
        raw = base64.b64decode(encoded)
        return self._aead[key_id].decrypt(raw[:12], raw[12:], context.encode()).decode()

    @staticmethod
    def key_id_of(stored: str) -> str:
        return stored.split(":", 2)[1]

    def rotate(self, stored: str, context: str) -> str | None:
        """The value re-encrypted under the active key, or None when it already is."""
        if self.key_id_of(stored) == self.active:
            return None
        return self.encrypt(self.decrypt(stored, context), context)


def identity_hash(key: bytes, normalised_name: str, date_of_birth: str) -> str:
    """Keyed hash of a child's identity: comparable between cases, useless without the key."""
    return hmac.new(key, f"{normalised_name}|{date_of_birth}".encode(), hashlib.sha256).hexdigest()
