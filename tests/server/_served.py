"""Helpers of the server tests: a ticket, the API through TestClient, real `triage serve`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from triage_core.server import owner
from triage_core.server.app import Server

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 180  # seconds for `triage serve` to load its models on 2 busy cores



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
