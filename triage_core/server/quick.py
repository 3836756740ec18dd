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

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from triage_core.marketing.window import lookback_us
from triage_core.models import registry
from triage_core.ops import scoring
from triage_core.schema import OPEN_STATUSES
from triage_core.server import version
from triage_core.store import Store
from triage_core.triage import pipeline
from triage_core.triage.batch import TriageModels, triage_batch

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

    def _as_of(self, store: Store, frame: pd.DataFrame) -> Any:
        """The SLA clock of scoring (:func:`scoring.data_time`): the newest ticket's time, kept
        up to date from the tickets triaged here."""
        if self._newest is None:
            self._newest = scoring.data_time(store)
        if len(frame) and frame["created_at"].notna().any():
            self._newest = max(self._newest, frame["created_at"].max().to_pydatetime())
        return self._newest

    def run(self, store: Store, ids: Sequence[str]) -> pd.DataFrame:
        """Triage the tickets ``ids`` (already in ``tickets``) into ``triage_results`` and
        ``triaged_tickets``; returns their rows of ``triaged_tickets``. Call it inside the
        transaction that wrote the tickets, so both land together."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return pd.DataFrame(columns=scoring.OUTPUT_COLUMNS)
        models, profile = self._refresh(store)
        todo = store.query(f"SELECT * FROM ({pipeline._STALE_SQL}) WHERE list_contains(?,"
                           " ticket_id)", [True, models.category_version, ids])
        predicted = triage_batch(todo, models).assign(
            scored_at=pd.Timestamp.now(tz="UTC").tz_localize(None))
        store.write_frame("triage_results", predicted, mode="upsert", key=["ticket_id"])
        frame = store.query(scoring.SCORING_SQL.format(
            where="list_contains($ids, ticket_id)", input_hash=scoring.INPUT_HASH),
            {"ids": ids, **self.lookback})
        exists = store.table_exists(scoring.TRIAGED)
        agents = (store.query(_AGENTS_SQL, {"ids": ids}) if exists
                  else store.query("SELECT * FROM agents"))
        out = scoring.score_frame(frame, agents, profile, self.rules, self._as_of(store, frame))
        if exists:
            store.delete_where_in(scoring.TRIAGED, "ticket_id", ids)
        store.write_frame(scoring.TRIAGED, out, mode="append" if exists else "replace",
                          types=scoring.OUTPUT_TYPES)
        return out


def answers(rows: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The API's answer for each ticket of ``rows`` (JSON-ready values), by ticket id."""
    columns = {f: rows[f].tolist() for f in FIELDS}
    return {str(t): {f: _plain(columns[f][i]) for f in FIELDS}
            for i, t in enumerate(columns["ticket_id"])}


def _plain(value: Any) -> Any:
    """A JSON value: None for missing, ISO text for times, Python numbers and booleans."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value
