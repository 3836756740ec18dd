"""Fixtures for the server tests: a small demo world (trained and triaged, built once), the API
on Starlette's TestClient over a private copy of it, and real `triage serve` processes."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/_world.py

from _served import Api
from _world import copy_db

from triage_core.cli.server import CliVerbs
from triage_core.config import default_config, merge
from triage_core.server import tokens
from triage_core.server.app import Server, api_app
from triage_core.store import Store


@pytest.fixture(scope="session")
def world(world_db: Path) -> Path:
    """The suite's demo world (tests/_world.py), imported, trained and triaged once. Read-only."""
    return world_db


@pytest.fixture(scope="session")
def customers(world: Path) -> list[str]:
    with Store(world, read_only=True) as s:
        return s.query("SELECT customer_id FROM customers ORDER BY 1 LIMIT 200")[
            "customer_id"].tolist()


@pytest.fixture
def db(world: Path, tmp_path: Path) -> Path:
    """A private copy of the world for a test that writes."""
    return copy_db(world, tmp_path, "served.duckdb")


# A server searches for emerging topics at start, in a background thread (seconds of CPU that
# the API tests do not look at): for them, no recent group is ever large enough, so the search
# ends after its two queries. The tests of that search pass ``topics={}`` (the defaults).
NO_EMERGING = {"min_alert_size": 1_000_000}


@pytest.fixture
def serve_api(db: Path) -> Iterator[Callable[..., Api]]:
    """``serve_api(topics=None, **server_settings)``: the API of a server on ``db`` (one at a
    time); ``topics``: its [topics] settings (default: emerging topics never found)."""
    running: list[TestClient] = []

    def start(topics: dict[str, Any] | None = None, **over: Any) -> Api:
        config = merge(default_config(), {
            "server": over, "topics": NO_EMERGING if topics is None else topics})
        server = Server(db, config, CliVerbs())
        server.url = "http://testserver"
        token = tokens.create(server.store, "test")
        client = TestClient(api_app(server), raise_server_exceptions=True)
        client.__enter__()
        running.append(client)
        return Api(client, server, token)

    yield start
    for client in running:
        client.__exit__(None, None, None)


# -- real servers -----------------------------------------------------------------------------

