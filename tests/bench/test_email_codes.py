"""The benchmark finds a notification's case code and recipients from the email's headers when the subject holds
the code (every case notification's does), and reads the text parts only when it does not."""

from __future__ import annotations

import uuid

from bench.e2e import _codes_text
from services.notify.settings import NotifySettings
from services.notify.smtp import build_email
from services.notify.templates import Rendered


def _raw(subject: str, text: str) -> bytes:
    rendered = Rendered(subject, text, f"<p>{text}</p>", "")
    return build_email(uuid.uuid4(), "Nguyễn Thị Lan", "Lan@Example.vn", rendered, NotifySettings()).data


def test_the_code_in_the_subject_is_found_from_the_headers() -> None:
    raw = _raw("[KHẨN CẤP] Vụ việc TN-2026-000123 cần đồng chí hỗ trợ: Bị bỏ mặc – Phường Tân Ninh", "Kính gửi")
    text, recipients = _codes_text(raw)
    assert text == "[KHẨN CẤP] Vụ việc TN-2026-000123 cần đồng chí hỗ trợ: Bị bỏ mặc – Phường Tân Ninh"
    assert recipients == ["lan@example.vn"]


def test_a_code_only_in_the_body_is_found_in_the_text_part() -> None:
    raw = _raw("Nhắc việc của câu lạc bộ", "Vụ việc TN-2026-000456 đã quá hạn trả lời.")
    text, recipients = _codes_text(raw)
    assert "TN-2026-000456" in text
    assert text.startswith("Nhắc việc của câu lạc bộ")
    assert recipients == ["lan@example.vn"]
