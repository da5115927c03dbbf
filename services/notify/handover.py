"""Deliveries claimed where they are planned: the consumer's handler inserts the rows it can hand straight to this
process's dispatcher as already `sending` (leased, first attempt), and gives them to the dispatcher's queue once
its transaction commits, instead of inserting them `pending` for the claimer to claim a moment later.

That saves each delivery a claim (an UPDATE of the row, its indexes and its WAL, and the claim statement itself)
when the dispatcher has nothing older to send: only then, so planned rows never overtake due rows waiting in the
table. The dispatcher says so (`caught_up`): its last claim found fewer due rows than it had room for, and
nothing woke it since. Rows due later (quiet hours) are inserted `pending` as before.

Room is reserved before the insert (at most half the dispatcher's queue, less what other transactions reserved);
a reservation whose transaction never commits lapses. A row handed over is exactly a claimed row: a stop gives it
back with the rest of the queue, a process that dies leaves it to its lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.engine import Row


@dataclass(eq=False)  # removed by identity
class Reservation:
    count: int
    at: float  # time.monotonic() when made


class Taker(Protocol):
    """What the dispatcher offers the handlers (`Dispatcher`)."""

    def reserve(self, wanted: int) -> Reservation | None: ...

    def take_planned(self, reservation: Reservation, rows: Sequence[Row[Any]]) -> None: ...

    def fall_behind(self) -> None: ...


class Handover:
    """The link between the handlers and this process's dispatcher (none yet, or none in this role: then nothing
    is claimed at insert)."""

    def __init__(self) -> None:
        self._taker: Taker | None = None

    def attach(self, taker: Taker | None) -> None:
        self._taker = taker

    def reserve(self, wanted: int) -> Reservation | None:
        """Room for up to `wanted` due rows to insert already claimed; None while the dispatcher is behind or full."""
        return self._taker.reserve(wanted) if self._taker is not None else None

    def give(self, reservation: Reservation, rows: Sequence[Row[Any]]) -> None:
        """After the commit: the rows inserted claimed under `reservation`, to be sent."""
        if self._taker is not None:
            self._taker.take_planned(reservation, rows)

    def behind(self) -> None:
        """Due rows were inserted pending: the claimer has older work than anything planned next."""
        if self._taker is not None:
            self._taker.fall_behind()
