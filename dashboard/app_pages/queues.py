"""Routing queues: one queue per team by priority with SLA countdowns, workload, reassignment."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, components, data

st.title("Routing queues")
st.caption("Open tickets per team, highest priority first. SLA countdowns are measured from "
           "the data's current time.")

if not components.need_triage():
    summary = data.queue_summary()
    st.dataframe(summary, hide_index=True, width="stretch", column_config={
        "team": "Team / queue", "open_tickets": "Open", "p1": "P1", "p2": "P2",
        "at_risk": "SLA at risk", "breached": "SLA breached", "unassigned": "Unassigned"})
    teams = summary["team"].dropna().tolist()
    if teams:
        team = st.selectbox("Queue", teams, key="queues_team",
                            help="triage_queue: low category confidence; overflow_queue: "
                                 "every suitable agent at capacity")
        f = components.filters()
        queue = data.tickets(f, components.mask(), open_only=True, team=team, limit=300)
        now = pd.Timestamp(data.as_of())
        queue = queue.assign(
            due_in_h=(pd.to_datetime(queue["sla_due_at"]) - now).dt.total_seconds() / 3600
        )
        st.dataframe(
            queue[["ticket_id", "priority_tier", "priority_score", "due_in_h", "sla_status",
                   "agent_id", "category", "category_confidence", "sentiment", "segment",
                   "subject", "routing_reason"]],
            hide_index=True, width="stretch",
            column_config={
                **components.TICKET_COLUMNS,
                "due_in_h": st.column_config.NumberColumn(
                    "SLA due in (h)", format="%.0f", help="Negative: already breached"),
            },
        )
        with st.form("reassign"):
            st.markdown("**Reassign a ticket**")
            workload = data.team_workload()
            c1, c2 = st.columns(2)
            ticket = c1.selectbox("Ticket", queue["ticket_id"].tolist(), key="reassign_ticket")
            agents = workload["agent_id"].tolist()
            labels = {r.agent_id: f"{r.agent_id} – {r.name} ({r.team}, {r.assigned}/{r.capacity})"
                      for r in workload.itertuples()}
            agent = c2.selectbox("Agent", agents, format_func=lambda a: labels.get(a, a),
                                 key="reassign_agent")
            if st.form_submit_button("Reassign") and ticket and agent:
                try:
                    data.reassign(ticket, agent)
                    st.success(components.plain(f"{ticket} reassigned to {agent}."))
                except ValueError as exc:
                    st.error(str(exc))
    st.plotly_chart(charts.workload(data.team_workload()), width="stretch")
