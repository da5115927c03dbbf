"""docs/samples/ holds a rendered sample of every message and document: it must match what the code renders
now, and cover every notify template and every kind of review."""

from __future__ import annotations

from pathlib import Path

from scripts import samples
from services.notify.templates import TEMPLATES


def test_the_committed_samples_are_what_the_code_renders_now():
    assert samples.stale() == [], "run `python -m scripts.samples` and commit docs/samples/"


def test_a_changed_template_makes_the_samples_stale(tmp_path: Path):
    samples.write(tmp_path)
    assert samples.stale(tmp_path) == []
    page = tmp_path / "messages" / "case_assigned.md"
    page.write_text(page.read_text(encoding="utf-8").replace("đồng chí", "Anh/Chị"), encoding="utf-8")
    (tmp_path / "errors.md").unlink()
    assert samples.stale(tmp_path) == ["stale messages/case_assigned.md", "missing errors.md"]


def test_every_template_has_a_sample_and_the_documents_are_there():
    names = {s.planned.template for s in samples.messages()}
    assert names == set(TEMPLATES)
    files = samples.rendered()
    assert {"documents/so-ket-nam-2025.docx", "documents/so-ket-nam-2025.md", "errors.md"} <= set(files)
