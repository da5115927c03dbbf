"""Cells a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR at the start), made plain text:
every CSV/XLSX a service writes passes its text cells through `neutral`."""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: Any) -> Any:
    """Text a spreadsheet would read as a formula, made plain text; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
