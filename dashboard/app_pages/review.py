"""Review & feedback: the review queue, corrections, CSAT vs sentiment, retraining."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, components, data
from dashboard import format as fmt

st.title("Review & feedback")
st.caption("Tickets where a human label teaches the models most: flagged by agents, "
           "predicted with low confidence, or whose CSAT disagrees with the predicted "
           "sentiment. Labels recorded here override predictions and feed retraining.")

if not components.need_triage():
    queue = data.review_queue()
    s = data.feedback_summary()
    components.kpi_row([
        ("In review queue (top 200)", components.fmt_number(len(queue)), None),
        ("Corrections in force", components.fmt_number(s["active"]), None),
        ("Undone", components.fmt_number(s["undone"]), None),
    ])
    if queue.empty:
        st.success("Nothing to review: no flagged, uncertain or disagreeing tickets.")
    else:
        event = fmt.dataframe(
            queue, ["ticket_id", "teach_score", "why", "predicted_category", "model_confidence",
                    "sentiment_label", "csat", "subject"],
            on_select="rerun", selection_mode="single-row", key="review_table",
            overrides={"csat": st.column_config.NumberColumn("CSAT", format="%d")})
        rows = event.selection.rows if event is not None else []
        pick = str(queue.index[rows[0] if rows else 0])
        detail = data.ticket_detail(pick)
        if detail:
            st.subheader(components.plain(
                f"Label ticket {components.brief(detail['ticket_id'])}"))
            components.ticket_text(detail.get("subject"), detail.get("body"))
            components.feedback_form(detail, key_prefix="review")

    st.subheader("Retrain")
    st.caption("Trains on labels plus corrections (a correction overrides the label), compares "
               "with the active model on the same fixed holdout, and promotes the new model "
               "only if it is not worse.")
    force = st.checkbox("Promote even if worse", key="review_force")
    if st.button("Retrain now", type="primary", key="review_retrain"):
        with st.status("Retraining…", expanded=True) as status:
            st.write("Choosing the model by cross-validation, training it, comparing it with "
                     "the active model on the fixed holdout, then re-triaging if promoted.")
            try:
                result = data.retrain(force, progress=components.PageProgress(st))
            except data.TriageError as exc:
                status.update(label="Retraining failed", state="error")
                components.error(exc)
                result = None
            else:
                status.update(label=f"Version {result['version']} trained", state="complete",
                              expanded=False)
        if result is not None:
            verdict = "promoted" if result["promoted"] else "kept the current model"
            used = result.get("corrections_used") or {}
            current = (result["metrics"]["current"] or {}).get("accuracy")
            st.success(
                f"Version {result['version']}: accuracy "
                f"{fmt.pct(result['metrics']['new']['accuracy'])} on the holdout vs "
                f"{fmt.pct(current)} for the active model – {verdict}.")
            st.info(
                f"Corrections used: {used.get('category', 0):,} category corrections trained "
                f"the new model (they override the labels); {used.get('sentiment', 0):,} "
                f"sentiment and {used.get('tier', 0):,} tier corrections are in force in "
                "scoring (they apply to their tickets at once, not through training).",
                icon=":material/fact_check:")
    left, right = st.columns(2)
    left.plotly_chart(charts.model_history(data.model_versions().query("kind == 'category'"),
                                           "Model quality per version (holdout)"),
                      width="stretch")
    right.plotly_chart(charts.weekly_bars(data.feedback_weekly(), "Corrections per week",
                                          color="field",
                                          empty_message="No corrections recorded yet"),
                       width="stretch")
    trend = data.csat_vs_sentiment()
    st.plotly_chart(charts.csat_sentiment(trend), width="stretch")
    st.subheader("Recent corrections")
    fb = data.feedback_list()
    if fb.empty:
        st.caption("No corrections yet.")
    else:
        fmt.dataframe(fb, key="review_feedback")
        with st.form("undo"):
            fid = st.selectbox("Undo correction #", fb.loc[fb["undone_at"].isna(),
                                                           "feedback_id"].tolist(),
                               key="review_undo_id")
            if st.form_submit_button("Undo") and fid is not None:
                try:
                    data.undo_feedback(int(fid))
                    st.success(components.plain(f"Correction #{fid} undone."))
                except data.TriageError as exc:
                    components.error(exc)
