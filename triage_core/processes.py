"""Worker processes of our own that must not outlive the process that started them.

A process killed with SIGKILL cannot stop its workers: prediction workers of ``triage score``
(:mod:`triage_core.triage.engines`) would go on computing for minutes, and model selection's
workers (:mod:`triage_core.models.selection`) would idle on, holding memory. Each worker runs
:func:`watch_parent` once.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["PARENT_CHECK_SECONDS", "plain_main", "watch_parent"]

PARENT_CHECK_SECONDS = 1.0


def watch_parent(pid: int, every: float = PARENT_CHECK_SECONDS) -> None:
    """End this process soon after process ``pid`` is gone: a daemon thread checks every
    ``every`` s. Only for worker processes: it ends the process it runs in."""

    def alive() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # exists, owned by someone else
            return True
        return True

    def loop() -> None:
        while alive():
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=loop, name="watch-parent", daemon=True).start()


@contextmanager
def plain_main() -> Iterator[None]:
    """Start processes in this block without them importing this process's ``__main__``.

    A process started by a fork server or by spawning first imports the parent's main module
    (by its name or file). In ``triage serve`` that is whatever Streamlit last put there: it
    runs each page script as the module ``__main__``, so a worker started after the dashboard
    had run would run the dashboard's script (its cached functions warn "No runtime found",
    and its queries would run in the worker). Our workers need nothing of ``__main__``: while
    the block runs, ``__main__`` is an empty module (put back afterwards unless someone else
    replaced it meanwhile)."""
    before = sys.modules.get("__main__")
    blank = types.ModuleType("__main__")
    sys.modules["__main__"] = blank
    try:
        yield
    finally:
        if sys.modules.get("__main__") is blank and before is not None:
            sys.modules["__main__"] = before
