"""The dashboard as one ASGI app with the REST API beside it: what ``triage serve`` runs.

Streamlit's ``st.App`` serves ``streamlit_app.py`` with the server's lifespan, the API's
requests go to the API's own Starlette app (``api_first``), all on uvicorn, with the page
warmer (dashboard/warm.py) beside it. The server object comes from ``triage serve``
(triage_core/server); the pages reach the server's shared connection through
``dashboard/data.py`` as always.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve().parent / "streamlit_app.py"
PROJECT_CONFIG = ROOT / ".streamlit" / "config.toml"


def _project_options() -> dict[str, Any]:
    """The project's .streamlit/config.toml (theme, upload size) wherever the server starts;
    Streamlit itself reads it only from the current folder."""
    if not PROJECT_CONFIG.exists() or Path.cwd().resolve() == ROOT:
        return {}
    with PROJECT_CONFIG.open("rb") as fh:
        data = tomllib.load(fh)
    return {f"{section}.{key}": value for section, table in data.items()
            for key, value in table.items()}


def warm_up() -> None:
    """What the first visit of any page would otherwise pay, once per server: the pages'
    modules and plotly's lazily built figure classes and validators (about 0.3 s)."""
    try:
        from dashboard import charts, components, data  # noqa: F401
        from dashboard import format as fmt  # noqa: F401

        charts.empty("warm-up").to_json()
    except Exception:  # a failed warm-up costs the first visitor time, nothing else
        logging.getLogger("triage.server").exception("dashboard warm-up failed")


def _lifespan(server: Any) -> Any:
    """The server's lifespan, with the pages' modules warmed (``warm_up``) and, when the server
    settings ask for it, the page warmer (dashboard/warm.py) running beside it. The pages'
    modules are imported here, once Streamlit's runtime runs: imported before it (when the app
    is created), each cached function of theirs logged "No runtime found, using
    MemoryCacheStorageManager", 40 warnings at every start."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Any = None) -> AsyncIterator[None]:
        async with server.lifespan(app):
            threading.Thread(target=warm_up, name="dashboard-warm-up", daemon=True).start()
            if not server.settings.warm_pages:
                yield
                return
            from dashboard.data import data_version
            from dashboard.warm import PageWarmer

            warmer = PageWarmer(data_version, server.started)
            server.warm_checks.append(lambda: warmer.rounds > 0)  # the first round
            task = asyncio.create_task(warmer.run(), name="warm-pages")
            try:
                yield
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return lifespan


API_PREFIX = "/api/v1/"  # the API's routes (triage_core.server.api), its own 404 included


def api_first(app: Any, server: Any) -> Any:
    """``app`` with the API's requests (``/api/v1/...``) sent straight to the API's own Starlette
    app: the dashboard's middleware (Streamlit's path checks, sessions, compression, error
    pages) does nothing for them, and under load it was about a third of the event loop's
    time per request. Everything else (the pages, their websockets, the lifespan) goes to
    ``app``."""
    from starlette.applications import Starlette

    api = Starlette(routes=server.routes())

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
            await api(scope, receive, send)
        else:
            await app(scope, receive, send)

    return asgi


def create_app(server: Any, host: str, port: int) -> tuple[Any, dict[str, Any]]:
    """``(app, uvicorn options)`` for ``server`` listening on ``host``:``port``."""
    from streamlit.runtime.runtime_util import get_max_message_size_bytes
    from streamlit.web import bootstrap

    bootstrap.load_config_options({
        **_project_options(), "server.port": port, "server.address": host,
        "server.headless": True, "server.runOnSave": False, "server.fileWatcherType": "none",
        "browser.gatherUsageStats": False})
    app = st.App(SCRIPT, lifespan=_lifespan(server))
    return api_first(app, server), {"ws_max_size": get_max_message_size_bytes(),
                                    "ws_per_message_deflate": False}
