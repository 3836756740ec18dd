"""Triage of the given tickets at once: the ticket intake's fast path.

``triage score`` predicts what is new or changed and re-scores every open ticket; a ticket that
arrives through the API only needs its own prediction, score and route. :class:`QuickTriage`
does exactly that for a list of ticket ids, with the same pieces as the batch pipeline
(:func:`triage_core.triage.batch.triage_batch`, the scoring SQL and
:func:`triage_core.ops.scoring.score_frame`), and keeps what does not change between requests in
memory: the active models, the weight profile and the routing rules (re-read when the data
version says that something other than tickets changed). Agents' loads are counted from
``triaged_tickets`` without the tickets being triaged, so no agent goes over capacity.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from triage_core.marketing.window import lookback_us
from triage_core.models import registry
from triage_core.ops import health, rowscore, scoring
from triage_core.ops.routing.assign import _Agents
from triage_core.schema import OPEN_STATUSES
from triage_core.server import version
from triage_core.server.helper import Helper, Pending, Rows
from triage_core.store import Store
from triage_core.store.quick_import import PlainTickets
from triage_core.triage import pipeline
from triage_core.triage.batch import RESULT_COLUMNS, TriageModels, triage_batch, triage_columns

log = logging.getLogger("triage.server")

# What the API answers for each ticket.
FIELDS = ("ticket_id", "category", "category_confidence", "sentiment", "sentiment_label",
          "severity", "priority_score", "priority_tier", "sla_due_at", "team", "agent_id",
          "routing_reason", "escalated")
_OPEN = ", ".join(f"'{s}'" for s in OPEN_STATUSES)  # schema constants, not user data
_AGENTS_SQL = f"""
SELECT a.*, coalesce(l.n, 0) AS current_load FROM agents a LEFT JOIN (
    SELECT agent_id, count(*) AS n FROM {scoring.TRIAGED}
    WHERE status IN ({_OPEN}) AND routing_outcome IN ('assigned', 'kept')
      AND NOT list_contains($ids, ticket_id)
    GROUP BY agent_id) l USING (agent_id)
