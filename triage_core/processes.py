"""Worker processes of our own that must not outlive the process that started them.

A process killed with SIGKILL cannot stop its workers: prediction workers of ``triage score``
(:mod:`triage_core.triage.engines`) would go on computing for minutes, and model selection's
workers (:mod:`triage_core.models.selection`) would idle on, holding memory. Each worker runs
:func:`watch_parent` once.
"""

from __future__ import annotations

import os
import threading
import time

__all__ = ["PARENT_CHECK_SECONDS", "watch_parent"]

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
