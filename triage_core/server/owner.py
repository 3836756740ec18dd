"""The owner record: ``<database>.server.json`` next to the database file while a server owns it.

It holds the server's address, process id, an id of this run and the owner token (readable by
the file's owner only, mode 0600), so ``triage`` verbs on the same database find the server and
send their work there. A record whose process is gone, or whose server does not answer as that
run, is stale and ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

SUFFIX = ".server.json"
HEALTH = "/api/v1/health"


def record_path(db: str | Path) -> Path:
    db = Path(db).resolve()
    return db.with_name(db.name + SUFFIX)


def write(db: str | Path, record: dict[str, Any]) -> Path:
    """Write the record atomically, readable and writable by this user only."""
    path = record_path(db)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(record, fh)
    os.replace(tmp, path)
    return path


def read(db: str | Path) -> dict[str, Any] | None:
    try:
        data = json.loads(record_path(db).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def remove(db: str | Path, instance: str) -> None:
    """Remove the record if it is still this run's."""
    current = read(db)
    if current and current.get("instance") == instance:
        with contextlib.suppress(OSError):
            record_path(db).unlink()


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def health(url: str, timeout: float = 2.0) -> dict[str, Any] | None:
    import urllib.error  # only when a server's record exists: keeps every verb's start fast
    import urllib.request

    try:
        with urllib.request.urlopen(url + HEALTH, timeout=timeout) as resp:
            data = json.loads(resp.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return data if isinstance(data, dict) else None


def live(db: str | Path) -> dict[str, Any] | None:
    """The record of the server that owns ``db`` now, or None (no record, a stale one, or a
    server still starting)."""
    record = read(db)
    if (not record or not _alive(record.get("pid")) or not isinstance(record.get("url"), str)
            or not record["url"]):
        return None
    answer = health(record["url"])
    if not answer or answer.get("instance") != record.get("instance"):
        return None
    return record


def starting(db: str | Path) -> dict[str, Any] | None:
    """The record of a server whose process lives but that does not answer as the owner (yet):
    one that opened the database and is starting (its record is written before its address is
    known), or None."""
    record = read(db)
    if not record or not _alive(record.get("pid")):
        return None
    return None if live(db) is not None else record


def wait_until_live(db: str | Path, seconds: float, poll: float = 0.25) -> dict[str, Any] | None:
    """Wait up to ``seconds`` for a starting server to answer as the owner of ``db``: its
    record, or None (no server starting any more, or the time is up)."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        record = live(db)
        if record is not None or time.monotonic() >= deadline:
            return record
        other = read(db)
        if not other or not _alive(other.get("pid")):
            return None  # no server starting any more
        time.sleep(poll)
