"""members.open_load: each member's load kept by triggers, so the pool reads it instead of counting it

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 17:00:00

A member's load is the number of live subjects (cases not closed, counselling requests not answered) on which
they hold an open assignment (pending or accepted) with a field. The pool query counted it at every pool read
with a GROUP BY over every open assignment of every live subject: a read that grew with the work in hand (10 ms
of PostgreSQL per case with 4,000 open cases and 12,000 open assignments, the end of the benchmark's 50/s step).
It is now kept as the work changes, whoever writes it:

- `member_holdings` (member, subject, open): how many open assignments with a field a member holds on a
  subject; a row exists only while that is above zero;
- `assignments_hold` (AFTER each row's INSERT, DELETE, or UPDATE of what the definition reads) moves the
  counts, and `open_load` by one when a member starts or stops holding a live subject;
- `cases_live` and `requests_live` (AFTER INSERT, and UPDATE of `status` that makes the subject live or not)
  move `open_load` of every member holding it.

A transaction that changes a member's holding locks the subject's row (FOR SHARE) before reading whether it is
live, so a subject closed at the same moment is counted by exactly one of the two transactions. The backfill
runs with those tables locked against writes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOLD = """CREATE OR REPLACE FUNCTION routing.hold(_member uuid, _case uuid, _request uuid, _delta integer)
RETURNS void AS $$
    DECLARE
        _subject uuid := coalesce(_case, _request);
        _live boolean;
        _after integer;
    BEGIN
        IF _case IS NOT NULL THEN
            SELECT c.status <> 'closed' INTO _live FROM routing.cases AS c WHERE c.case_id = _case FOR SHARE;
        ELSE
            SELECT r.status <> 'answered' INTO _live
              FROM routing.counseling_requests AS r WHERE r.request_id = _request FOR SHARE;
        END IF;
        INSERT INTO routing.member_holdings AS h (member_id, subject, open) VALUES (_member, _subject, _delta)
            ON CONFLICT (member_id, subject) DO UPDATE SET open = h.open + _delta
            RETURNING h.open INTO _after;
        IF _after = 0 THEN
            DELETE FROM routing.member_holdings AS h WHERE h.member_id = _member AND h.subject = _subject;
        END IF;
        -- a change of holding (0 -> 1 or 1 -> 0) of a live subject moves the load
        IF coalesce(_live, false) AND ((_delta > 0 AND _after = _delta) OR (_delta < 0 AND _after = 0)) THEN
            UPDATE routing.members SET open_load = open_load + sign(_delta)::integer WHERE member_id = _member;
        END IF;
    END $$ LANGUAGE plpgsql"""

ASSIGNMENTS = """CREATE OR REPLACE FUNCTION routing.assignments_hold() RETURNS trigger AS $$
    DECLARE
        _was boolean := false;
        _is boolean := false;
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            _was := OLD.status IN ('pending', 'accepted') AND OLD.field IS NOT NULL;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            _is := NEW.status IN ('pending', 'accepted') AND NEW.field IS NOT NULL;
        END IF;
        IF _was AND _is AND OLD.member_id = NEW.member_id AND OLD.case_id IS NOT DISTINCT FROM NEW.case_id
           AND OLD.request_id IS NOT DISTINCT FROM NEW.request_id THEN
            RETURN NULL;  -- pending -> accepted: the same holding
        END IF;
        IF _was THEN
            PERFORM routing.hold(OLD.member_id, OLD.case_id, OLD.request_id, -1);
        END IF;
        IF _is THEN
            PERFORM routing.hold(NEW.member_id, NEW.case_id, NEW.request_id, 1);
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql"""

SUBJECTS = """CREATE OR REPLACE FUNCTION routing.subject_live() RETURNS trigger AS $$
    DECLARE
        _subject uuid;
        _was boolean := false;
        _is boolean;
    BEGIN
        IF TG_TABLE_NAME = 'cases' THEN
            _subject := NEW.case_id;
            _is := NEW.status <> 'closed';
            IF TG_OP = 'UPDATE' THEN _was := OLD.status <> 'closed'; END IF;
        ELSE
            _subject := NEW.request_id;
            _is := NEW.status <> 'answered';
            IF TG_OP = 'UPDATE' THEN _was := OLD.status <> 'answered'; END IF;
        END IF;
        IF _was IS DISTINCT FROM _is THEN
            UPDATE routing.members AS m SET open_load = m.open_load + CASE WHEN _is THEN 1 ELSE -1 END
              FROM routing.member_holdings AS h WHERE h.subject = _subject AND h.member_id = m.member_id;
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql"""

OPEN_WITH_FIELD = "status IN ('pending', 'accepted') AND field IS NOT NULL"


def upgrade() -> None:
    op.execute("LOCK TABLE routing.assignments, routing.cases, routing.counseling_requests IN SHARE ROW EXCLUSIVE MODE")
    op.create_table(
        "member_holdings",
        sa.Column("member_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("routing.members.member_id"),
                  primary_key=True),
        sa.Column("subject", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("open", sa.Integer(), nullable=False),
        schema="routing",
    )  # fmt: skip
    op.create_index("ix_member_holdings_subject", "member_holdings", ["subject"], schema="routing")
    op.add_column(
        "members", sa.Column("open_load", sa.Integer(), server_default=sa.text("0"), nullable=False), schema="routing"
    )
    op.execute(HOLD)
    op.execute(ASSIGNMENTS)
    op.execute(SUBJECTS)
    op.execute(
        """CREATE TRIGGER assignments_hold
            AFTER INSERT OR DELETE OR UPDATE OF status, field, member_id, case_id, request_id ON routing.assignments
            FOR EACH ROW EXECUTE FUNCTION routing.assignments_hold()"""
    )
    for table, ended in (("cases", "closed"), ("counseling_requests", "answered")):
        op.execute(f"CREATE TRIGGER {table}_live_new AFTER INSERT ON routing.{table} FOR EACH ROW "
                   "EXECUTE FUNCTION routing.subject_live()")  # fmt: skip
        op.execute(
            f"""CREATE TRIGGER {table}_live AFTER UPDATE OF status ON routing.{table} FOR EACH ROW
                WHEN ((OLD.status = '{ended}') IS DISTINCT FROM (NEW.status = '{ended}'))
                EXECUTE FUNCTION routing.subject_live()"""
        )
    op.execute(
        f"""INSERT INTO routing.member_holdings (member_id, subject, open)
            SELECT member_id, coalesce(case_id, request_id), count(*) FROM routing.assignments
             WHERE {OPEN_WITH_FIELD} GROUP BY 1, 2"""
    )
    op.execute(
        """UPDATE routing.members AS m SET open_load = held.load
             FROM (SELECT h.member_id, count(*) AS load FROM routing.member_holdings AS h
                    WHERE EXISTS (SELECT FROM routing.cases AS c WHERE c.case_id = h.subject AND c.status <> 'closed')
                       OR EXISTS (SELECT FROM routing.counseling_requests AS r
                                   WHERE r.request_id = h.subject AND r.status <> 'answered')
                    GROUP BY h.member_id) AS held
            WHERE m.member_id = held.member_id"""
    )


def downgrade() -> None:
    for table in ("cases", "counseling_requests"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_live ON routing.{table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_live_new ON routing.{table}")
    op.execute("DROP TRIGGER IF EXISTS assignments_hold ON routing.assignments")
    op.execute("DROP FUNCTION IF EXISTS routing.subject_live()")
    op.execute("DROP FUNCTION IF EXISTS routing.assignments_hold()")
    op.execute("DROP FUNCTION IF EXISTS routing.hold(uuid, uuid, uuid, integer)")
    op.drop_column("members", "open_load", schema="routing")
    op.drop_index("ix_member_holdings_subject", table_name="member_holdings", schema="routing")
    op.drop_table("member_holdings", schema="routing")
