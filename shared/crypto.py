"""Encryption of children's data at rest (every service that keeps it), and the keyed hash used to spot
possible duplicates.

Each value is encrypted on its own with AES-256-GCM and stored as `v2:<key_id>:<base64(nonce|ciphertext)>`,
bound (as associated data) to the row and column it belongs to, so a value copied to another case or field
does not decrypt. Before encryption the text is padded to a bucket (`BUCKETS`, then whole multiples of the
largest), so a ciphertext's length does not tell a two-word summary from a ten-word one. `v1:` values (no
padding, written before) still decrypt; rotation rewrites them as `v2:`.

The key id travels with the value: add a new key, make it active, and run the service's `rotate-keys`
command to re-encrypt old values; old keys stay readable until removed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import Field

from shared.settings import DEVELOPMENT_SECRET, ServiceSettings

LEGACY = "v1"  # unpadded (read only)
PREFIX = "v2"  # padded to a bucket
BUCKETS = (256, 1024, 4096)
_END = b"\x80"  # ISO/IEC 7816-4 padding: one 0x80 byte, then zeros up to the bucket

# Development-only keys, so a fresh checkout runs (DEVELOPMENT_MODE=true). Production must set its own: a
# process refuses to start with these outside development mode.
DEV_CHILD_DATA_KEYS = "dev1:ZGV2LW9ubHktY2hpbGQtZGF0YS1rZXktMzItYnl0ZXM="


class ChildDataSettings(ServiceSettings):
    """The settings of a service that keeps children's data (intake, routing): its keys."""

    child_data_keys: str = Field(
        default=DEV_CHILD_DATA_KEYS,
        description="AES-256-GCM keys for children's data: `key_id:base64(32 bytes)`, comma-separated. "
        "Old keys stay listed so old values can still be read. The same keys in intake and routing.",
        json_schema_extra=DEVELOPMENT_SECRET,
    )
    child_data_active_key: str = Field(
        default="", description="Key id new values are encrypted with (default: the first of CHILD_DATA_KEYS)."
    )


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


def bucket(length: int) -> int:
    """The padded size of `length` bytes of text (at least one byte of padding)."""
    for size in BUCKETS:
        if length < size:
            return size
    largest = BUCKETS[-1]
    return (length // largest + 1) * largest


def pad(data: bytes) -> bytes:
    return (data + _END).ljust(bucket(len(data)), b"\x00")


def unpad(data: bytes) -> bytes:
    stripped = data.rstrip(b"\x00")
    if not stripped.endswith(_END):
        raise KeyError_("bad padding")
    return stripped[:-1]


class FieldCipher:
    def __init__(self, keys: dict[str, bytes], active: str | None = None) -> None:
        self.keys = keys
        self.active = active or next(iter(keys))
        if self.active not in keys:
            raise KeyError_(f"active key {self.active!r} is not among the configured keys")
        self._aead = {key_id: AESGCM(key) for key_id, key in keys.items()}

    @classmethod
    def from_settings(cls, settings: ChildDataSettings) -> FieldCipher:
        """The cipher of the service's CHILD_DATA_KEYS (one per distinct setting, built once)."""
        return _cipher(settings.child_data_keys, settings.child_data_active_key)

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead[self.active].encrypt(nonce, pad(plaintext.encode()), context.encode())
        return f"{PREFIX}:{self.active}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str, context: str) -> str:
        prefix, key_id, encoded = stored.split(":", 2)
        if prefix not in (PREFIX, LEGACY) or key_id not in self._aead:
            raise KeyError_(f"cannot decrypt a value under key {key_id!r}")
        raw = base64.b64decode(encoded)
        opened = self._aead[key_id].decrypt(raw[:12], raw[12:], context.encode())
        return (unpad(opened) if prefix == PREFIX else opened).decode()

    def decrypt_optional(self, stored: str | None, context: str) -> str | None:
        return None if stored is None else self.decrypt(stored, context)

    def encrypt_optional(self, plaintext: str | None, context: str) -> str | None:
        return None if plaintext is None else self.encrypt(plaintext, context)

    @staticmethod
    def key_id_of(stored: str) -> str:
        return stored.split(":", 2)[1]

    def current(self, stored: str) -> bool:
        """True when the value is padded and under the active key (nothing for rotation to do)."""
        return stored.startswith(f"{PREFIX}:{self.active}:")

    def rotate(self, stored: str, context: str) -> str | None:
        """The value re-encrypted (padded) under the active key, or None when it already is."""
        if self.current(stored):
            return None
        return self.encrypt(self.decrypt(stored, context), context)


@lru_cache(maxsize=8)
def _cipher(keys: str, active: str) -> FieldCipher:
    return FieldCipher(parse_keys(keys), active or None)


def is_ciphertext(value: str) -> bool:
    """True for a value this module wrote (used by data migrations that encrypt older plain text)."""
    return re.match(r"^v[12]:[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/=]+$", value) is not None


def identity_hash(key: bytes, normalised_name: str, date_of_birth: str) -> str:
    """Keyed hash of a child's identity: comparable between cases, useless without the key."""
    return hmac.new(key, f"{normalised_name}|{date_of_birth}".encode(), hashlib.sha256).hexdigest()
