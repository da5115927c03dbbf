"""Per-case data keys (envelope encryption), so one case's children's data can be crypto-shredded.

Each case gets its own random 256-bit data key the first time something of it is encrypted; the key is
stored wrapped by the master key (`CHILD_DATA_KEYS`, `shared.crypto.FieldCipher`, bound to the case), and the
case's values are encrypted with it (`v2:case:…`). Withdrawing consent destroys the wrapped key: every value of
the case — in the live database and in every backup — becomes unreadable, while the case's row (unit,
category, dates: what the figures count) stays. Rotating the master key re-wraps the data keys only.

Intake and routing each keep their own keys for the data they hold (`case_keys` in their schema); intake
destroys its key when consent is withdrawn and announces it (`case.consent_withdrawn`), routing destroys its
own on that event.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column, DateTime, MetaData, Table, Text, select
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from shared.crypto import PREFIX as PREFIX
from shared.crypto import FieldCipher, KeyError_, pad, unpad

CASE_KEY_ID = "case"  # the key id of values under the case's own key


class Shredded(KeyError_):
    """The case's key was destroyed (consent withdrawn or retention): its data cannot be read any more."""


def case_keys_table(metadata: MetaData) -> Table:
    return Table(
        "case_keys",
        metadata,
        Column("case_id", UUID(as_uuid=True), primary_key=True),
        Column("wrapped", Text, nullable=True),  # the data key, encrypted with the master key; NULL once destroyed
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("destroyed_at", DateTime(timezone=True), nullable=True),
        Column("destroyed_why", Text, nullable=True),  # consent_withdrawn | retention
    )


def wrap_context(case_id: uuid.UUID) -> str:
    return f"case-key:{case_id}"


class CaseCipher:
    """Encrypts a case's values with its own key; decrypts them, and values written before under the master."""

    def __init__(self, master: FieldCipher, case_id: uuid.UUID, key: bytes | None, destroyed: bool) -> None:
        self.master = master
        self.case_id = case_id
        self._aead = AESGCM(key) if key is not None else None  # built once for the case's several values
        self.destroyed = destroyed

    def encrypt(self, plaintext: str, context: str) -> str:
        if self._aead is None:
            raise Shredded(f"case {self.case_id}: its key was destroyed")
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, pad(plaintext.encode()), context.encode())
        return f"{PREFIX}:{CASE_KEY_ID}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str, context: str) -> str:
        prefix, key_id, encoded = stored.split(":", 2)
        if key_id != CASE_KEY_ID:
            return self.master.decrypt(stored, context)
        if self._aead is None or prefix != PREFIX:
            raise Shredded(f"case {self.case_id}: its key was destroyed")
        raw = base64.b64decode(encoded)
        return unpad(self._aead.decrypt(raw[:12], raw[12:], context.encode())).decode()

    def encrypt_optional(self, plaintext: str | None, context: str) -> str | None:
        return None if plaintext is None else self.encrypt(plaintext, context)

    def decrypt_optional(self, stored: str | None, context: str) -> str | None:
        """None for no value and for a value of a destroyed key (shown as erased)."""
        if stored is None:
            return None
        try:
            return self.decrypt(stored, context)
        except Shredded:
            return None


Db = AsyncSession | AsyncConnection


async def case_cipher(
    session: Db, table: Table, master: FieldCipher, case_id: uuid.UUID, *, create_at: datetime | None = None
) -> CaseCipher:
    """The case's cipher. With `create_at`, a key is made (and stored wrapped) when the case has none yet."""
    row = (await session.execute(select(table).where(table.c.case_id == case_id))).first()
    if row is None and create_at is not None:
        key = AESGCM.generate_key(bit_length=256)
        wrapped = master.encrypt(base64.b64encode(key).decode(), wrap_context(case_id))
        statement = insert(table).values(case_id=case_id, wrapped=wrapped, created_at=create_at)
        await session.execute(statement.on_conflict_do_nothing(index_elements=["case_id"]))
        row = (await session.execute(select(table).where(table.c.case_id == case_id))).first()
    return _from_row(master, case_id, row)


async def case_ciphers(
    session: Db, table: Table, master: FieldCipher, case_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, CaseCipher]:
    """The ciphers of several cases in one query (a list page), by case id; none is made."""
    wanted = list(set(case_ids))
    rows = {row.case_id: row for row in await session.execute(select(table).where(table.c.case_id.in_(wanted)))}
    return {case_id: _from_row(master, case_id, rows.get(case_id)) for case_id in wanted}


def _from_row(master: FieldCipher, case_id: uuid.UUID, row: Any) -> CaseCipher:
    if row is None:
        return CaseCipher(master, case_id, None, destroyed=False)
    if row.wrapped is None:
        return CaseCipher(master, case_id, None, destroyed=True)
    key = base64.b64decode(master.decrypt(row.wrapped, wrap_context(case_id)))
    return CaseCipher(master, case_id, key, destroyed=False)


async def destroy(session: Db, table: Table, case_id: uuid.UUID, *, at: datetime, why: str) -> bool:
    """Destroy the case's key (crypto-shredding); True when there was one to destroy. A case without a key yet
    gets a destroyed marker, so nothing new is encrypted for it."""
    statement = insert(table).values(case_id=case_id, wrapped=None, created_at=at, destroyed_at=at, destroyed_why=why)
    result = await session.execute(
        statement.on_conflict_do_update(
            index_elements=["case_id"],
            set_={"wrapped": None, "destroyed_at": at, "destroyed_why": why},
            where=table.c.destroyed_at.is_(None),
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def new_case_key(master: FieldCipher, case_id: uuid.UUID) -> tuple[CaseCipher, str]:
    """A new case's cipher and its key wrapped by the master key, for the caller to store in the case's
    `case_keys` row in the transaction that writes the case's first encrypted value."""
    key = AESGCM.generate_key(bit_length=256)
    wrapped = master.encrypt(base64.b64encode(key).decode(), wrap_context(case_id))
    return CaseCipher(master, case_id, key, destroyed=False), wrapped


async def new_case_cipher(
    session: Db, table: Table, master: FieldCipher, case_id: uuid.UUID, at: datetime
) -> CaseCipher:
    """The cipher of a case being created: its key made and stored wrapped (one INSERT, no read back)."""
    cipher, wrapped = new_case_key(master, case_id)
    await session.execute(insert(table).values(case_id=case_id, wrapped=wrapped, created_at=at))
    return cipher
