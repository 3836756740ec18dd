"""Work the server does in the background so no page waits for it: the emerging-topic alerts.

Finding emerging topics clusters thousands of recent and known tickets (seconds at 25,000
tickets, about 15 s at 1,000,000): far too slow for the Overview, which every user opens first.
:class:`EmergingWatch` computes them once at start and again, at most every
``[server] emerging_refresh_minutes``, after the data changed; the Overview shows the latest
result with the time it was computed. The thread runs at a lower CPU priority (nice 10) so that
ticket intake and pages come first.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from triage_core.server import version
from triage_core.store import Store

log = logging.getLogger("triage.server")


@dataclass(frozen=True)
class Emerging:
    alerts: list[dict[str, Any]]
    computed_at: float  # time.time()
    seconds: float  # how long the computation took


class _Stopped(Exception):
    """The server stops: the search under way is abandoned."""


class EmergingWatch:
    """Emerging-topic alerts kept current in a background thread (see the module docstring)."""

    def __init__(self, store: Store, config: Mapping[str, Any], every_seconds: float) -> None:
        self._store = store
        self._config = config
        self._every = every_seconds
        self._latest: Emerging | None = None
        self._seen = -1
        self._stop = threading.Event()
        self._cursor: Any = None  # the search's cursor while one runs
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="emerging-topics", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread: a search under way is abandoned at its next step (its query is
        interrupted), so a server stops in moments, not after a search of many seconds."""
        self._stop.set()
        self._wake.set()
        cur = self._cursor
        if cur is not None:
            with contextlib.suppress(Exception):  # it may have just finished
                cur.interrupt()
        self._thread.join(timeout=60)

    def latest(self) -> Emerging | None:
        """The last result, or None while the first one is being computed."""
        return self._latest

    def refresh_now(self) -> None:
        """Compute again without waiting for the interval (e.g. after a model or label change
        a user wants to see)."""
        self._seen = -1
        self._wake.set()

    def _loop(self) -> None:
        # not Linux, or not allowed: run at normal priority
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        while not self._stop.is_set():
            if version.current() != self._seen:
                self._compute()
            self._wake.wait(self._every)
            self._wake.clear()

    def _checkpoint(self) -> None:
        if self._stop.is_set():
            raise _Stopped()

    def _compute(self) -> None:
        from triage_core.triage import labeling

        seen = version.current()
        start = time.perf_counter()
        cur = self._cursor = self._store.cursor()
        try:
            alerts = labeling.emerging_alerts(cur, self._config, self._checkpoint)
        except Exception:  # keep the last result; the next round tries again
            if not self._stop.is_set():
                log.exception("emerging topics: the background computation failed")
            return
        finally:
            self._cursor = None
            cur.close()
        self._latest = Emerging(alerts, time.time(), time.perf_counter() - start)
        self._seen = seen
