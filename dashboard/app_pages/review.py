"""Review & feedback: the review queue, corrections, CSAT vs sentiment, retraining."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, components, data

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
        event = st.dataframe(
            queue[["ticket_id", "teach_score", "why", "predicted_category", "model_confidence",
                   "sentiment_label", "csat", "subject"]],
            hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
            key="review_table",
            column_config={"teach_score": st.column_config.NumberColumn(format="%.2f"),
                           "model_confidence": st.column_config.NumberColumn(format="%.2f"),
                           "csat": st.column_config.NumberColumn("CSAT", format="%d")})
        rows = event.selection.rows if event is not None else []
        pick = str(queue.index[rows[0] if rows else 0])
        detail = data.ticket_detail(pick)
        if detail:
            st.subheader(components.plain(f"Label ticket {detail['ticket_id']}"))
            components.ticket_text(detail.get("subject"), detail.get("body"))
            components.feedback_form(detail, key_prefix="review")

    st.subheader("Retrain")
    st.caption("Trains on labels plus corrections (a correction overrides the label), compares "
               "with the active model on the same fixed holdout, and promotes the new model "
               "only if it is not worse.")
    force = st.checkbox("Promote even if worse", key="review_force")
    if st.button("Retrain now", type="primary", key="review_retrain"):
        with st.spinner("Training…"):
            try:
                result = data.retrain(force)
            except data.TriageError as exc:
                components.error(exc)
            else:
                verdict = "promoted" if result["promoted"] else "kept the current model"
                st.success(
                    f"Version {result['version']}: accuracy "
                    f"{result['metrics']['new']['accuracy']:.3f} vs "
                    f"{(result['metrics']['current'] or {}).get('accuracy', float('nan')):.3f}"
                    f" ({result['n_corrections_used']} corrections used) – {verdict}.")
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
        st.dataframe(fb, hide_index=True, width="stretch")
        with st.form("undo"):
            fid = st.selectbox("Undo correction #", fb.loc[fb["undone_at"].isna(),
                                                           "feedback_id"].tolist(),
                               key="review_undo_id")
            if st.form_submit_button("Undo") and fid is not None:
                try:
                    data.undo_feedback(int(fid))
                    st.success(f"Correction #{fid} undone.")
                except data.TriageError as exc:
                    components.error(exc)
