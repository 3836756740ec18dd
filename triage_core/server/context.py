"""What code running inside ``triage serve`` needs to know about it: whether this process serves
a database (and its shared store), and which job the current thread runs (for progress bars).

A leaf module (no pandas, no DuckDB), so the CLI and the dashboard can ask cheaply.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol


class Served(Protocol):
    """The running server, as seen by the dashboard and the in-process CLI."""

    db_path: str
    store: Any  # the one read-write triage_core.store.Store

    def after_write(self) -> None: ...

    def reset_database(self) -> None: ...


_server: Served | None = None
_local = threading.local()


def serve(server: Served | None) -> None:
    """Register (or with None, forget) the server of this process."""
    global _server
    _server = server


def server_for(db: str | Path) -> Served | None:
    """The server of this process if it owns ``db``, else None."""
    if _server is None:
        return None
    same = str(Path(db).resolve()) == _server.db_path
    return _server if same else None


def current_job() -> Any:
    """The job the current thread runs inside the server, or None."""
    return getattr(_local, "job", None)


@contextmanager
def running(job: Any) -> Iterator[None]:
    """Mark the current thread as running ``job`` (its progress bars report to it)."""
    _local.job = job
    try:
        yield
    finally:
        _local.job = None
