"""Concurrent writers: feedback ids from a sequence (threads on one database, and two `triage`
processes through a server), many clients posting tickets at once."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from _served import call, live_server, new_ticket, triage_cmd

from triage_core.ops import feedback
from triage_core.store import Store


def test_feedback_ids_are_unique_under_concurrent_threads(db: Path) -> None:
    with Store(db) as store:
        ids = store.query(  # not P1 already: a correction to the shown value is refused
            "SELECT ticket_id FROM triaged_tickets WHERE priority_tier <> 'P1'"
            " ORDER BY 1 LIMIT 40")["ticket_id"]
        go = threading.Barrier(8)

        def writer(k: int) -> list[int]:
            cur = store.cursor()
            go.wait()
            try:
                return [i for t in ids[k::8] for i in feedback.add(
                    cur, t, {"tier": "P1", "flag": "wrong prediction"}, by=f"w{k}")]
            finally:
                cur.close()

        with ThreadPoolExecutor(8) as pool:
            got = [i for ids_ in pool.map(writer, range(8)) for i in ids_]
        stored = store.query("SELECT feedback_id FROM feedback")["feedback_id"].tolist()
    assert len(got) == len(set(got)) == 80
    assert sorted(stored) == sorted(got)


@pytest.mark.slow
def test_two_processes_record_feedback_through_the_server(db: Path, tmp_path: Path) -> None:
    with Store(db) as store:
        tickets = store.query("SELECT ticket_id FROM tickets ORDER BY 1 LIMIT 10")["ticket_id"]
    with live_server(db, tmp_path / "serve.log", "--no-dashboard"):
        def add(t: str) -> str:
            r = triage_cmd("feedback", "add", "--db", str(db), "--ticket", t, "--tier", "P2")
            assert r.returncode == 0, r.stderr
            return r.stdout

        with ThreadPoolExecutor(2) as pool:  # two CLI processes at a time
            out = list(pool.map(add, tickets))
        listed = triage_cmd("feedback", "list", "--db", str(db), "--json")
        assert listed.returncode == 0, listed.stderr
    ids = [int(line.split("#")[1].split()[0]) for line in out]
    rows = json.loads(listed.stdout)
    assert len(set(ids)) == 10 == len(rows)
    assert sorted(r["feedback_id"] for r in rows) == sorted(ids)


@pytest.mark.slow
def test_many_clients_post_at_once(db: Path, tmp_path: Path, customers: list[str]) -> None:
    token = json.loads(triage_cmd("tokens", "create", "--db", str(db), "--name", "load",
                                  "--json").stdout)["token"]
    with live_server(db, tmp_path / "serve.log", "--no-dashboard") as live:
        def client(c: int) -> list[int]:
            return [call(live.url + "/api/v1/tickets", "POST",
                         new_ticket(f"C{c}-{i}", customers[(c * 7 + i) % 100]), token)[0]
                    for i in range(6)]

        with ThreadPoolExecutor(12) as pool:
            statuses = [s for got in pool.map(client, range(12)) for s in got]
    assert statuses == [200] * 72
    with Store(db, read_only=True) as s:
        assert s.scalar("SELECT count(*) FROM tickets WHERE ticket_id LIKE 'C%-%'") == 72
        assert s.scalar("SELECT count(*) FROM triaged_tickets WHERE ticket_id LIKE 'C%-%'") == 72
        assert s.scalar("SELECT count(*) - count(DISTINCT ticket_id) FROM triaged_tickets") == 0
