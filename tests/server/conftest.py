"""Fixtures for the server tests: a small demo world (trained and triaged, built once), the API
on Starlette's TestClient over a private copy of it, and real `triage serve` processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/_world.py

from _world import build_world, copy_db

from triage_core.cli.server import CliVerbs
from triage_core.config import default_config, merge
from triage_core.server import owner, tokens
from triage_core.server.app import Server, api_app
from triage_core.store import Store

ROOT = Path(__file__).resolve().parents[2]
WORLD_TICKETS = 1200
START_TIMEOUT = 180  # seconds for `triage serve` to load its models on 2 busy cores


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo world, imported, trained and triaged once. Treat as read-only."""
    return build_world(tmp_path_factory.mktemp("server_world"), WORLD_TICKETS, 23)


@pytest.fixture(scope="session")
def customers(world: Path) -> list[str]:
    with Store(world, read_only=True) as s:
        return s.query("SELECT customer_id FROM customers ORDER BY 1 LIMIT 200")[
            "customer_id"].tolist()


@pytest.fixture
def db(world: Path, tmp_path: Path) -> Path:
    """A private copy of the world for a test that writes."""
    return copy_db(world, tmp_path, "served.duckdb")


def new_ticket(ticket_id: str, customer: str, **extra: Any) -> dict[str, Any]:
    return {"ticket_id": ticket_id, "created_at": "2026-07-01T09:30:00Z", "customer_id": customer,
            "channel": "email", "subject": "Charged twice",
            "body": "I was charged twice for my order and want a refund now.", "status": "new",
            **extra}


@dataclass
class Api:
    """The API of a running :class:`Server` through Starlette's TestClient."""

    client: TestClient
    server: Server
    token: str

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.client.post(path, json=body, headers=kw.pop("headers", self.auth()), **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=kw.pop("headers", self.auth()), **kw)

    def query(self, sql: str, params: Any = None) -> Any:
        cur = self.server.store.cursor()
        try:
            return cur.query(sql, params)
        finally:
            cur.close()

    def run_job(self, job: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        """Wait for a job to finish and return it."""
        deadline = time.monotonic() + 300
        while job["state"] not in ("done", "failed", "interrupted"):
            assert time.monotonic() < deadline, job
            job = self.get(f"/api/v1/jobs/{job['job_id']}?wait=2",
                           headers=self.auth(token)).json()["job"]
        return job


@pytest.fixture
def serve_api(db: Path) -> Iterator[Callable[..., Api]]:
    """``serve_api(**server_settings)``: the API of a server on ``db`` (one at a time)."""
    running: list[TestClient] = []

    def start(**over: Any) -> Api:
        config = merge(default_config(), {"server": over})
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

def triage_cmd(*args: str, timeout: float = 300, **kw: Any) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "triage_core.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, **kw)


@dataclass
class Live:
    proc: subprocess.Popen
    record: dict[str, Any]
    log: Path

    @property
    def url(self) -> str:
        return self.record["url"]

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=60)


@contextmanager
def live_server(db: Path, log: Path, *extra: str) -> Iterator[Live]:
    """``triage serve`` on ``db`` in its own process (any free port), until the block ends."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "triage_core.cli", "serve", "--db",
                                 str(db), "--port", "0", *extra], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            record = None
            while record is None:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
                record = owner.live(db)
            yield Live(proc, record, log)
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=120)


def call(url: str, method: str = "GET", body: Any = None, token: str | None = None,
         timeout: float = 120) -> tuple[int, Any]:
    """One request; (status, parsed JSON body)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
