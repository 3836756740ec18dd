"""Overview: volume, negative share, SLA compliance, response times, CSAT and current alerts."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, components, data

st.title("Support overview")
st.caption("Everything below follows the filters in the sidebar.")
components.health_notes(data.health())

if not components.need_triage():
    f = components.filters()
    k = data.overview_kpis(f)
    fmt = components.fmt_number
    components.kpi_row([
        ("Tickets", fmt(k["tickets"]), "Tickets created in the selected range"),
        ("Negative", fmt(k["negative_share"] and k["negative_share"] * 100, "{:.1f} %"),
         "Share of tickets with negative sentiment"),
        ("SLA met", fmt(k["sla_compliance"] and k["sla_compliance"] * 100, "{:.1f} %"),
         "Share of answered tickets whose first response came before it was due"),
        ("1st reply", fmt(k["median_first_response_h"], "{:.1f} h"),
         "Median time to the first agent response"),
        ("Resolution", fmt(k["median_resolution_h"], "{:.1f} h"), "Median time to resolve"),
        ("CSAT", fmt(k["csat"], "{:.2f} / 5"), f"{fmt(k['csat_responses'])} survey answers"),
    ])
    components.kpi_row([
        ("Open tickets", fmt(k["open_tickets"]), None),
        ("Open escalations", fmt(k["escalated_open"]), "Angry customers, VIPs first"),
        ("SLA at risk", fmt(k["at_risk"]), "Open tickets past 75% of their SLA"),
        ("SLA breached", fmt(k["breached"]), "Open tickets past their due time"),
    ])
    freq = st.segmented_control("Period", ["day", "week", "month"], default="week",
                                key="overview_freq") or "week"
    trend = data.volume_trend(f, freq)
    left, right = st.columns(2)
    left.plotly_chart(charts.volume(trend, freq), width="stretch")
    right.plotly_chart(charts.sla_csat(trend, freq), width="stretch")

    st.subheader("Current alerts")
    st.caption("Open tickets that are escalated or whose SLA is at risk or breached, "
               "most urgent first.")
    alerts = data.alerts(f)
    if alerts.empty:
        st.success("No open escalations or SLA risks for the current filters.")
    else:
        st.dataframe(alerts, hide_index=True, width="stretch",
                     column_config=components.TICKET_COLUMNS)
    spikes = data.spike_alerts()
    if not spikes.empty:
        st.subheader("Campaign ticket spikes")
        st.caption(str(spikes["rule"].iloc[0]))
        st.dataframe(spikes.drop(columns=["rule"]), hide_index=True, width="stretch",
                     column_config=components.SPIKE_COLUMNS)

    emerging = data.emerging_topics()
    if emerging:
        st.subheader("Emerging topics")
        st.caption("Clusters of recent tickets unlike every known category, e.g. a new bug "
                   "after a release or a campaign. Give them a category on the Topics page or "
                   "by correcting a few tickets.")
        for topic in emerging:
            st.warning(f"{topic['size']:,} recent tickets about "
                       f"{components.plain(topic['name'])}", icon=":material/new_releases:")
            st.dataframe(data.topic_tickets(topic["ticket_ids"][:3], components.mask()),
                         hide_index=True, width="stretch")
