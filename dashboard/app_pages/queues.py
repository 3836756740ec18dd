"""Routing queues: one queue per team by priority with SLA countdowns, workload, reassignment."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, components, data
from dashboard import format as fmt

st.title("Routing queues")
st.caption("Open tickets per team, highest priority first. SLA countdowns are measured from "
           "the data's current time.")
if "queues_flash" in st.session_state:
    st.success(st.session_state.pop("queues_flash"), icon=":material/check_circle:")

OVER_HELP = ("Routing never gives an agent more than their capacity. An agent is over it when "
             "tickets were assigned to them outside routing (in the helpdesk, or by hand here) "
             "and routing keeps those assignments ([routing] keep_assigned).")


def rebalance_section() -> None:
    """Agents over capacity (assignments made in the helpdesk can exceed it), why, and a
    proposal that moves their lowest-priority tickets to free agents with the right skills."""
    over = data.overloaded()
    st.subheader("Agents over capacity")
    if over.empty:
        st.success("No agent holds more open tickets than their capacity.")
        return
    st.caption(OVER_HELP)
    over = over.assign(reason=[
        f"{fmt.count(k)} of {fmt.count(o)} open tickets were assigned outside routing "
        f"(kept); capacity {fmt.count(c)}" for k, o, c in
        zip(over["kept"], over["open_tickets"], over["capacity"], strict=True)])
    styled_over = over.rename(columns={"name": "agent"})
    fmt.dataframe(styled_over, ["agent", "team", "open_tickets", "capacity", "over", "reason",
                                "agent_id"], key="queues_over",
                  overrides={"reason": st.column_config.TextColumn("Why", width="large"),
                             "over": st.column_config.NumberColumn(
                                 "Over capacity by", format="%d ⚠")})
    if st.button("Propose a rebalance", key="queues_propose"):
        st.session_state["queues_proposal"] = data.rebalance_proposal()
    proposal = st.session_state.get("queues_proposal")
    if proposal is None:
        return
    if proposal.empty:
        st.info("No agent with the right skills has free capacity: nothing can move now.")
        return
    st.caption(components.plain(
        f"{len(proposal):,} tickets would move (lowest priority first, each to a free agent the"
        " routing rules allow). Nothing changes until you apply it."))
    names = data.agent_names()
    shown = data.masked(proposal).assign(
        from_name=proposal["from_agent"].map(lambda a: names.get(str(a), a)).to_numpy(),
        to_name=proposal["to_agent"].map(lambda a: names.get(str(a), a)).to_numpy())
    fmt.dataframe(shown, ["ticket_id", "priority_score", "from_name", "to_name", "team",
                          "reason"], key="queues_proposal_table",
                  overrides={"from_name": st.column_config.TextColumn("From agent"),
                             "to_name": st.column_config.TextColumn("To agent")})
    if st.button("Apply these moves", type="primary", key="queues_apply"):
        try:
            n = data.apply_rebalance(proposal)
        except data.TriageError as exc:
            components.error(exc)
        else:
            st.session_state.pop("queues_proposal", None)
            st.session_state["queues_flash"] = (f"Moved {n:,} tickets; each move is recorded "
                                                "with who and why.")
            st.rerun()


def workload_table(load: pd.DataFrame) -> None:
    """Agents by load, those over capacity first and marked."""
    d = load.assign(utilization=load["assigned"] / load["capacity"].where(load["capacity"] > 0))
    d = d.sort_values("utilization", ascending=False, na_position="last")
    d = d.assign(state=["over capacity" if u > 1 else "full" if u == 1 else ""
                        for u in d["utilization"].fillna(0)])
    d = d.rename(columns={"name": "agent"})
    styler = fmt.table(d, ["agent", "team", "assigned", "capacity", "utilization", "state",
                           "agent_id"])
    frame, config = styler
    config["state"] = st.column_config.TextColumn("State")
    st.dataframe(frame.style.apply(
        lambda r: ["background-color: #fde2e1" if r["state"] == "over capacity" else ""
                   for _ in r], axis=1),
        hide_index=True, placeholder="–", width="stretch", column_config=config,
        key="queues_workload", height=300)


if not components.need_triage():
    has_agents = bool(data.counts().get("agents"))
    summary = data.queue_summary()
    fmt.dataframe(summary.drop(columns=["team_key"], errors="ignore"), key="queues_summary",
                  overrides={"team": st.column_config.TextColumn(
                      "Team / queue", help="triage_queue: low category confidence; "
                                           "overflow_queue: every suitable agent at capacity")})
    names = dict(zip(summary["team_key"], summary["team"], strict=True)) \
        if not summary.empty else {}
    teams = [t for t in names if t is not None]
    if teams:
        team = st.selectbox("Queue", teams, key="queues_team",
                            format_func=lambda t: components.option(names[t]),
                            help="triage_queue: low category confidence; overflow_queue: "
                                 "every suitable agent at capacity")
        f = components.filters()
        queue = data.with_agent_names(data.tickets(f, open_only=True, team=team, limit=300))
        now = pd.Timestamp(data.as_of())
        queue = queue.assign(due_in=fmt.due_texts(queue["sla_due_at"], now))
        total = data.count_tickets(f, open_only=True, team=team)
        st.caption(components.plain(
            f"{total:,} open tickets in this queue"
            + (f"; the {len(queue):,} most urgent shown." if total > len(queue) else ".")))
        fmt.dataframe(queue, ["ticket_id", "priority_tier", "priority_score", "due_in",
                              "sla_status", "agent", "category", "category_confidence",
                              "sentiment", "segment", "subject", "routing_reason"],
                      key="queues_queue", overrides={
                          "due_in": st.column_config.TextColumn(
                              "SLA due", help="Time left until the SLA is due, or how long ago "
                                          "it was breached"),
                          "agent": st.column_config.TextColumn("Agent")})
        if has_agents:
            with st.form("reassign"):
                st.markdown("**Reassign a ticket**")
                c1, c2 = st.columns(2)
                shown_ids = dict(zip(queue.index, queue["ticket_id"], strict=True))
                ticket = c1.selectbox(
                    "Ticket", list(shown_ids), key="reassign_ticket",
                    format_func=lambda i: components.option(shown_ids[i]))
                labels = data.agent_choices()
                agent = c2.selectbox("Agent", list(labels), key="reassign_agent",
                                     format_func=lambda a: components.option(labels[a]))
                if st.form_submit_button("Reassign") and ticket and agent:
                    try:
                        data.reassign(ticket, agent)
                    except (ValueError, data.TriageError) as exc:
                        components.error(exc)
                    else:  # the write bumped the data version: every table reads fresh
                        st.session_state["queues_flash"] = components.plain(
                            f"{shown_ids[ticket]} reassigned to {labels.get(agent, agent)}.")
                        st.rerun()
    if not has_agents:
        st.info("No agents yet, so every ticket waits in its team's queue: import agents "
                "(id, name, team, skills, capacity) on the **Data** page to route tickets to "
                "people, see their load and reassign.", icon=":material/info:")
    else:
        load = data.with_agent_names(data.team_workload())
        st.plotly_chart(charts.workload(load), width="stretch")
        with st.expander("Every agent's load"):
            st.caption("Agents by load (open tickets ÷ capacity); red rows are over capacity.")
            workload_table(data.team_workload())
        rebalance_section()
