"""Fixtures for the dashboard tests: real DuckDB files and a factory for AppTest sessions.

Three databases are built once per session and copied for tests that write:
- ``demo_db``: the seeded demo world (3,000 tickets, seed 7), trained and triaged;
- ``loaded_db``: the same files imported but never triaged (the "press Triage" state);
- ``empty_db``: only the schema.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from triage_core import demo
from triage_core.config import load_config
from triage_core.store import Store
from triage_core.triage import pipeline, training

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "streamlit_app.py"
DEMO_TICKETS = 3_000
DEMO_SEED = 7
# The first run of a page imports plotly/sklearn and fills caches; 2 busy cores can be slow.
TIMEOUT = 60


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo_world")
    demo.generate(out, tickets=DEMO_TICKETS, seed=DEMO_SEED)
    return out


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory, demo_files: Path) -> Path:
    """Demo world imported, first model trained, every ticket triaged. Treat as read-only."""
    path = tmp_path_factory.mktemp("db") / "demo.duckdb"
    with Store(path) as store:
        store.import_directory(demo_files)
        cfg = load_config()
        training.train(store, cfg, note="test", by="test")
        pipeline.triage(store, cfg)
    return path


@pytest.fixture(scope="session")
def loaded_db(tmp_path_factory: pytest.TempPathFactory, demo_files: Path) -> Path:
    path = tmp_path_factory.mktemp("db") / "loaded.duckdb"
    with Store(path) as store:
        store.import_directory(demo_files)
    return path


@pytest.fixture(scope="session")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "empty.duckdb"
    Store(path).close()
    return path


@pytest.fixture
def fresh_db(tmp_path: Path, demo_db: Path) -> Path:
    """A private copy of the demo database for a test that writes."""
    copy = tmp_path / "demo_copy.duckdb"
    shutil.copyfile(demo_db, copy)
    return copy


@pytest.fixture
def open_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AppTest]]:
    """``open_app(db, page=None)``: a fresh session on ``db``, run once (on ``page`` if given).

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
        at.run()
        if page is not None:
            at.switch_page(f"app_pages/{page}.py").run()
        return at

    yield _open
    st_config.set_option("client.showErrorDetails", old)
    st.cache_data.clear()