"""
# What an existing ticket may have gathered since it arrived, for the path of updated tickets
# (run_updated): its scoring input hash (SCORING_SQL's, its survey included), its CSAT survey
# and its corrections in force.
_EXISTING_SQL = (f"SELECT k.ticket_id, {scoring.INPUT_HASH} AS input_hash, sv.score AS survey,"
                 " corr.category AS corr_category, corr.sentiment AS corr_sentiment,"
                 " corr.tier AS corr_tier FROM tickets k"
                 " LEFT JOIN csat_surveys sv USING (ticket_id)"
                 " LEFT JOIN ticket_corrections corr USING (ticket_id)"
                 " WHERE k.ticket_id IN (SELECT unnest(?::VARCHAR[]))")
# The open tickets agents hold (what their loads count), for the state of the fast path.
_HOLDERS_SQL = (f"SELECT ticket_id, agent_id FROM {scoring.TRIAGED} WHERE status IN ({_OPEN})"
                " AND routing_outcome IN ('assigned', 'kept') AND agent_id IS NOT NULL")
# The types of triage_results' columns, written column by column by the fast path.
RESULT_TYPES = {"ticket_id": "VARCHAR", "text_hash": "UBIGINT", "category": "VARCHAR",
                "category_confidence": "DOUBLE", "category_top": "VARCHAR",
                "sentiment": "DOUBLE", "sentiment_label": "VARCHAR", "severity": "INTEGER",
                "severity_reasons": "VARCHAR", "model_version": "INTEGER",
                "language": "VARCHAR", "scored_at": "TIMESTAMP"}
# What the upsert of a new ticket returns besides its columns: the text hash of prediction and
# the input hash of scoring (SCORING_SQL's; a new ticket has no csat survey yet).
RETURNING = ("hash(coalesce(subject, ''), coalesce(body, '')) AS text_hash, "
             + scoring.INPUT_HASH.replace("k.", "").replace("sv.score", "CAST(NULL AS INTEGER)")
             + " AS input_hash")
SMALL = 200  # new tickets scored row by row up to this many; the vectorized code beyond
PRELOAD_CUSTOMERS = 250_000  # up to this many customers, all of them (and their touchpoints)
# are read into memory at once; beyond, those of each batch are read when first seen


@dataclass
class FastState:
    """What triaging a new ticket needs besides the ticket, kept between requests; read again
    after any write other than ticket intake (:func:`version.structure`)."""

    seen: int
    ltv: np.ndarray  # sorted lifetime values of the customers that have one
    agents: pd.DataFrame
    routing: Any  # the agents as routing reads them (routing.assign._Agents)
    holders: dict[str, str]  # open ticket -> the agent holding it (assigned or kept)
    load: list[int]  # per agent (in routing's order), the open tickets held
    tickets: set[str]  # ids of the tickets in the database
    triaged: bool  # whether triaged_tickets exists (else the first batch takes the SQL path)
    index: dict[str, int] = field(default_factory=dict)  # agent id -> position in routing
    customers: dict[str, tuple[Any, Any, Any]] = field(default_factory=dict)  # segment, plan, LTV
    touches: dict[str, tuple[list[int], list[str]]] = field(default_factory=dict)

    def hold(self, ticket_id: str, agent: Any) -> None:
        """``ticket_id`` is now held by ``agent`` (None: by nobody)."""
        index = self.index
        before = self.holders.pop(ticket_id, None)
        if before in index:
            self.load[index[before]] -= 1
        if agent is not None:
            self.holders[ticket_id] = agent
            if agent in index:
                self.load[index[agent]] += 1


def _held_by(row: Mapping[str, Any]) -> Any:
    """The agent whose load a triaged row counts toward, or None."""
    if (row.get("status") in OPEN_STATUSES and row.get("routing_outcome") in ("assigned", "kept")
            and not rowscore._missing(row.get("agent_id"))):
        return str(row["agent_id"])
    return None


class QuickTriage:
    """Predict, score and route given tickets with models and settings kept in memory."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.rules = scoring.rules(config)
        self.lookback = {"lookback_us": lookback_us(scoring.lookback_days(config))}
        self._lock = threading.Lock()
        self._seen = -1
        self._models: TriageModels | None = None
        self._active: tuple[int | None, int | None] = (None, None)
        self._profile: Any = None
        self._newest: Any = None
        self._state: FastState | None = None
        self._pending: list[tuple[str, Any]] = []  # (ticket, holder) once the batch commits
        self._pending_ids: list[str] = []
        self._pending_customers: list[str] = []
        # the server's helper process (language and sentiment beside the categories), if any
        self.helper: Helper | None = None
        # what the helper was given by expect(): per ticket, its question and position there
        self._early: dict[str, tuple[Pending, int]] = {}

    def _refresh(self, store: Store) -> tuple[TriageModels, Any]:
        """The active models and weight profile; after writes other than tickets, the profile
        (and the newest ticket time) is read again, the models too if another version became
        active."""
        with self._lock:
            if self._models is None or self._seen != version.structure():
                self._seen = version.structure()
                active = (registry.active_version(store, "category"),
                          registry.active_version(store, "sentiment"))
                if self._models is None or active != self._active:
                    self._models = pipeline.load_models(store, self.config)
                    self._active = active
                self._profile = scoring.load_profile(store, self.config)
                self._newest = None
            return self._models, self._profile

    def models(self, store: Store) -> TriageModels:
        """The active models, loaded once."""
        return self._refresh(store)[0]

    def warm(self, store: Store) -> None:
        """Load the models and the state, and predict one made-up ticket (what the models
        load on first use: word vectors, the language detector, the vocabulary that splits
        hashtags)."""
        models = self.models(store)
        self.state(store)
        warm = pd.DataFrame({
            "ticket_id": ["warm-up"], "subject": ["Charged twice"],
            "body": ["I was charged twice for my order and would like a refund, please. "
                     "#notimpressed"],
            "label": [None], "language": [None], "text_hash": [0]})
        triage_batch(warm, models)
        if self.helper is not None:  # its process started, its models loaded
            triage_batch(warm, models, elsewhere=self.helper.submit(
                warm["subject"].tolist(), warm["body"].tolist(), warm["language"].tolist(),
                models))

    # -- the fast path: new tickets from the state in memory ------------------------------
    def state(self, store: Store) -> FastState:
        """The state of the fast path, read again when something other than tickets changed."""
        with self._lock:
            if self._state is None or self._state.seen != version.structure():
                start = time.perf_counter()
                seen = version.structure()
                ltv = store.query("SELECT lifetime_value FROM customers"
                                  " WHERE lifetime_value IS NOT NULL")["lifetime_value"]
                agents = store.query("SELECT * FROM agents")
                routing = _Agents.from_frame(agents, self.rules)
                holders = ({r["ticket_id"]: r["agent_id"] for r in store.rows(_HOLDERS_SQL)}
                           if store.table_exists(scoring.TRIAGED) else {})
                index = {a: i for i, a in enumerate(routing.ids)}
                load = [0] * len(index)
                for agent in holders.values():
                    if agent in index:
                        load[index[agent]] += 1
                tickets = set(store.query("SELECT ticket_id FROM tickets")["ticket_id"])
                self._state = FastState(seen, np.sort(ltv.to_numpy(dtype=np.float64)), agents,
                                        routing, holders, load, tickets,
                                        store.table_exists(scoring.TRIAGED), index)
                if store.scalar("SELECT count(*) FROM customers") <= PRELOAD_CUSTOMERS:
                    self._preload(store, self._state)
                log.debug("intake state read in %.0f ms", (time.perf_counter() - start) * 1000)
            return self._state

    def invalidate(self) -> None:
        """Read the state again before its next use (it missed another writer's tickets)."""
        with self._lock:
            self._state = None

    def known(self, store: Store, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are tickets of the database already (all of them while
        ``triaged_tickets`` does not exist: the SQL path creates it)."""
        st = self.state(store)
        return {t for t in ids if t in st.tickets or not st.triaged}

    def missing_customers(self, store: Store, ids: Sequence[str]) -> list[str]:
        """Which of the customers ``ids`` do not exist (neither in the database nor created by
        this batch)."""
        st = self.state(store)
        todo = [c for c in dict.fromkeys(ids)
                if c not in st.customers and c not in self._pending_customers]
        if todo:
            self._lookups(store, st, todo)
        return [c for c in dict.fromkeys(ids)
                if c not in st.customers and c not in self._pending_customers]

    def created_customers(self, ids: Sequence[str]) -> None:
        """This batch created these customers (known by their id only)."""
        self._pending_customers.extend(ids)

    def begin(self) -> None:
        """A batch (or its retry) starts: forget what an earlier attempt staged."""
        self._pending, self._pending_ids, self._pending_customers = [], [], []

    def expect(self, store: Store, tickets: Sequence[PlainTickets]) -> None:
        """These tickets are about to be written: hand their texts to the helper now, so it
        works while the intake writes them and predicts their categories. :meth:`_run_stored`
        takes its answer for the tickets stored with exactly these texts and language (a new
        ticket, or an update that sends them), and asks again for the others.
        :meth:`forget_expected` once the batch is done."""
        if self.helper is None or all(row[0] in self._early for plain in tickets
                                      for row in plain.rows):  # none, or a retry
            return
        try:
            texts: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
            rows: list[str] = []
            for plain in tickets:
                where = [plain.columns.index(c) if c in plain.columns else None
                         for c in ("subject", "body", "language")]
                for row in plain.rows:
                    rows.append(row[0])
                    for values, i in zip(texts, where, strict=True):
                        values.append(None if i is None else row[i])
            pending = self.helper.submit(*texts, self.models(store))
        except Exception:  # the helper only saves time: the batch goes on without it
            log.warning("could not hand tickets to the prediction helper", exc_info=True)
            return
        for at, ticket in enumerate(rows):  # a later row of a ticket is the one stored
            self._early[ticket] = (pending, at)

    def forget_expected(self) -> None:
        self._early = {}
        if self.helper is not None:
            self.helper.forget()

    def _elsewhere(self, stored: Sequence[Mapping[str, Any]], models: TriageModels
                   ) -> Pending | Rows | None:
        """Where the languages and sentiment of ``stored`` come from: the helper's answers to
        :meth:`expect` when it had these very texts, else a new question to the helper (None:
        no helper, computed in :func:`triage_batch`)."""
        if self.helper is None:
            return None
        rows = []
        for r in stored:
            found = self._early.get(r["ticket_id"])
            if found is None:
                break
            pending, at = found
            subjects, bodies, languages = pending.texts
            if (pending.models is not models or subjects[at] != r["subject"]
                    or bodies[at] != r["body"] or languages[at] != r["language"]):
                break
            rows.append(found)
        else:
            return Rows(rows)
        return self.helper.submit([r["subject"] for r in stored], [r["body"] for r in stored],
                                  [r["language"] for r in stored], models)

    def committed(self) -> None:
        """The batch committed: its tickets and agents' loads become the state."""
        st = self._state
        if st is not None and st.seen == version.structure():
            st.tickets.update(self._pending_ids)
            for c in self._pending_customers:
                st.customers.setdefault(c, (None, None, None))
            for ticket_id, agent in self._pending:
                st.hold(ticket_id, agent)
        self.begin()

    def _stage(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for r in rows:
            self._pending.append((str(r["ticket_id"]), _held_by(r)))
            self._pending_ids.append(str(r["ticket_id"]))

    def _preload(self, store: Store, st: FastState) -> None:
        """Every customer and touchpoint in memory at once (a small database: no lookups)."""
        for r in store.rows("SELECT customer_id, segment, plan, lifetime_value FROM customers"):
            st.customers[r["customer_id"]] = (r["segment"], r["plan"], r["lifetime_value"])
        touches: dict[str, list[tuple[int, str]]] = {c: [] for c in st.customers}
        columns = store.query_arrow("SELECT customer_id, epoch_us(touched_at) AS at, campaign_id"
                                    " FROM touchpoints").to_pydict()
        for c, at, campaign in zip(columns["customer_id"], columns["at"],
                                   columns["campaign_id"], strict=True):
            touches.setdefault(c, []).append((at, campaign))
        for c, found in touches.items():
            found.sort()
            st.touches[c] = ([t for t, _ in found], [k for _, k in found])

    def _lookups(self, store: Store, st: FastState, customers: Sequence[str]) -> None:
        """Customers and their touchpoints not yet in memory, read in two statements."""
        todo = [c for c in dict.fromkeys(customers)  # created by this batch: nothing to read
                if c not in st.customers and c not in self._pending_customers]
        if todo:
            for r in store.rows("SELECT customer_id, segment, plan, lifetime_value FROM customers"
                                " WHERE customer_id IN (SELECT unnest(?::VARCHAR[]))", [todo]):
                st.customers[r["customer_id"]] = (r["segment"], r["plan"], r["lifetime_value"])
        todo = [c for c in dict.fromkeys(customers) if c not in st.touches]
        if todo:
            found: dict[str, list[tuple[int, str]]] = {c: [] for c in todo}
            for r in store.rows("SELECT customer_id, touched_at, campaign_id FROM touchpoints"
                                " WHERE customer_id IN (SELECT unnest(?::VARCHAR[]))", [todo]):
                found[r["customer_id"]].append((rowscore._us(r["touched_at"]), r["campaign_id"]))
            for c, touches in found.items():
                touches.sort()
                st.touches[c] = ([t for t, _ in touches], [k for _, k in touches])

    def _percentile(self, st: FastState, value: Any) -> Any:
        """SCORING_SQL's ltv_percentile (cume_dist among the customers with a value)."""
        if rowscore._missing(value) or not len(st.ltv):
            return None
        return int(np.searchsorted(st.ltv, float(value), side="right")) / len(st.ltv)

    def _campaign(self, st: FastState, customer: str, created: dt.datetime) -> Any:
        """SCORING_SQL's campaign_id: the last touch at or before the ticket, if recent."""
        times, campaigns = st.touches.get(customer, ([], []))
        at = rowscore._us(created)
        i = bisect.bisect_right(times, at) - 1
        if i < 0 or times[i] < at - self.lookback["lookback_us"]:
            return None
        return campaigns[i]

    def run_new(self, store: Store, stored: Sequence[Mapping[str, Any]],
                replace: bool = True) -> list[dict[str, Any]]:
        """Triage tickets that were not in the database before this batch: ``stored`` are
        their rows as the upsert returned them (with ``text_hash`` and ``input_hash``).
        Predicts, writes ``triage_results``, scores and routes from the state in memory and
        writes ``triaged_tickets``; returns those rows. Same results as :meth:`run`.
        ``replace=False``: the caller knows they have no ``triage_results`` row yet (a plain
        insert; one that exists fails it with ``duckdb.ConstraintException``)."""
        if not stored:
            return []
        return self._run_stored(store, stored, replace, None)

    def run_updated(self, store: Store, stored: Sequence[Mapping[str, Any]]
                    ) -> list[dict[str, Any]]:
        """Triage tickets that were in the database and were just updated (a helpdesk's
        webhook fires on every change): ``stored`` are their rows as the upsert returned them.
        Like :meth:`run_new`, with what a ticket may have gathered since it arrived read in
        one statement by id (its corrections in force, its CSAT survey, its input hash) and
        the agent now holding it left out of the loads it is routed against; the same rows
        as :meth:`run`, without its scoring query over the customers and touchpoints (9.6
        instead of 3.1 ms for 20 tickets of the demo world, 16.2 instead of 4.2 ms at
        1,000,000). Many tickets, or a state read before ``triaged_tickets`` existed, take
        :meth:`run`."""
        if not stored:
            return []
        st = self.state(store)
        if len(stored) > SMALL or not st.triaged:
            return self.run(store, [r["ticket_id"] for r in stored])
        ids = [r["ticket_id"] for r in stored]
        existing = {r["ticket_id"]: r for r in store.rows(_EXISTING_SQL, [ids])}
        return self._run_stored(store, stored, True, existing)

    def _run_stored(self, store: Store, stored: Sequence[Mapping[str, Any]], replace: bool,
                    existing: Mapping[str, Mapping[str, Any]] | None) -> list[dict[str, Any]]:
        """:meth:`run_new` (``existing`` None) and :meth:`run_updated` (``existing``: per
        ticket, the row of ``_EXISTING_SQL``)."""
        models, profile = self._refresh(store)
        st = self.state(store)
        batch = pd.DataFrame({  # as objects: no inference of a string type for a few rows
            "ticket_id": [r["ticket_id"] for r in stored],
            "subject": [r["subject"] for r in stored], "body": [r["body"] for r in stored],
            "label": [r["category"] for r in stored],
            "language": [r["language"] for r in stored],
            "text_hash": [r["text_hash"] for r in stored]}, dtype=object)
        predicted = triage_columns(batch, models, elsewhere=self._elsewhere(stored, models))
        columns = {c: [_value(v) for v in np.asarray(predicted[c]).tolist()]
                   for c in RESULT_COLUMNS}
        now = pd.Timestamp.now(tz="UTC").tz_localize(None).to_pydatetime()
        store.insert_columns("triage_results", {**columns, "scored_at": [now] * len(stored)},
                             RESULT_TYPES, replace=replace)
        self._lookups(store, st, [r["customer_id"] for r in stored])
        rows = []
        none: Mapping[str, Any] = {}
        for i, k in enumerate(stored):
            segment, plan, ltv = st.customers.get(k["customer_id"], (None, None, None))
            label, predicted_category = k["category"], columns["category"][i]
            # SCORING_SQL's columns: a correction beats a label, which beats the model
            had = none if existing is None else existing[k["ticket_id"]]
            corrected, feeling = had.get("corr_category"), had.get("corr_sentiment")
            source = ("correction" if corrected is not None else
                      "label" if label is not None else
                      "model" if predicted_category is not None else None)
            survey = had.get("survey")
            rows.append({
                "ticket_id": k["ticket_id"], "input_hash": had.get("input_hash",
                                                                   k["input_hash"]),
                "created_at": k["created_at"], "customer_id": k["customer_id"],
                "status": k["status"], "channel": k["channel"],
                "language": k["language"] if k["language"] is not None
                else columns["language"][i],
                "first_response_at": k["first_response_at"], "resolved_at": k["resolved_at"],
                "csat": survey if survey is not None else k["csat"],
                "agent_id": k["agent_id"], "handled_by": k["agent_id"],
                "source_priority": k["source_priority"], "segment": segment, "plan": plan,
                "lifetime_value": ltv, "ltv_percentile": self._percentile(st, ltv),
                "category": corrected if corrected is not None
                else label if label is not None else predicted_category,
                "category_source": source,
                # the model's (none without a category), 1.0 for a label or a correction
                "category_confidence": columns["category_confidence"][i]
                if source in ("model", None) else 1.0,
                "predicted_category": predicted_category,
                "sentiment": _corrected_sentiment(feeling, columns["sentiment"][i]),
                "sentiment_label": feeling if feeling is not None
                else columns["sentiment_label"][i],
                "severity": columns["severity"][i], "tier_correction": had.get("corr_tier"),
                "campaign_id": self._campaign(st, k["customer_id"], k["created_at"]),
            })
        as_of = self._as_of(store, [r["created_at"] for r in rows])
        load = list(st.load)
        if existing is not None:  # the agents' loads without these tickets (see run)
            for k in stored:
                held = st.holders.get(k["ticket_id"])
                if held in st.index:
                    load[st.index[held]] -= 1
        if len(rows) <= SMALL:
            routing = rowscore.Routing(st.routing, self.rules, load)
            out = rowscore.score_rows(rows, routing, profile, as_of)
        else:
            frame = pd.DataFrame(rows)
            agents = st.agents.assign(current_load=_loads_by_id(st, load, st.agents))
            scored = scoring.score_frame(frame, agents, profile, self.rules, as_of)
            out = scored.astype(object).where(scored.notna(), None).to_dict("records")
        if existing is not None:
            store.execute(f"DELETE FROM {scoring.TRIAGED} WHERE ticket_id IN"
                          " (SELECT unnest(?::VARCHAR[]))", [[k["ticket_id"] for k in stored]])
        store.insert_columns(scoring.TRIAGED, {c: [_value(r[c]) for r in out]
                                               for c in scoring.OUTPUT_COLUMNS},
                             scoring.OUTPUT_TYPES)
        self._stage(out)
        return out

    def _as_of(self, store: Store, times: Sequence[Any]) -> Any:
        """The SLA clock of scoring (:func:`scoring.data_time`): the newest ticket's time, kept
        up to date from the ``times`` of the tickets triaged here (None: none), passing over
        times after :func:`health.future_limit` as it does."""
        if self._newest is None:
            self._newest = scoring.data_time(store)
        limit = max(health.future_limit(), self._newest)
        known = [t for t in times if t is not None and t <= limit]
        if known:
            self._newest = max(self._newest, max(known))
        return self._newest

    def run(self, store: Store, ids: Sequence[str], exact: bool = False
            ) -> list[dict[str, Any]]:
        """Triage the tickets ``ids`` (already in ``tickets``) into ``triage_results`` and
        ``triaged_tickets``; returns their rows of ``triaged_tickets``. Call it inside the
        transaction that wrote the tickets, so both land together. Up to :data:`SMALL`
        tickets are scored row by row, with the agents' loads and the customers' lifetime
        values of the state in memory, and written column by column (the same rows as
        ``score_frame`` with the loads counted from ``triaged_tickets`` and ``write_frame``: a
        few milliseconds instead of tens).
        ``exact``: always as ``triage score`` does it (loads counted by SQL, ``score_frame``):
        the reference the tests hold the fast paths to."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return []
        models, profile = self._refresh(store)
        todo = store.query(f"SELECT * FROM ({pipeline._STALE_SQL}) WHERE list_contains(?,"
                           " ticket_id)", [True, models.category_version, ids])
        if len(todo):
            predicted = triage_batch(todo, models)
            now = pd.Timestamp.now(tz="UTC").tz_localize(None).to_pydatetime()
            store.insert_columns("triage_results", {
                **{c: [_value(v) for v in predicted[c].tolist()] for c in RESULT_COLUMNS},
                "scored_at": [now] * len(predicted)}, RESULT_TYPES, replace=True)
        exists = store.table_exists(scoring.TRIAGED)
        st = self.state(store) if exists and len(ids) <= SMALL and not exact else None
        # a few tickets: their customers' LTV percentiles from the state, not by SQL's window
        sql = scoring.SCORING_SQL if st is None else scoring.SCORING_FEW_SQL
        sql = sql.format(where="list_contains($ids, ticket_id)", input_hash=scoring.INPUT_HASH)
        params = {"ids": ids, **self.lookback}
        if st is None or not st.triaged:
            agents = (store.query(_AGENTS_SQL, {"ids": ids}) if exists
                      else store.query("SELECT * FROM agents"))
        if st is None:
            frame = store.query(sql, params)
            newest = frame["created_at"].dropna()
            as_of = self._as_of(store, [newest.max().to_pydatetime()] if len(newest) else [])
            out = scoring.score_frame(frame, agents, profile, self.rules, as_of)
            if exists:
                store.delete_where_in(scoring.TRIAGED, "ticket_id", ids)
            store.write_frame(scoring.TRIAGED, out, mode="append" if exists else "replace",
                              types=scoring.OUTPUT_TYPES)
            records = out.to_dict("records")
        else:
            rows = store.rows(sql, params)  # a few rows: no DataFrame
            as_of = self._as_of(store, [r["created_at"] for r in rows])
            for row in rows:
                row["ltv_percentile"] = self._percentile(st, row["lifetime_value"])
            if st.triaged:  # agents' loads from the state, without these tickets
                load = list(st.load)
                for ticket_id in ids:
                    held = st.holders.get(ticket_id)
                    if held in st.index:
                        load[st.index[held]] -= 1
                routing = rowscore.Routing(st.routing, self.rules, load)
            else:  # the state was read before triaged_tickets existed: as the SQL counts
                routing = rowscore.Routing(_Agents.from_frame(agents, self.rules), self.rules)
            records = rowscore.score_rows(rows, routing, profile, as_of)
            store.execute(f"DELETE FROM {scoring.TRIAGED} WHERE ticket_id IN"
                          " (SELECT unnest(?::VARCHAR[]))", [ids])
            store.insert_columns(scoring.TRIAGED, {c: [_value(r[c]) for r in records]
                                                   for c in scoring.OUTPUT_COLUMNS},
                                 scoring.OUTPUT_TYPES)
        self._stage(records)
        return records


def _corrected_sentiment(correction: Any, score: Any) -> Any:
    """SCORING_SQL's sentiment under a sentiment correction (None: none in force)."""
    if correction == "negative":
        return min(score if score is not None else -0.5, -0.5)
    if correction == "positive":
        return max(score if score is not None else 0.5, 0.5)
    if correction == "neutral":
        return 0.0
    return score


def _value(value: Any) -> Any:
    """A value as DuckDB should store it: missing -> None, numpy and pandas -> Python."""
    kind = type(value)  # the common plain values first (a thousand values a batch)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return None if value != value else value
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value


def _loads_by_id(st: FastState, load: list[int], agents: pd.DataFrame) -> list[int]:
    """``load`` (in routing's order) for the rows of ``agents``."""
    return [load[st.index[str(a)]] for a in agents["agent_id"]]


def answers(rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The API's answer for each ticket of ``rows`` (JSON-ready values), by ticket id."""
    if not isinstance(rows, pd.DataFrame):
        return {str(r["ticket_id"]): {f: _plain(r[f]) for f in FIELDS} for r in rows}
    columns = {f: rows[f].tolist() for f in FIELDS}
    return {str(t): {f: _plain(columns[f][i]) for f in FIELDS}
            for i, t in enumerate(columns["ticket_id"])}


def _plain(value: Any) -> Any:
    """A JSON value: None for missing, ISO text for times, Python numbers and booleans."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value
