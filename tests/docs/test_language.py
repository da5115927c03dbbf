"""No English, no raw code and no generic register reaches a Vietnamese reader: every rendered message
and document sample (what `python -m scripts.samples` renders from the code), the shared error sentences,
and every Vietnamese refusal written in the services' code. Members, officers and units are addressed
"đồng chí" / "Ban Thường vụ Đoàn …"; deadlines read "chậm nhất …"."""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path

import pytest

from scripts import samples
from shared.http_errors import STATUS_SENTENCES, VI_MESSAGES, validation_entries

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"
URL = re.compile(r"https?://\S+|`[^`]*`|\[[^\]]*\]\([^)]*\)")
# English a reader could meet; matched as whole words, case-sensitively for the capitalised ones.
ENGLISH = ("or", "and", "Dear", "Hello", "Please", "Error", "Unknown", "None", "null", "True", "False", "N/A", "TODO")
GENERIC = ("Bạn ", "bạn ", "Anh/Chị", "anh/chị", "Quý khách", "hạn chót", "deadline")
DEADLINE_TEMPLATES = {
    "case_assigned",
    "case_members_added",
    "deadline_reminder",
    "monthly_report_reminder",
    "plan_reminder",
    "task_assigned",
    "counseling_request_assigned",
}


def _codes() -> set[str]:
    codes = {"police", "free", "online_harm", "critical", "intervention", "prevention", "social_work"}
    codes |= {"commune_committee", "commune_child_protection_officer", "hotline_111", "health_facility"}
    codes |= {"commune_social_services", "legal_aid", "provincial_support", "member_contributions", "board_training"}
    for name in ("case-categories.csv", "special-circumstances.csv"):
        with (DATA / name).open(encoding="utf-8") as handle:
            codes |= {row["code"] for row in csv.DictReader(handle) if len(row["code"]) > 2}
    return codes


CODES = _codes()
RENDERED = {path: text for path, text in samples.rendered().items() if isinstance(text, str)}
READ = sorted(path for path in RENDERED if path.endswith(".md"))  # the .html twins hold the same sentences


def _prose(text: str) -> str:
    """The text a person reads: without links, code spans (the sample pages' own notes) and file names."""
    lines = [line for line in text.splitlines() if not line.startswith("Mẫu `")]
    return URL.sub(" ", "\n".join(lines))


@pytest.mark.parametrize("path", READ)
def test_a_rendered_sample_has_no_english_no_raw_code_and_no_generic_register(path: str):
    prose = _prose(RENDERED[path])
    words = {w for w in re.findall(r"\w+", prose) if w.isascii()}
    assert not words & set(ENGLISH), (path, words & set(ENGLISH))
    assert not words & CODES, (path, words & CODES)
    child = "counseling_answer" in path  # a child is addressed "em"
    for phrase in GENERIC:
        assert child or phrase not in prose, (path, phrase)


def test_messages_address_members_as_comrades_and_units_as_their_youth_union():
    for sample in samples.messages():
        text = RENDERED[f"messages/{sample.name}.md"]
        if sample.planned.template == "counseling_answer":
            assert "111" in text
            continue
        if sample.planned.template.startswith("account_"):
            continue  # addressed to the person by name, checked in tests/notify
        assert "Kính gửi đồng chí " in text or "Kính gửi Ban Thường vụ Đoàn " in text, sample.name


def test_deadlines_in_mails_and_zalo_read_chậm_nhất():
    for sample in samples.messages():
        if sample.planned.template in DEADLINE_TEMPLATES:
            text = RENDERED[f"messages/{sample.name}.md"]
            email, zalo = text.split("## Tin nhắn Zalo")
            assert "chậm nhất" in email and "chậm nhất" in zalo, sample.name


def test_the_shared_error_sentences_are_vietnamese_in_the_register_and_lists_say_hoặc():
    for english, vietnamese in STATUS_SENTENCES.values():
        assert vietnamese != english and not any(g in vietnamese for g in GENERIC)
    assert all(not any(g in v for g in GENERIC) for v in VI_MESSAGES.values())
    error = {"type": "literal_error", "loc": ("body", "to"), "msg": "x", "ctx": {"expected": "'police' or 'school'"}}
    [entry] = validation_entries([error], "vi")
    assert entry["message"] == "Giá trị phải là một trong: 'police' hoặc 'school'."


REFUSALS = {"NotFound", "Conflict", "Forbidden", "Unauthorized", "TooManyRequests", "Unavailable", "one"}
VIETNAMESE = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]", re.IGNORECASE)


def _refusal_sentences() -> list[tuple[str, str]]:
    """(where, Vietnamese sentence) of every refusal written in services/ and shared/."""
    found = []
    for path in [*REPO.glob("services/**/*.py"), *REPO.glob("shared/**/*.py")]:
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in REFUSALS:
                continue
            args = node.args[1:] if name == "one" else node.args
            if len(args) >= 2:
                vi = args[1]
                if isinstance(vi, ast.Constant) and isinstance(vi.value, str):
                    found.append((f"{path.relative_to(REPO)}:{node.lineno}", vi.value))
                elif isinstance(vi, ast.JoinedStr):
                    text = "".join(
                        v.value for v in vi.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
                    )
                    found.append((f"{path.relative_to(REPO)}:{node.lineno}", text))
    return found


def test_every_refusal_in_the_code_has_a_vietnamese_sentence_in_the_register():
    sentences = _refusal_sentences()
    assert len(sentences) > 50  # the scan sees the services' refusals
    for where, vietnamese in sentences:
        assert VIETNAMESE.search(vietnamese), (where, vietnamese)
        assert not any(g in vietnamese for g in GENERIC), (where, vietnamese)
