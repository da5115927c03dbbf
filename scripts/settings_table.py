"""Print every environment variable the services read, with its default and meaning, as a Markdown table
(`python -m scripts.settings_table`); `--write` replaces the README's table with it."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from pydantic_settings import BaseSettings

from shared.settings import ServiceSettings

REPO = Path(__file__).resolve().parents[1]

CLASSES = {
    "intake": "IntakeSettings",
    "routing": "RoutingSettings",
    "notify": "NotifySettings",
    "reporting": "ReportingSettings",
    "web": "WebSettings",
}


def rows() -> list[tuple[str, str, str, str]]:
    out = [
        (name.upper(), "all", _default(field.default), field.description or "")
        for name, field in ServiceSettings.model_fields.items()
    ]
    shared = set(ServiceSettings.model_fields)
    for service, cls_name in CLASSES.items():
        cls: type[BaseSettings] = getattr(importlib.import_module(f"services.{service}.settings"), cls_name)
        for name, field in cls.model_fields.items():
            if name in shared and field.default == ServiceSettings.model_fields[name].default:
                continue
            out.append((name.upper(), service, _default(field.default), field.description or ""))
    return out


def _default(value: object) -> str:
    text = str(value)
    text = text.replace(str(REPO) + "/", "")
    if "/data/" in text:
        text = "data/" + text.rsplit("/data/", 1)[1]
    return f"`{text}`" if text else "(empty)"


BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"


def table() -> str:
    lines = ["| variable | read by | default | meaning |", "|---|---|---|---|"]
    for name, service, default, description in rows():
        lines.append(f"| `{name}` | {service} | {default} | {description.replace('|', '/')} |")
    return "\n".join(lines)


def main() -> None:
    """Print the table; with `--write`, replace the one between the markers in README.md."""
    if "--write" not in sys.argv[1:]:
        print(table())
        return
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    before, rest = text.split(BEGIN, 1)
    _, after = rest.split(END, 1)
    readme.write_text(f"{before}{BEGIN}\n{table()}\n{END}{after}", encoding="utf-8")


if __name__ == "__main__":
    main()
