"""Fixtures for the dashboard tests: real DuckDB files and a factory for AppTest sessions.

Three databases, once per session, all from the shared demo world (tests/conftest.py):
- ``demo_db``: the world, trained and triaged (a copy of its own: the app keeps its connection
  open, read-write, for the whole session); treat as read-only, ``fresh_db`` copies it to write;
- ``loaded_db``: the same files imported but never triaged (the "press Triage" state);
- ``empty_db``: only the schema.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from _world import copy_db, import_world
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from triage_core.store import Store

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "streamlit_app.py"
# The first run of a page imports plotly/sklearn and fills caches; 2 busy cores can be slow.
TIMEOUT = 60


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory, world_db: Path) -> Path:
    """The demo world, imported, first model trained, every ticket triaged. Treat as read-only."""
    return copy_db(world_db, tmp_path_factory.mktemp("dashboard"), "demo.duckdb")


@pytest.fixture(scope="session")
def loaded_db(tmp_path_factory: pytest.TempPathFactory, world_files: Path) -> Path:
    return import_world(world_files, tmp_path_factory.mktemp("dashboard") / "loaded.duckdb")


@pytest.fixture(scope="session")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dashboard") / "empty.duckdb"
    Store(path).close()
    return path


@pytest.fixture
def fresh_db(world_copy: Path) -> Path:
    """A private copy of the demo database for a test that writes."""
    return world_copy


@pytest.fixture(scope="session", autouse=True)
def components_scanned_once() -> Iterator[None]:
    """A Streamlit server looks for installed components (the metadata of every installed
    distribution) once, when it starts; AppTest does it again for every new app, a good part of
    a short test's time. The installed packages do not change during the tests: scan once."""
    try:
        from streamlit.components.v2 import manifest_scanner
    except ImportError:
        manifest_scanner = None
    scan = getattr(manifest_scanner, "scan_component_manifests", None)
    if scan is None:  # a Streamlit without this scan: nothing to spare
        yield
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(manifest_scanner, "scan_component_manifests", functools.cache(scan))
        yield


@pytest.fixture
def open_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AppTest]]:
    """``open_app(db, page=None)``: a fresh session on ``db``, run once on ``page`` (opened
    directly, like a link to it) or on the default page.

    The app reads TRIAGE_DB at run time; the connection cache is keyed by path, but cached
    query results are not, so they are cleared for every new session.
    """
    old = st_config.get_option("client.showErrorDetails")

    def _open(db: Path, page: str | None = None) -> AppTest:
        monkeypatch.setenv("TRIAGE_DB", str(db))
        st.cache_data.clear()
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        # .streamlit/config.toml redacts errors for users; tests want the real message.
        st_config.set_option("client.showErrorDetails", "full")
        if page is not None:
            at.switch_page(f"app_pages/{page}.py")
        return at.run()

    yield _open
    st_config.set_option("client.showErrorDetails", old)
    st.cache_data.clear()

