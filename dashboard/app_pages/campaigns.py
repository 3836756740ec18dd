"""Campaign impact: tickets, sentiment, support cost and ROI after support cost per campaign."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, components, data

st.title("Campaign impact")
st.caption("Which campaigns create support work, how those customers feel, and what the "
           "campaign earns once support cost is paid. Credit for each ticket is shared across "
           "the campaigns that touched the customer before it.")

if not components.need_triage():
    f = components.filters()
    c1, c2, c3 = st.columns([2, 2, 1])
    model = c1.selectbox("Attribution model", data.MODELS, index=data.MODELS.index("last_touch"),
                         key="campaign_model", help="\n".join(
                             f"- **{m}**: {d}" for m, d in data.MODEL_DESCRIPTIONS.items()))
    others = ["(none)", *[m for m in data.MODELS if m != model]]
    compare = c2.selectbox("Compare with", others, key="campaign_compare")
    default_lookback = data.default_lookback()
    lookback = int(c3.number_input("Lookback (days)", min_value=1,
                                   max_value=max(365, default_lookback), value=default_lookback,
                                   key="campaign_lookback"))
    st.caption(data.MODEL_DESCRIPTIONS[model])
    impact = data.campaign_impact(model, f, lookback)
    other = data.campaign_impact(compare, f, lookback) if compare != "(none)" else None
    campaigns = impact.dropna(subset=["campaign_id"])
    unattributed = impact[impact["campaign_id"].isna()]
    if campaigns.empty:
        st.info("No campaign touched the customers of these tickets. Import campaigns and "
                "touchpoints on the Data page, or widen the filters.")
    else:
        total = float(impact["tickets"].sum())
        un = float(unattributed["tickets"].sum()) if not unattributed.empty else 0.0
        fmt = components.fmt_number
        components.kpi_row([
            ("Attributed tickets", fmt(total - un), f"{fmt(un)} tickets had no campaign touch "
                                                    f"in the {lookback} days before"),
            ("Support cost", fmt(campaigns["support_cost"].sum(), "{:,.0f}"),
             "Handling cost per category and tier, from the config (currency units)"),
            ("Value at risk", fmt(campaigns["value_at_risk"].sum(), "{:,.0f}"),
             "Lifetime value of customers with negative tickets (per campaign, summed)"),
            ("Spend", fmt(campaigns["spend"].sum(), "{:,.0f}"), None),
        ])
        metric_labels = {
            "tickets": "Attributed tickets", "negative_share": "Negative share",
            "support_cost": "Support cost", "roi_after_support": "ROI after support cost (×)",
            "value_at_risk": "Value at risk", "tickets_per_1000_reached":
                "Tickets per 1,000 customers reached",
        }
        metric = st.segmented_control("Chart", list(metric_labels), default="tickets",
                                      format_func=metric_labels.get, key="campaign_metric"
                                      ) or "tickets"
        st.plotly_chart(charts.campaign_bars(impact, metric, metric_labels[metric], model,
                                             other, None if other is None else compare),
                        width="stretch")
        st.plotly_chart(charts.roi_scatter(impact, model), width="stretch")

        st.subheader("Per campaign")
        st.caption("Select a row to drill into its tickets.")
        table = campaigns.drop(columns=["category_mix"]).sort_values("tickets", ascending=False)
        column_order = [c for c in table.columns if c != "campaign_key"]
        if other is not None:
            o = other.set_index("campaign_id")[["tickets", "support_cost", "roi_after_support"]]
            table = table.join(o.add_suffix(f" ({compare})"), on="campaign_id")
        event = st.dataframe(
            table, hide_index=True, width="stretch", on_select="rerun", column_order=column_order,
            selection_mode="single-row", key="campaign_table",
            column_config={
                "tickets": st.column_config.NumberColumn("Tickets", format="%.1f"),
                "negative_tickets": st.column_config.NumberColumn("Negative", format="%.1f"),
                "negative_share": st.column_config.NumberColumn("Negative share",
                                                                format="percent"),
                "mean_sentiment": st.column_config.NumberColumn("Sentiment", format="%.2f"),
                "support_cost": st.column_config.NumberColumn("Support cost", format="%.0f"),
                "roi_after_support": st.column_config.NumberColumn("ROI after support",
                                                                   format="%.2f"),
                "value_at_risk": st.column_config.NumberColumn("Value at risk", format="%.0f"),
                "tickets_per_1000_reached": st.column_config.NumberColumn(
                    "Tickets / 1,000 reached", format="%.1f"),
                "spend": st.column_config.NumberColumn("Spend", format="localized"),
                "revenue": st.column_config.NumberColumn("Revenue", format="localized"),
                "reach": st.column_config.NumberColumn("Reach", format="localized"),
                "customers_at_risk": st.column_config.NumberColumn("Customers at risk",
                                                                   format="localized"),
            },
        )
        rows = event.selection.rows if event is not None else []
        ids = table["campaign_key"].tolist()
        chosen = ids[rows[0]] if rows else None
        chosen = st.selectbox("Drill into campaign", ids, index=ids.index(chosen) if chosen
                              else 0, format_func=dict(zip(table["campaign_key"], table["name"],
                                                           strict=True)).get,
                              key="campaign_drill")
        row = table[table["campaign_key"] == chosen].iloc[0]
        st.subheader(components.plain(row["name"]))
        tickets = data.campaign_tickets(model, chosen, f, lookback)
        left, right = st.columns(2)
        mix = pd.DataFrame(list((row.get("category_mix") if "category_mix" in row else None
                                 or campaigns.set_index("campaign_key").loc[chosen,
                                                                            "category_mix"]
                                 ).items()), columns=["category", "value"])
        left.plotly_chart(charts.category_mix(mix, "Category mix (attributed credit)"),
                          width="stretch")
        if not tickets.empty:
            daily = (tickets.assign(day=pd.to_datetime(tickets["created_at"]).dt.floor("D"))
                     .groupby("day", as_index=False)
                     .agg(tickets=("credit", "sum"), sentiment=("sentiment", "mean")))
            right.plotly_chart(charts.daily_series(daily, "Attributed tickets per day",
                                                   marker=row.get("start_at")),
                               width="stretch")
            st.plotly_chart(charts.daily_series(daily, "Mean sentiment of its tickets per day",
                                                y="sentiment", label="Sentiment (−1..+1)"),
                            width="stretch")
            st.dataframe(tickets.sort_values("credit", ascending=False).head(300)[
                ["ticket_id", "created_at", "credit", "category", "sentiment", "priority_tier",
                 "status", "segment", "subject"]], hide_index=True, width="stretch",
                column_config={**components.TICKET_COLUMNS,
                               "credit": st.column_config.NumberColumn("Credit",
                                                                       format="%.2f")})
        else:
            right.info("No tickets credited to this campaign under the current filters.")

    st.subheader("Spike alerts")
    spikes = data.spike_alerts(model)
    if spikes.empty:
        if campaigns.empty:
            st.info("No campaign data, so no spikes to look for.")
        else:
            st.success("No campaign produced a clear ticket spike after its launch.")
    else:
        st.caption(str(spikes["rule"].iloc[0]))
        st.dataframe(spikes.drop(columns=["rule"]), hide_index=True, width="stretch",
                     column_config=components.SPIKE_COLUMNS)

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
        st.dataframe(lift.drop(columns=["model", "window_days"]), hide_index=True,
                     width="stretch", column_config={
                         "start_at": st.column_config.DateColumn("Launch"),
                         "exposed": st.column_config.NumberColumn("Touched customers",
                                                                  format="localized"),
                         "control": st.column_config.NumberColumn("Compared with",
                                                                  format="localized"),
                         "sampled_share": st.column_config.NumberColumn("Sampled",
                                                                        format="percent"),
                         "incremental_tickets": st.column_config.NumberColumn(
                             "Incremental tickets", format="%.1f"),
                         "ci_low": st.column_config.NumberColumn(f"{level} low", format="%.1f"),
                         "ci_high": st.column_config.NumberColumn(f"{level} high",
                                                                  format="%.1f"),
                         "incremental_per_1000": st.column_config.NumberColumn(
                             "Per 1,000 touched", format="%.1f"),
                         "incremental_negative": st.column_config.NumberColumn(
                             "Incremental negative", format="%.1f"),
                         "incremental_cost": st.column_config.NumberColumn(
                             "Incremental support cost", format="%.0f"),
                         "attributed_tickets": st.column_config.NumberColumn(
                             f"Attributed ({model})", format="%.1f"),
                     })
