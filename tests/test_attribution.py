"""Campaign attribution: hand-computed journeys for every model on a real in-memory DuckDB."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pytest

from triage_core import marketing
from triage_core.errors import ConfigError, TriageError
from triage_core.marketing import AttributionSettings, Filters, SpikeSettings, markov
from triage_core.store import Store

T0 = pd.Timestamp("2026-03-01 12:00:00")


def ts(value: pd.Timestamp) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def days(n: float) -> pd.Timedelta:
    return pd.Timedelta(days=n)


def load(
    store: Store,
    *,
    tickets: Iterable[tuple] = (),
    touches: Iterable[tuple] = (),
    campaigns: Iterable[tuple] | None = None,
    customers: Iterable[tuple] | None = None,
) -> None:
    """Import through the real importer. tickets: (id, customer, created_at[, category, channel]);
    touches: (customer, campaign, touched_at[, kind]); campaigns: (id, spend, revenue[, start]);
    customers: (id, segment, lifetime_value)."""
    tickets, touches = list(tickets), list(touches)
    if customers is None:
        ids = sorted({t[1] for t in tickets} | {p[0] for p in touches})
        customers = [(c, "consumer", 100.0) for c in ids]
    store.import_frame("customers", pd.DataFrame(
        list(customers), columns=["customer_id", "segment", "lifetime_value"]))
    if campaigns is None:
        campaigns = [(k, 1000.0, 2000.0) for k in sorted({p[1] for p in touches})]
    rows = [(c[0], f"Campaign {c[0]}", "email", ts(c[3] if len(c) > 3 else T0 - days(365)),
             c[1], c[2]) for c in campaigns]
    store.import_frame("campaigns", pd.DataFrame(
        rows, columns=["campaign_id", "name", "channel", "start_at", "spend", "revenue"]))
    if tickets:
        store.import_frame("tickets", pd.DataFrame(
            [(t[0], t[1], ts(t[2]), t[3] if len(t) > 3 else None,
              t[4] if len(t) > 4 else "email", "open") for t in tickets],
            columns=["ticket_id", "customer_id", "created_at", "category", "channel", "status"]))
    if touches:
        store.import_frame("touchpoints", pd.DataFrame(
            [(p[0], p[1], ts(p[2]), p[3] if len(p) > 3 else "click") for p in touches],
            columns=["customer_id", "campaign_id", "touched_at", "kind"]))


def credits_of(store: Store, model: str, **kw) -> dict[str, dict[str | None, float]]:
    df = marketing.ticket_credits(store, model, **kw)
    out: dict[str, dict[str | None, float]] = {}
    for t, c, v in df.itertuples(index=False):
        out.setdefault(t, {})[None if pd.isna(c) else c] = v
    return out


def approx(d: dict) -> dict:
    return {k: pytest.approx(v, abs=1e-12) for k, v in d.items()}


# -- window -------------------------------------------------------------------------------------
@pytest.fixture
def window_store(store: Store) -> Store:
    """T1 by C1 at T0. K1 touched exactly at T0 (counts), K2 one second after (never counts),
    K3 exactly 90 days before (counts), K4 90 days + 1 s before (never counts). C2 touched K5
    just before T0 but is another customer. T2 by C3 has no touches at all."""
    load(store, tickets=[("T1", "C1", T0), ("T2", "C3", T0)], touches=[
        ("C1", "K1", T0),
        ("C1", "K2", T0 + pd.Timedelta(seconds=1)),
        ("C1", "K3", T0 - days(90)),
        ("C1", "K4", T0 - days(90) - pd.Timedelta(seconds=1)),
        ("C2", "K5", T0 - pd.Timedelta(minutes=1)),
    ])
    return store


def test_window_edges_first_last_linear(window_store: Store) -> None:
    assert credits_of(window_store, "first_touch") == {"T1": {"K3": 1.0}, "T2": {None: 1.0}}
    assert credits_of(window_store, "last_touch") == {"T1": {"K1": 1.0}, "T2": {None: 1.0}}
    assert credits_of(window_store, "linear") == {"T1": {"K1": 0.5, "K3": 0.5},
                                                  "T2": {None: 1.0}}


def test_lookback_is_configurable(window_store: Store) -> None:
    assert credits_of(window_store, "first_touch", lookback_days=30)["T1"] == {"K1": 1.0}
    cfg = {"lookback_days": 91}
    assert credits_of(window_store, "first_touch", config=cfg)["T1"] == {"K4": 1.0}


@pytest.mark.parametrize("model", marketing.MODELS)
def test_no_touch_is_unattributed_and_credits_sum_to_one(window_store: Store, model: str) -> None:
    got = credits_of(window_store, model)
    assert got["T2"] == {None: 1.0}
    assert set(got["T1"]) <= {"K1", "K3"}
    assert sum(got["T1"].values()) == pytest.approx(1.0)


# -- models on hand-made journeys ---------------------------------------------------------------
@pytest.fixture
def journeys(store: Store) -> Store:
    """Ticket at T0 for every customer; touches n days before it.

    one: A@3 | two: A@5, B@1 | three: A@3, B@2, C@1 | four: A@4, B@3, A@2, C@1 |
    repeat: A@3, A@2, B@1 | decay: A@0, B@7 | decay3: A@14, B@7, A@0 |
    tie: at 1 day before, K2/click, K1/open, K1/click (same instant).
    """
    paths = {
        "one": [("A", 3)],
        "two": [("A", 5), ("B", 1)],
        "three": [("A", 3), ("B", 2), ("C", 1)],
        "four": [("A", 4), ("B", 3), ("A", 2), ("C", 1)],
        "repeat": [("A", 3), ("A", 2), ("B", 1)],
        "decay": [("A", 0), ("B", 7)],
        "decay3": [("A", 14), ("B", 7), ("A", 0)],
    }
    touches = [(cust, k, T0 - days(n)) for cust, path in paths.items() for k, n in path]
    tie = T0 - days(1)
    touches += [("tie", "K2", tie, "click"), ("tie", "K1", tie, "open"),
                ("tie", "K1", tie, "click")]
    load(store, tickets=[(f"T-{c}", c, T0) for c in [*paths, "tie"]], touches=touches)
    return store


def test_first_and_last_touch(journeys: Store) -> None:
    first = credits_of(journeys, "first_touch")
    last = credits_of(journeys, "last_touch")
    assert first["T-two"] == {"A": 1.0} and last["T-two"] == {"B": 1.0}
    assert first["T-four"] == {"A": 1.0} and last["T-four"] == {"C": 1.0}
    assert first["T-decay"] == {"B": 1.0} and last["T-decay"] == {"A": 1.0}
    # Equal timestamps: ordered by campaign_id then kind -> K1 first, K2 last.
    assert first["T-tie"] == {"K1": 1.0} and last["T-tie"] == {"K2": 1.0}


def test_linear_gives_repeated_campaign_two_shares(journeys: Store) -> None:
    got = credits_of(journeys, "linear")
    assert got["T-one"] == {"A": 1.0}
    assert got["T-repeat"] == approx({"A": 2 / 3, "B": 1 / 3})
    assert got["T-four"] == approx({"A": 0.5, "B": 0.25, "C": 0.25})
    assert got["T-tie"] == approx({"K1": 2 / 3, "K2": 1 / 3})


def test_time_decay_hand_computed(journeys: Store) -> None:
    got = credits_of(journeys, "time_decay")  # half-life 7 days
    # weights 2^0 = 1 (0 days) and 2^-1 = 1/2 (7 days) -> 2/3 and 1/3
    assert got["T-decay"] == approx({"A": 2 / 3, "B": 1 / 3})
    # A: 2^-2 + 2^0 = 5/4, B: 2^-1 = 1/2 -> 5/7 and 2/7
    assert got["T-decay3"] == approx({"A": 5 / 7, "B": 2 / 7})
    # half-life 3.5 days: 1 and 2^-2 -> 4/5 and 1/5
    assert credits_of(journeys, "time_decay", half_life_days=3.5)["T-decay"] == approx(
        {"A": 0.8, "B": 0.2})


def test_time_decay_tiny_half_life_does_not_underflow(journeys: Store) -> None:
    got = credits_of(journeys, "time_decay", half_life_days=1e-6)
    assert got["T-two"] == approx({"B": 1.0, "A": 0.0})
    assert got["T-one"] == {"A": 1.0}


def test_position_based_u_shape(journeys: Store) -> None:
    got = credits_of(journeys, "position_based")
    assert got["T-one"] == {"A": 1.0}
    assert got["T-two"] == approx({"A": 0.5, "B": 0.5})
    assert got["T-three"] == approx({"A": 0.4, "B": 0.2, "C": 0.4})
    # A first (0.4) and third (0.1), B second (0.1), C last (0.4)
    assert got["T-four"] == approx({"A": 0.5, "B": 0.1, "C": 0.4})
    # Ties ordered K1/click, K1/open, K2/click: 0.4 + 0.2 to K1, 0.4 to K2
    assert got["T-tie"] == approx({"K1": 0.6, "K2": 0.4})


@pytest.mark.parametrize("model", marketing.MODELS)
def test_credits_sum_to_ticket_count(journeys: Store, model: str) -> None:
    df = marketing.ticket_credits(journeys, model)
    assert df["credit"].sum() == pytest.approx(8.0)
    assert df.groupby("ticket_id")["credit"].sum().to_numpy() == pytest.approx(np.ones(8))
    impact = marketing.campaign_impact(journeys, model)
    assert impact["tickets"].sum() == pytest.approx(8.0)


# -- data driven --------------------------------------------------------------------------------
@pytest.fixture
def markov_store(store: Store) -> Store:
    """X: A(-5d) -> B(-2d) -> ticket. Y: A(-3d) -> ticket. Z: no ticket, touched B two days
    before the end and C 300 days earlier (outside Z's 90-day window, so not on its path)."""
    load(store, tickets=[("TX", "X", T0), ("TY", "Y", T0)], touches=[
        ("X", "A", T0 - days(5)), ("X", "B", T0 - days(2)),
        ("Y", "A", T0 - days(3)),
        ("Z", "C", T0 - days(302)), ("Z", "B", T0 - days(2)),
    ])
    return store


def test_transition_counts(markov_store: Store) -> None:
    counts = markov.transition_counts(markov_store)
    got = {(None if pd.isna(s) else s, None if pd.isna(d) else d, int(c)): int(n)
           for s, d, c, n in counts.itertuples(index=False)}
    assert got == {(None, "A", 1): 2, (None, "B", 0): 1, ("A", "B", 1): 1, ("A", None, 1): 1,
                   ("B", None, 1): 1, ("B", None, 0): 1}


def test_data_driven_removal_effects_by_hand(markov_store: Store) -> None:
    # start->A 2/3, start->B 1/3; A->B 1/2, A->ticket 1/2; B->ticket 1/2, B->null 1/2.
    # P(B) = 1/2, P(A) = 1/2 * 1/2 + 1/2 = 3/4, P = 2/3 * 3/4 + 1/3 * 1/2 = 2/3.
    # Without A: 1/3 * 1/2 = 1/6 -> effect 1 - (1/6)/(2/3) = 3/4.
    # Without B: 2/3 * 1/2 = 1/3 -> effect 1 - (1/3)/(2/3) = 1/2. Shares 0.6 / 0.4.
    eff = marketing.removal_effects(markov_store).set_index("campaign_id")
    assert list(eff.index) == ["A", "B"]
    assert eff["removal_effect"].to_dict() == approx({"A": 0.75, "B": 0.5})
    assert eff["share"].to_dict() == approx({"A": 0.6, "B": 0.4})
    got = credits_of(markov_store, "data_driven")
    assert got == {"TX": approx({"A": 0.6, "B": 0.4}), "TY": {"A": 1.0}}


def test_removal_effect_formula_matches_brute_force() -> None:
    """A chain with a loop (A -> B -> A): the closed form equals removing each state for real."""
    rows = [(None, "A", 1, 5), (None, "B", 0, 3), (None, "C", 1, 2),
            ("A", "B", 1, 4), ("B", "A", 1, 2), ("A", None, 1, 3), ("A", None, 0, 1),
            ("B", "C", 1, 3), ("B", None, 0, 2), ("C", None, 1, 4), ("C", "A", 0, 1)]
    counts = pd.DataFrame(rows, columns=["src", "dst", "converted", "n"])
    got = markov.removal_effects_from_transitions(counts).set_index("campaign_id")

    states = ["A", "B", "C"]
    moves = np.zeros((3, 3))
    conv, out, start = np.zeros(3), np.zeros(3), np.zeros(3)
    for s, d, c, n in rows:
        if s is None:
            start[states.index(d)] += n
            continue
        out[states.index(s)] += n
        if d is None:
            conv[states.index(s)] += n if c else 0
        else:
            moves[states.index(s), states.index(d)] += n

    def p_ticket(removed: int | None) -> float:
        q, r = moves / out[:, None], conv / out
        if removed is not None:  # the removed state leads straight to null
            q, r = q.copy(), r.copy()
            q[removed], r[removed] = 0, 0
        return float(start / start.sum() @ np.linalg.solve(np.eye(3) - q, r))

    base = p_ticket(None)
    for i, s in enumerate(states):
        assert got.loc[s, "removal_effect"] == pytest.approx(1 - p_ticket(i) / base)
    assert got["share"].sum() == pytest.approx(1.0)


# -- impact table -------------------------------------------------------------------------------
COST = dataclasses.replace(
    AttributionSettings.from_mapping(),
    default_cost=10.0,
    category_cost={"billing": 20.0, "refund": 30.0},
    tier_multiplier={"P1": 2.0, "P4": 0.5},
)


@pytest.fixture
def impact_store(store: Store) -> Store:
    """K1 spend 1000 revenue 1500; K2 spend 0 revenue 100; K3 spend 500, revenue unknown.
    C1 (LTV 100) touched K1; C2 (LTV 1000, vip) touched K1 then K2; C3 (LTV 50) nothing;
    C4 (no ticket) touched K1 and K3."""
    load(
        store,
        customers=[("C1", "consumer", 100.0), ("C2", "vip", 1000.0), ("C3", "smb", 50.0),
                   ("C4", "consumer", 7.0)],
        campaigns=[("K1", 1000.0, 1500.0), ("K2", 0.0, 100.0), ("K3", 500.0, None)],
        tickets=[
            ("T1", "C1", T0, "billing", "email"),
            ("T2", "C1", T0 + days(1), "refund", "chat"),
            ("T5", "C1", T0 + days(2), "feature_request", "email"),
            ("T3", "C2", T0, "coupon_promo", "email"),
            ("T4", "C3", T0, "billing", "phone"),
        ],
        touches=[("C1", "K1", T0 - days(1)), ("C2", "K1", T0 - days(3)),
                 ("C2", "K2", T0 - days(2)), ("C4", "K1", T0 - days(9)),
                 ("C4", "K3", T0 - days(9))],
    )
    return store


def add_triage(store: Store) -> None:
    """triaged_tickets for T1, T2, T3, T5 (T4 was never triaged)."""
    store.write_frame("triaged_tickets", pd.DataFrame({
        "ticket_id": ["T1", "T2", "T5", "T3"],
        "category": ["billing", "refund", "feature_request", "coupon_promo"],
        "sentiment": [-0.8, 0.6, -0.5, -0.4],
        "sentiment_label": ["negative", "positive", "negative", "negative"],
        "priority_tier": ["P1", "P4", "P3", "P1"],
    }))


def by_campaign(df: pd.DataFrame) -> dict[str | None, dict]:
    return {None if pd.isna(r["campaign_id"]) else r["campaign_id"]: r
            for r in df.to_dict("records")}


def test_impact_table_hand_checked(impact_store: Store) -> None:
    add_triage(impact_store)
    df = marketing.campaign_impact(impact_store, "linear", config=COST)
    assert list(df["campaign_id"].iloc[:3]) == ["K1", "K2", "K3"]
    assert pd.isna(df["campaign_id"].iloc[-1]) and len(df) == 4
    rows = by_campaign(df)
    k1, k2, k3, un = rows["K1"], rows["K2"], rows["K3"], rows[None]
    # K1: T1, T2, T5 whole and half of T3 (C2 touched K1 and K2).
    assert k1["tickets"] == pytest.approx(3.5)
    # cost: T1 billing P1 20*2, T2 refund P4 30*0.5, T5 default 10 * (P3 unlisted) 1,
    # half of T3 default 10 * P1 2 -> 40 + 15 + 10 + 10 = 75
    assert k1["support_cost"] == pytest.approx(75.0)
    assert k1["roi_after_support"] == pytest.approx((1500 - 1000 - 75) / 1000)
    assert k1["negative_tickets"] == pytest.approx(2.5)
    assert k1["negative_share"] == pytest.approx(2.5 / 3.5)
    assert k1["mean_sentiment"] == pytest.approx((-0.8 + 0.6 - 0.5 - 0.2) / 3.5)
    # C1 (two negative tickets, counted once) + C2
    assert k1["value_at_risk"] == pytest.approx(1100.0)
    assert k1["customers_at_risk"] == 2
    assert k1["reach"] == 3  # C1, C2, C4
    assert k1["tickets_per_1000_reached"] == pytest.approx(3500 / 3)
    assert k1["category_mix"] == approx(
        {"billing": 1.0, "coupon_promo": 0.5, "feature_request": 1.0, "refund": 1.0})
    assert k2["tickets"] == pytest.approx(0.5) and k2["support_cost"] == pytest.approx(10.0)
    assert k2["negative_share"] == pytest.approx(1.0) and k2["value_at_risk"] == 1000.0
    assert math.isnan(k2["roi_after_support"])  # spend 0
    assert k3["tickets"] == 0 and k3["reach"] == 1 and k3["tickets_per_1000_reached"] == 0
    assert k3["support_cost"] == 0 and math.isnan(k3["roi_after_support"])  # no revenue
    # T4: not triaged -> tickets.category billing, tier multiplier 1 -> 20; no sentiment.
    assert un["name"] == "(unattributed)"
    assert un["tickets"] == 1.0 and un["support_cost"] == pytest.approx(20.0)
    assert un["negative_tickets"] == 0.0 and math.isnan(un["negative_share"])
    assert math.isnan(un["roi_after_support"]) and math.isnan(un["reach"])


def test_impact_without_triaged_tickets(impact_store: Store) -> None:
    assert not impact_store.table_exists("triaged_tickets")
    rows = by_campaign(marketing.campaign_impact(impact_store, "linear", config=COST))
    # categories from tickets, every tier multiplier 1: 20 + 30 + 10 + 0.5 * 10
    assert rows["K1"]["support_cost"] == pytest.approx(65.0)
    assert rows["K1"]["roi_after_support"] == pytest.approx((1500 - 1000 - 65) / 1000)
    for r in rows.values():
        assert math.isnan(r["negative_tickets"]) and math.isnan(r["mean_sentiment"])
        assert math.isnan(r["value_at_risk"])


def test_impact_filters(impact_store: Store) -> None:
    add_triage(impact_store)
    vip = by_campaign(marketing.campaign_impact(impact_store, "linear", config=COST,
                                                filters=Filters(segments="vip")))
    assert vip["K1"]["tickets"] == pytest.approx(0.5) and vip["K2"]["tickets"] == 0.5
    assert vip["K1"]["reach"] == 1 and vip[None]["tickets"] == 0
    billing = by_campaign(marketing.campaign_impact(impact_store, "linear", config=COST,
                                                    filters={"categories": ["billing"]}))
    assert billing["K1"]["tickets"] == 1.0 and billing[None]["tickets"] == 1.0
    chat = marketing.ticket_credits(impact_store, "linear",
                                    filters=Filters(ticket_channels=["chat"]))
    assert chat["ticket_id"].tolist() == ["T2"]
    # end as a bare date covers that whole day: T0 day only (T2, T5 are later days)
    day = marketing.ticket_credits(impact_store, "last_touch",
                                   filters=Filters(start="2026-03-01", end="2026-03-01"))
    assert sorted(day["ticket_id"]) == ["T1", "T3", "T4"]
    later = marketing.ticket_credits(impact_store, "last_touch",
                                     filters=Filters(start=T0 + days(1)))
    assert sorted(later["ticket_id"]) == ["T2", "T5"]
    only_k2 = marketing.campaign_impact(impact_store, filters={"campaigns": ["K2"]}, config=COST)
    assert only_k2["campaign_id"].tolist()[0] == "K2" and len(only_k2) == 2


def test_ticket_channel_and_campaign_channel_are_different_filters(impact_store: Store) -> None:
    """Every ticket channel differs from K2's campaign channel (paid_social); K1 and K3 are
    e-mail campaigns and T1, T3, T4, T5 e-mail (or phone) tickets."""
    impact_store.execute("UPDATE campaigns SET channel = 'paid_social' WHERE campaign_id = 'K2'")
    social = marketing.campaign_impact(impact_store, "linear", config=COST,
                                       filters=Filters(campaign_channels=("paid_social",)))
    # campaign rows of that channel, credits unchanged, the unattributed row kept
    assert social["campaign_id"].tolist()[0] == "K2" and len(social) == 2
    assert social["tickets"].tolist() == [0.5, 1.0]
    assert marketing.campaign_impact(impact_store, "linear", config=COST,
                                     filters=Filters(ticket_channels=("paid_social",)))[
        "tickets"].sum() == 0  # no ticket came in through paid_social
    email = credits_of(impact_store, "linear", filters=Filters(campaign_channels="email"))
    assert email == {"T1": {"K1": 1.0}, "T2": {"K1": 1.0}, "T3": {"K1": 0.5},
                     "T5": {"K1": 1.0}}
    both = credits_of(impact_store, "linear",
                      filters=Filters(campaign_channels="email", ticket_channels="chat"))
    assert both == {"T2": {"K1": 1.0}}
    k1_social = marketing.ticket_credits(impact_store, "linear", filters=Filters(
        campaigns=("K1",), campaign_channels=("paid_social",)))
    assert k1_social.empty  # K1 is not a paid_social campaign


def test_compare_models_side_by_side(impact_store: Store) -> None:
    df = marketing.compare_models(impact_store, "first_touch", "last_touch", config=COST)
    rows = by_campaign(df)
    # T3 (C2: K1 then K2) moves from K1 to K2.
    assert rows["K1"]["tickets_first_touch"] == 4 and rows["K1"]["tickets_last_touch"] == 3
    assert rows["K1"]["tickets_delta"] == -1 and rows["K2"]["tickets_delta"] == 1
    assert rows[None]["tickets_delta"] == 0
    # T3: coupon_promo -> default 10; no triaged_tickets -> tier multiplier 1
    assert rows["K2"]["support_cost_delta"] == pytest.approx(10.0)
    assert {"roi_after_support_first_touch", "roi_after_support_last_touch"} <= set(df.columns)
    with pytest.raises(TriageError, match="different"):
        marketing.compare_models(impact_store, "linear", "linear")


def test_json_records(impact_store: Store) -> None:
    add_triage(impact_store)
    recs = marketing.to_json_records(marketing.campaign_impact(impact_store, "linear", config=COST))
    json.dumps(recs, allow_nan=False)
    k2 = next(r for r in recs if r["campaign_id"] == "K2")
    un = next(r for r in recs if r["campaign_id"] is None)
    for key in ("campaign_id", "tickets", "negative_tickets", "support_cost",
                "roi_after_support", "name", "channel", "spend", "revenue",
                "tickets_per_1000_reached", "negative_share", "mean_sentiment", "value_at_risk"):
        assert key in k2
    assert type(k2["tickets"]) is float and k2["roi_after_support"] is None
    assert k2["reach"] == 1 and type(k2["reach"]) is int and un["reach"] is None
    assert un["roi_after_support"] is None and un["tickets"] == 1.0


# -- spikes -------------------------------------------------------------------------------------
LAUNCH = pd.Timestamp("2026-03-01 00:00:00")


@pytest.fixture
def spike_store(store: Store) -> Store:
    """KS launches at LAUNCH and touches S1, S2 half an hour later. In the 28 days before launch
    they raised 280 tickets (10 a day). Attributed after launch: day 1 -> 20, day 2 -> 19.
    KN launches at the same time, touches N1 (no history): day 0 -> 4 tickets, day 3 -> 5.
    P1 got a KS touch the day before launch and raised 6 tickets on day 0: last touch credits
    them to KS, but P1 is outside the launch cohort, so they are not in KS's series."""
    tickets = [(f"B{i}", ("S1", "S2")[i % 2], LAUNCH - days(28) + days(i / 10))
               for i in range(280)]
    tickets += [(f"D1-{i}", "S1", LAUNCH + days(1) + pd.Timedelta(minutes=i)) for i in range(20)]
    tickets += [(f"D2-{i}", "S2", LAUNCH + days(2) + pd.Timedelta(minutes=i)) for i in range(19)]
    tickets += [(f"N0-{i}", "N1", LAUNCH + pd.Timedelta(hours=2, minutes=i)) for i in range(4)]
    tickets += [(f"N3-{i}", "N1", LAUNCH + days(3) + pd.Timedelta(minutes=i)) for i in range(5)]
    tickets += [(f"P0-{i}", "P1", LAUNCH + pd.Timedelta(hours=3, minutes=i)) for i in range(6)]
    touches = [("P1", "KS", LAUNCH - days(1)),
               ("S1", "KS", LAUNCH + pd.Timedelta(minutes=30)),
               ("S2", "KS", LAUNCH + pd.Timedelta(minutes=30)),
               ("N1", "KN", LAUNCH + pd.Timedelta(minutes=30))]
    load(store, tickets=tickets, touches=touches,
         campaigns=[("KS", 100.0, 100.0, LAUNCH), ("KN", 100.0, 100.0, LAUNCH)])
    return store


def test_spike_rule_on_constructed_series(spike_store: Store) -> None:
    df = marketing.spike_series(spike_store)
    ks = df[df["campaign_id"] == "KS"].set_index("day")
    # Days after the newest ticket (day 3) are not reported.
    assert list(ks.index) == [0, 1, 2, 3]
    assert ks["expected"].tolist() == pytest.approx([10.0] * 4)
    # max(10 + 3 * sqrt(10) = 19.49, 2 * 10 = 20, 5) = 20
    assert ks["threshold"].tolist() == pytest.approx([20.0] * 4)
    assert ks["observed"].tolist() == [0.0, 20.0, 19.0, 0.0]
    assert ks["is_spike"].tolist() == [False, True, False, False]
    kn = df[df["campaign_id"] == "KN"].set_index("day")
    assert kn["expected"].tolist() == [0.0] * 4 and kn["threshold"].tolist() == [5.0] * 4
    assert kn["is_spike"].tolist() == [False, False, False, True]  # 4 tickets no, 5 yes
    assert "3 x sqrt(expected)" in df["rule"].iloc[0]
    assert "first 14 days" in df["rule"].iloc[0] and "28 days before launch" in df["rule"].iloc[0]
    alerts = marketing.spike_alerts(df)  # one row per campaign, the highest peak first
    assert alerts["campaign_id"].tolist() == ["KS", "KN"]
    assert alerts["first_spike_day"].tolist() == [LAUNCH + days(1), LAUNCH + days(3)]
    assert alerts["spike_days"].tolist() == [1, 1]
    assert alerts["peak_tickets"].tolist() == [20.0, 5.0]
    assert alerts["expected_per_day"].tolist() == pytest.approx([10.0, 0.0])
    assert alerts["rule"].tolist() == [df["rule"].iloc[0]] * 2
    quiet = marketing.spike_alerts(df[df["campaign_id"] == "KS"].head(1))
    assert quiet.empty and list(quiet.columns) == list(alerts.columns)


def test_a_ticket_dated_far_ahead_adds_no_spike_days(spike_store: Store) -> None:
    """Days after the newest ticket are left out; one ticket dated 2100 (a typo in the year)
    was that newest ticket, and every campaign got its whole window of empty days."""
    before = marketing.spike_series(spike_store)
    spike_store.import_frame("tickets", pd.DataFrame(
        [("TYPO", "S1", "2100-01-01 10:00:00", "new")],
        columns=["ticket_id", "customer_id", "created_at", "status"]))
    pd.testing.assert_frame_equal(marketing.spike_series(spike_store), before)


def test_spike_series_campaign_filters(spike_store: Store) -> None:
    spike_store.execute("UPDATE campaigns SET channel = 'webinar' WHERE campaign_id = 'KN'")
    all_days = marketing.spike_series(spike_store)
    webinar = marketing.spike_series(spike_store, filters=Filters(campaign_channels=("webinar",)))
    assert set(webinar["campaign_id"]) == {"KN"}
    pd.testing.assert_frame_equal(
        webinar, all_days[all_days["campaign_id"] == "KN"].reset_index(drop=True))
    only_ks = marketing.spike_series(spike_store, filters=Filters(campaigns=("KS",)))
    assert set(only_ks["campaign_id"]) == {"KS"}


def test_spike_baseline_uses_only_the_covered_days(store: Store) -> None:
    """The data starts at FIRST. KE launches 10 days later: its cohort (E1) raised 3 tickets in
    those 10 days -> 0.3 a day, not 3/28. KZ launches before any data: no baseline, no alert,
    although Z1 raises 6 tickets on its day 1."""
    first = LAUNCH - days(30)
    ke, kz = first + days(10), first - days(5)
    tickets = [("F0", "E1", first)]
    tickets += [(f"E{i}", "E1", first + days(2 + 3 * i)) for i in range(2)]
    tickets += [(f"EA{i}", "E1", ke + days(1) + pd.Timedelta(minutes=i)) for i in range(6)]
    tickets += [(f"Z{i}", "Z1", kz + days(5) + pd.Timedelta(minutes=i)) for i in range(6)]
    touches = [("E1", "KE", ke + pd.Timedelta(hours=1)),
               ("Z1", "KZ", kz + pd.Timedelta(hours=1))]
    load(store, tickets=tickets, touches=touches,
         campaigns=[("KE", 1.0, 1.0, ke), ("KZ", 1.0, 1.0, kz)])
    df = marketing.spike_series(store)
    e = df[df["campaign_id"] == "KE"].set_index("day")
    assert e["baseline_days"].iloc[0] == pytest.approx(10.0)
    assert e["expected"].iloc[0] == pytest.approx(0.3)
    assert e["threshold"].iloc[0] == 5.0  # max(0.3 + 3 x sqrt(0.3), 0.6, 5)
    assert e["is_spike"].tolist() == [False, True]  # the data ends on day 1
    z = df[df["campaign_id"] == "KZ"].set_index("day")
    assert z.loc[5, "observed"] == 6.0 and z["baseline_days"].iloc[0] == 0.0
    assert z["expected"].isna().all() and z["threshold"].isna().all()
    assert not z["is_spike"].any()


def test_spike_rule_sigma_term_and_config(spike_store: Store) -> None:
    cfg = AttributionSettings.from_mapping({"spike": {"window_days": 3, "min_ratio": 1.5}})
    df = marketing.spike_series(spike_store, config=cfg)
    ks = df[df["campaign_id"] == "KS"].set_index("day")
    assert list(ks.index) == [0, 1, 2]
    # now the Poisson term wins: 10 + 3 * sqrt(10) = 19.487 -> 19 is still no spike
    assert ks["threshold"].tolist() == pytest.approx([10 + 3 * math.sqrt(10)] * 3)
    assert ks["is_spike"].tolist() == [False, True, False]
    assert "1.5 x expected" in df["rule"].iloc[0]


# -- settings and errors ------------------------------------------------------------------------
def test_settings_defaults_and_overrides() -> None:
    d = AttributionSettings.from_mapping({})
    assert d == AttributionSettings.from_mapping() == AttributionSettings.from_mapping(None)
    assert d.lookback_days == 90 and d.half_life_days == 7.0
    assert set(d.tier_multiplier) == {"P1", "P2", "P3", "P4"}
    assert d.spike == SpikeSettings(window_days=14, baseline_days=28, sigmas=3.0,
                                    min_ratio=2.0, min_tickets=5.0)
    assert d.spike == SpikeSettings.from_mapping()
    s = AttributionSettings.from_mapping({"lookback_days": 30,
                                          "support_cost": {"base": {"billing": 1.5}}})
    assert s.lookback_days == 30 and s.category_cost["billing"] == 1.5
    assert s.category_cost["refund"] == d.category_cost["refund"]  # merged over defaults


@pytest.mark.parametrize(("section", "key"), [
    ({"lookback_days": 0}, "lookback_days"),
    ({"half_life_days": "7"}, "half_life_days"),
    ({"support_cost": {"base": {"billing": -1}}}, "support_cost.base.billing"),
    ({"support_cost": {"tier_multiplier": {"P9": 1}}}, "support_cost.tier_multiplier.P9"),
    ({"spike": {"window_days": 2.5}}, "spike.window_days"),
    ({"spike": {"sigmas": "three"}}, "spike.sigmas"),
    ({"spike": {"windw_days": 3}}, "windw_days"),
    ({"lookbak_days": 5}, "lookbak_days"),
])
def test_bad_config_names_the_key(section: dict, key: str) -> None:
    with pytest.raises(ConfigError, match="attribution: .*" + key.replace(".", r"\.")):
        AttributionSettings.from_mapping(section)


def test_user_errors(window_store: Store) -> None:
    with pytest.raises(TriageError, match="first_touch, last_touch, linear, time_decay"):
        marketing.campaign_impact(window_store, "u_shaped")
    with pytest.raises(TriageError, match="lookback_days must be greater than 0"):
        marketing.ticket_credits(window_store, "linear", lookback_days=0)
    with pytest.raises(TriageError, match="half_life_days must be greater than 0"):
        marketing.ticket_credits(window_store, "time_decay", half_life_days=-1)
    with pytest.raises(TriageError, match="unknown filter 'team'"):
        marketing.ticket_credits(window_store, filters={"team": "x"})
    with pytest.raises(TriageError, match=r"unknown filter 'channel'.*ticket_channels"):
        marketing.ticket_credits(window_store, filters={"channel": "x"})
    with pytest.raises(TriageError, match="cannot read 'yesterday'"):
        marketing.campaign_impact(window_store, filters={"start": "yesterday"})
    with pytest.raises(TriageError, match="cannot read 'yesterday'"):
        Filters(end="yesterday")
    with pytest.raises(TriageError, match="filter segments: expected text values"):
        Filters(segments=[1])
    with pytest.raises(TriageError, match="lookback_days must be greater than 0"):
        Filters(lookback_days=0)


def test_filters_lookback_is_the_default_window(window_store: Store) -> None:
    """K3 is exactly 90 days before T1: a 30-day window in the filters drops it, an explicit
    lookback_days still wins over the filters."""
    assert credits_of(window_store, "first_touch",
                      filters=Filters(lookback_days=30))["T1"] == {"K1": 1.0}
    assert credits_of(window_store, "first_touch", lookback_days=90,
                      filters=Filters(lookback_days=30))["T1"] == {"K3": 1.0}


def test_filter_values_are_bound_not_formatted(window_store: Store) -> None:
    evil = "x') OR TRUE OR ('"
    df = marketing.ticket_credits(window_store, "linear", filters=Filters(ticket_channels=evil))
    assert df.empty


# -- money under the filters, campaigns to fix, cost per ticket ---------------------------------

def test_money_in_filters_spreads_spend_over_days_and_reached_segments(store: Store) -> None:
    start = T0 - days(100)
    load(store, tickets=[("T1", "C1", T0 - days(20)), ("T2", "C2", T0 - days(20))],
         touches=[("C1", "K1", T0 - days(30)), ("C2", "K1", T0 - days(30))],
         campaigns=[("K1", 1000.0, 4000.0, start)],
         customers=[("C1", "vip", 10.0), ("C2", "consumer", 10.0)])
    store.execute("UPDATE campaigns SET end_at = ?", [ts(start + days(100))])
    impact = marketing.campaign_impact(store, "last_touch", lookback_days=30)
    whole = marketing.money_in_filters(store, impact, Filters(), 30)
    k1 = whole.set_index("campaign_id").loc["K1"]
    assert (k1["spend"], k1["revenue"], k1["money_share"]) == (1000.0, 4000.0, 1.0)
    assert k1["roi_before"] == pytest.approx(3.0)
    # tickets of the last 10 days of its run can be credited by its last 40 days (30 lookback)
    f = Filters(start=(T0 - days(10)).date(), end=T0.date(), lookback_days=30)
    part = marketing.money_in_filters(store, marketing.campaign_impact(
        store, "last_touch", lookback_days=30, filters=f), f, 30).set_index("campaign_id")
    assert part.loc["K1", "money_share"] == pytest.approx(0.4, abs=0.011)
    assert part.loc["K1", "spend_full"] == 1000.0
    assert part.loc["K1", "spend"] == pytest.approx(1000.0 * part.loc["K1", "money_share"])
    # one of its two reached customers is a VIP: half the money
    seg = Filters(segments=("vip",), lookback_days=30)
    vip = marketing.money_in_filters(store, marketing.campaign_impact(
        store, "last_touch", lookback_days=30, filters=seg), seg, 30).set_index("campaign_id")
    assert vip.loc["K1", "money_share"] == pytest.approx(0.5)
    roi = (vip.loc["K1", "revenue"] - vip.loc["K1", "spend"] - vip.loc["K1", "support_cost"]) \
        / vip.loc["K1", "spend"]
    assert vip.loc["K1", "roi_after_support"] == pytest.approx(roi)
    assert math.isnan(whole[whole["campaign_id"].isna()]["money_share"].iloc[0])


def test_campaigns_to_fix_give_the_reason_in_words() -> None:
    impact = pd.DataFrame({
        "campaign_id": ["A", "B", "C", "D", None], "name": ["Flip", "Costly", "Angry", "Fine", ""],
        "spend": [1000.0, 1000.0, 1000.0, 1000.0, np.nan],
        "revenue": [1100.0, 5000.0, 5000.0, 5000.0, np.nan],
        "support_cost": [300.0, 2000.0, 100.0, 100.0, 50.0],
        "reach": [100.0, 100.0, 100.0, 100.0, np.nan],
        "tickets": [10.0, 10.0, 10.0, 10.0, 5.0],
        "negative_share": [0.2, 0.2, 0.9, 0.1, 0.5],
    })
    impact["roi_after_support"] = (impact["revenue"] - impact["spend"]
                                   - impact["support_cost"]) / impact["spend"]
    fix = marketing.campaigns_to_fix(impact, currency="$", top=1)
    assert fix["name"].tolist() == ["Flip", "Costly", "Angry"]
    reasons = dict(zip(fix["name"], fix["reason"], strict=True))
    assert reasons["Flip"].startswith("ROI turned negative by support: +10.0 % before, "
                                      "−20.0 % after $300 of support cost")
    assert "support costs $20.00 per customer reached" in reasons["Costly"]
    assert reasons["Angry"].startswith("90.0 % of its tickets are negative (all campaigns:")
    assert marketing.campaigns_to_fix(impact.iloc[3:4]).empty


def test_cost_per_ticket_per_category_and_tier() -> None:
    cfg = AttributionSettings.from_mapping({"support_cost": {
        "default": 10.0, "base": {"billing": 20.0}, "tier_multiplier": {"P1": 2.0, "P4": 0.5}}})
    table = marketing.cost_per_ticket(cfg, ["refund"]).set_index("category")
    assert table.loc["billing", ["base_cost", "P1", "P4"]].tolist() == [20, 40, 10]
    assert table.loc["billing", "P2"] == 20 * cfg.tier_multiplier.get("P2", 1.0)
    assert table.loc["refund", "P1"] == 2 * cfg.category_cost.get("refund", 10.0)
    assert table.loc["(other)", "P4"] == 5.0
