"""Importing the member registry from a CSV the chair uploads: each row read into a `MemberIn` (or its
field-level errors, in Vietnamese and English), then compared with the registry: added, changed (which
fields, old and new), unchanged or in error. No I/O here: the API reads the registry and writes it.

The columns are the demo club's (`data/demo-club.csv`): lists are `;`-separated and leave periods are
`2026-12-01..2026-12-10;2027-02-01..2027-02-05`."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from services.routing.registry import MemberIn, _leaves, _split
from shared.http_errors import validation_entries

COLUMNS = tuple(MemberIn.model_fields)
LISTS = ("fields", "units", "channels")
# The rules checked across fields say which field they are about, in both languages.
RULES = {
    "quiet_start and quiet_end go together": (
        "quiet_end",
        "Giờ yên lặng cần cả giờ bắt đầu (quiet_start) và giờ kết thúc (quiet_end).",
    ),
    "active_to must not be before active_from": ("active_to", "Ngày kết thúc hoạt động trước ngày bắt đầu."),
    "a member needs an email or a zalo_user_id": ("email", "Thành viên cần có email hoặc tài khoản Zalo."),
    "ends_on must not be before starts_on": ("leave_periods", "Ngày kết thúc nghỉ trước ngày bắt đầu nghỉ."),
}


@dataclass(frozen=True)
class RowError:
    field: str
    en: str
    vi: str


@dataclass
class ImportRow:
    line: int
    key: str
    display_name: str
    member: MemberIn | None = None
    status: str = "error"  # added | changed | unchanged | error
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _errors(exc: ValidationError) -> list[RowError]:
    found = []
    for error, en in zip(validation_entries(exc.errors(), "vi"), validation_entries(exc.errors(), "en"), strict=True):
        name, vi = error["field"], error["message"]
        for text, (rule_field, rule_vi) in RULES.items():
            if text in en["message"]:
                name, vi = (name if name.startswith("leave_periods") else rule_field), rule_vi
        found.append(RowError(name.split(".")[0] or "row", en["message"], vi))
    return found


def read(text: str) -> tuple[list[ImportRow], list[RowError]]:
    """Every data row of the CSV (line numbers as a spreadsheet shows them), or errors about the file."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or [] if name]
    if "key" not in header:
        return [], [RowError("csv", "The file has no `key` column.", "Tệp không có cột `key` (khóa thành viên).")]
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        names = ", ".join(unknown)
        return [], [RowError("csv", f"Unknown columns: {names}.", f"Tệp có cột không dùng được: {names}.")]
    rows, seen = [], {}
    for line, raw in enumerate(reader, start=2):
        data = {k.strip(): v.strip() for k, v in raw.items() if k and isinstance(v, str) and v.strip()}
        if not data:
            continue
        for name in LISTS:
            if name in data:
                data[name] = _split(data[name])
        if "leave_periods" in data:
            data["leave_periods"] = _leaves(data["leave_periods"])
        row = ImportRow(line=line, key=str(data.get("key", "")), display_name=str(data.get("display_name", "")))
        try:
            row.member = MemberIn.model_validate(data)
        except ValidationError as exc:
            row.errors = _errors(exc)
        if row.key and row.key in seen:
            row.errors.append(
                RowError("key", f"Key repeated from line {seen[row.key]}.", f"Khóa trùng với dòng {seen[row.key]}.")
            )
        seen.setdefault(row.key, line)
        rows.append(row)
    if not rows:
        return [], [RowError("csv", "The file has no member rows.", "Tệp không có dòng thành viên nào.")]
    return rows, []


def _comparable(member: MemberIn) -> dict[str, Any]:
    return member.model_dump(mode="json")


def compare(rows: list[ImportRow], registry: dict[str, MemberIn]) -> None:
    """Mark each valid row added, changed (with the fields that differ) or unchanged against the registry
    (members by key)."""
    for row in rows:
        if row.errors or row.member is None:
            row.status = "error"
            continue
        before = registry.get(row.key)
        if before is None:
            row.status = "added"
            continue
        old, new = _comparable(before), _comparable(row.member)
        row.changes = [(name, old[name], new[name]) for name in COLUMNS if old[name] != new[name]]
        row.status = "changed" if row.changes else "unchanged"
