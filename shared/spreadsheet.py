"""Text for spreadsheets, shared by every CSV or XLSX a service writes.

Formula injection: a text cell beginning with `=`, `+`, `-`, `@`, tab or carriage return (a unit, an activity,
a person's name typed by a user) would be run as a formula by a spreadsheet; such text is written with a
leading apostrophe (numbers and dates are left as they are). CSV is UTF-8 with a byte-order mark so Excel
opens Vietnamese text correctly."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: Any) -> Any:
    """Text a spreadsheet would read as a formula, made plain text; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A CSV file (BOM, CRLF), every text cell neutralised, dates as ISO 8601, None as empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutral(h) for h in headers])
    for row in rows:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else neutral(v) for v in row])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")
