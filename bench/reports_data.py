"""A generator of realistic reporting data, written straight into reporting's tables.

Cases spread over 2023-01 .. 2027-12 (the club's 5-year plan), each under a unit that existed in its
month (the 2023 districts until 2025-06, the 2025 communes after), with the taxonomy's categories at
skewed frequencies, urgencies, states that depend on the case's age, special-circumstance groups for one
case in five, and the assignment/acceptance/forwarding times reporting keeps. The pre-aggregated counters
are then computed from these facts with one `INSERT ... SELECT ... GROUP BY` each, exactly as the
projection would have summed them event by event, and every unit gets its monthly reports (COPY).

The cases are generated inside PostgreSQL (`generate_series` and `random()`, 250,000 rows a statement):
building 1,000,000 rows in Python and sending them with COPY took minutes on this shared 2-core machine,
the SQL takes seconds, and the rows are the same shape either way.
"""

from __future__ import annotations

import csv
import random
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg

from devtools.infra import REPO
from services.reporting import aggregates

DATA = REPO / "data"
FIRST_MONTH, LAST_MONTH = (2023, 1), (2027, 12)
SPLIT = date(2025, 7, 1)  # the 2025 reorganisation
CHUNK = 250_000  # rows per INSERT, so a run shows progress and no statement runs for minutes


def _csv(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _months() -> list[tuple[int, int]]:
    out, (y, m) = [], FIRST_MONTH
    while (y, m) <= LAST_MONTH:
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


GENERATE = """
INSERT INTO reporting.cases (case_id, code, unit, category, urgency, status, period, reported_at, protection_level,
                             age_band, special_circumstances, status_at, assigned_at, accepted_at, forwarded_at)
SELECT gen_random_uuid(), 'TN-' || to_char(reported_at, 'YYYY') || '-' || lpad(i::text, 7, '0'),
       CASE WHEN reported_at < timestamptz '2025-07-01 00:00+07'
            THEN ($2::text[])[1 + floor(r_unit * cardinality($2::text[]))::int]
            ELSE ($3::text[])[1 + floor(r_unit * cardinality($3::text[]))::int] END,
       ($4::text[])[1 + floor(power(r_cat, 2.5) * cardinality($4::text[]))::int],  -- a few categories dominate
       urgency, status, to_char(reported_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM'), reported_at,
       CASE urgency WHEN 'critical' THEN 'intervention' WHEN 'low' THEN 'prevention' ELSE 'support' END,
       (ARRAY['0-5', '6-10', '11-15', '16-17', 'unknown'])[1 + floor(r_band * 5)::int],
       CASE WHEN r_grp < 0.2 THEN ARRAY[($5::text[])[1 + floor(r_grp * 5 * cardinality($5::text[]))::int]]
            ELSE '{}'::text[] END,
       coalesce(forwarded_at, accepted_at, assigned_at, reported_at), assigned_at, accepted_at, forwarded_at
FROM (
  SELECT *, CASE WHEN status IN ('forwarded', 'closed')
                 THEN accepted_at + (1 + floor(random() * 19)) * interval '1 day' END AS forwarded_at
  FROM (
    SELECT *, CASE WHEN status NOT IN ('reported', 'assigned')
                   THEN assigned_at + (600 + random() * 172200) * interval '1 second' END AS accepted_at
    FROM (
      SELECT *, CASE WHEN status <> 'reported'
                     THEN reported_at + (60 + random() * 14340) * interval '1 second' END AS assigned_at
      FROM (
        SELECT i, reported_at, r_unit, r_cat, r_band, r_grp,
               CASE WHEN r_urg < 0.05 THEN 'critical' WHEN r_urg < 0.30 THEN 'high'
                    WHEN r_urg < 0.75 THEN 'medium' ELSE 'low' END AS urgency,
               CASE WHEN timestamptz '2027-12-31 23:59+07' - reported_at > interval '30 days'
                    THEN CASE WHEN r_st < 0.05 THEN 'in_progress' WHEN r_st < 0.10 THEN 'forwarded' ELSE 'closed' END
                    ELSE CASE WHEN r_st < 0.1 THEN 'assigned' WHEN r_st < 0.3 THEN 'accepted'
                              WHEN r_st < 0.7 THEN 'in_progress' WHEN r_st < 0.9 THEN 'forwarded' ELSE 'closed' END
               END AS status
        FROM (
          SELECT i, timestamptz '2023-01-01 00:00+07'
                    + (i::float8 / $1 + random() / $1) * (timestamptz '2028-01-01 00:00+07'
                    - timestamptz '2023-01-01 00:00+07') AS reported_at,
                 random() AS r_unit, random() AS r_cat, random() AS r_band, random() AS r_grp,
                 random() AS r_urg, random() AS r_st
          FROM generate_series($6::bigint, $7::bigint) AS i
        ) AS g
      ) AS s
    ) AS a
  ) AS b
) AS c
"""


# The counters, summed from these facts by the same statements as `aggregates.recount` (what the projection
# would have summed event by event).
COUNTERS = [
    "TRUNCATE reporting.case_counts, reporting.case_group_counts, reporting.case_timings, reporting.case_tallies,"
    " reporting.case_totals, reporting.stage_timings",
    *aggregates.COUNTERS,
]


def monthly_report_rows(seed: int = 11) -> list[tuple]:
    """Every unit's monthly report for every month it existed, most on time."""
    rng = random.Random(seed)
    rows = []
    for y, m in _months():
        due = date(y + (m == 12), 1 if m == 12 else m + 1, 5)
        units = _csv("units-tay-ninh-2023.csv") if date(y, m, 1) < SPLIT else _csv("units-tay-ninh-2025.csv")
        for unit in units:
            if rng.random() < 0.05:
                continue  # a missing report
            late = rng.random() < 0.15
            submitted = datetime(due.year, due.month, due.day, 9, tzinfo=UTC) + timedelta(days=3 if late else -2)
            rows.append(
                (unit["code"], f"{y}-{m:02d}", 1, uuid.uuid4(), submitted, due, 0 if late else 1,
                 '{"neglect": 2}', "{}", rng.randint(0, 4))
            )  # fmt: skip
    return rows


async def load(dsn: str, n: int) -> dict[str, float]:
    """Write `n` cases, the counters and the monthly reports; returns timings of each part (seconds)."""
    import time

    conn = await asyncpg.connect(dsn)
    timings: dict[str, float] = {}
    try:
        t0 = time.perf_counter()
        codes = [[u["code"] for u in _csv(f)] for f in ("units-tay-ninh-2023.csv", "units-tay-ninh-2025.csv")]
        categories = [c["code"] for c in _csv("case-categories.csv")]
        groups = [g["code"] for g in _csv("special-circumstances.csv")]
        for start in range(0, n, CHUNK):
            last = min(n, start + CHUNK) - 1
            await conn.execute(GENERATE, n, *codes, categories, groups, start, last)
        timings["generate_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for statement in COUNTERS:
            await conn.execute(statement)
        await conn.copy_records_to_table(
            "monthly_reports", schema_name="reporting",
            columns=["unit", "period", "revision", "report_id", "submitted_at", "due_on", "on_time",
                     "cases_by_category", "special_circumstances_known", "activities_held"],
            records=monthly_report_rows(),
        )  # fmt: skip
        for statement in aggregates.TOTALS:  # after the monthly reports, which they also sum
            await conn.execute(statement)
        await conn.execute("ANALYZE")
        timings["aggregate_s"] = time.perf_counter() - t0
    finally:
        await conn.close()
    return timings
