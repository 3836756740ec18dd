"""The data version: a number that every write bumps, so cached reads know they are stale.

The dashboard keys its cached query results on :func:`current` (dashboard/data.py); the API,
the jobs and the dashboard's own writes call :func:`bump` after they commit. A second number,
:func:`structure`, moves only for writes other than ticket intake (models, profiles, agents,
imports, corrections): what the intake caches (models, weights, agent loads) depends on.
One server process owns the database, so an in-process counter sees every write.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_data = 0
_structure = 0


def current() -> int:
    return _data


def structure() -> int:
    return _structure


def bump(*, tickets_only: bool = False) -> int:
    """Record a committed write; ``tickets_only``: ticket intake, nothing else changed."""
    global _data, _structure
    with _lock:
        _data += 1
        if not tickets_only:
            _structure += 1
        return _data
