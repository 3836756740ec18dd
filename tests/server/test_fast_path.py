"""The ticket intake's fast path gives what the SQL path of `triage score` gives.

New tickets are validated in Python (store/quick_import.py), scored and routed row by row
(ops/rowscore.py) from state kept in memory (server/quick.py). These tests hold it to the batch
code: the same tickets, posted through the API on one copy of the world and imported and
triaged by the SQL path (the scoring SQL and ``score_frame``, as ``triage score`` runs them) on
another, give identical rows; ``score_rows`` equals ``score_frame`` on the whole world; and what
the fast validation accepts is stored exactly as the import stores it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from _served import Api, new_ticket
from _world import copy_db

from triage_core.config import default_config
from triage_core.ops import feedback, rowscore, scoring
from triage_core.ops.routing.assign import _Agents
from triage_core.server.quick import SMALL as QUICK_SMALL
from triage_core.server.quick import QuickTriage
from triage_core.store import Store, quick_import
from triage_core.store.mapping import ImportMapping, preset
from triage_core.triage import batch as batch_mod


def _same(a: Any, b: Any) -> bool:
    missing_a = a is None or (not isinstance(a, str) and pd.isna(a))
    missing_b = b is None or (not isinstance(b, str) and pd.isna(b))
    if missing_a or missing_b:
        return missing_a and missing_b
    if isinstance(a, dt.datetime | pd.Timestamp) or isinstance(b, dt.datetime | pd.Timestamp):
        return pd.Timestamp(a) == pd.Timestamp(b)
    if isinstance(a, float | np.floating) and isinstance(b, float | np.floating):
        return float(a) == float(b) or (math.isnan(a) and math.isnan(b))
    return a == b


def _differences(a: pd.DataFrame, b: pd.DataFrame, key: str) -> list[str]:
    a = a.sort_values(key).reset_index(drop=True)
    b = b.sort_values(key).reset_index(drop=True)
    assert a[key].tolist() == b[key].tolist()
    out = []
    for c in a.columns:
        for i, (x, y) in enumerate(zip(a[c].tolist(), b[c].tolist(), strict=True)):
            if not _same(x, y):
                out.append(f"{a[key][i]} {c}: {x!r} != {y!r}")
    return out


def _tickets(customers: list[str], vip: str, prefix: str, n: int = 24) -> list[dict[str, Any]]:
    """Tickets that take every branch: languages, labels, statuses, agents, csat, times."""
    bodies = ["I was charged twice for my order and want a refund now!!",
              "The app crashes every time I open the settings page. Terrible.",
              "How do I change the email address on my account?",
              "Ich möchte mein Abonnement kündigen, bitte helfen Sie mir schnell.",
              "ok", "Je n'arrive pas à me connecter depuis hier, c'est inacceptable."]
    rows = []
    for i in range(n):
        # distinct times: tickets of one pool that tie on priority and time are ranked by row
        # order, which SCORING_SQL (like `triage score`) does not fix
        extra: dict[str, Any] = {"created_at": f"2026-07-01T{8 + i // 60:02d}:{i % 60:02d}:00Z",
                                 "body": bodies[i % len(bodies)]}
        if i % 5 == 1:
            extra["language"] = ["de", "en", "FR "][i % 3]
        if i % 7 == 2:
            extra["category"] = "billing"
        if i % 6 == 3:
            extra["status"] = "solved"
            extra["first_response_at"] = "2026-07-01T12:00:00+02:00"
        if i % 4 == 0:
            extra["source_priority"] = "Urgent"
        if i % 9 == 4:
            extra["csat"] = "2"
        if i % 8 == 5:
            extra["channel"] = " Web Form "
        customer = vip if i % 4 == 1 else customers[i * 7 % len(customers)]
        rows.append(new_ticket(f"{prefix}-{i:03d}", customer, **extra))
    return rows


@pytest.fixture
def vip(world: Path) -> str:
    with Store(world, read_only=True) as s:
        return str(s.scalar("SELECT customer_id FROM customers WHERE segment = 'vip'"
                            " ORDER BY lifetime_value DESC NULLS LAST LIMIT 1"))


# With the helper process (languages and sentiment beside the categories, server/helper.py),
# without it, and with a helper that died: the rows are the same.
@pytest.mark.parametrize(("n", "helper"), [(24, "on"), (QUICK_SMALL + 30, "on"), (24, "off"),
                                           (24, "killed")])  # row by row; vectorized
def test_posted_tickets_get_the_rows_of_the_sql_path(serve_api: Callable[..., Api], world: Path,
                                                      tmp_path: Path, customers: list[str],
                                                      vip: str, n: int, helper: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    tickets = _tickets(customers, vip, "FAST", n)
    api = serve_api(intake_helper=helper != "off")
    running = api.server.intake.quick.helper
    assert (running is None) == (helper == "off")
    if helper == "killed":
        deadline = time.monotonic() + 120
        while not api.server.intake.warm and time.monotonic() < deadline:
            time.sleep(0.1)  # the helper starts while the intake loads the models
        assert running._proc is not None and running._proc.is_alive()
        running._proc.kill()
        running._proc.join(10)
    made_here: list[int] = []
    if helper == "on" and n == 24:  # the model inputs come from the helper too
        deadline = time.monotonic() + 120
        while not api.server.intake.warm and time.monotonic() < deadline:
            time.sleep(0.1)
        made = batch_mod.ticket_texts
        monkeypatch.setattr(batch_mod, "ticket_texts",
                            lambda frame: made_here.append(len(frame)) or made(frame))
    r = api.post("/api/v1/tickets", tickets)
    assert r.status_code == 200, r.text
    assert made_here == []
    ids = [t["ticket_id"] for t in tickets]
    fast = api.query(f"SELECT * FROM {scoring.TRIAGED} WHERE list_contains(?, ticket_id)",
                     [ids])
    fast_results = api.query("SELECT * EXCLUDE (scored_at) FROM triage_results"
                             " WHERE list_contains(?, ticket_id)", [ids])
    fast_tickets = api.query("SELECT * FROM tickets WHERE list_contains(?, ticket_id)", [ids])

    other = copy_db(world, tmp_path, "sql.duckdb")
    with Store(other) as s:
        frame = pd.DataFrame([{k: None if v is None else str(v) for k, v in t.items()}
                              for t in tickets], dtype=object)
        with s.transaction():
            s.import_frame("tickets", frame, source="request body")
            QuickTriage(default_config()).run(s, ids, exact=True)
        slow = s.query(f"SELECT * FROM {scoring.TRIAGED} WHERE list_contains(?, ticket_id)",
                       [ids])
        slow_results = s.query("SELECT * EXCLUDE (scored_at) FROM triage_results"
                               " WHERE list_contains(?, ticket_id)", [ids])
        slow_tickets = s.query("SELECT * FROM tickets WHERE list_contains(?, ticket_id)", [ids])
    assert _differences(fast_tickets, slow_tickets, "ticket_id") == []
    assert _differences(fast_results, slow_results, "ticket_id") == []
    assert _differences(fast, slow, "ticket_id") == []
    outcomes = set(fast["routing_outcome"])
    assert {"assigned", "closed"} <= outcomes, outcomes
    answered = {t["ticket_id"]: t for t in r.json()["tickets"]}
    for row in fast.itertuples():
        assert answered[row.ticket_id]["agent_id"] == (None if pd.isna(row.agent_id)
                                                       else row.agent_id)
        assert answered[row.ticket_id]["priority_tier"] == row.priority_tier


def test_a_ticket_dated_in_the_future_does_not_breach_the_others(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    """The SLA clock is the newest ticket's time: one ticket dated 2100 (a typo in the year)
    put the next posted ticket, created minutes ago, past its SLA at the highest wait points.
    The clock passes over tickets created more than a day after the machine's clock."""
    api = serve_api()
    typo = new_ticket("FUTURE-1", customers[0], created_at="2100-01-01T00:00:00Z")
    assert api.post("/api/v1/tickets", [typo]).status_code == 200
    r = api.post("/api/v1/tickets", [new_ticket("FUTURE-2", customers[1])])
    assert r.status_code == 200, r.text
    row = api.query(f"SELECT sla_status, contrib_wait FROM {scoring.TRIAGED}"
                    " WHERE ticket_id = 'FUTURE-2'")
    assert row["sla_status"].tolist() == ["ok"]
    assert row["contrib_wait"].tolist() == [0.0]


