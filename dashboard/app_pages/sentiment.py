"""Sentiment trends by category, channel, campaign and segment; the most negative open tickets."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, components, data
from dashboard import format as fmt

st.title("Sentiment trends")
st.caption("Sentiment runs from −1 (furious) to +1 (delighted); tickets follow the sidebar "
           "filters.")

if not components.need_triage():
    f = components.filters()
    c1, c2 = st.columns([3, 2])
    by = c1.segmented_control("Group by", ["category", "channel", "campaign", "segment"],
                              default="category", key="sentiment_by") or "category"
    freq = c2.segmented_control("Period", ["day", "week", "month"], default="week",
                                key="sentiment_freq") or "week"
    st.plotly_chart(charts.sentiment_lines(data.sentiment_trend(f, by, freq), by, freq),
                    width="stretch")
    if by != "campaign":
        st.plotly_chart(charts.breakdown_bars(data.breakdown(f, by), by), width="stretch")

    st.subheader("Most negative open tickets")
    threshold = st.slider(
        "Escalation threshold", min_value=-1.0, max_value=0.0, step=0.05,
        value=float(data.escalation_threshold()), key="sentiment_threshold",
        help="Open tickets at or below this sentiment are shown (and escalated when the "
             "priority profile uses the same threshold)",
    )
    worst = data.tickets(f, open_only=True, order="sentiment", limit=100, scored_only=True)
    worst = worst.assign(at_or_below=worst["sentiment"] <= threshold)
    st.caption(components.plain(f"The 100 most negative open tickets;"
                                f" {int(worst['at_or_below'].sum()):,} are at or below"
                                f" {threshold:+.2f}."))
    if worst.empty:
        st.success("No open tickets for the current filters.")
    else:
        fmt.dataframe(
            data.with_agent_names(worst),
            ["ticket_id", "at_or_below", "sentiment", "priority_tier", "created_at", "segment",
             "category", "team", "agent", "subject"], key="sentiment_worst",
            overrides={"at_or_below": st.column_config.CheckboxColumn("≤ threshold"),
                       "agent": st.column_config.TextColumn("Agent")})
