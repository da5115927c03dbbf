"""The email as it goes on the wire: CRLF line ends (its length is the SIZE announced), no line starting with a
dot, headers within 78 characters, and RFC 2047 words that decode back to the exact Vietnamese text."""

from __future__ import annotations

import base64
import uuid
from email import message_from_bytes, policy
from email.header import Header, decode_header, make_header

import aiosmtplib
import pytest

from services.notify.smtp import _encoded, build_email
from services.notify.smtp_pool import _quoted
from services.notify.templates import Rendered
from tests.notify.conftest import settings_from

LONG_SUBJECT = (
    "[KHẨN CẤP] Vụ việc TN-2026-000123 cần đồng chí hỗ trợ: Xâm hại tình dục – Đoàn phường Tân Ninh, "
    "xã Bàu Năng, huyện Dương Minh Châu, tỉnh Tây Ninh (lĩnh vực Tâm lý, Y tế, Pháp lý)"
)


@pytest.mark.parametrize(
    ("subject", "name"),
    [
        (LONG_SUBJECT, "Nguyễn Thị Ngọc Ánh Dương"),
        ("Vụ việc TN-2026-000001 cần Anh/Chị hỗ trợ", "Trần Thị Lan"),
        ("ASCII only, TN-2026-000002", "Lan, Tran"),
        ("Đ", "Ư"),
    ],
)
def test_the_wire_format_reads_back_exactly_and_every_line_is_crlf_and_short(subject: str, name: str) -> None:
    settings = settings_from({"MAIL_FROM": "Câu lạc bộ tư vấn, giúp đỡ trẻ em <clb@tinhdoan-tayninh.vn>"})
    text = "Kính gửi đồng chí,\n.dòng bắt đầu bằng dấu chấm\n" * 20
    rendered = Rendered(subject, text, f"<p>{text}</p>\n", "")
    wire = build_email(uuid.uuid4(), name, "lan@x.vn", rendered, settings).as_bytes()

    lines = wire.split(b"\r\n")
    assert wire.endswith(b"\r\n") and all(b"\n" not in line and b"\r" not in line for line in lines)
    assert not any(line.startswith(b".") for line in lines)  # nothing for the DATA command to dot-stuff
    head = wire.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and all(len(line) <= 78 for line in head.split(b"\r\n") if not line.startswith(b"Content"))

    message = message_from_bytes(wire, policy=policy.default)
    assert message["Subject"] == subject
    assert message["To"].addresses[0].addr_spec == "lan@x.vn"
    # display names by RFC 2047's rules (the `email` package's address parser puts a space between two
    # encoded words of a phrase, as it did with the words `email.header.Header` made)
    raw = message_from_bytes(wire, policy=policy.compat32)
    assert str(make_header(decode_header(raw["To"]))) == f"{name} <lan@x.vn>" or name.isascii()
    assert str(make_header(decode_header(raw["From"]))).startswith("Câu lạc bộ tư vấn, giúp đỡ trẻ em <")
    plain, html = (part.get_content() for part in message.iter_parts())
    assert plain == text and html == f"<p>{text}</p>\n"


@pytest.mark.parametrize("header", ["Subject", "To", "From"])
@pytest.mark.parametrize("value", [LONG_SUBJECT, "Đ", "Trần Thị Lan", "Nguyễn Thị Ngọc Ánh Dương Quỳnh Hương Phượng"])
def test_headers_decode_back_exactly(value: str, header: str) -> None:
    """RFC 2047 decoding (whitespace between two encoded words ignored) gives the exact text; a value that fits
    one word is encoded as `email.header.Header` encodes it (the words it replaces, ~80 µs a subject)."""
    encoded = _encoded.__wrapped__(value, header)
    assert str(make_header(decode_header(encoded))) == value
    if "\r\n" not in encoded:
        assert encoded == Header(value, "utf-8", header_name=header).encode()


def test_encoded_words_stay_within_75_characters_and_never_split_a_character() -> None:
    encoded = _encoded.__wrapped__(LONG_SUBJECT * 3, "Subject")
    words = encoded.split("\r\n ")
    assert len(words) > 3 and all(len(word) <= 75 for word in words)
    assert all(word.startswith("=?utf-8?b?") and word.endswith("?=") for word in words)
    # each word decodes on its own (no character cut in two)
    assert "".join(base64.b64decode(word[10:-2]).decode("utf-8") for word in words) == LONG_SUBJECT * 3


def test_an_address_that_cannot_go_without_smtputf8_is_refused_as_a_permanent_failure() -> None:
    assert _quoted("lan@example.org") == b"<lan@example.org>"
    with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
        _quoted("ngọc.ánh@ví-dụ.vn")
    assert refused.value.code == 553
