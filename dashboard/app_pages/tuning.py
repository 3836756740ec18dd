"""Priority tuning: every weight and threshold as a slider, previewed against the saved profile.

Nothing changes until "Save as profile"; the preview scores and routes the open tickets under
both profiles (vectorized, in memory) and shows how the queue, tiers, SLAs and workload move.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import charts, components, data
from dashboard import format as fmt

st.title("Priority tuning")
st.caption("Move the sliders to preview how the open queue would change. Nothing is applied "
           "until you save the profile.")


@st.fragment
def tuner() -> None:
    if "tuning_flash" in st.session_state:
        st.success(st.session_state.pop("tuning_flash"))
    names = data.profile_names()
    if "tuning_base_next" in st.session_state:  # a profile was just saved and activated
        st.session_state["tuning_base"] = st.session_state.pop("tuning_base_next")
    saved_name = st.selectbox("Compare against saved profile", names,
                              index=names.index(data.active_profile_name())
                              if data.active_profile_name() in names else 0,
                              key="tuning_base")
    candidate = sliders(data.profile(saved_name), saved_name)
    try:
        result = data.preview(saved_name, candidate)
    except data.TriageError as exc:
        components.error(exc)
        return
    show_preview(result)
    save_form(saved_name, candidate)


def sliders(saved: dict[str, Any], saved_name: str) -> dict[str, Any]:
    """The saved profile with the weights, tiers and escalation thresholds of the sliders."""
    w = saved["weights"]
    st.markdown("**Weights** (relative; divided by their sum)")
    cols = st.columns(5)
    labels = {"sentiment": "Negative sentiment", "value": "Customer value",
              "severity": "Severity", "wait": "Time waited vs SLA", "boost": "Segment boost"}
    weights = {k: cols[i].slider(label, 0.0, 1.0, float(w.get(k, 0.0)), 0.05,
                                 key=f"tuning_w_{k}_{saved_name}")
               for i, (k, label) in enumerate(labels.items())}
    st.markdown("**Tier thresholds** (minimum score) and **escalation**")
    cols = st.columns(5)
    tiers = saved["tiers"]
    p1 = cols[0].slider("P1 from", 0.0, 100.0, float(tiers["P1"]), 1.0,
                        key=f"tuning_p1_{saved_name}")
    p2 = cols[1].slider("P2 from", 0.0, 100.0, float(tiers["P2"]), 1.0,
                        key=f"tuning_p2_{saved_name}")
    p3 = cols[2].slider("P3 from", 0.0, 100.0, float(tiers["P3"]), 1.0,
                        key=f"tuning_p3_{saved_name}")
    esc = saved["escalation"]
    s_thr = cols[3].slider("Escalate at sentiment ≤", -1.0, 0.0,
                           float(esc["sentiment_threshold"]), 0.05,
                           key=f"tuning_esc_{saved_name}")
    v_thr = cols[4].slider("VIP escalate at ≤", -1.0, 0.0,
                           float(esc["vip_sentiment_threshold"]), 0.05,
                           key=f"tuning_vesc_{saved_name}")
    return {**saved, "weights": weights, "tiers": {"P1": p1, "P2": p2, "P3": p3},
            "escalation": {**esc, "sentiment_threshold": s_thr,
                           "vip_sentiment_threshold": v_thr}}


def show_preview(result: Any) -> None:
    """KPIs, tier and workload charts, the top of the queue and the P1 list of a preview."""
    p1_saved = int(result.tiers.query("tier == 'P1' and profile == 'saved'")["tickets"].sum())
    p1_new = int(result.tiers.query("tier == 'P1' and profile == 'preview'")["tickets"].sum())
    risk = result.sla.set_index("sla_status").reindex(["at_risk", "breached"], fill_value=0)
    at_risk = {c: int(risk[c].sum()) for c in ("saved", "preview")}
    teams = result.teams
    waiting = {c: int(teams[c].sum()) for c in ("waiting", "waiting_preview")}
    full = result.workload["assigned_preview"] >= 0.9 * result.workload["capacity"]
    components.kpi_row([
        ("P1 tickets", fmt.count(p1_new), f"saved profile: {p1_saved:,}",
         fmt.metric_delta(p1_new, p1_saved), "off"),
        ("Tickets changing tier", fmt.count(result.moved), None),
        ("SLA at risk or breached", fmt.count(at_risk["preview"]),
         f"saved: {at_risk['saved']:,}",
         fmt.metric_delta(at_risk["preview"], at_risk["saved"]), "inverse"),
        ("Waiting without an agent", fmt.count(waiting["waiting_preview"]),
         f"now: {waiting['waiting']:,}",
         fmt.metric_delta(waiting["waiting_preview"], waiting["waiting"]), "inverse"),
        *([("Agents over 90% load", fmt.count(int(full.sum())), None)]
          if not result.workload.empty else []),
    ])
    has_agents = not result.workload.empty
    if not has_agents:
        st.caption("No agents yet: every open ticket waits in its team's queue under any "
                   "profile, so only tiers and order change. Import agents on the Data page to "
                   "preview their workload.")
    elif result.rerouted:
        st.caption(components.plain(
            f"Workload under the candidate: the {result.rerouted:,} open tickets that no agent "
            "has answered yet (and no lead reassigned by hand) are routed again in the "
            "candidate's priority order with the unassigned work; answered tickets keep their "
            "agent."))
    else:
        st.caption("Workload under the candidate: every open ticket has been answered or "
                   "assigned by hand, so each keeps its agent; only tiers and order change.")
    left, right = st.columns(2)
    left.plotly_chart(charts.tier_counts(result.tiers, "Open tickets per tier: saved vs preview"),
                      width="stretch")
    names = data.agent_names()
    if has_agents:
        right.plotly_chart(charts.team_load(teams), width="stretch")
        load = result.workload.assign(agent=result.workload["agent_id"].map(
            lambda a: names.get(str(a), str(a))))
        st.plotly_chart(charts.workload(load, "Agents with the highest load: now vs candidate",
                                        top=15), width="stretch")
    st.subheader("Top of the queue under the preview")
    st.caption("Places moved: places gained (+) or lost (−) against the saved profile.")
    fmt.dataframe(data.masked(result.reorder), ["moved_by", "rank", "saved_rank", "ticket_id",
                                   "priority_score", "saved_score", "priority_tier",
                                   "saved_tier", "sentiment", "severity", "segment",
                                   "category", "sla_status"], key="tuning_reorder",
                  overrides={"moved_by": st.column_config.NumberColumn("Places moved",
                                                                       format="%+d"),
                             "priority_score": st.column_config.NumberColumn(
                                 "Priority (candidate)", format="%.1f"),
                             "saved_score": st.column_config.NumberColumn(
                                 "Priority now", format="%.1f"),
                             "priority_tier": st.column_config.TextColumn("Tier (candidate)")})
    with st.expander(f"P1 list under the preview ({len(result.p1):,})"):
        p1 = result.p1.head(500).assign(agent=result.p1.head(500)["agent_id"].map(
            lambda a: names.get(str(a), "") if isinstance(a, str) else ""))
        fmt.dataframe(data.masked(p1), ["ticket_id", "priority_score", "sentiment",
                                        "severity", "segment", "category", "sla_status",
                                        "team", "agent", "agent_id"], key="tuning_p1")


def save_form(saved_name: str, candidate: dict[str, Any]) -> None:
    """Save the candidate under a name, optionally as the active profile (re-scores all)."""
    with st.form("save_profile"):
        c1, c2 = st.columns([3, 1])
        name = c1.text_input("Save as profile", value=f"{saved_name}_tuned",
                             key="tuning_name")
        activate = c2.checkbox("Make active", value=True, key="tuning_activate")
        if st.form_submit_button("Save profile", type="primary"):
            try:
                data.save_profile(name, candidate, activate)
            except data.TriageError as exc:
                components.error(exc)
            else:
                shown = components.plain(components.brief(name.strip()))  # typed: any text
                message = (f"Saved profile '{shown}'"
                           + (" and re-scored every ticket with it." if activate else "."))
                if activate:  # compare against the new active profile from now on
                    st.session_state["tuning_base_next"] = name.strip()
                    st.session_state["tuning_flash"] = message
                    st.rerun()
                st.success(message)


if not components.need_triage():
    tuner()
