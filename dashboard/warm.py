"""Every page's first view computed in the background, so that nobody waits for cold queries.

At 1,000,000 tickets a page's first visit after the server starts, or after the data changed,
waits for its cold queries (0.3-1.2 s each: the tuning page's open tickets, the review queue,
the plan's history ...); later visits read the cached results. Under ``triage serve`` the
:class:`PageWarmer` opens every page once in a headless session of the server's own Streamlit
runtime (the way a browser's new tab does, with the same defaults, so the same query results
are cached), when the server has started and whenever the data changed and then stayed quiet
for ``QUIET`` seconds: a stream of tickets from the API is never slowed down by it.
``[server] warm_pages = false`` turns it off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

log = logging.getLogger("triage.server")


# url path of every page (st.Page's default: the file name; the overview is the start page)
PAGES = tuple(sorted("" if p.stem == "overview" else p.stem
                     for p in (Path(__file__).resolve().parent / "app_pages").glob("*.py")
                     if not p.stem.startswith("_")))
QUIET = 10.0  # seconds without a write before the pages are opened again
POLL = 1.0  # seconds between looks at the data version
PAGE_TIMEOUT = 300.0  # a page that has not finished by then is left alone
STOP_WAIT = 30.0  # seconds a stopped page gets to end its query (a page's queries take < 2 s)
# the ends of a visit (a run that ends early for a rerun the page asked for is not one)
_DONE = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR)


class _Headless:
    """A session's client that shows nothing: it only notices that the script finished."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.finished = asyncio.Event()

    def write_forward_msg(self, msg: Any) -> None:
        if msg.WhichOneof("type") == "script_finished" and msg.script_finished in _DONE:
            self._loop.call_soon_threadsafe(self.finished.set)

    @property
    def client_context(self) -> None:
        return None


async def open_page(runtime: Any, page: str, timeout: float = PAGE_TIMEOUT) -> bool:
    """Run ``page`` once in a new headless session of ``runtime``; True if it finished."""
    client = _Headless(asyncio.get_running_loop())
    session = runtime.connect_session(client=client, user_info={})
    try:
        msg = BackMsg()
        msg.rerun_script.page_name = page
        msg.rerun_script.query_string = ""
        runtime.handle_backmsg(session, msg)
        await asyncio.wait_for(client.finished.wait(), timeout)
        return True
    except TimeoutError:
        await _stop(runtime, session, client)
        return False
    except asyncio.CancelledError:
        # the server stops: let the page's query end before the database is closed under it
        await _stop(runtime, session, client)
        raise
    finally:
        runtime.close_session(session)


async def _stop(runtime: Any, session: str, client: _Headless) -> None:
    """Ask the session's script to stop and wait (a while) until it has."""
    msg = BackMsg()
    msg.stop_script = True
    with contextlib.suppress(Exception):  # the runtime may be stopping already
        runtime.handle_backmsg(session, msg)
        await asyncio.wait_for(client.finished.wait(), STOP_WAIT)


class PageWarmer:
    """Opens every page (:data:`PAGES`) after start and after the data changed and went quiet.

    ``version`` gives the data version (every write bumps it); ``ready`` says whether the
    server finished its own warm-up (models, emerging topics). :attr:`rounds` counts the rounds
    done (a page that failed or did not finish counts as done: its visitor opens it)."""

    def __init__(self, version: Callable[[], int], ready: Callable[[], bool],
                 pages: Sequence[str] = PAGES, quiet: float = QUIET) -> None:
        self._version = version
        self._ready = ready
        self._pages = tuple(pages)
        self._quiet = quiet
        self._warmed: int | None = None
        self.rounds = 0

    async def run(self) -> None:
        """Open the pages whenever needed, until cancelled."""
        from streamlit.runtime import Runtime

        seen, since = self._version(), time.monotonic()
        while True:
            await asyncio.sleep(POLL)
            now = self._version()
            if now != seen:
                seen, since = now, time.monotonic()
            first = self._warmed is None
            if (now == self._warmed or not Runtime.exists() or not self._ready()
                    or (not first and time.monotonic() - since < self._quiet)):
                continue
            await self.warm(Runtime.instance())

    async def warm(self, runtime: Any) -> None:
        """Open every page once, one after the other."""
        version, start = self._version(), time.perf_counter()
        failed = []
        for page in self._pages:
            try:
                if not await open_page(runtime, page):
                    failed.append(page or "overview")
            except asyncio.CancelledError:
                raise
            except Exception:  # a page that cannot be opened here is opened by its visitor
                log.exception("warming page %r failed", page or "overview")
                failed.append(page or "overview")
        self._warmed = version
        self.rounds += 1
        log.info("pages warmed at data version %d in %.1f s%s", version,
                 time.perf_counter() - start,
                 f" (not finished: {', '.join(failed)})" if failed else "")