@pytest.mark.slow
def test_agent_loads_carry_over_between_requests(serve_api: Callable[..., Api], world: Path,
                                                 tmp_path: Path, customers: list[str],
                                                 vip: str) -> None:
    """One request at a time (loads kept in memory) routes like the SQL path (loads counted
    from triaged_tickets), request after request; posting a ticket again is idempotent."""
    tickets = _tickets(customers, vip, "SEQ")[:10]
    api = serve_api()
    for t in tickets:
        assert api.post("/api/v1/tickets", t).status_code == 200
    assert api.post("/api/v1/tickets", tickets[0]).status_code == 200  # again: SQL path
    ids = [t["ticket_id"] for t in tickets]
    fast = api.query(f"SELECT * FROM {scoring.TRIAGED} WHERE list_contains(?, ticket_id)",
                     [ids])
    other = copy_db(world, tmp_path, "sql.duckdb")
    with Store(other) as s:
        quick = QuickTriage(default_config())
        for t in [*tickets, tickets[0]]:
            frame = pd.DataFrame([{k: None if v is None else str(v) for k, v in t.items()}],
                                 dtype=object)
            with s.transaction():
                s.import_frame("tickets", frame, source="request body")
                quick.run(s, [t["ticket_id"]], exact=True)
        slow = s.query(f"SELECT * FROM {scoring.TRIAGED} WHERE list_contains(?, ticket_id)",
                       [ids])
    assert _differences(fast, slow, "ticket_id") == []
    assert api.query(f"SELECT count(*) AS n FROM {scoring.TRIAGED} WHERE list_contains(?,"
                     " ticket_id)", [ids])["n"][0] == len(ids)


