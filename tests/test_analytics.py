"""Dashboard queries: filters as bound parameters, counts against hand-written SQL on the raw
tables, KPIs, and the ticket list (search, ordering, pagination)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from _world import WORLD_TICKETS

from triage_core.config import default_config
from triage_core.errors import TriageError
from triage_core.marketing import AttributionSettings, Filters
from triage_core.ops import analytics, scoring
from triage_core.ops.priority import TIERS
from triage_core.schema import OPEN_STATUSES
from triage_core.store import Store
from triage_core.triage import pipeline

CONFIG = default_config()
LOOKBACK = AttributionSettings.from_mapping(CONFIG["attribution"]).lookback_days
OPEN = list(OPEN_STATUSES)

# Raw tables only: category = label, else the model's prediction (the world has no corrections).
RAW = """
SELECT k.ticket_id, k.created_at, k.channel, k.customer_id, c.segment, k.status, k.csat,
       k.first_response_at, k.resolved_at, coalesce(k.category, r.category) AS category,
       r.sentiment_label, k.subject, k.body
FROM tickets k LEFT JOIN customers c USING (customer_id)
LEFT JOIN triage_results r USING (ticket_id)
"""


def raw_count(store: Store, where: str = "true", params: list | None = None) -> int:
    return int(store.scalar(f"SELECT count(*) FROM ({RAW}) x WHERE {where}", params or []))


def count(store: Store, f: Filters) -> int:
    """Tickets matching ``f``; the list count and the KPI count must agree."""
    n = analytics.count_tickets(store, f)
    assert analytics.overview_kpis(store, f)["tickets"] == n
    return n


# -- Filters -------------------------------------------------------------------------------------


def test_where_binds_every_value(world: Store) -> None:
    evil = "email' OR '1'='1"
    f = Filters(ticket_channels=(evil,), segments=("vip",),
                categories=("x'); DROP TABLE tickets; --",), campaigns=("K' OR 1=1 --",),
                campaign_channels=(evil,), start=dt.date(2026, 1, 1), end=dt.date(2026, 2, 1),
                lookback_days=45)
    where, params = f.where("t")
    for value in (evil, "DROP", "OR 1=1", "2026", "45"):
        assert value not in where
    assert [evil] in params and ["vip"] in params and 45 * 86_400_000_000 in params
    assert where.count("?") == len(params) == 8
    for injected in (Filters(ticket_channels=(evil,)),
                     Filters(categories=("x'); DROP TABLE tickets; --",)),
                     Filters(campaigns=("K' OR 1=1 --",)),
                     Filters(campaign_channels=(evil,))):
        assert count(world, injected) == 0
        assert analytics.tickets(world, injected).empty
    assert world.scalar("SELECT count(*) FROM tickets") == WORLD_TICKETS
    assert count(world, Filters()) == WORLD_TICKETS


def test_the_default_date_range_ends_before_tickets_dated_far_ahead(store: Store) -> None:
    """One ticket dated 2100 (a typo in the year) stretched the sidebar's default date range,
    and every chart of it, to 2100; the range ends at the last date the SLA clock runs to, the
    picker still reaches 2100, and a world dated wholly ahead keeps its own range."""
    day = pd.Timestamp
    store.import_frame("tickets", pd.DataFrame({
        "ticket_id": ["T1", "T2"], "customer_id": ["C1"] * 2, "status": ["new"] * 2,
        "created_at": ["2026-01-05T10:00:00Z", "2026-01-06T09:30:00Z"],
        "subject": ["Refund", "Login"], "body": ["x", "y"]}), create_missing=True)
    opts = analytics.filter_options(store)
    assert (opts["min_date"], opts["max_date"], opts["default_end"]) == (
        day("2026-01-05"), day("2026-01-06"), day("2026-01-06"))
    store.import_frame("tickets", pd.DataFrame({
        "ticket_id": ["T3"], "customer_id": ["C1"], "status": ["new"],
        "created_at": ["2100-01-01T00:00:00Z"], "subject": ["Typo"], "body": ["z"]}))
    opts = analytics.filter_options(store)
    assert (opts["max_date"], opts["default_end"]) == (day("2100-01-01"), day("2026-01-06"))
    store.execute("UPDATE tickets SET created_at = created_at + INTERVAL 100 YEAR"
                  " WHERE ticket_id <> 'T3'")
    opts = analytics.filter_options(store)
    assert (opts["max_date"], opts["default_end"]) == (day("2126-01-06"), day("2126-01-06"))


def touched(condition: str, days: float = LOOKBACK) -> str:
    """Raw SQL: a touch of a campaign meeting ``condition`` in the ``days`` before ticket x."""
    return (f"EXISTS (SELECT 1 FROM touchpoints tp JOIN campaigns c USING (campaign_id)"
            f" WHERE tp.customer_id = x.customer_id AND {condition}"
            f" AND tp.touched_at <= x.created_at"
            f" AND tp.touched_at >= x.created_at - INTERVAL {days:g} DAY)")


def test_each_filter_narrows_like_sql_on_the_raw_tables(world: Store) -> None:
    campaign = world.query("SELECT tp.campaign_id, count(*) AS n FROM touchpoints tp"
                           " JOIN campaigns USING (campaign_id) WHERE channel = 'email'"
                           " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1")["campaign_id"].iloc[0]
    cases = [
        (Filters(ticket_channels=("email",)), "channel = 'email'"),
        (Filters(ticket_channels=("chat", "phone")), "channel IN ('chat', 'phone')"),
        (Filters(segments=("vip",)), "segment = 'vip'"),
        (Filters(categories=("billing", "refund")), "category IN ('billing', 'refund')"),
        (Filters(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31)),
         "created_at::DATE BETWEEN DATE '2026-03-01' AND DATE '2026-03-31'"),
        (Filters(campaigns=(campaign,)), touched(f"tp.campaign_id = '{campaign}'")),
        (Filters(campaigns=(campaign,), lookback_days=20),
         touched(f"tp.campaign_id = '{campaign}'", 20)),
        # the campaign's channel, not the ticket's: e-mail campaigns, tickets of any channel
        (Filters(campaign_channels=("email",)), touched("c.channel = 'email'")),
        (Filters(campaign_channels=("email",), ticket_channels=("chat",)),
         "channel = 'chat' AND " + touched("c.channel = 'email'")),
        (Filters(campaigns=(campaign, "nope"), campaign_channels=("email", "webinar")),
         touched(f"tp.campaign_id = '{campaign}' AND c.channel IN ('email', 'webinar')")),
        (Filters(ticket_channels=("email",), segments=("consumer", "smb"),
                 categories=("app_crash",)),
         "channel = 'email' AND segment IN ('consumer', 'smb') AND category = 'app_crash'"),
    ]
    for f, sql in cases:
        want = raw_count(world, sql)
        assert 0 < want < WORLD_TICKETS, sql
        assert count(world, f) == want, sql
        got = analytics.tickets(world, f, limit=WORLD_TICKETS)
        assert len(got) == want, sql


def test_end_date_includes_the_whole_day(loaded_store: Store) -> None:
    """Hand-made tickets: T1 2026-02-01 10:00, T2 02-02 10:00, T3 02-03 11:00, T4 02-02 23:59:59."""
    late = pd.DataFrame({"ticket_id": ["T4"], "created_at": ["2026-02-02 23:59:59.999"],
                         "customer_id": ["C1"], "status": ["new"], "channel": ["email"]})
    loaded_store.import_frame("tickets", late)
    pipeline.triage(loaded_store, CONFIG)
    d = dt.date

    def ids(f: Filters) -> list[str]:
        return sorted(analytics.tickets(loaded_store, f)["ticket_id"])

    assert ids(Filters(start=d(2026, 2, 2), end=d(2026, 2, 2))) == ["T2", "T4"]
    assert ids(Filters(end=d(2026, 2, 1))) == ["T1"]
    assert ids(Filters(start=d(2026, 2, 3))) == ["T3"]
    assert ids(Filters(start=d(2026, 2, 1), end=d(2026, 2, 3))) == ["T1", "T2", "T3", "T4"]
    assert ids(Filters(start=d(2026, 2, 4))) == []
    assert analytics.overview_kpis(loaded_store, Filters(end=d(2026, 2, 2)))["tickets"] == 3


# -- KPIs ------------------------------------------------------------------------------------------


def test_overview_kpis_match_hand_sql(world: Store) -> None:
    for f, where in [(Filters(), "true"),
                     (Filters(ticket_channels=("email",)), "x.channel = 'email'")]:
        k = analytics.overview_kpis(world, f)
        raw = world.query(f"""
            SELECT count(*) AS tickets,
                   -- among tickets with a sentiment (unscored languages have none)
                   count(*) FILTER (WHERE sentiment_label = 'negative')
                       / count(sentiment_label) AS neg,
                   avg(csat) AS csat, count(csat) AS csat_n,
                   count(*) FILTER (WHERE status IN ('new', 'open', 'pending', 'on_hold'))
                       AS open_tickets,
                   quantile_cont(epoch(first_response_at - created_at) / 3600, 0.5) AS frt,
                   quantile_cont(epoch(resolved_at - created_at) / 3600, 0.5) AS res
            FROM ({RAW}) x WHERE {where}""").iloc[0]
        assert k["tickets"] == raw["tickets"]
        assert k["negative_share"] == pytest.approx(raw["neg"])
        assert k["csat"] == pytest.approx(raw["csat"])
        assert k["csat_responses"] == raw["csat_n"]
        assert k["open_tickets"] == raw["open_tickets"]
        # the KPI counts whole minutes
        assert k["median_first_response_h"] == pytest.approx(raw["frt"], abs=1 / 60)
        assert k["median_resolution_h"] == pytest.approx(raw["res"], abs=1 / 60)
        # SLA compliance: first response within the first-response SLA of the ticket's tier
        t = world.query(f"""SELECT t.priority_tier, x.created_at, x.first_response_at
                            FROM triaged_tickets t JOIN ({RAW}) x USING (ticket_id)
                            WHERE {where} AND x.first_response_at IS NOT NULL""")
        sla = scoring.load_profile(world, CONFIG, "default").sla
        minutes = {t: p.first_response_minutes for t, p in zip(TIERS, sla, strict=True)}
        due = t["created_at"] + pd.to_timedelta(t["priority_tier"].map(minutes), unit="m")
        assert k["sla_compliance"] == pytest.approx((t["first_response_at"] <= due).mean())
        esc = world.scalar(f"SELECT count(*) FROM triaged_tickets t JOIN ({RAW}) x"
                           f" USING (ticket_id) WHERE {where} AND t.escalated"
                           " AND x.status IN ('new', 'open', 'pending', 'on_hold')")
        assert k["escalated_open"] == esc
        assert 0 <= k["at_risk"] + k["breached"] <= k["open_tickets"]


def test_breakdown_and_trend_add_up(world: Store) -> None:
    f = Filters(segments=("consumer",))
    total = count(world, f)
    for by in ("category", "channel", "segment", "tier", "team", "language"):
        assert analytics.breakdown(world, f, by)["tickets"].sum() == total, by
    assert analytics.volume_trend(world, f, "week")["tickets"].sum() == total
    cats = analytics.breakdown(world, f, "category").set_index("group")["tickets"]
    assert cats["billing"] == raw_count(world, "segment = 'consumer' AND category = 'billing'")
    with pytest.raises(TriageError, match="cannot group by 'customer_id'"):
        analytics.breakdown(world, f, "customer_id")
    with pytest.raises(TriageError, match="unknown period 'hour'"):
        analytics.volume_trend(world, f, "hour")


def test_sentiment_by_campaign_counts_each_touching_campaign(world: Store) -> None:
    f = Filters(segments=("consumer", "smb"))
    got = analytics.sentiment_trend(world, f, by="campaign", freq="month", top=1000)
    want = world.query(f"""
        SELECT c.name AS "group", count(DISTINCT x.ticket_id) AS tickets
        FROM ({RAW}) x JOIN touchpoints tp ON tp.customer_id = x.customer_id
          AND tp.touched_at <= x.created_at
          AND tp.touched_at >= x.created_at - INTERVAL {LOOKBACK:g} DAY
        JOIN campaigns c ON c.campaign_id = tp.campaign_id
        WHERE x.segment IN ('consumer', 'smb') GROUP BY 1""").set_index("group")["tickets"]
    assert len(want) > 1
    assert got.groupby("group")["tickets"].sum().sort_index().to_dict() == \
        want.sort_index().to_dict()
    short = analytics.sentiment_trend(world, Filters(segments=("consumer", "smb"),
                                                     lookback_days=7), "campaign", "month", 1000)
    assert short["tickets"].sum() < got["tickets"].sum()


# -- ticket list ---------------------------------------------------------------------------------


def test_search_matches_subject_body_or_id(world: Store) -> None:
    hits = analytics.tickets(world, Filters(), search="  Refund ", limit=WORLD_TICKETS)
    want = raw_count(world, "strpos(lower(subject), 'refund') > 0"
                            " OR strpos(lower(body), 'refund') > 0")
    assert len(hits) == want > 0
    assert analytics.count_tickets(world, Filters(), search="refund") == want
    text = world.query("SELECT ticket_id, lower(coalesce(subject, '') || ' ' ||"
                       " coalesce(body, '')) AS t FROM tickets").set_index("ticket_id")["t"]
    assert all("refund" in text[t] for t in hits["ticket_id"])
    tid = world.scalar("SELECT max(ticket_id) FROM tickets")
    assert analytics.tickets(world, Filters(), search=tid)["ticket_id"].tolist() == [tid]
    # LIKE wildcards are plain characters
    assert analytics.count_tickets(world, Filters(), search="%") == raw_count(
        world, "strpos(subject, '%') > 0 OR strpos(body, '%') > 0")
    assert analytics.count_tickets(world, Filters(), search="_") == raw_count(
        world, "strpos(subject, '_') > 0 OR strpos(body, '_') > 0")
    narrowed = analytics.count_tickets(world, Filters(ticket_channels=("email",)), search="refund")
    assert narrowed == raw_count(world, "channel = 'email' AND (strpos(lower(subject), 'refund')"
                                        " > 0 OR strpos(lower(body), 'refund') > 0)")


def test_ordering_and_pagination(world: Store) -> None:
    f = Filters()
    by_priority = analytics.tickets(world, f, limit=300)
    assert by_priority["priority_score"].is_monotonic_decreasing
    assert by_priority["priority_score"].iloc[0] == world.scalar(
        "SELECT max(priority_score) FROM triaged_tickets")
    assert analytics.tickets(world, f, order="newest", limit=300)[
        "created_at"].is_monotonic_decreasing
    assert analytics.tickets(world, f, order="sentiment", limit=300)[
        "sentiment"].is_monotonic_increasing
    due = analytics.tickets(world, f, order="due", limit=WORLD_TICKETS)["sla_due_at"]
    assert due.dropna().is_monotonic_increasing
    page1 = analytics.tickets(world, f, limit=25)
    page2 = analytics.tickets(world, f, limit=25, offset=25)
    both = analytics.tickets(world, f, limit=50)
    assert page1["ticket_id"].tolist() + page2["ticket_id"].tolist() == \
        both["ticket_id"].tolist()
    last = analytics.tickets(world, f, limit=25, offset=WORLD_TICKETS - 10)
    assert len(last) == 10
    with pytest.raises(TriageError, match="unknown order 'random'"):
        analytics.tickets(world, f, order="random")


def test_open_team_and_escalated_narrow_the_list(world: Store) -> None:
    f = Filters()
    opened = analytics.tickets(world, f, open_only=True, limit=WORLD_TICKETS)
    assert len(opened) == raw_count(world, "status IN ('new', 'open', 'pending', 'on_hold')")
    assert set(opened["status"]) <= set(OPEN)
    team = opened["team"].value_counts().index[0]
    mine = analytics.tickets(world, f, open_only=True, team=team, limit=WORLD_TICKETS)
    assert len(mine) == (opened["team"] == team).sum() and (mine["team"] == team).all()
    esc = analytics.tickets(world, f, escalated=True, limit=WORLD_TICKETS)
    assert len(esc) == world.scalar("SELECT count(*) FROM triaged_tickets WHERE escalated") > 0
    assert esc["escalated"].all()
    three = sorted(esc["ticket_id"].tolist()[:3])
    assert sorted(analytics.tickets_by_id(world, three)["ticket_id"]) == three


def test_workload_and_queues_agree(world: Store) -> None:
    load = analytics.team_workload(world)
    assert (load["assigned"] <= load["capacity"]).all()
    queues = analytics.queue_summary(world)
    assert queues["open_tickets"].sum() == raw_count(
        world, "status IN ('new', 'open', 'pending', 'on_hold')")
    assert load["assigned"].sum() == queues["open_tickets"].sum() - queues["unassigned"].sum()


def test_export_only_allow_listed_tables(world: Store) -> None:
    """Exports read whole tables by allow-listed name only."""
    assert "tickets" in analytics.exportable_tables(world)
    assert "model_versions" not in analytics.exportable_tables(world)
    # the key of masked tokens and the API token hashes never leave through an export
    assert {"settings", "api_tokens"}.isdisjoint(analytics.exportable_tables(world))
    with pytest.raises(TriageError, match="cannot export"):
        analytics.export_table(world, "settings")
    with pytest.raises(TriageError, match="cannot export"):
        analytics.export_table(world, 'tickets"; DROP TABLE tickets; --')
    with pytest.raises(TriageError, match="cannot export"):
        analytics.export_table(world, "model_versions")
    assert len(analytics.export_table(world, "tickets")) == WORLD_TICKETS


def test_campaign_drill_matches_the_campaigns_credits(world: Store) -> None:
    from triage_core.marketing import ticket_credits
    from triage_core.marketing.stored import stored_credits

    assert stored_credits(world, "last_touch", LOOKBACK)  # the demo's full scoring stored them
    cid = world.scalar("SELECT campaign_id FROM campaign_credits GROUP BY 1"
                       " ORDER BY count(*) DESC, 1 LIMIT 1")
    triaged = world.query("SELECT ticket_id, created_at FROM triaged_tickets")
    cfg = CONFIG["attribution"]
    for model in ("last_touch", "linear"):
        credits = ticket_credits(world, model, LOOKBACK, filters=Filters(campaigns=(cid,)),
                                 config=cfg).merge(triaged, on="ticket_id")
        for unfiltered in (True, False):  # stored (last touch only) and live
            daily, top, n = analytics.campaign_drill(world, model, cid, LOOKBACK, Filters(),
                                                     cfg, limit=50, unfiltered=unfiltered)
            assert n == len(credits) > 50
            assert daily["tickets"].sum() == pytest.approx(credits["credit"].sum())
            assert daily["day"].is_monotonic_increasing
            assert len(top) == 50 and set(top["ticket_id"]) <= set(credits["ticket_id"])
            assert top["credit"].is_monotonic_decreasing
            assert top["credit"].iloc[0] == pytest.approx(credits["credit"].max())
        start = credits["created_at"].median()
        _, _, n = analytics.campaign_drill(world, model, cid, LOOKBACK, Filters(start=start),
                                           cfg, limit=50)
        assert n == int((credits["created_at"] >= start).sum())


def test_staged_credits_give_the_live_campaign_view(world_copy: Path) -> None:
    """The stored campaign view computes the last-touch credits once for its three readers:
    each gives exactly what it gives computing them itself."""
    from triage_core import marketing

    cfg = marketing.attribution_settings(CONFIG.get("attribution"))
    with Store(world_copy) as store:
        live = (marketing.campaign_impact(store, "last_touch", config=cfg),
                marketing.spike_series(store, "last_touch", config=cfg))
        with store.transaction():
            n_live = marketing.materialize_credits(store, cfg)
        stored_live = store.query("SELECT * FROM campaign_credits ORDER BY ALL")
        with marketing.staged_credits(store, cfg) as staged:
            assert store.table_exists(staged)
            pd.testing.assert_frame_equal(marketing.campaign_impact(
                store, "last_touch", config=cfg, staged=staged), live[0])
            pd.testing.assert_frame_equal(marketing.spike_series(
                store, "last_touch", config=cfg, staged=staged), live[1])
            with store.transaction():
                assert marketing.materialize_credits(store, cfg, staged=staged) == n_live > 0
        pd.testing.assert_frame_equal(
            store.query("SELECT * FROM campaign_credits ORDER BY ALL"), stored_live)
        assert not store.table_exists(staged)  # gone after the block


def test_confidence_bins_count_every_prediction_in_its_range(store: Store) -> None:
    values = [0.0, 0.049, 0.05, 0.5, 0.97, 1.0, None, float("nan")]
    store.executemany("INSERT INTO triage_results (ticket_id, category_confidence)"
                      " VALUES (?, ?)", [[f"T{i}", v] for i, v in enumerate(values)])
    bins = analytics.confidence_bins(store)
    assert len(bins) == 20 and bins["low"].iloc[1] == 0.05 and bins["high"].iloc[-1] == 1.0
    assert bins["tickets"].tolist() == [2, 1] + [0] * 8 + [1] + [0] * 8 + [2]
    assert analytics.confidence_bins(store, bins=2)["tickets"].tolist() == [3, 3]
