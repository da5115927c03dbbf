"""Small numbers are suppressed for the roles that may not list cases (operator, admin): a count of cases
between 1 and `SMALL_NUMBER_THRESHOLD` − 1 in a breakdown (unit × category × …, unit × special-circumstance
group) is shown as "<5", so nobody identifies the one child of a commune with a given problem.

Totals cannot give a suppressed cell back: every total and margin shown next to suppressed cells is the
sum of the cells that are shown (a suppressed cell counts for nothing in it), and `suppressed` says how
many cells were withheld. The chair and the committee, who see the cases themselves, get exact figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.reporting.figures import Row, totals_by

# Roles that may list cases anyway (intake's CASE_LISTERS that read reports) see every number.
EXACT_ROLES = frozenset({"chair", "committee"})


def threshold_for(role: str, threshold: int) -> int:
    """The threshold that applies to a role (0: nothing suppressed)."""
    return 0 if role in EXACT_ROLES or threshold <= 1 else threshold


def label(threshold: int) -> str:
    return f"<{threshold}"


def count(n: Any) -> bool:
    """A number shown as it is (int, or a float share with roll-up), not a "<5"."""
    return isinstance(n, int | float) and not isinstance(n, bool)


def small(n: Any, threshold: int) -> bool:
    return count(n) and 0 < n < threshold


def suppress_rows(rows: Iterable[Row], threshold: int, value: str = "cases") -> list[Row]:
    """The rows with each small count replaced by "<threshold" (rows unchanged when threshold is 0)."""
    if threshold <= 1:
        return list(rows)
    return [{**row, value: label(threshold)} if small(row[value], threshold) else row for row in rows]


def shown(rows: Iterable[Row], value: str = "cases") -> list[Row]:
    return [row for row in rows if count(row[value])]


def withheld(rows: Iterable[Row], value: str = "cases") -> int:
    return sum(1 for row in rows if not count(row[value]))


def note(threshold: int, cells: int) -> dict[str, Any]:
    return {
        "threshold": threshold,
        "cells": cells,
        "en": f"Cells under {threshold} are shown as {label(threshold)}; totals count only the cells shown.",
        "vi": f"Ô có ít hơn {threshold} vụ việc được ghi {label(threshold)}; các tổng chỉ cộng những ô được hiển thị.",
    }


def cases_report(rows: list[Row], threshold: int, dimensions: tuple[str, ...]) -> Row:
    """The `cases` report (total, margins and fine rows) for a role that sees small numbers suppressed."""
    suppressed = suppress_rows(rows, threshold)
    visible = shown(suppressed)
    return {
        "total": sum(row["cases"] for row in visible),
        **{f"by_{d}": totals_by(visible, d) for d in dimensions},
        "rows": suppressed,
        "suppressed": note(threshold, withheld(suppressed)),
    }