@pytest.mark.parametrize("loaded", [False, True])
def test_score_rows_equals_score_frame_on_the_world(world: Path, loaded: bool) -> None:
    config = default_config()
    with Store(world, read_only=True) as s:
        profile = scoring.load_profile(s, config)
        rules = scoring.rules(config)
        frame = scoring.scoring_frame(s, lookback_days=scoring.lookback_days(config))
        agents = s.query("SELECT * FROM agents")
        as_of = scoring.data_time(s)
    if loaded:  # some agents start full, so that pools overflow
        agents["current_load"] = np.where(np.arange(len(agents)) % 4 > 0, agents["capacity"], 1)
    else:
        agents["capacity"] = agents["capacity"] * 20
    frame = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    frame.loc[frame.index % 3 > 0, "agent_id"] = None  # open tickets nobody holds are routed
    vectorized = scoring.score_frame(frame, agents, profile, rules, as_of)
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    routing = rowscore.Routing(_Agents.from_frame(agents, rules), rules)
    by_rows = pd.DataFrame(rowscore.score_rows(rows, routing, profile, as_of))
    assert _differences(vectorized, by_rows[scoring.OUTPUT_COLUMNS], "ticket_id") == []
    assert {"assigned", "kept", "triage", "closed"} <= set(vectorized["routing_outcome"])
    if loaded:
        assert "overflow" in set(vectorized["routing_outcome"])


@pytest.mark.parametrize("minutes", [None, 20.5, 1 / 3])
def test_score_rows_due_times_equal_score_frame(world: Path, minutes: float | None) -> None:
    """The rows as the intake holds them (Python datetimes, which take a timedelta computed
    once per tier), with first-response SLAs of whole, fractional and non-microsecond
    minutes (the last takes pandas' way, as the vectorized code)."""
    config = default_config()
    with Store(world, read_only=True) as s:
        profile = scoring.load_profile(s, config)
        rules = scoring.rules(config)
        frame = scoring.scoring_frame(s, lookback_days=scoring.lookback_days(config)).head(400)
        agents = s.query("SELECT * FROM agents")
        as_of = scoring.data_time(s)
    if minutes is not None:
        profile = dataclasses.replace(profile, sla=tuple(
            dataclasses.replace(p, first_response_minutes=minutes * (i + 1))
            for i, p in enumerate(profile.sla)))
    vectorized = scoring.score_frame(frame, agents, profile, rules, as_of)
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for row in rows:
        for key, value in row.items():
            if isinstance(value, pd.Timestamp):
                row[key] = value.to_pydatetime()
    routing = rowscore.Routing(_Agents.from_frame(agents, rules), rules)
    by_rows = pd.DataFrame(rowscore.score_rows(rows, routing, profile, as_of))
    # what a TIMESTAMP column stores of the vectorized code's nanoseconds
    due = duckdb.connect().execute("SELECT CAST(first_response_due_at AS TIMESTAMP) AS due"
                                   " FROM vectorized").df()["due"]
    assert _differences(vectorized.assign(first_response_due_at=due),
                        by_rows[scoring.OUTPUT_COLUMNS], "ticket_id") == []
    assert by_rows["first_response_due_at"].notna().all()


TIMES = ["2026-07-01T09:30:00Z", "2026-07-01 09:30:00", "2026-07-01T09:30:00+05:30",
         "2026-07-01T09:30:00-0800", "2026-07-01T09:30:00.123Z", "2024-02-29T23:59:59-00:30",
         "2026-07-01T09:30:00.123456+14:00", "1970-01-01T00:00:00Z", "2100-12-31T23:59:59Z",
         "2101-01-01T00:00:00+01:00", "2026-07-01T09:30:00+0000"]
