"""Ticket intake: tickets from the API and webhooks, validated, written and triaged together.

One thread owns the intake's cursor. Requests wait in a queue; whatever arrived while the
previous batch was being written goes into the next batch (micro-batching), so a burst of
single-ticket requests costs one transaction, not one each. A batch is one transaction: the
tickets are validated and upserted exactly like an import (:func:`Store.import_frame`, same
messages), predicted, scored and routed (:class:`~triage_core.server.quick.QuickTriage`), and
each request is answered only after COMMIT. A request whose tickets are refused gets that
import error and nothing of it is written; the other requests of its batch are written without
it. A transaction that loses a conflict with a concurrent job is retried.

After writes other than tickets (jobs, dashboard actions) the intake also re-triages tickets
that have a prediction but lost their row in ``triaged_tickets`` (a full re-score that started
before they arrived replaces that table), so every acknowledged ticket keeps its triage.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from triage_core.errors import ImportValidationError, TriageError
from triage_core.ops import scoring
from triage_core.schema import TICKETS
from triage_core.server import version
from triage_core.server.helper import Helper
from triage_core.server.quick import RETURNING, QuickTriage, answers
from triage_core.server.settings import ServerSettings
from triage_core.store import Store, quick_import
from triage_core.store.mapping import ImportMapping, plan_columns
from triage_core.store.retry import is_constraint_error, retry_on_conflict

log = logging.getLogger("triage.server")
_RECONCILE = "reconcile"
_LOST_SQL = (f"SELECT r.ticket_id FROM triage_results r JOIN tickets k USING (ticket_id)"
             f" ANTI JOIN {scoring.TRIAGED} t USING (ticket_id)")


@dataclass(eq=False)
class Request:
    """One request's tickets: rows of texts (column -> text or None) named like ours, or
    mapped by ``mapping``."""

    rows: list[dict[str, str | None]]
    source: str
    create_missing: bool = False
    mapping: ImportMapping | None = None
    future: Future = field(default_factory=Future)
    # An event loop that awaits the answer (the API's): ``waiter`` is made on it, and the
    # intake answers all of a batch's waiters of one loop in one call (one wake-up of the loop
    # for the batch, not one per request). Create the Request on that loop's thread.
    loop: asyncio.AbstractEventLoop | None = None
    waiter: asyncio.Future[Any] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.loop is not None:
            self.waiter = self.loop.create_future()

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The rows as the import reads them."""
        return pd.DataFrame(self.rows, dtype=object)

    @cached_property
    def plain(self) -> quick_import.PlainTickets | None:
        """The tickets converted by the fast path, or None when the import must decide (a
        mapping that does more than map the values of our own columns, a webhook's preset
        does not)."""
        if self.mapping is None:
            return quick_import.plain_tickets(self.rows)
        rows = quick_import.mapped_rows(self.rows, self.mapping)
        return quick_import.plain_tickets(rows) if rows is not None else None

    @property
    def ids(self) -> list[str]:
        """The tickets' ids; of a request the import took, read from the field it read them
        from (``Ticket_Id``, or the one the mapping names)."""
        if self.plain is not None:
            return self.plain.ids
        plan = plan_columns(TICKETS, list(self.frame.columns), self.mapping, self.source,
                            require=False)
        return [str(v).strip() for v in self.frame[plan.targets["ticket_id"]]]


class _Refused(Exception):
    """A request of a batch was refused; the batch is retried request by request."""


