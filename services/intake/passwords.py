"""Password hashing (argon2id, `argon2-cffi`) and one-time link tokens.

Hashing costs time and memory on purpose (`PASSWORD_HASH_TIME_COST`, `PASSWORD_HASH_MEMORY_KIB`); it runs in
a worker thread so the event loop keeps serving. A password is never logged, stored or returned: only its
argon2id hash (a PHC string that records its own parameters, so changing the settings never locks anyone out;
a hash made with other parameters is replaced at the next successful sign-in).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 200


class Passwords:
    def __init__(self, time_cost: int, memory_kib: int, parallelism: int = 1) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        # Verified when the email is unknown, so an unknown address costs as much as a wrong password.
        self._dummy = self._hasher.hash("not-a-password-" + secrets.token_hex(8))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True if `password` matches; an account without a password (or an unknown one, `None`) never
        matches, after the same amount of work."""
        return await asyncio.to_thread(self._verify, stored_hash, password)

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._dummy, password) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True


def new_link_token() -> tuple[str, str]:
    """A one-time link token and its SHA-256 (the only thing stored)."""
    token = secrets.token_urlsafe(32)
    return token, link_token_hash(token)


def link_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