REFUSED_OR_OTHER = ["2026-07-01T09:30:00+14:01", "2026-02-29T00:00:00Z", "2026-07-01T24:00:00Z",
                    "1970-01-01T00:30:00+01:00", "2026-07-01T09:30:00.1234567Z", "2026-07-01",
                    " 2026-07-01T09:30:00Z", "2026-07-01T09:30:00+00:60", "0999-01-01T00:00:00Z",
                    "yesterday", "2026-07-01T09:30Z",
                    # an offset would carry these past the years a datetime holds
                    "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"]


def test_fast_timestamps_read_like_the_import() -> None:
    with Store() as s:
        con = s.raw_connection()  # the import's connection, with its macros
        for text in TIMES:
            expected = con.execute("SELECT triage_ts(?)", [text]).fetchone()[0]
            assert quick_import.timestamp(text) == expected, text
    for text in REFUSED_OR_OTHER:  # left to the import (which may still read some of them)
        with pytest.raises(quick_import._NotPlain):
            quick_import.timestamp(text)


def test_plain_tickets_are_stored_like_an_import(world: Path, tmp_path: Path,
                                                 customers: list[str]) -> None:
    rows = [{"ticket_id": f" P-{i} ", "created_at": TIMES[i % len(TIMES)],
             "customer_id": customers[i],
             "status": [" Open", "NEW", "on_hold", "Hold", " resolved", "DELETED"][i % 6],
             "channel": ["Web Form", "e-mail ", "fax", None, ""][i % 5],
             "subject": "  Hello  ", "body": None if i % 2 else "text",
             "csat": ["", "5", None][i % 3],
             "first_response_at": ["", None, "2026-07-01T10:00:00Z"][i % 3],
             "language": " de "} for i in range(12)]
    plain = quick_import.plain_tickets(rows)
    assert plain is not None
    fast_db, slow_db = copy_db(world, tmp_path, "a.duckdb"), copy_db(world, tmp_path, "b.duckdb")
    with Store(fast_db) as s, s.transaction():
        quick_import.upsert(s, plain)
    with Store(slow_db) as s:
        s.import_frame("tickets", pd.DataFrame(rows, dtype=object), source="request body")
    sql = "SELECT * FROM tickets WHERE ticket_id LIKE 'P-%'"
    with Store(fast_db, read_only=True) as a, Store(slow_db, read_only=True) as b:
        fast, slow = a.query(sql), b.query(sql)
    assert len(fast) == 12
    assert _differences(fast, slow, "ticket_id") == []


WEBHOOK_VALUES = {  # values a helpdesk's webhook sends, that its preset maps
    "zendesk": {"status": ["Hold", "Open", "solved", "New", "Pending", "Deleted"],
                "channel": ["Web Form", "Mail", "Chat", "API", "web", "-"],
                "csat": ["Good", "Bad", "Offered", "-", "", "Unoffered"],
                "source_priority": ["-", "High", "Urgent", "low", "", "Normal"]},
    "freshdesk": {"status": ["2", "3", "4", "5", "Resolved", " Waiting on Customer "],
                  "channel": ["1", "2", "3", "7", "9", "Portal"],
                  "csat": ["Awesome", "Just okay", "Not good", "", "Extremely happy", None],
                  "source_priority": ["1", "2", "3", "4", "", "Urgent"]},
}


@pytest.mark.parametrize("helpdesk", sorted(WEBHOOK_VALUES))
def test_webhook_tickets_take_the_fast_path_and_are_stored_like_the_import(
        helpdesk: str, world: Path, tmp_path: Path, customers: list[str]) -> None:
    """A webhook's rows (our column names, the helpdesk's values) with its preset's value maps
    applied are plain tickets, stored exactly as the import with the preset stores them."""
    values = WEBHOOK_VALUES[helpdesk]
    rows = [new_ticket(f"W-{i}", customers[i], **{c: v[i] for c, v in values.items()})
            for i in range(6)]
    mapping = preset(helpdesk)
    mapped = quick_import.mapped_rows(rows, mapping)
    assert mapped is not None
    plain = quick_import.plain_tickets(mapped)
    assert plain is not None
    fast_db, slow_db = copy_db(world, tmp_path, "a.duckdb"), copy_db(world, tmp_path, "b.duckdb")
    with Store(fast_db) as s, s.transaction():
        quick_import.upsert(s, plain)
    with Store(slow_db) as s:
        s.import_frame("tickets", pd.DataFrame(rows, dtype=object), source="webhook",
                       mapping=mapping)
    sql = "SELECT * FROM tickets WHERE ticket_id LIKE 'W-%'"
    with Store(fast_db, read_only=True) as a, Store(slow_db, read_only=True) as b:
        fast, slow = a.query(sql), b.query(sql)
    assert len(fast) == 6
    assert _differences(fast, slow, "ticket_id") == []
    assert "on_hold" in set(fast["status"]) or helpdesk == "freshdesk"


