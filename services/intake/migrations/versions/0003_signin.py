"""sign-in for people: email + password on accounts, one-time links, sign-in log, sessions

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 16:00:00

- `accounts.email` (lower-cased, unique when set), `accounts.password_hash` (argon2id) and `password_set_at`.
- `account_tokens`: invitation and reset links, by the SHA-256 of their token only; single use, expiring.
- `signin_attempts`: every sign-in attempt (account or NULL, client address, outcome; never the password);
  failed ones within a window limit further attempts per account and per address (429).
- `signin_sessions`: which credentials are sign-in sessions (revoked when the password changes).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("email", sa.String(254), nullable=True), schema="intake")
    op.add_column("accounts", sa.Column("password_hash", sa.Text(), nullable=True), schema="intake")
    op.add_column("accounts", sa.Column("password_set_at", sa.DateTime(timezone=True), nullable=True), schema="intake")
    op.create_index(
        "ux_accounts_email",
        "accounts",
        ["email"],
        unique=True,
        schema="intake",
        postgresql_where=sa.text("email IS NOT NULL"),
    )
    op.create_table(
        "account_tokens",
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invalidated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["intake.accounts.id"], name=op.f("fk_account_tokens_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_account_tokens")),
        schema="intake",
    )
    op.create_index(op.f("ix_account_tokens_account_id"), "account_tokens", ["account_id"], schema="intake")
    op.create_table(
        "signin_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=True),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_attempts")),
        schema="intake",
    )
    op.create_index("ix_signin_attempts_account", "signin_attempts", ["account_id", "at"], schema="intake")
    op.create_index("ix_signin_attempts_address", "signin_attempts", ["address", "at"], schema="intake")
    op.create_table(
        "signin_sessions",
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_signin_sessions")),
        schema="intake",
    )
    op.create_index(op.f("ix_signin_sessions_account_id"), "signin_sessions", ["account_id"], schema="intake")


def downgrade() -> None:
    op.drop_table("signin_sessions", schema="intake")
    op.drop_table("signin_attempts", schema="intake")
    op.drop_table("account_tokens", schema="intake")
    op.drop_index("ux_accounts_email", table_name="accounts", schema="intake")
    op.drop_column("accounts", "password_set_at", schema="intake")
    op.drop_column("accounts", "password_hash", schema="intake")
    op.drop_column("accounts", "email", schema="intake")
