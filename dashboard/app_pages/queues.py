"""Routing queues: one queue per team by priority with SLA countdowns, workload, reassignment."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, components, data

st.title("Routing queues")
st.caption("Open tickets per team, highest priority first. SLA countdowns are measured from "
           "the data's current time.")

def rebalance_section() -> None:
    """Agents over capacity (assignments made in the helpdesk can exceed it), and a proposal
    that moves their lowest-priority tickets to free agents with the right skills."""
    over = data.overloaded()
    st.subheader("Agents over capacity")
    if over.empty:
        st.success("No agent holds more open tickets than their capacity.")
        return
    st.dataframe(over, hide_index=True, width="stretch", column_config={
        "agent_id": "Agent", "name": "Name", "team": "Team", "capacity": "Capacity",
        "open_tickets": "Open tickets", "over": st.column_config.NumberColumn(
            "Over by", help="Open tickets beyond capacity")})
    if st.button("Propose a rebalance", key="queues_propose"):
        st.session_state["queues_proposal"] = data.rebalance_proposal()
    proposal = st.session_state.get("queues_proposal")
    if proposal is None:
        return
    if proposal.empty:
        st.info("No agent with the right skills has free capacity: nothing can move now.")
        return
    st.caption(f"{len(proposal):,} tickets would move (lowest priority first, each to a free "
               "agent the routing rules allow). Nothing changes until you apply it.")
    st.dataframe(data.masked(proposal), hide_index=True, width="stretch")
    if st.button("Apply these moves", type="primary", key="queues_apply"):
        try:
            n = data.apply_rebalance(proposal)
        except data.TriageError as exc:
            components.error(exc)
        else:
            st.session_state.pop("queues_proposal", None)
            st.success(f"Moved {n:,} tickets; each move is recorded with who and why.")
            st.rerun()


if not components.need_triage():
    summary = data.queue_summary()
    st.dataframe(summary.drop(columns=["team_key"], errors="ignore"), hide_index=True,
                 width="stretch", column_config={
        "team": "Team / queue", "open_tickets": "Open", "p1": "P1", "p2": "P2",
        "at_risk": "SLA at risk", "breached": "SLA breached", "unassigned": "Unassigned"})
    names = dict(zip(summary["team_key"], summary["team"], strict=True)) \
        if not summary.empty else {}
    teams = [t for t in names if t is not None]
    if teams:
        team = st.selectbox("Queue", teams, key="queues_team", format_func=names.get,
                            help="triage_queue: low category confidence; overflow_queue: "
                                 "every suitable agent at capacity")
        f = components.filters()
        queue = data.tickets(f, open_only=True, team=team, limit=300)
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
            c1, c2 = st.columns(2)
            shown_ids = dict(zip(queue.index, queue["ticket_id"], strict=True))
            ticket = c1.selectbox("Ticket", list(shown_ids), format_func=shown_ids.get,
                                  key="reassign_ticket")
            labels = data.agent_choices()
            agent = c2.selectbox("Agent", list(labels), format_func=labels.get,
                                 key="reassign_agent")
            if st.form_submit_button("Reassign") and ticket and agent:
                try:
                    data.reassign(ticket, agent)
                    st.success(components.plain(f"{shown_ids[ticket]} reassigned to "
                                                f"{labels.get(agent, agent)}."))
                except ValueError as exc:
                    components.error(exc)
    st.plotly_chart(charts.workload(data.team_workload()), width="stretch")
    rebalance_section()