class Intake:
    def __init__(self, store: Store, config: dict[str, Any], settings: ServerSettings) -> None:
        self.cur = store.cursor()
        self.quick = QuickTriage(config)
        if settings.intake_helper:
            self.quick.helper = Helper()
        self.settings = settings
        self._queue: queue.Queue[Request | str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="triage-intake", daemon=True)
        self._dirty = threading.Event()
        self._answered = 1  # requests recent batches answered (that may come back at once)
        self.warm = False  # the models and the state are loaded (see _loop)

    def start(self) -> None:
        self.repair_later()  # a server killed between a re-score and its repair left work
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)
        if self.quick.helper is not None:
            self.quick.helper.close()
        self.cur.close()

    def submit(self, request: Request) -> Future:
        self._queue.put(request)
        return request.future

    def repair_later(self) -> None:
        """Another writer committed: check for tickets that lost their triage row."""
        self._dirty.set()
        self._queue.put(_RECONCILE)

    def _loop(self) -> None:
        try:  # load the models and the state now, not when the first ticket waits for them
            self.quick.warm(self.cur)
        except Exception:
            log.exception("could not load the models; the first batch tries again")
        self.warm = True
        # What is loaded now lives as long as the server: out of the garbage collector's way
        # (its full passes over a large heap are pauses every request would wait for).
        gc.collect()
        gc.freeze()
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item] if isinstance(item, Request) else []
            stop = self._gather(batch)
            if self._dirty.is_set():
                self._repair()
            if batch:
                try:
                    self._process(batch)
                finally:
                    self.quick.forget_expected()
            if stop:
                return

    def _gather(self, batch: list[Request]) -> bool:
        """Add the requests that keep arriving to ``batch`` (up to the size and time limits);
        True when the intake was asked to stop. Until as many requests as the previous batch
        answered are back (clients that send their next ticket once answered), a pause does
        not close the batch: only the time limit does; after that, a pause of
        ``intake_quiet_ms`` closes it."""
        s = self.settings
        deadline = time.monotonic() + (s.intake_wait_seconds if batch else 0)
        size = sum(len(r.rows) for r in batch)
        while size < s.intake_batch_tickets:
            pause = (s.intake_quiet_seconds if len(batch) >= self._answered
                     else s.intake_wait_seconds)
            wait = min(pause, deadline - time.monotonic())
            try:
                more = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
            except queue.Empty:
                return False
            if more is None:
                return True
            if isinstance(more, Request):
                batch.append(more)
                size += len(more.rows)
        return False

    def _process(self, batch: list[Request]) -> None:
        start = time.perf_counter()
        try:
            rows = self._attempt(batch)
        except _Refused:
            self.quick.begin()
            for request in batch:
                self._process([request])
            return
        except TriageError as exc:
            self.quick.begin()
            _settle([(batch[0], None, exc)])  # a batch of one: its own error
            return
        except Exception as exc:  # a bug or a broken database: every request hears of it
            self.quick.begin()
            if len(batch) > 1:  # unless one request's content caused it: ask each alone, so
                for request in batch:  # that one request cannot fail the others
                    self._process([request])
                return
            log.exception("ticket intake failed")
            _settle([(r, None, exc) for r in batch])
            return
        self.quick.committed()
        self._answered = max(len(batch), int(self._answered * 0.8))  # forgets slowly
        version.bump(tickets_only=True)
        log.debug("intake: %d requests, %d tickets in %.0f ms", len(batch),
                  sum(len(r.rows) for r in batch), (time.perf_counter() - start) * 1000)
        try:
            by_id = answers(rows)
            outcomes = [(r, [by_id[t] for t in dict.fromkeys(r.ids)], None) for r in batch]
        except Exception as exc:  # written, but the answer could not be built
            log.exception("ticket intake answer failed")
            outcomes = [(r, None, exc) for r in batch]
        _settle(outcomes)

    def _attempt(self, batch: list[Request]) -> list[dict[str, Any]]:
        """Write and triage ``batch`` (retried while it loses a conflict). Tickets that the
        state in memory does not know are inserted as new; should one exist after all (another
        writer added it since the state was read), the transaction is rolled back, the state
        read again, and the batch written by upserts."""
        wait = self.settings.conflict_wait_seconds
        try:
            return retry_on_conflict(self.cur, lambda: self._write(batch, trust=True), wait)
        except Exception as exc:
            if not is_constraint_error(exc):
                raise
            log.info("intake: a ticket taken for new exists; reading the state again")
            self.quick.invalidate()
            return retry_on_conflict(self.cur, lambda: self._write(batch, trust=False), wait)

    def _write(self, batch: list[Request], trust: bool = False) -> list[dict[str, Any]]:
        """One transaction: write the requests' tickets (plain ones by the fast path, the others
        by one import per kind of request), then triage them all: the plain ones from the state
        in memory (new tickets, then updated ones), the imported ones by the SQL path.
        ``trust``: tickets that the state does not know, and their triage results, are inserted
        without a conflict clause (a plain insert costs about a third of an upsert)."""
        self.quick.begin()
        groups: dict[tuple[str, int, bool], list[Request]] = {}
        fresh: dict[str, dict[str, Any]] = {}  # new tickets' rows as stored
        updated: dict[str, dict[str, Any]] = {}  # existing tickets' rows as stored
        again: dict[str, None] = {}  # tickets that came by the import, in order
        with self.cur.transaction():
            fast = [r for r in batch if r.plain is not None]
            self.quick.expect(self.cur, [r.plain for r in fast])
            missing = set(self.quick.missing_customers(
                self.cur, [c for r in fast for c in r.plain.customers]))
            to_create: dict[str, None] = {}
            for request in batch:
                absent = ([c for c in request.plain.customers if c in missing]
                          if request.plain is not None else [])
                # an unknown address may be a known customer in another case: the import
                # finds its spelling
                if request.plain is None or (absent and (not request.create_missing or any(
                        "@" in c for c in absent))):
                    key = (request.source, id(request.mapping), request.create_missing)
                    groups.setdefault(key, []).append(request)  # the import decides
                else:
                    to_create.update(dict.fromkeys(absent))
            slow = {id(r) for requests in groups.values() for r in requests}
            fast = [r for r in fast if id(r) not in slow]
            if to_create:
                quick_import.create_customers(self.cur, list(to_create))
                self.quick.created_customers(list(to_create))
            known = self.quick.known(self.cur, [t for r in fast for t in r.plain.ids])
            written: set[str] = set()  # by an earlier round of this batch
            for plain in _rounds(fast):
                new = trust and not any(t in known or t in written for t in plain.ids)
                written.update(plain.ids)
                for row in quick_import.upsert(self.cur, plain, RETURNING, new=new):
                    if row["ticket_id"] in known:
                        updated[row["ticket_id"]] = row  # a later round's row wins
                    else:
                        fresh[row["ticket_id"]] = row
            for (source, _, create), requests in groups.items():
                for fields, parts in _by_fields(requests):
                    frame = pd.concat([pd.DataFrame(rows, columns=list(fields), dtype=object)
                                       for _, rows, _ in parts], ignore_index=True)
                    try:
                        self.cur.import_frame("tickets", frame, source=source,
                                              mapping=requests[0].mapping,
                                              create_missing=create)
                    except TriageError as exc:
                        if len(batch) > 1:  # whose rows? ask each request alone
                            raise _Refused() from None
                        raise _in_request(exc, parts[0][2]) from None
                again.update(dict.fromkeys(i for r in requests for i in r.ids))
            rows = self.quick.run_new(self.cur, [r for t, r in fresh.items() if t not in again],
                                      replace=not trust)
            rows += self.quick.run_updated(self.cur, [r for t, r in updated.items()
                                                      if t not in again])
            if again:
                rows += self.quick.run(self.cur, list(again))
            return rows

    def _repair(self) -> None:
        """Triage the tickets that have a prediction but no row in ``triaged_tickets``."""
        self._dirty.clear()
        try:
            if not self.cur.table_exists(scoring.TRIAGED):
                return
            lost = self.cur.query(_LOST_SQL)["ticket_id"].tolist()
            if lost:
                log.info("re-triaging %d tickets that lost their triage row", len(lost))

                def write() -> None:
                    self.quick.begin()
                    with self.cur.transaction():
                        self.quick.run(self.cur, lost)

                retry_on_conflict(self.cur, write, self.settings.conflict_wait_seconds)
                self.quick.committed()
                version.bump(tickets_only=True)
        except Exception:
            log.exception("could not re-triage tickets that lost their triage row")


