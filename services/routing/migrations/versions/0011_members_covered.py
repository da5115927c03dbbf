"""members.covered: every unit a member covers, kept by triggers, so the pool reads no `units` per member

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 13:00:00

The pool queries computed what each member covers (their units, the communes that succeeded a former district
they list, the former districts succeeded by a commune they list) with subqueries over `routing.units`, two
sequential scans of it per member per pool read: about 27 scans of ~105 rows per case at 50 cases/s. The
answer changes only when a member's units or the unit map change, so it is now stored with the member and
kept by the database for every writer (the registry import, `unit.upserted`, `seed`, a migration, manual SQL):

- `members_covered` (BEFORE INSERT or UPDATE OF units, per row) computes a member's `covered` from `units`;
- `units_covered` (AFTER any change to `units`, per statement) recomputes every member whose answer changed,
  in the same transaction as the change, so no reader ever sees a member's `covered` out of step with the map.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same definition the pool queries used (the 2025 reorganisation both ways), sorted for a stable value.
COVERED = """CREATE OR REPLACE FUNCTION routing.covered_units(listed varchar[]) RETURNS varchar[] AS $$
    SELECT coalesce(array_agg(unit ORDER BY unit), '{}') FROM (
        SELECT unnest(listed) AS unit
        UNION SELECT unnest(u.successors) FROM routing.units AS u WHERE u.code = ANY(listed)
        UNION SELECT u.code FROM routing.units AS u WHERE u.successors && listed
    ) AS covered
$$ LANGUAGE sql STABLE"""

MEMBER_TRIGGER = """CREATE OR REPLACE FUNCTION routing.members_covered() RETURNS trigger AS $$
    BEGIN NEW.covered := routing.covered_units(NEW.units); RETURN NEW; END $$ LANGUAGE plpgsql"""

UNITS_TRIGGER = """CREATE OR REPLACE FUNCTION routing.units_covered() RETURNS trigger AS $$
    BEGIN
        UPDATE routing.members SET covered = routing.covered_units(units)
            WHERE covered IS DISTINCT FROM routing.covered_units(units);
        RETURN NULL;
    END $$ LANGUAGE plpgsql"""


def upgrade() -> None:
    op.add_column(
        "members",
        sa.Column("covered", postgresql.ARRAY(sa.String(length=100)), server_default="{}", nullable=False),
        schema="routing",
    )
    op.execute(COVERED)
    op.execute(MEMBER_TRIGGER)
    op.execute(UNITS_TRIGGER)
    op.execute(
        """CREATE TRIGGER members_covered BEFORE INSERT OR UPDATE OF units ON routing.members
            FOR EACH ROW EXECUTE FUNCTION routing.members_covered()"""
    )
    op.execute(
        """CREATE TRIGGER units_covered AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON routing.units
            FOR EACH STATEMENT EXECUTE FUNCTION routing.units_covered()"""
    )
    op.execute("UPDATE routing.members SET covered = routing.covered_units(units)")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS units_covered ON routing.units")
    op.execute("DROP TRIGGER IF EXISTS members_covered ON routing.members")
    op.execute("DROP FUNCTION IF EXISTS routing.units_covered()")
    op.execute("DROP FUNCTION IF EXISTS routing.members_covered()")
    op.execute("DROP FUNCTION IF EXISTS routing.covered_units(varchar[])")
    op.drop_column("members", "covered", schema="routing")
