"""Telling a database's own troubles from bugs, by exception type and SQLSTATE, down the whole chain of
wrapped exceptions (SQLAlchemy's `DBAPIError.orig`, `__cause__`, `__context__`)."""

from __future__ import annotations

import asyncpg
from sqlalchemy import exc as sa_exc

_INFRA_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    ConnectionError,
    OSError,
)

# SQLSTATE classes that say nothing about the event: connection exceptions (08), insufficient resources
# such as too many connections (53), operator intervention such as a shutdown (57P), and the transaction
# conflicts PostgreSQL asks clients to retry (40001 serialization failure, 40P01 deadlock).
_TRANSIENT_SQLSTATE_PREFIXES = ("08", "53", "57P", "40001", "40P01")


def _chain(error: BaseException) -> list[BaseException]:
    """The error, what SQLAlchemy wraps (`orig`), and everything down the `__cause__`/`__context__` chain."""
    found: list[BaseException] = []
    stack: list[object] = [error]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or any(current is f for f in found):
            continue
        found.append(current)
        stack.extend([getattr(current, "orig", None), current.__cause__, current.__context__])
    return found


def is_transient(error: BaseException) -> bool:
    """True when the failure lies with the database or the network, not with the event being handled."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    for link in _chain(error):
        if isinstance(link, _INFRA_ERRORS):
            return True
        code = _sqlstate(link)
        if code is not None and code.startswith(_TRANSIENT_SQLSTATE_PREFIXES):
            return True
    return False


CONFLICT_SQLSTATES = ("40P01", "40001")  # deadlock detected, serialization failure


def is_conflict_abort(error: BaseException) -> bool:
    """True when PostgreSQL aborted the transaction for a deadlock or a serialization failure: running the
    whole unit of work again is the documented remedy."""
    return any(_sqlstate(link) in CONFLICT_SQLSTATES for link in _chain(error))


def _sqlstate(error: BaseException) -> str | None:
    code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return code if isinstance(code, str) else None
