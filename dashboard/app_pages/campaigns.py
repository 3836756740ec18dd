"""Campaign impact: tickets, sentiment, support cost and ROI after support cost per campaign,
the campaigns to fix, and a drill-down into one campaign (tick its row)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, components, data
from dashboard import format as fmt

st.title("Campaign impact")
st.caption("Which campaigns create support work, how those customers feel, and what the "
           "campaign earns once support cost is paid. Credit for each ticket is shared across "
           "the campaigns that touched the customer before it.")

ROI_DEFINITION = (
    "**ROI after support cost** = (revenue − spend − support cost) ÷ spend. "
    "+50 % means each {c}1 spent came back as {c}1.50 after paying for the support its "
    "customers needed; 0 % means it broke even; −100 % means the whole spend was lost.")
VALUE_HELP = ("Summed lifetime value of the customers who wrote a negative ticket credited to "
              "the campaign. It is not money lost: it says how valuable the customers the "
              "campaign upset are. A customer touched by several campaigns counts in each, so "
              "these figures overlap and are never added up.")


def selected_campaign(table: pd.DataFrame, event: object) -> str | None:
    """The campaign of the ticked row (a new tick wins over the drop-down; the drop-down
    stays usable while the tick is unchanged)."""
    ids = table["campaign_key"].tolist()
    rows = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    ticked = ids[rows[0]] if rows and rows[0] < len(ids) else None
    if ticked is not None and ticked != st.session_state.get("campaign_ticked"):
        st.session_state["campaign_drill"] = ticked  # before the drop-down is drawn
    st.session_state["campaign_ticked"] = ticked
    if st.session_state.get("campaign_drill") not in ids:
        st.session_state["campaign_drill"] = ids[0]
    names = dict(zip(table["campaign_key"], table["name"], strict=True))
    return st.selectbox("Campaign shown below", ids,
                        format_func=lambda c: components.option(names.get(c)), key="campaign_drill",
                        help="Tick a row in the table above, or pick a campaign here")


def drill_down(row: pd.Series, chosen: str, campaigns: pd.DataFrame, model: str,
               f: data.Filters, lookback: int) -> None:
    st.subheader(components.plain(f"Drill-down: {components.brief(row['name'])}"))
    components.kpi_row([
        ("Attributed tickets", fmt.count(row["tickets"]), None),
        ("Negative share", fmt.pct(row["negative_share"]), None),
        ("Support cost", fmt.money(row["support_cost"]), None),
        ("Spend in the filters", fmt.money(row["spend"]),
         f"Campaign total {fmt.money(row.get('spend_full'))}"),
        ("ROI after support cost", fmt.pct(row["roi_after_support"], signed=True),
         f"Before support cost: {fmt.pct(row.get('roi_before'), signed=True)}"),
    ])
    daily, top, n = data.campaign_drill(model, chosen, f, lookback)
    left, right = st.columns(2)
    mix_src = campaigns.set_index("campaign_key").loc[chosen, "category_mix"]
    mix = pd.DataFrame(list((mix_src or {}).items()), columns=["category", "value"])
    left.plotly_chart(charts.category_mix(mix, "Category mix (attributed credit)"),
                      width="stretch")
    if not n:
        right.info("No tickets credited to this campaign under the current filters.")
        return
    right.plotly_chart(charts.daily_series(daily, "Attributed tickets per day",
                                           marker=row.get("start_at")), width="stretch")
    st.plotly_chart(charts.daily_series(daily, "Mean sentiment of its tickets per day",
                                        y="sentiment", label="Sentiment (−1..+1)"),
                    width="stretch")
    shown = data.with_agent_names(top)
    st.caption(components.plain(f"Its {len(top):,} tickets with the most credit"
                                + (f" (of {n:,})." if n > len(top) else ".")))
    fmt.dataframe(shown, ["ticket_id", "created_at", "credit", "category", "sentiment",
                          "priority_tier", "status", "segment", "agent", "subject"],
                  key="campaign_tickets")


counts = data.counts()
if components.need_triage():
    pass  # the empty state says what to load first
elif not (counts.get("campaigns") and counts.get("touchpoints")):
    st.info("This database has no " + (" and no ".join(
        w for w, n in (("campaigns", counts.get("campaigns")),
                       ("touchpoints", counts.get("touchpoints"))) if not n))
            + " yet, so no ticket can be credited to a campaign. Import campaigns and "
            "touchpoints (which customer each campaign reached, when) on the **Data** page.",
            icon=":material/info:")
else:
    f = components.filters()
    c1, c2, c3 = st.columns([2, 2, 1])
    model = c1.selectbox("Attribution model", data.MODELS, index=data.MODELS.index("last_touch"),
                         key="campaign_model", format_func=fmt.model_name, help="\n".join(
                             f"- **{fmt.model_name(m)}**: {d}"
                             for m, d in data.MODEL_DESCRIPTIONS.items()))
    others = ["(none)", *[m for m in data.MODELS if m != model]]
    compare = c2.selectbox("Compare with", others, key="campaign_compare",
                           format_func=fmt.model_name)
    default_lookback = data.default_lookback()
    lookback = int(c3.number_input("Lookback (days)", min_value=1,
                                   max_value=max(365, default_lookback), value=default_lookback,
                                   key="campaign_lookback"))
    st.caption(data.MODEL_DESCRIPTIONS[model])
    impact = data.campaign_impact(model, f, lookback)
    other = data.campaign_impact(compare, f, lookback) if compare != "(none)" else None
    campaigns = impact.dropna(subset=["campaign_id"])
    unattributed = impact[impact["campaign_id"].isna()]
    cur = fmt.currency()
    if campaigns.empty:
        st.info("No campaign touched the customers of the tickets in these filters; widen "
                "the filters or the lookback.")
    else:
        total = float(impact["tickets"].sum())
        un = float(unattributed["tickets"].sum()) if not unattributed.empty else 0.0
        spend, revenue = float(campaigns["spend"].sum()), float(campaigns["revenue"].sum())
        cost = float(campaigns["support_cost"].sum())
        attributed = total - un
        roi = (revenue - spend - cost) / spend if spend > 0 else None
        components.kpi_row([
            ("Attributed tickets", fmt.count(attributed),
             f"{fmt.count(un)} tickets had no campaign touch in the {lookback} days before"),
            ("Support cost", fmt.money(cost),
             "Each attributed ticket's handling cost (per category and tier, below) times its "
             "credit"),
            ("Cost per ticket", fmt.money_exact(cost / attributed if attributed else None),
             "Average support cost of one attributed ticket"),
        ])
        components.kpi_row([
            ("Spend", fmt.money(spend), "Campaign spend for the sidebar's date range and "
                                        "segments (see below)"),
            ("Revenue", fmt.money(revenue), None),
            ("ROI after support cost", fmt.pct(roi, signed=True),
             "(revenue − spend − support cost) ÷ spend, over every campaign shown"),
        ])
        st.markdown(ROI_DEFINITION.format(c=components.plain(cur)))
        st.caption(
            "Spend, revenue and support cost follow the same sidebar filters: a date range keeps "
            "the part of each campaign's run that can credit tickets in it (from the lookback "
            "before its start to its end), a segment the share of the customers it reached in "
            "that segment. Ticket channel and category narrow the tickets, so only the support "
            "cost; campaign channel and campaign choose the campaigns.")
        note = data.profile_note()
        if note:
            st.info(components.plain(note), icon=":material/tune:")
        with st.expander("What does one ticket cost? (per category and priority tier)"):
            st.caption("From `[attribution] support_cost` in the config: a ticket costs its "
                       "category's base cost times its tier's multiplier. Categories not "
                       "listed cost the default.")
            fmt.dataframe(data.cost_per_ticket(), key="campaign_costs", overrides={
                t: st.column_config.NumberColumn(t, format=f"{cur.replace('%', '%%')}%,.2f")
                for t in ("base_cost", "P1", "P2", "P3", "P4")})

        st.subheader("Campaigns to fix")
        fix = data.campaigns_to_fix(model, f, lookback)
        if fix.empty:
            st.success("No campaign stands out: none turned negative by support, none far above "
                       "the others in support cost per customer or negative share.")
        else:
            st.caption("ROI turned negative by support first, then the highest support cost per "
                       "customer reached and the most negative share.")
            with st.container(border=True):
                for r in fix.itertuples():
                    st.markdown(f"**{components.plain(r.name)}**: {components.plain(r.reason)}")
            with st.expander("The same as a table"):
                fmt.dataframe(fix, ["name", "reason", "support_cost",
                                    "support_cost_per_customer", "negative_share",
                                    "roi_before", "roi_after_support"],
                              key="campaign_fix", overrides={
                                  "name": st.column_config.TextColumn("Campaign"),
                                  "reason": st.column_config.TextColumn("Why", width=520)})

        metric_labels = {
            "tickets": "Attributed tickets", "negative_share": "Negative share",
            "support_cost": "Support cost", "roi_after_support": "ROI after support cost",
            "tickets_per_1000_reached": "Tickets per 1,000 customers reached",
            "value_at_risk": "Lifetime value of unhappy customers",
        }
        metric = st.segmented_control("Chart", list(metric_labels), default="tickets",
                                      format_func=metric_labels.get, key="campaign_metric"
                                      ) or "tickets"
        if metric == "value_at_risk":
            st.caption(VALUE_HELP)
        st.plotly_chart(charts.campaign_bars(
            impact, metric, metric_labels[metric], model, other,
            None if other is None else compare,
            percent=metric in ("negative_share", "roi_after_support"),
            unit=cur if metric in ("support_cost", "value_at_risk") else ""), width="stretch")
        st.plotly_chart(charts.roi_scatter(impact, model), width="stretch")

        st.subheader("Per campaign")
        st.caption("Tick a row to drill into that campaign below.")
        table = campaigns.sort_values("tickets", ascending=False).reset_index(drop=True)
        columns = ["name", "channel", "tickets", "negative_share", "mean_sentiment",
                   "support_cost", "spend", "revenue", "roi_before", "roi_after_support",
                   "reach", "tickets_per_1000_reached", "customers_at_risk", "value_at_risk",
                   "spend_full", "campaign_id"]
        extra = {}
        if other is not None:
            o = other.set_index("campaign_key")
            formats = {"tickets": "%,.0f", "support_cost": f"{cur.replace('%', '%%')}%,.0f",
                       "roi_after_support": "%.1f %%"}
            for col, form in formats.items():
                name = f"{col}_vs"
                values = table["campaign_key"].map(o[col]).astype(float)
                table[name] = values * 100 if col == "roi_after_support" else values
                columns.append(name)
                extra[name] = st.column_config.NumberColumn(f"{fmt.label(col)} ({compare})",
                                                            format=form)
        event = fmt.dataframe(
            table, columns, key="campaign_table", on_select="rerun",
            selection_mode="single-row",
            helps={"value_at_risk": VALUE_HELP, "spend": "Spend within the sidebar filters",
                   "spend_full": "The campaign's whole spend",
                   "customers_at_risk": "Customers with a negative ticket credited to it"},
            overrides={"name": st.column_config.TextColumn("Campaign", pinned=True), **extra})
        chosen = selected_campaign(table, event)
        row = table[table["campaign_key"] == chosen].iloc[0]
        drill_down(row, chosen, campaigns, model, f, lookback)

    st.subheader("Spike alerts")
    spikes = data.spike_alerts(model)
    if spikes.empty:
        if campaigns.empty:
            st.info("No campaign data, so no spikes to look for.")
        else:
            st.success("No campaign produced a clear ticket spike after its launch.")
    else:
        st.caption(str(spikes["rule"].iloc[0]))
        fmt.dataframe(spikes.drop(columns=["rule"]), key="campaign_spikes")

    st.subheader("Incremental tickets (lift)")
    st.caption(
        "Attribution shares each ticket's credit among the campaigns that touched the customer "
        "before it, so a customer who would have written anyway still gives credit. Lift asks "
        "what the campaign changed: it compares the customers it touched with similar customers "
        "it did not touch (same segment and plan, similar tenure, prior tickets and other "
        "marketing), in the same weeks before and after the touch. The difference is the "
        "tickets the campaign caused, with an interval; a campaign can earn much credit and "
        "cause little, or the other way round. It takes a few seconds on large data.")
    c1, c2 = st.columns([1, 3])
    lift_cfg = data.lift_settings()
    level = f"{lift_cfg.interval:.0%}"
    window = int(c1.number_input("Days before and after the touch", min_value=1, max_value=365,
                                 value=lift_cfg.window_days, key="campaign_lift_window"))
    if c2.toggle("Measure incremental tickets", key="campaign_lift_on"):
        lift = data.campaign_lift(window, model)
        st.plotly_chart(charts.lift_bars(lift, model, "Tickets caused vs credited per campaign"),
                        width="stretch")
        fmt.dataframe(lift.drop(columns=["model", "window_days"]), key="campaign_lift",
                      overrides={
                          "ci_low": st.column_config.NumberColumn(f"{level} low",
                                                                  format="%,.0f"),
                          "ci_high": st.column_config.NumberColumn(f"{level} high",
                                                                   format="%,.0f"),
                          "attributed_tickets": st.column_config.NumberColumn(
                              f"Attributed ({fmt.model_name(model)})", format="%,.0f")})
