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

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from triage_core.errors import TriageError
from triage_core.ops import scoring
from triage_core.server import version
from triage_core.server.quick import QuickTriage, answers
from triage_core.server.settings import ServerSettings
from triage_core.store import Store
from triage_core.store.mapping import ImportMapping
from triage_core.store.retry import retry_on_conflict

log = logging.getLogger("triage.server")
_RECONCILE = "reconcile"
_LOST_SQL = (f"SELECT r.ticket_id FROM triage_results r JOIN tickets k USING (ticket_id)"
             f" ANTI JOIN {scoring.TRIAGED} t USING (ticket_id)")


@dataclass(eq=False)
class Request:
    """One request's tickets (columns named like ours, or mapped by ``mapping``)."""

    frame: pd.DataFrame
    source: str
    create_missing: bool = False
    mapping: ImportMapping | None = None
    future: Future = field(default_factory=Future)

    @property
    def ids(self) -> list[str]:
        return [str(v).strip() for v in self.frame["ticket_id"]]


class _Refused(Exception):
    """A request of a batch was refused; the batch is retried request by request."""


class Intake:
    def __init__(self, store: Store, config: dict[str, Any], settings: ServerSettings) -> None:
        self.cur = store.cursor()
        self.quick = QuickTriage(config)
        self.settings = settings
        self._queue: queue.Queue[Request | str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="triage-intake", daemon=True)
        self._dirty = threading.Event()

    def start(self) -> None:
        self.repair_later()  # a server killed between a re-score and its repair left work
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)
        self.cur.close()

    def submit(self, request: Request) -> Future:
        self._queue.put(request)
        return request.future

    def repair_later(self) -> None:
        """Another writer committed: check for tickets that lost their triage row."""
        self._dirty.set()
        self._queue.put(_RECONCILE)

    def _loop(self) -> None:
        try:  # load the models now, not when the first ticket waits for them
            self.quick.models(self.cur)
        except Exception:
            log.exception("could not load the models; the first batch tries again")
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item] if isinstance(item, Request) else []
            stop = self._gather(batch)
            if self._dirty.is_set():
                self._repair()
            if batch:
                self._process(batch)
            if stop:
                return

    def _gather(self, batch: list[Request]) -> bool:
        """Add the requests that keep arriving to ``batch`` (up to the size and time limits);
        True when the intake was asked to stop."""
        s = self.settings
        deadline = time.monotonic() + (s.intake_wait_seconds if batch else 0)
        size = sum(len(r.frame) for r in batch)
        while size < s.intake_batch_tickets:
            wait = min(s.intake_quiet_seconds, deadline - time.monotonic())
            try:
                more = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
            except queue.Empty:
                return False
            if more is None:
                return True
            if isinstance(more, Request):
                batch.append(more)
                size += len(more.frame)
        return False

    def _process(self, batch: list[Request]) -> None:
        start = time.perf_counter()
        try:
            rows = retry_on_conflict(self.cur, lambda: self._write(batch),
                                     self.settings.conflict_wait_seconds)
        except _Refused:
            for request in batch:
                self._process([request])
            return
        except TriageError as exc:
            batch[0].future.set_exception(exc)  # a batch of one: its own error
            return
        except Exception as exc:  # a bug or a broken database: every request hears of it
            log.exception("ticket intake failed")
            for request in batch:
                request.future.set_exception(exc)
            return
        version.bump(tickets_only=True)
        log.debug("intake: %d requests, %d tickets in %.0f ms", len(batch),
                  sum(len(r.frame) for r in batch), (time.perf_counter() - start) * 1000)
        try:
            by_id = answers(rows)
            for request in batch:
                request.future.set_result([by_id[t] for t in dict.fromkeys(request.ids)])
        except Exception as exc:  # written, but the answer could not be built
            log.exception("ticket intake answer failed")
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(exc)

    def _write(self, batch: list[Request]) -> pd.DataFrame:
        """One transaction: import the requests' tickets (one import per kind of request),
        then triage them all."""
        groups: dict[tuple[str, int, bool], list[Request]] = {}
        for request in batch:
            key = (request.source, id(request.mapping), request.create_missing)
            groups.setdefault(key, []).append(request)
        with self.cur.transaction():
            for (source, _, create), requests in groups.items():
                frame = pd.concat([r.frame for r in requests], ignore_index=True)
                try:
                    self.cur.import_frame("tickets", frame, source=source,
                                          mapping=requests[0].mapping, create_missing=create)
                except TriageError:
                    if len(batch) > 1:  # whose rows? ask each request alone
                        raise _Refused() from None
                    raise
            return self.quick.run(self.cur, [i for r in batch for i in r.ids])

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
                    with self.cur.transaction():
                        self.quick.run(self.cur, lost)

                retry_on_conflict(self.cur, write, self.settings.conflict_wait_seconds)
                version.bump(tickets_only=True)
        except Exception:
            log.exception("could not re-triage tickets that lost their triage row")
