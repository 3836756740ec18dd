"""Output of CLI verbs run inside the server, kept per thread.

The server runs a forwarded ``triage`` verb in a worker thread; what the verb prints must reach
the client that asked, not the server's terminal, and two verbs running at once must not mix.
:func:`install` puts a router on ``sys.stdout`` and ``sys.stderr`` that writes to the current
thread's buffer inside :func:`captured`, and to the real stream everywhere else.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

_local = threading.local()


class _Router(io.TextIOBase):
    def __init__(self, real: TextIO, slot: str) -> None:
        self.real = real
        self.slot = slot

    def _target(self) -> TextIO:
        return getattr(_local, self.slot, None) or self.real

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        return getattr(_local, self.slot, None) is None and self.real.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"


def install() -> None:
    """Route ``sys.stdout`` and ``sys.stderr`` through the per-thread buffers (idempotent)."""
    if not isinstance(sys.stdout, _Router):
        sys.stdout = _Router(sys.stdout, "out")
    if not isinstance(sys.stderr, _Router):
        sys.stderr = _Router(sys.stderr, "err")


def uninstall() -> None:
    """Put the real streams back."""
    if isinstance(sys.stdout, _Router):
        sys.stdout = sys.stdout.real
    if isinstance(sys.stderr, _Router):
        sys.stderr = sys.stderr.real


@contextmanager
def captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """What the current thread prints inside the block, as (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    _local.out, _local.err = out, err
    try:
        yield out, err
    finally:
        _local.out = _local.err = None
