"""fast intake: per-year code sequences, change notifications, case members

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 09:50:00

- Case codes come from one SEQUENCE per year (`intake.case_code_<year>`, created on demand by
  `intake.next_case_number(year)`; `intake.next_case_code(year)` formats `TN-<year>-<6 digits>`), so
  concurrent reports no longer queue on a counter row. Years already counted in `case_counters` get a
  sequence starting after their last number.
- Changes to units, successors, categories and special circumstances NOTIFY `intake_reference`; changes
  to credentials NOTIFY `intake_credentials` with the key id: each process drops its cached copy at once.
- `case_members`: which members routing put on which case (from `case.assigned` / `case.members_changed`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFERENCE_TABLES = ("units", "unit_successors", "categories", "special_circumstances")


def upgrade() -> None:
    op.create_table(
        "case_members",
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("on_case", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "member_id", name=op.f("pk_case_members")),
        schema="intake",
    )
    # Creating a sequence concurrently can collide on the catalogue's unique index: retry once, then it exists.
    op.execute(
        """CREATE OR REPLACE FUNCTION intake.next_case_number(year integer) RETURNS bigint AS $$
        DECLARE
            name text := format('intake.case_code_%s', year);
            start bigint;
        BEGIN
            IF to_regclass(name) IS NULL THEN
                SELECT coalesce(max(last), 0) + 1 INTO start FROM intake.case_counters WHERE case_counters.year = $1;
                BEGIN
                    EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %s START WITH %s', name, start);
                EXCEPTION WHEN unique_violation OR duplicate_table THEN
                    NULL;  -- another transaction created it first
                END;
            END IF;
            RETURN nextval(name);
        END $$ LANGUAGE plpgsql"""
    )
    op.execute(
        """CREATE OR REPLACE FUNCTION intake.next_case_code(year integer) RETURNS text AS $$
        DECLARE n text := intake.next_case_number(year)::text;
        BEGIN
            RETURN format('TN-%s-%s', year, lpad(n, greatest(6, length(n)), '0'));
        END $$ LANGUAGE plpgsql"""
    )
    op.execute(
        """DO $$ DECLARE r record; BEGIN
            FOR r IN SELECT year, last FROM intake.case_counters LOOP
                EXECUTE format('CREATE SEQUENCE IF NOT EXISTS intake.case_code_%s START WITH %s', r.year, r.last + 1);
            END LOOP;
        END $$"""
    )
    op.execute(
        """CREATE OR REPLACE FUNCTION intake.reference_notify() RETURNS trigger AS $$
            BEGIN PERFORM pg_notify('intake_reference', TG_TABLE_NAME); RETURN NULL; END $$ LANGUAGE plpgsql"""
    )
    for table in REFERENCE_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS reference_notify ON intake.{table}")
        op.execute(
            f"""CREATE TRIGGER reference_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON intake.{table}
                FOR EACH STATEMENT EXECUTE FUNCTION intake.reference_notify()"""
        )
    op.execute(
        """CREATE OR REPLACE FUNCTION intake.credentials_notify() RETURNS trigger AS $$
            BEGIN PERFORM pg_notify('intake_credentials', OLD.key_id); RETURN NULL; END $$ LANGUAGE plpgsql"""
    )
    op.execute("DROP TRIGGER IF EXISTS credentials_notify ON intake.credentials")
    op.execute(
        """CREATE TRIGGER credentials_notify AFTER UPDATE OR DELETE ON intake.credentials
            FOR EACH ROW EXECUTE FUNCTION intake.credentials_notify()"""
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS credentials_notify ON intake.credentials")
    op.execute("DROP FUNCTION IF EXISTS intake.credentials_notify()")
    for table in REFERENCE_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS reference_notify ON intake.{table}")
    op.execute("DROP FUNCTION IF EXISTS intake.reference_notify()")
    op.execute("DROP FUNCTION IF EXISTS intake.next_case_code(integer)")
    op.execute("DROP FUNCTION IF EXISTS intake.next_case_number(integer)")
    op.drop_table("case_members", schema="intake")
