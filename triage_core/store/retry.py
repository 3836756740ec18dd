"""Writes retried when a concurrent transaction changed the same rows first.

DuckDB lets many cursors of one process write at once and refuses the later of two transactions
that touch the same rows ("Conflict on update", a duplicate key at commit). Such a transaction
has changed nothing; running it again on the new data is the right answer. Callers wrap one
whole transaction in :func:`retry_on_conflict`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import duckdb

from triage_core.errors import TriageError

if TYPE_CHECKING:
    from triage_core.store.connection import Store

T = TypeVar("T")
WAIT_SECONDS = 2.0  # how long to keep trying by default
FIRST_PAUSE, MAX_PAUSE = 0.002, 0.1  # seconds between attempts: doubling, with jitter, capped


class WriteConflict(TriageError):
    """Other writers kept changing the same rows; nothing was written."""


class Raced(Exception):
    """Another writer committed a key that this transaction's snapshot did not show (an import's
    insert met it, which DuckDB reports as a duplicate key): like a conflict, the transaction
    wrote nothing and running it again on the new data is the answer."""


def is_conflict(exc: BaseException | None) -> bool:
    """True when ``exc`` (or an error it was raised from) is a DuckDB transaction conflict
    (or :class:`Raced`)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, duckdb.TransactionException | Raced):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def is_constraint_error(exc: BaseException) -> bool:
    """True when ``exc`` is DuckDB refusing a statement's rows by a constraint (e.g. a plain
    insert of a row whose key exists); the statement wrote nothing, and its transaction must
    be rolled back."""
    return isinstance(exc, duckdb.ConstraintException)


def retry_on_conflict(store: Store, write: Callable[[], T],
                      wait_seconds: float = WAIT_SECONDS) -> T:
    """Run ``write`` (one whole transaction on ``store``) again while it loses a conflict, for
    up to ``wait_seconds``; then raise :class:`WriteConflict`.

    Inside an outer transaction nothing is retried (the outer one is what must run again)."""
    if store.in_transaction():
        return write()
    deadline = time.monotonic() + wait_seconds
    pause = FIRST_PAUSE
    while True:
        try:
            return write()
        except Exception as exc:
            if not is_conflict(exc):
                raise
            if time.monotonic() + pause > deadline:
                raise WriteConflict("the same rows kept changing under concurrent writers; "
                                    "nothing was written, try again") from None
        time.sleep(pause * (0.5 + random.random()))
        pause = min(pause * 2, MAX_PAUSE)
