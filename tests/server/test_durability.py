"""What the issue is checked with, against real `triage serve` processes: tickets posted by many
clients while `triage import` and `triage feedback add` run on the same database, then SIGKILL
and a restart. Every acknowledged ticket is there with its triage, nothing is duplicated or
half-written, the CLI verbs succeed, and requests without a valid token get 401."""

from __future__ import annotations

import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from _served import call, live_server, new_ticket, triage_cmd

from triage_core.server import owner
from triage_core.store import Store

BATCH = 8  # tickets per multi-ticket request
ACKED = 40  # requests answered before the server is killed


def _post_until(stop: threading.Event, url: str, token: str, client: int,
                customers: list[str], answered: threading.Semaphore
                ) -> tuple[list[str], list[list[str]], int, list[int]]:
    """Post single tickets and small batches until ``stop``; (acknowledged ids, acknowledged
    batches, requests refused with 401, other answers)."""
    others: list[int] = []
    acked: list[str] = []
    batches: list[list[str]] = []
    unauthorized = 0
    i = 0
    while not stop.is_set():
        i += 1
        if i % 5 == 0:
            ids = [f"D{client}-{i}-{k}" for k in range(BATCH)]
            body = [new_ticket(t, customers[(client + k) % 100]) for k, t in enumerate(ids)]
        else:
            ids = [f"D{client}-{i}"]
            body = new_ticket(ids[0], customers[(client * 3 + i) % 100])
        try:
            status, _ = call(url + "/api/v1/tickets", "POST", body, token, timeout=60)
            if status == 200:
                answered.release()
                acked += ids
                if len(ids) > 1:
                    batches.append(ids)
            else:
                others.append(status)
            if i == 1 or i % 7 == 0:
                unauthorized += call(url + "/api/v1/tickets", "POST", body, None)[0] == 401
        except (OSError, http.client.HTTPException):  # killed under it: not acknowledged
            break
    return acked, batches, unauthorized, others


@pytest.mark.slow
def test_acknowledged_tickets_survive_sigkill_while_the_cli_writes(
        db: Path, tmp_path: Path, customers: list[str]) -> None:
    token = json.loads(triage_cmd("tokens", "create", "--db", str(db), "--name", "helpdesk",
                                  "--json").stdout)["token"]
    csv = tmp_path / "more.csv"
    csv.write_text("ticket_id,created_at,customer_id,subject,body,status\n" + "".join(
        f"CLI-{i},2026-07-03 10:{i % 60:02d}:00,{customers[i % 100]},Question {i},"
        f"How do I change my plan?,open\n" for i in range(300)), encoding="utf-8")
    with Store(db, read_only=True) as s:
        old_ticket = s.scalar("SELECT min(ticket_id) FROM tickets")
    stop = threading.Event()
    answered = threading.Semaphore(0)
    with (live_server(db, tmp_path / "serve.log", "--no-dashboard") as live,
          ThreadPoolExecutor(8) as pool):
        posters = [pool.submit(_post_until, stop, live.url, token, c, customers, answered)
                   for c in range(6)]
        try:
            imported = pool.submit(triage_cmd, "import", "tickets", str(csv), "--db", str(db))
            corrected = pool.submit(triage_cmd, "feedback", "add", "--db", str(db), "--ticket",
                                    old_ticket, "--tier", "P1", "--by", "lead")
            assert imported.result().returncode == 0, imported.result().stderr
            assert corrected.result().returncode == 0, corrected.result().stderr
            for _ in range(ACKED):  # enough tickets answered (the first wait for the models)
                assert answered.acquire(timeout=300)
            live.kill()  # with requests in flight
        finally:
            stop.set()
        results = [p.result() for p in posters]
    acked = [t for r in results for t in r[0]]
    batches = [b for r in results for b in r[1]]
    assert len(acked) >= ACKED and batches
    assert all(r[2] > 0 for r in results)  # every client also saw 401 without a token
    assert [s for r in results for s in r[3]] == []
    assert owner.read(db) is not None and owner.live(db) is None  # stale record of the dead one

    with live_server(db, tmp_path / "restart.log", "--no-dashboard") as again:
        status, body = call(again.url + f"/api/v1/tickets/{acked[-1]}", token=token)
        assert status == 200 and body["triage"]["priority_tier"]
    with Store(db, read_only=True) as s:
        rows = s.query("SELECT t.ticket_id, t.priority_tier, t.team, r.category"
                       " FROM tickets k JOIN triaged_tickets t USING (ticket_id)"
                       " JOIN triage_results r USING (ticket_id)"
                       " WHERE k.ticket_id LIKE 'D%-%'")
        assert set(acked) <= set(rows["ticket_id"])
        assert rows["priority_tier"].notna().all() and rows["team"].notna().all()
        assert s.scalar("SELECT count(*) - count(DISTINCT ticket_id) FROM triaged_tickets") == 0
        present = set(s.query("SELECT ticket_id FROM tickets WHERE ticket_id LIKE 'D%-%-%'")[
            "ticket_id"])
        assert s.scalar("SELECT count(*) FROM tickets WHERE ticket_id LIKE 'CLI-%'") == 300
        assert s.scalar("SELECT count(*) FROM feedback WHERE ticket_id = ?", [old_ticket]) == 1
    by_request: dict[str, set[str]] = {}
    for t in present:  # a multi-ticket request is there whole or not at all
        by_request.setdefault(t.rsplit("-", 1)[0], set()).add(t)
    assert all(len(ids) == BATCH for ids in by_request.values())
