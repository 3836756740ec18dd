"""Plan a campaign: its support load from similar past campaigns, staffing and ROI verdict."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, components, data
from dashboard.format import without_bidi

st.title("Plan a campaign")
st.caption("How many tickets a planned campaign will bring, which teams they land on, and "
           "whether it is still worth it once support is paid. The forecast follows the similar "
           "campaigns you pick, or past campaigns of the same channel and tags: their tickets "
           "per reached customer and day, and how fast they reached their customers.")

opts = data.filter_options()
campaigns = opts["campaigns"]
counts = data.counts()
if campaigns.empty or not counts.get("tickets") or not counts.get("touchpoints"):
    missing = [what for what, n in (("campaigns", len(campaigns)),
                                    ("touchpoints", counts.get("touchpoints")),
                                    ("tickets", counts.get("tickets"))) if not n]
    st.info("A forecast learns from past campaigns, the customers they reached and the tickets "
            "that followed; this database has no "
            + components.plain(" and no ".join(missing)) + " yet. Import them "
            "on the **Data** page (campaigns, touchpoints: which customer each campaign "
            "reached, when)"
            + (", or load the demo world with `triage demo`." if not counts.get("tickets")
               else "."), icon=":material/info:")
    st.stop()

names = dict(zip(campaigns["campaign_id"], campaigns["name"], strict=True))
defaults = data.plan_defaults()
channels = ["(any)", *opts["campaign_channels"]]
with st.form("plan_form"):
    c1, c2, c3 = st.columns(3)
    like = c1.multiselect("Like these past campaigns", list(names), key="plan_like",
                          format_func=lambda c: components.option(names.get(c, c)),
                          help="The forecast follows these alone; leave empty to use the "
                               "campaigns of the channel and tags")
    channel = c2.selectbox("Channel", channels, key="plan_channel",
                           index=channels.index(defaults["channel"])
                           if defaults["channel"] in channels else 0,
                           help="Past campaigns of this channel lend their reach curve and "
                                "weigh more; with similar campaigns picked, theirs is used")
    tags = c3.text_input("Tags (utm source, medium or campaign; comma separated)",
                         key="plan_tags")
    c1, c2, c3 = st.columns(3)
    start = c1.date_input("Start", value=defaults["start"], key="plan_start")
    end = c2.date_input("End", value=defaults["end"], key="plan_end")
    reach = c3.number_input("Expected reach (customers)", min_value=1, step=100,
                            value=max(1, round(defaults["reach"])), key="plan_reach")
    c1, c2 = st.columns(2)
    spend = c1.number_input("Planned spend", min_value=0.0, step=500.0, key="plan_spend",
                            value=float(round(defaults["spend"] or 0.0)))
    revenue = c2.number_input("Expected revenue", min_value=0.0, step=500.0, key="plan_revenue",
                              value=float(round(defaults["revenue"] or 0.0)))
    st.form_submit_button("Forecast", type="primary")

try:
    f = data.forecast(pd.Timestamp(start), pd.Timestamp(end) if end else None, float(reach),
                      tuple(like), None if like or channel == "(any)" else channel,
                      tuple(t.strip() for t in tags.split(",") if t.strip()),
                      float(spend) if spend > 0 else None, float(revenue))
except data.TriageError as exc:
    st.error(components.plain(exc))
    st.stop()

fmt = components.fmt_number
band = f"{f.interval:.0%} interval"
components.kpi_row([
    ("Tickets", fmt(f.tickets), f"{band}: {fmt(f.tickets_low)} to {fmt(f.tickets_high)} over "
                                f"{len(f.daily)} days ({f.model.replace('_', ' ')} credit)"),
    ("Support cost", fmt(f.support_cost), f"up to {fmt(f.support_cost_high)} at the high end"),
    ("ROI after support (×)", fmt(f.roi, "{:,.2f}"),
     None if f.roi_low is None else f"{f.roi_low:,.2f} if support runs high"),
    ("Negative share", fmt(f.negative_share, "{:.0%}"),
     "Of the similar campaigns' tickets with a sentiment"),
])
verdict = {"worth it:": st.success, "worth it at": st.warning, "not worth": st.error}
show = next((fn for start_, fn in verdict.items() if f.verdict.startswith(start_)), st.info)
show(f.verdict[:1].upper() + f.verdict[1:] + ".")
st.plotly_chart(charts.forecast_band(f.daily, "Forecast tickets per day after launch",
                                     f.interval), width="stretch")

st.subheader("Staffing")
st.caption("Agent-hours per team: recent daily load plus the campaign's busiest day, against "
           "the team's capacity (agents × productive hours per day, from the config). "
           "Handle time per category comes from `[forecast.handle_minutes]`.")
staffing = without_bidi(f.staffing)
st.dataframe(staffing, hide_index=True, placeholder="–", width="stretch", column_config={
    "team": st.column_config.TextColumn("Team"),
    "agents": st.column_config.NumberColumn("Agents"),
    "capacity_hours_per_day": st.column_config.NumberColumn("Capacity h/day", format="%.1f"),
    "recent_hours_per_day": st.column_config.NumberColumn("Recent load h/day", format="%.1f"),
    "campaign_hours": st.column_config.NumberColumn("Campaign hours", format="%.1f"),
    "campaign_peak_hours": st.column_config.NumberColumn("Campaign peak h/day", format="%.1f"),
    "peak_utilization": st.column_config.NumberColumn("Peak utilization", format="percent"),
    "status": st.column_config.TextColumn("Status"),
})
left, right = st.columns(2)
mix = pd.DataFrame(list(f.category_mix.items()), columns=["category", "value"])
left.plotly_chart(charts.category_mix(mix, "Category mix of the forecast tickets"),
                  width="stretch")
right.caption("Forecast from these past campaigns (weight = similarity):")
similar = without_bidi(f.similar)
right.dataframe(similar, hide_index=True, placeholder="–", width="stretch", column_config={
    "campaign_id": st.column_config.TextColumn("Campaign"),
    "name": st.column_config.TextColumn("Name"),
    "channel": st.column_config.TextColumn("Channel"),
    "start_at": st.column_config.DateColumn("Launch"),
    "reach": st.column_config.NumberColumn("Reach", format="localized"),
    "weight": st.column_config.NumberColumn("Weight", format="%.1f"),
})

st.subheader("How good is the forecast?")
bt = data.forecast_backtest(f.model)
if bt.n_campaigns == 0:
    st.info("No past campaign could be backtested yet: each needs campaigns that ended before "
            f"its launch and {bt.days} days of tickets after it.")
else:
    st.caption(components.plain(
        f"Every past campaign forecast from the campaigns that ended before it launched, "
        f"against its actual tickets in the first {bt.days} days (campaigns with at least "
        f"{bt.min_tickets:g} tickets count)."))
    components.kpi_row([
        ("Mean absolute % error", fmt(bt.mape, "{:.0%}"), "mape of total tickets"),
        ("Interval coverage", fmt(bt.coverage, "{:.0%}"), f"share of actuals inside the {band}"),
        ("Campaigns", fmt(bt.n_campaigns), None),
    ])
    rows = without_bidi(bt.rows)
    st.dataframe(rows, hide_index=True, placeholder="–", width="stretch", column_config={
        "campaign_id": st.column_config.TextColumn("Campaign"),
        "name": st.column_config.TextColumn("Name"),
        "channel": st.column_config.TextColumn("Channel"),
        "history": st.column_config.NumberColumn("Forecast from", help="Campaigns that ended "
                                                 "before its launch"),
        "covered": st.column_config.CheckboxColumn("In the interval"),
        "counted": st.column_config.CheckboxColumn("Counted", help="At least the minimum "
                                                   "tickets (backtest_min_tickets)"),
        "start_at": st.column_config.DateColumn("Launch"),
        "forecast": st.column_config.NumberColumn("Forecast", format="%.0f"),
        "low": st.column_config.NumberColumn("Low", format="%.0f"),
        "high": st.column_config.NumberColumn("High", format="%.0f"),
        "actual": st.column_config.NumberColumn("Actual", format="%.0f"),
        "ape": st.column_config.NumberColumn("Error", format="percent"),
    })
