"""The cipher of children's data (shared/crypto.py): values are padded to buckets so a ciphertext's length
does not reveal a short value, bound to their row and column, and values written before padding still read."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.crypto import FieldCipher, bucket, is_ciphertext, parse_keys

KEY = "k1:" + base64.b64encode(bytes(range(32))).decode()


def test_a_short_and_a_longer_value_give_ciphertexts_of_the_same_length() -> None:
    cipher = FieldCipher(parse_keys(KEY))
    short = cipher.encrypt("Có", "case:1:summary")
    longer = cipher.encrypt("Em Nguyễn Thị Lan, lớp 5A trường Tân Biên", "case:1:summary")
    assert len(short) == len(longer)
    assert len(cipher.encrypt("x" * 300, "c")) == len(cipher.encrypt("y" * 1000, "c")) > len(longer)
    assert cipher.decrypt(longer, "case:1:summary") == "Em Nguyễn Thị Lan, lớp 5A trường Tân Biên"
    assert bucket(0) == 256 and bucket(255) == 256 and bucket(256) == 1024 and bucket(4096) == 8192


def test_a_value_moved_to_another_row_or_column_does_not_decrypt() -> None:
    cipher = FieldCipher(parse_keys(KEY))
    stored = cipher.encrypt("Trường Tiểu học Tân Phong", "case:1:summary")
    with pytest.raises(InvalidTag):
        cipher.decrypt(stored, "case:2:summary")
    with pytest.raises(InvalidTag):
        cipher.decrypt(stored, "case:1:outcome")


def test_unpadded_values_written_before_still_read_and_rotation_pads_them() -> None:
    cipher = FieldCipher(parse_keys(KEY))
    nonce = os.urandom(12)
    sealed = AESGCM(bytes(range(32))).encrypt(nonce, "Tháng 9".encode(), b"report:1:notes")
    legacy = f"v1:k1:{base64.b64encode(nonce + sealed).decode()}"
    assert cipher.decrypt(legacy, "report:1:notes") == "Tháng 9"
    rotated = cipher.rotate(legacy, "report:1:notes")
    assert rotated is not None and rotated.startswith("v2:k1:") and cipher.rotate(rotated, "report:1:notes") is None
    assert is_ciphertext(rotated) and is_ciphertext(legacy) and not is_ciphertext("Em bị bắt nạt: v1:k1:x")


def test_a_value_sealed_for_one_consumer_opens_only_there_and_only_in_its_context() -> None:
    from shared.sealed import DEV_EVENT_KEYS, Sealer, parse_event_keys

    producer = Sealer(parse_event_keys(DEV_EVENT_KEYS))
    sealed = producer.seal("notify", {"accept": "https://x/accept?signature=1"}, "assignment:1:links")
    assert "signature" not in sealed and sealed.startswith("s1:notify:")
    notify_only = Sealer({"notify": parse_event_keys(DEV_EVENT_KEYS)["notify"]})
    assert notify_only.open("notify", sealed, "assignment:1:links") == {"accept": "https://x/accept?signature=1"}
    intake_only = Sealer({"intake": parse_event_keys(DEV_EVENT_KEYS)["intake"]})
    with pytest.raises(ValueError):
        intake_only.open("notify", sealed, "assignment:1:links")
    with pytest.raises(InvalidTag):
        notify_only.open("notify", sealed, "assignment:2:links")


def test_version_1_events_with_content_upgrade_without_it() -> None:
    import uuid
    from datetime import UTC, datetime

    from shared.events import Envelope
    from shared.events.routing import CounselingRequestAnswered, CounselingRequestAnsweredV1

    old = CounselingRequestAnsweredV1(
        request_id=uuid.uuid4(),
        code="TV-2026-000001",
        answer_text="Chào em Lan",
        answered_by=uuid.uuid4(),
        answered_at=datetime(2026, 11, 20, tzinfo=UTC),
        reply_zalo_user_id="123",
    )
    event = Envelope.wrap(old, producer="routing").event()
    assert isinstance(event, CounselingRequestAnswered) and "Lan" not in event.model_dump_json()