def _settle(outcomes: list[tuple[Request, Any, BaseException | None]]) -> None:
    """Answer requests with (request, answer, error): each request's future, and the waiters
    of each event loop in one call on that loop."""
    waiting: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any,
                                                         BaseException | None]]] = {}
    for request, value, exc in outcomes:
        if not request.future.done():
            if exc is None:
                request.future.set_result(value)
            else:
                request.future.set_exception(exc)
        if request.waiter is not None and request.loop is not None:
            waiting.setdefault(request.loop, []).append((request.waiter, value, exc))
    for loop, answered in waiting.items():
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_wake, answered)


def _wake(answered: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    """On the waiters' loop: give each its answer (a waiter cancelled meanwhile is left)."""
    for waiter, value, exc in answered:
        if waiter.done():
            continue
        if exc is None:
            waiter.set_result(value)
        else:
            waiter.set_exception(exc)


def _by_fields(requests: list[Request]
               ) -> list[tuple[tuple[str, ...], list[tuple[Request, list[dict[str, Any]],
                                                          list[int]]]]]:
    """The requests' rows by the fields they give (fields, [(request, its rows with those
    fields, their numbers in the request)]), each to be imported on its own, in order: a
    field a ticket leaves out keeps its stored value (one frame of all of them would hold it
    empty). Parts of the same fields share a frame unless a ticket of a later request comes
    between them (the later request wins, as if the requests came one after the other). A
    request that names a ticket twice stays whole, for the import to refuse it."""
    rounds: list[tuple[tuple[str, ...], list[tuple[Request, list[dict[str, Any]], list[int]]],
                       set[str]]] = []
    for request in requests:
        try:
            ids = request.ids
        except (KeyError, TriageError):  # no ticket id to read: the import will say so
            ids = [f"\0{id(request)}:{n}" for n in range(len(request.rows))]
        whole = len(set(ids)) < len(ids) or len({tuple(r) for r in request.rows}) == 1
        sets: dict[tuple[str, ...], tuple[list[dict[str, Any]], list[int]]] = {}
        for number, row in enumerate(request.rows, 1):
            fields = (tuple(dict.fromkeys(k for r in request.rows for k in r)) if whole
                      else tuple(row))
            kept, numbers = sets.setdefault(fields, ([], []))
            kept.append(row)
            numbers.append(number)
        for fields, (kept, numbers) in sets.items():
            mine = {ids[n - 1] for n in numbers}
            after = max((i for i, r in enumerate(rounds) if r[2] & mine), default=-1)
            at = next((i for i in range(after + 1, len(rounds)) if rounds[i][0] == fields),
                      None)
            if at is None:
                rounds.append((fields, [], set()))
                at = len(rounds) - 1
            rounds[at][1].append((request, kept, numbers))
            rounds[at][2].update(mine)
    return [(fields, parts) for fields, parts, _ in rounds]


def _in_request(exc: TriageError, numbers: list[int]) -> TriageError:
    """A refusal of one request's rows of one set of fields, its row named as the request
    counts it (the part's row 2 may be the request's row 5)."""
    if isinstance(exc, ImportValidationError) and exc.row is not None and \
            0 < exc.row <= len(numbers):
        return ImportValidationError(exc.file, exc.detail, numbers[exc.row - 1], exc.column)
    return exc


def _rounds(requests: list[Request]) -> list[quick_import.PlainTickets]:
    """The plain requests' tickets in as few upserts as can be: one per set of columns given,
    and a later one where a ticket comes again (one statement cannot update a row twice; the later
    request wins, as if the requests came one after the other)."""
    rounds: list[tuple[tuple[str, ...], list[tuple[Any, ...]], set[str]]] = []
    # a request's tickets that give different fields are written by set of fields (a field a
    # ticket leaves out keeps its stored value)
    parts = [part for request in requests if request.plain is not None
             for part in request.plain.parts()]
    for plain in parts:
        ids = set(plain.ids)
        after = max((i for i, r in enumerate(rounds) if r[2] & ids), default=-1)
        at = next((i for i in range(after + 1, len(rounds)) if rounds[i][0] == plain.columns),
                  None)
        if at is None:
            rounds.append((plain.columns, [], set()))
            at = len(rounds) - 1
        rounds[at][1].extend(plain.rows)
        rounds[at][2].update(ids)
    return [quick_import.PlainTickets(columns, rows) for columns, rows, _ in rounds]