def test_a_mapping_that_does_more_than_map_values_goes_to_the_import() -> None:
    row = new_ticket("X-1", "C1", status="Hold")
    assert quick_import.mapped_rows([row], preset("zendesk")) is not None
    # the preset reads its "First reply time in minutes" column as minutes: a row's own
    # first_response_at is no such column, and takes the fast path too
    replied = {**row, "first_response_at": "2026-07-01T10:00:00Z"}
    assert quick_import.mapped_rows([replied], preset("zendesk")) is not None
    for mapping in (
            ImportMapping.from_mapping({"columns": {"body": ["subject"]}}),  # another column
            ImportMapping.from_mapping({"defaults": {"channel": "email"}}),
            ImportMapping.from_mapping({"formats": {"created_at": "%d/%m/%Y %H:%M"}}),
            ImportMapping.from_mapping({"values": {"channel": {"site": "Web Form"}}})):
        changed = {**row, "channel": "site"}
        assert quick_import.mapped_rows([changed], mapping) is None, mapping
    assert quick_import.mapped_rows([{**row, "Ticket ID": "x"}], preset("zendesk")) is None


@pytest.mark.parametrize("change", [
    {"status": "unknown"}, {"status": "hold on"}, {"csat": "4.0"}, {"csat": "9"},
    {"created_at": "yesterday"}, {"created_at": ""}, {"ticket_id": " "}, {"Ticket ID": "x"},
    {"customer_id": None}, {"first_response_at": " 2026-07-01T10:00:00Z"}])
def test_anything_unusual_goes_to_the_import(change: dict[str, Any]) -> None:
    row = {"ticket_id": "X-1", "created_at": "2026-07-01T09:30:00Z", "customer_id": "C1",
           "status": "new", **change}
    assert quick_import.plain_tickets([row]) is None


def test_a_duplicate_id_goes_to_the_import() -> None:
    row = {"ticket_id": "X-1", "created_at": "2026-07-01T09:30:00Z", "customer_id": "C1",
           "status": "new"}
    assert quick_import.plain_tickets([row, {**row, "ticket_id": " X-1"}]) is None
    assert quick_import.plain_tickets([row]) is not None


