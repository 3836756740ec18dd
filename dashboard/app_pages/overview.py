"""Overview: volume, negative share, SLA compliance, response times, CSAT and current alerts,
each KPI with its change against the previous period of the same length."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, components, data
from dashboard import format as fmt

st.title("Support overview")
st.caption("Everything below follows the filters in the sidebar.")
components.health_notes(data.health())


def alert_reasons(alerts: pd.DataFrame, now: object) -> pd.Series:
    """Why each ticket is an alert, in full words: the escalation rule and the SLA state."""
    due = fmt.due_texts(alerts["sla_due_at"], now)
    out = []
    for reason, status, when in zip(alerts["escalation_reason"], alerts["sla_status"], due,
                                    strict=True):
        parts = [f"escalated: {reason}"] if isinstance(reason, str) and reason else []
        if status == "breached":
            parts.append(f"SLA breached ({when})")
        elif status == "at_risk":
            parts.append(f"SLA at risk (due {when})")
        out.append("; ".join(parts))
    return pd.Series(out, index=alerts.index)


if not components.need_triage():
    f = components.filters()
    k = data.overview_kpis(f)
    prev_f = data.previous_period(f)
    p = data.overview_kpis(prev_f) if prev_f is not None else {}
    days = data.period_days(f)

    def delta(key: str, kind: str = "count") -> str | None:
        return fmt.metric_delta(k.get(key), p.get(key), kind) if p else None

    if prev_f is not None:
        st.caption(components.plain(
            f"Arrows: change against the previous {days:,} days "
            f"({prev_f.start:%d %b %Y} – {prev_f.end:%d %b %Y}), same filters."))
    else:
        st.caption("No earlier data of the same length to compare with: narrow the date range "
                   "to see changes against the period before it.")
    components.kpi_row([
        ("Tickets", fmt.count(k["tickets"]), "Tickets created in the selected range",
         delta("tickets"), "off"),
        ("Negative", fmt.pct(k["negative_share"]),
         "Share of tickets with negative sentiment, among the tickets with a sentiment score "
         "(a ticket in a language the sentiment model does not cover has none)",
         delta("negative_share", "share"), "inverse"),
        ("SLA met", fmt.pct(k["sla_compliance"]),
         "Share of answered tickets whose first response came before it was due",
         delta("sla_compliance", "share"), "normal"),
    ])
    components.kpi_row([  # three a row: values stay whole on a 1280-pixel screen
        ("1st reply", fmt.duration(k["median_first_response_h"]),
         "Median time to the first agent response", delta("median_first_response_h", "hours"),
         "inverse"),
        ("Resolution", fmt.duration(k["median_resolution_h"]), "Median time to resolve",
         delta("median_resolution_h", "hours"), "inverse"),
        ("CSAT", fmt.number(k["csat"], "{:.2f} / 5"),
         f"{fmt.count(k['csat_responses'])} survey answers", delta("csat", "score"), "normal"),
    ])
    components.kpi_row([
        ("Open tickets", fmt.count(k["open_tickets"]), "Open now, of the tickets in the range"),
        ("Open escalations", fmt.count(k["escalated_open"]), "Angry customers, VIPs first"),
        ("SLA at risk", fmt.count(k["at_risk"]), "Open tickets past 75% of their SLA"),
        ("SLA breached", fmt.count(k["breached"]), "Open tickets past their due time"),
    ])
    freq = st.segmented_control("Period", ["day", "week", "month"], default="week",
                                key="overview_freq") or "week"
    trend = data.volume_trend(f, freq)
    opts = data.filter_options()
    partial = components.partial_periods(trend["period"], freq, f.start or opts["min_date"],
                                         f.end or opts["max_date"]) if not trend.empty else []
    left, right = st.columns(2)
    left.plotly_chart(charts.volume(trend, freq, partial), width="stretch")
    right.plotly_chart(charts.sla_csat(trend, freq), width="stretch")
    # a partly covered first or last period is hatched, with a note under the chart's title

    st.subheader("Current alerts")
    st.caption("Open tickets that are escalated or whose SLA is at risk or breached, "
               "most urgent first.")
    alerts = data.alerts(f)
    if alerts.empty:
        st.success("No open escalations or SLA risks for the current filters.")
    else:
        now = data.as_of()
        shown = data.with_agent_names(alerts).assign(reason=lambda d: alert_reasons(d, now))
        fmt.dataframe(shown, ["ticket_id", "priority_tier", "reason", "subject", "agent",
                              "team", "created_at", "agent_id"],
                      key="overview_alerts", overrides={
                          "reason": st.column_config.TextColumn("Why it is an alert",
                                                                width=540),
                          "subject": st.column_config.TextColumn("Subject", width=260),
                          "agent": st.column_config.TextColumn(
                              "Agent", help="The agent's id is in the last column")})
    spikes = data.spike_alerts()
    if not spikes.empty:
        st.subheader("Campaign ticket spikes")
        st.caption(str(spikes["rule"].iloc[0]))
        fmt.dataframe(spikes.drop(columns=["rule"]), key="overview_spikes")

    emerging, found_at = data.emerging_topics()
    if emerging is None:
        st.caption("Emerging topics: the server is still looking for them in the background; "
                   "they appear here when you open this page again.")
    elif emerging:
        st.subheader("Emerging topics")
        st.caption("Clusters of recent tickets unlike every known category, e.g. a new bug "
                   "after a release or a campaign. Give them a category on the Topics page or "
                   "by correcting a few tickets."
                   + (f" Found {fmt.ago(found_at)}." if found_at is not None else ""))
        for topic in emerging:
            st.warning(components.plain(f"{topic['size']:,} recent tickets about {topic['name']}"),
                       icon=":material/new_releases:")
            fmt.dataframe(data.topic_tickets(topic["ticket_ids"][:3], components.mask()))
