"""Fuzzing the intake's fast path against the import: webhook rows in a helpdesk's own values.

Hypothesis draws tickets as a Zendesk or Freshdesk webhook sends them (our column names, the
helpdesk's values: its preset's keys in any case and spacing, our own values, blanks, None and
odd text) and runs them both ways into two in-memory databases: the fast path
(``quick_import.mapped_rows`` -> ``plain_tickets`` -> ``upsert``) and the staged import with
the helpdesk's preset (``Store.import_frame``). Whenever the fast path takes the rows, the
import must take them too, and both must store the same rows; whatever the fast path does not
vouch for goes to the import, which decides (nothing to compare then).
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fast_path import _differences

from triage_core.errors import TriageError
from triage_core.store import Store, quick_import
from triage_core.store.mapping import preset

CUSTOMERS = ["C1", "C2"]
SQL = "SELECT * FROM tickets ORDER BY ticket_id"
ODD = ["", " ", "-", "None", "null", "ÜBER", "hold on", "0", "1.0", "5", "9", "Ｏｐｅｎ", "\t"]
OURS = {"status": ["new", "open", "pending", "on_hold", "solved", "closed"],
        "channel": ["email", "chat", "phone", "web", "social"],
        "csat": ["1", "3", "5"],
        "source_priority": ["low", "normal", "high", "urgent"]}


def _cased(value: str) -> st.SearchStrategy[str]:
    """``value`` as a helpdesk might send it: in any case, with stray spaces."""
    return st.sampled_from([value, value.upper(), value.lower(), value.title(), f" {value} ",
                            f"{value}\n"])


def _values(helpdesk: str, column: str) -> st.SearchStrategy[str | None]:
    keys = sorted(preset(helpdesk).values.get(column, {}))
    ours = st.sampled_from(OURS.get(column, ["en", "de", "en-US"]))
    theirs = st.sampled_from(keys).flatmap(_cased) if keys else ours
    odd = st.one_of(st.sampled_from(ODD), st.text(max_size=6))
    # mostly what a helpdesk sends, so that many draws reach the fast path
    return st.one_of(theirs, theirs, theirs, ours, st.none(), odd)


def _rows(helpdesk: str) -> st.SearchStrategy[list[dict[str, str | None]]]:
    row = st.fixed_dictionaries(
        {"customer_id": st.sampled_from(CUSTOMERS),
         "created_at": st.sampled_from(["2026-07-01T09:30:00Z", "2026-07-01 09:30:00",
                                        "2026-07-01T11:30:00+02:00"]),
         "subject": st.one_of(st.none(), st.sampled_from(["Refund", " Login fails "]),
                              st.text(max_size=20)),
         "body": st.one_of(st.none(), st.sampled_from(["Charged twice.", "<p>Hi</p>"]),
                           st.text(max_size=40)),
         "status": _values(helpdesk, "status")},  # a ticket without one goes to the import
        optional={c: _values(helpdesk, c)
                  for c in ("channel", "csat", "source_priority", "language")})
    return st.lists(row, min_size=1, max_size=4).map(
        lambda rs: [{"ticket_id": f"F-{i}", **r} for i, r in enumerate(rs)])


def _store() -> Store:
    store = Store(":memory:")
    quick_import.create_customers(store, CUSTOMERS)
    return store


@pytest.mark.parametrize("helpdesk", ["zendesk", "freshdesk"])
def test_the_fast_path_stores_what_the_import_stores(helpdesk: str) -> None:
    mapping = preset(helpdesk)
    taken = []

    @settings(max_examples=100, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(_rows(helpdesk))
    def check(rows: list[dict[str, str | None]]) -> None:
        mapped = quick_import.mapped_rows(rows, mapping)
        plain = quick_import.plain_tickets(mapped) if mapped is not None else None
        if plain is None:
            return  # the import decides; nothing to compare
        taken.append(rows)
        with _store() as fast, _store() as slow:
            with fast.transaction():
                quick_import.upsert(fast, plain)
            try:
                slow.import_frame("tickets", pd.DataFrame(rows, dtype=object),
                                  source="webhook", mapping=mapping)
            except TriageError as exc:
                raise AssertionError(f"the fast path took rows the import refuses: {exc}; "
                                     f"{rows!r}") from None
            assert _differences(fast.query(SQL), slow.query(SQL), "ticket_id") == [], rows

    check()
    assert len(taken) >= 10  # the draws reach the fast path, not only the import