def test_the_insert_of_new_tickets_equals_the_upsert(world: Path, tmp_path: Path,
                                                     customers: list[str]) -> None:
    """``new=True`` (a plain insert, for tickets the intake knows to be new) stores and
    returns what the upsert does, and refuses a ticket that exists."""
    rows = [new_ticket(f"N-{i}", customers[i], csat=["", "4"][i % 2]) for i in range(6)]
    plain = quick_import.plain_tickets(rows)
    assert plain is not None
    got = {}
    for new in (True, False):
        path = copy_db(world, tmp_path, f"{new}.duckdb")
        with Store(path) as s:
            with s.transaction():
                returned = quick_import.upsert(s, plain, "hash(subject) AS h", new=new)
            got[new] = (returned, s.query("SELECT * FROM tickets WHERE ticket_id LIKE 'N-%'"))
            if new:
                existing = quick_import.plain_tickets([new_ticket("N-0", customers[0])])
                assert existing is not None
                with pytest.raises(duckdb.ConstraintException), s.transaction():
                    quick_import.upsert(s, existing, new=True)
                assert s.scalar("SELECT count(*) FROM tickets WHERE ticket_id = 'N-0'") == 1
    def by_id(returned: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(returned, key=lambda r: r["ticket_id"])  # RETURNING has no order

    assert by_id(got[True][0]) == by_id(got[False][0])
    assert len(got[True][0]) == 6 and all(r["h"] is not None for r in got[True][0])
    assert _differences(got[True][1], got[False][1], "ticket_id") == []


def test_tickets_the_intake_state_missed_are_upserted(serve_api: Callable[..., Api],
                                                       customers: list[str]) -> None:
    """A ticket written behind the intake's back (so its state takes it for new) and a
    triage result left without its ticket make the plain inserts fail: the batch is written
    again by upserts, once, with the answers of the SQL path and no duplicated row."""
    api = serve_api()
    first = api.post("/api/v1/tickets", new_ticket("MISS-0", customers[0]))
    assert first.status_code == 200, first.text  # the intake's state is read
    cur = api.server.store.cursor()
    try:
        cur.import_frame("tickets", pd.DataFrame([{
            **new_ticket("MISS-1", customers[1]), "body": "old text"}], dtype=object),
            source="behind the intake")
        cur.execute("INSERT INTO triage_results (ticket_id, text_hash, category)"
                    " VALUES ('MISS-2', 1, 'left over')")
    finally:
        cur.close()
    again = api.post("/api/v1/tickets", [
        new_ticket("MISS-1", customers[1], body="The app crashes when I log in. Urgent!"),
        new_ticket("MISS-2", customers[2]), new_ticket("MISS-3", customers[3])])
    assert again.status_code == 200, again.text
    answered = {t["ticket_id"]: t for t in again.json()["tickets"]}
    assert set(answered) == {"MISS-1", "MISS-2", "MISS-3"}
    counts = api.query(
        "SELECT t.ticket_id, t.body, (SELECT count(*) FROM triage_results r"
        f" WHERE r.ticket_id = t.ticket_id) AS results, (SELECT count(*) FROM {scoring.TRIAGED}"
        " x WHERE x.ticket_id = t.ticket_id) AS triaged FROM tickets t"
        " WHERE t.ticket_id LIKE 'MISS-%' ORDER BY 1")
    assert counts["ticket_id"].tolist() == ["MISS-0", "MISS-1", "MISS-2", "MISS-3"]
    assert counts["results"].tolist() == [1, 1, 1, 1]
    assert counts["triaged"].tolist() == [1, 1, 1, 1]
    assert counts["body"].tolist()[1] == "The app crashes when I log in. Urgent!"
    stored = api.query("SELECT category FROM triage_results WHERE ticket_id = 'MISS-2'")
    assert stored["category"].tolist() == [answered["MISS-2"]["category"]]
    assert answered["MISS-2"]["category"] != "left over"
    # the state was read again: the next new tickets take the plain inserts once more
    later = api.post("/api/v1/tickets", new_ticket("MISS-4", customers[4]))
    assert later.status_code == 200, later.text
    assert api.query("SELECT count(*) AS n FROM tickets WHERE ticket_id = 'MISS-4'")[
        "n"].tolist() == [1]


def test_updated_tickets_get_the_rows_of_the_sql_path(serve_api: Callable[..., Api],
                                                      world: Path, tmp_path: Path,
                                                      customers: list[str], vip: str) -> None:
    """Tickets posted again (a helpdesk's webhook fires on every update) are triaged by the
    path for existing tickets, with the agents' loads of the state in memory: the same rows,
    request after request, as the SQL path that counts the loads from triaged_tickets, for
    new tickets updated and for tickets of the world (agents, surveys) updated."""
    with Store(world, read_only=True) as s:
        held = s.query(f"SELECT ticket_id, customer_id FROM {scoring.TRIAGED}"
                       " WHERE routing_outcome IN ('assigned', 'kept') ORDER BY ticket_id"
                       " LIMIT 4")
        surveyed = s.query("SELECT t.ticket_id, t.customer_id FROM tickets t JOIN csat_surveys"
                           " USING (ticket_id) ORDER BY 1 LIMIT 2")
    new = _tickets(customers, vip, "UPD", 12)
    angry = "The app crashes after the update and I lost my work. Fix it now!"
    requests: list[list[dict[str, Any]]] = [new]
    requests += [[{**t, "body": angry, "status": "open"}] for t in new[:4]]
    requests.append([{**new[5], "status": "solved",
                      "first_response_at": "2026-07-01T12:00:00Z"},
                     {**new[6], "body": "How do I export my invoices?"}])
    requests.append([new_ticket(t, c, body=angry, status="open")
                     for t, c in [*held.itertuples(index=False),
                                  *surveyed.itertuples(index=False)]])
    requests.append(new[:3])  # back as they were
    api = serve_api()
    for body in requests:
        r = api.post("/api/v1/tickets", body)
        assert r.status_code == 200, r.text
    ids = list(dict.fromkeys(t["ticket_id"] for body in requests for t in body))
    sql = f"SELECT * FROM {scoring.TRIAGED} WHERE list_contains(?, ticket_id)"
    fast = api.query(sql, [ids])
    other = copy_db(world, tmp_path, "sql.duckdb")
    with Store(other) as s:
        quick = QuickTriage(default_config())
        for body in requests:
            frame = pd.DataFrame([{k: None if v is None else str(v) for k, v in t.items()}
                                  for t in body], dtype=object)
            with s.transaction():
                s.import_frame("tickets", frame, source="request body")
                quick.run(s, [t["ticket_id"] for t in body], exact=True)
        slow = s.query(sql, [ids])
    assert len(fast) == len(ids) >= 15
    assert _differences(fast, slow, "ticket_id") == []
    assert "kept" in set(fast["routing_outcome"])


def test_updated_tickets_keep_their_corrections_like_the_sql_path(
        serve_api: Callable[..., Api], db: Path, world: Path, tmp_path: Path) -> None:
    """A ticket posted again keeps the corrections in force on it (category, sentiment and
    tier, as the scoring SQL reads them from ticket_corrections) and its CSAT survey: the
    path for updated tickets gives the rows of the SQL path, and the answer says so."""
    with Store(world, read_only=True) as s:
        picked = s.query(f"SELECT t.ticket_id, t.customer_id, t.category, t.priority_tier,"
                         f" t.sentiment_label FROM {scoring.TRIAGED} t"
                         " ANTI JOIN csat_surveys USING (ticket_id)"
                         " WHERE t.sentiment_label IS NOT NULL ORDER BY t.ticket_id LIMIT 5")
        categories = s.query("SELECT DISTINCT category FROM triage_results"
                             " WHERE category IS NOT NULL ORDER BY 1")["category"].tolist()
    rows = picked.to_dict("records")
    surveyed = rows.pop()  # answers a CSAT survey (bad) before it is posted again
    other_category = next(c for c in categories if c != rows[0]["category"])
    corrections = [
        (rows[0]["ticket_id"], {"category": other_category}),
        (rows[1]["ticket_id"], {"sentiment": "positive" if rows[1]["sentiment_label"]
                                == "negative" else "negative"}),
        (rows[2]["ticket_id"], {"tier": "P1" if rows[2]["priority_tier"] != "P1" else "P4"}),
        (rows[3]["ticket_id"], {"sentiment": "neutral" if rows[3]["sentiment_label"]
                                != "neutral" else "positive", "tier": "P2"
                                if rows[3]["priority_tier"] != "P2" else "P3"}),
    ]
    other = copy_db(world, tmp_path, "sql.duckdb")
    for path in (db, other):
        with Store(path) as s:
            for ticket_id, changes in corrections:
                feedback.add(s, ticket_id, changes, by="lead")
            s.import_frame("csat_surveys", pd.DataFrame(
                {"ticket_id": [surveyed["ticket_id"]], "score": ["1"]}, dtype=object))
    angry = "Still broken after your last answer. This is the third time I write!"
    body = [new_ticket(r["ticket_id"], r["customer_id"], body=angry, status="open")
            for r in [*rows, surveyed]]
    api = serve_api()
    r = api.post("/api/v1/tickets", body)
    assert r.status_code == 200, r.text
    answered = {t["ticket_id"]: t for t in r.json()["tickets"]}
    ids = [t["ticket_id"] for t in body]
    sql = f"SELECT * FROM {scoring.TRIAGED} WHERE list_contains(?, ticket_id)"
    fast = api.query(sql, [ids])
    with Store(other) as s:
        frame = pd.DataFrame([{k: None if v is None else str(v) for k, v in t.items()}
                              for t in body], dtype=object)
        with s.transaction():
            s.import_frame("tickets", frame, source="request body")
            QuickTriage(default_config()).run(s, ids, exact=True)
        slow = s.query(sql, [ids])
    assert len(fast) == len(ids) == 5
    assert _differences(fast, slow, "ticket_id") == []
    by_id = fast.set_index("ticket_id")
    assert by_id.loc[rows[0]["ticket_id"], "category"] == other_category
    assert by_id.loc[rows[0]["ticket_id"], "category_source"] == "correction"
    assert answered[rows[0]["ticket_id"]]["category"] == other_category
    assert by_id.loc[rows[1]["ticket_id"], "sentiment_label"] == \
        corrections[1][1]["sentiment"]
    assert by_id.loc[rows[2]["ticket_id"], "priority_tier"] == corrections[2][1]["tier"]
    assert answered[rows[2]["ticket_id"]]["priority_tier"] == corrections[2][1]["tier"]
    assert by_id.loc[rows[3]["ticket_id"], "sentiment"] == 0.0 or \
        corrections[3][1]["sentiment"] != "neutral"
    assert by_id.loc[surveyed["ticket_id"], "csat"] == 1


def test_a_request_that_breaks_its_batch_does_not_fail_the_others(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    """A request whose tickets make the batch's write fail unexpectedly (here a text DuckDB
    cannot encode, which the API refuses before the intake) fails alone: the requests batched
    with it are written and answered."""
    from triage_core.server.intake import Request

    api = serve_api()
    assert api.post("/api/v1/tickets", new_ticket("BRK-0", customers[0])).status_code == 200

    def rows(ticket_id: str, subject: str) -> list[dict[str, str | None]]:
        return [{k: str(v) for k, v in new_ticket(ticket_id, customers[1],
                                                   subject=subject).items()}]

    intake = api.server.intake
    futures = [intake.submit(Request(rows("BRK-1", "fine"), "test")),
               intake.submit(Request(rows("BRK-2", "bad \ud800"), "test")),
               intake.submit(Request(rows("BRK-3", "fine too"), "test"))]
    assert [t["ticket_id"] for t in futures[0].result(timeout=60)] == ["BRK-1"]
    assert [t["ticket_id"] for t in futures[2].result(timeout=60)] == ["BRK-3"]
    with pytest.raises(Exception, match="surrogate"):
        futures[1].result(timeout=60)
    stored = api.query("SELECT ticket_id FROM tickets WHERE ticket_id LIKE 'BRK-%' ORDER BY 1")
    assert stored["ticket_id"].tolist() == ["BRK-0", "BRK-1", "BRK-3"]
    triaged = api.query(f"SELECT count(*) AS n FROM {scoring.TRIAGED}"
                        " WHERE ticket_id LIKE 'BRK-%'")
    assert triaged["n"].tolist() == [3]


def test_waiters_are_answered_on_their_loop_and_a_cancelled_one_harms_none(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    """The API awaits each request's waiter on its event loop: every request of a batch gets
    its own answer or error there, and a waiter cancelled meanwhile (its client went away)
    leaves the answers of the others of its batch alone (its tickets are written all the
    same)."""
    from triage_core.server.intake import Request

    api = serve_api()
    assert api.post("/api/v1/tickets", new_ticket("WT-0", customers[0])).status_code == 200
    intake = api.server.intake

    def rows(ticket_id: str, subject: str = "fine") -> list[dict[str, str | None]]:
        return [{k: str(v) for k, v in new_ticket(ticket_id, customers[1],
                                                   subject=subject).items()}]

    async def post(requests: list[Request]) -> list[Any]:
        waiters = [r.waiter for r in requests if r.waiter is not None and not r.waiter.done()]
        return await asyncio.wait_for(asyncio.gather(*waiters, return_exceptions=True), 30)

    async def rounds() -> tuple[list[Any], list[Any], Request]:
        loop = asyncio.get_running_loop()
        # the intake held at its next transaction while the requests queue up: they are one
        # batch, the cancelled one between the others
        with intake.cur._lock:
            blocker = intake.submit(Request(rows("WT-1"), "test"))
            await asyncio.sleep(0.3)
            first = [Request(rows(f"WT-{i}"), "test", loop=loop) for i in (2, 3, 4)]
            assert first[1].waiter is not None
            first[1].waiter.cancel()
            for r in first:
                intake.submit(r)
        answered = await post(first)
        assert [t["ticket_id"] for t in blocker.result(timeout=30)] == ["WT-1"]
        second = [Request(rows("WT-5"), "test", loop=loop),
                  Request(rows("WT-6", "bad \ud800"), "test", loop=loop)]
        for r in second:
            intake.submit(r)
        return answered, await post(second), first[1]

    answered, second, cancelled = asyncio.run(rounds())
    assert [[t["ticket_id"] for t in a] for a in answered] == [["WT-2"], ["WT-4"]]
    assert [t["ticket_id"] for t in cancelled.future.result(timeout=30)] == ["WT-3"]
    assert [t["ticket_id"] for t in second[0]] == ["WT-5"]
    assert isinstance(second[1], Exception) and "surrogate" in str(second[1])
    stored = api.query("SELECT ticket_id FROM tickets WHERE ticket_id LIKE 'WT-%' ORDER BY 1")
    assert stored["ticket_id"].tolist() == [f"WT-{i}" for i in range(6)]


def test_a_batch_wakes_each_waiting_loop_once() -> None:
    """The answers of a batch reach each event loop in one call (one wake-up of the loop, not
    one per request), from the intake's thread."""
    from triage_core.server.intake import Request, _settle

    loops = [asyncio.new_event_loop() for _ in range(2)]
    calls = {id(loop): 0 for loop in loops}
    for loop in loops:
        original = loop.call_soon_threadsafe

        def counted(*args: Any, _loop: Any = loop, _original: Any = original) -> Any:
            calls[id(_loop)] += 1
            return _original(*args)

        loop.call_soon_threadsafe = counted  # type: ignore[method-assign]
    try:
        requests = [Request([], "test", loop=loops[i % 2]) for i in range(7)]
        requests.append(Request([], "test"))  # no loop: its future only
        error = ValueError("refused")
        settler = threading.Thread(target=_settle, args=(
            [(r, [i], None if i != 3 else error) for i, r in enumerate(requests)],))
        settler.start()
        settler.join()
        assert list(calls.values()) == [1, 1]
        for loop in loops:
            loop.run_until_complete(asyncio.sleep(0))  # run the scheduled answers
        for i, r in enumerate(requests):
            if i == 3:
                assert r.waiter is not None and r.waiter.exception() is error
                assert r.future.exception() is error
                continue
            assert r.future.result() == [i]
            assert r.waiter is None or r.waiter.result() == [i]
    finally:
        for loop in loops:
            loop.close()
