"""The README documents every environment variable a service reads, with the default that service uses
(regenerate its table with `python -m scripts.settings_table` when a setting is added or changed)."""

from __future__ import annotations

from pathlib import Path

from scripts.settings_table import rows

REPO = Path(__file__).resolve().parents[2]


def test_readme_names_every_setting_with_its_default():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    documented = {
        tuple(cell.strip() for cell in line.split("|")[1:4]) for line in readme.splitlines() if line.startswith("| `")
    }
    for name, service, default, _ in rows():
        assert (f"`{name}`", service, default) in documented, f"README lacks {name} of {service} = {default}"
