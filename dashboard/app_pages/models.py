"""Model quality: metrics per version beside the plain baselines, the chosen configuration and
every candidate's CV score, confusion matrix, per-class F1, confidence, evaluation."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import streamlit as st

from dashboard import charts, components, data
from dashboard import format as fmt

st.title("Model quality")


def scores_config(columns: Iterable[object]) -> dict[str, object]:
    """Human headers; accuracy and macro-F1 as the 0–1 scores evaluations quote."""
    config: dict[str, object] = {str(c): st.column_config.Column(fmt.label(str(c)))
                                 for c in columns}
    for c in ("accuracy", "macro_f1"):
        config[c] = st.column_config.NumberColumn(fmt.label(c), format="%.3f")
    return config


st.caption("Holdout metrics of every trained category model; the active one scores new tickets.")

versions = data.model_versions()
if versions.empty:
    st.info("No model trained yet. Run `triage train`, or press **Retrain** on the Review & "
            "feedback page once tickets with categories are loaded.")
else:
    cat = versions[versions["kind"] == "category"]
    st.plotly_chart(charts.model_history(cat), width="stretch")
    if not cat.empty and not cat["active"].any():
        st.warning("No category model is active, so categories come from the helpdesk's labels "
                   "and corrections only. The newest version was not activated: "
                   f"{components.plain(cat['decision'].iloc[0] or 'see its note')}.",
                   icon=":material/info:")
    st.dataframe(fmt.without_bidi(cat[["version", "created_at", "active", "decision",
                                       "estimator", "n_train", "n_corrections", "accuracy",
                                       "macro_f1", "note"]]),
                 hide_index=True, placeholder="–", width="stretch", column_config={
                     "version": st.column_config.NumberColumn("Version"),
                     "created_at": st.column_config.DatetimeColumn("Trained"),
                     "active": st.column_config.CheckboxColumn("Active"),
                     "decision": st.column_config.TextColumn(
                         "Decision", help="Why it was activated or not when it was trained"),
                     "estimator": st.column_config.TextColumn("Model"),
                     "n_train": st.column_config.NumberColumn("Trained on", format="localized"),
                     "n_corrections": st.column_config.NumberColumn("Corrections",
                                                                    format="localized"),
                     "accuracy": st.column_config.NumberColumn("Accuracy", format="%.3f"),
                     "macro_f1": st.column_config.NumberColumn("Macro-F1", format="%.3f"),
                     "note": st.column_config.TextColumn("Note")})
    ids = cat["version"].tolist()
    active = cat.loc[cat["active"], "version"]
    version = st.selectbox("Version", ids, index=ids.index(int(active.iloc[0]))
                           if not active.empty else 0, key="models_version")
    m = data.model_metrics(int(version))
    summary = data.model_summary(int(version))
    base = m.get("plain_baselines") or {}
    if m.get("accuracy") is not None:
        st.subheader("Against plain baselines on the same holdout")
        st.caption("Trained in the same run on the same training tickets: always the most "
                   "common category, and TF-IDF + linear SVM with C chosen by cross-validation. "
                   "The margin is this model minus the better baseline.")
        rows = [{"model": f"version {version}", "accuracy": m["accuracy"],
                 "macro_f1": m["macro_f1"]}]
        rows += [{"model": {"majority": "majority class",
                            "tfidf_svm": "TF-IDF + linear SVM"}.get(k, k),
                  "accuracy": v["accuracy"], "macro_f1": v["macro_f1"]} for k, v in base.items()]
        if m.get("margin"):
            rows.append({"model": "margin", **m["margin"]})
        st.dataframe(pd.DataFrame(rows), hide_index=True, placeholder="–", width="stretch",
                     column_config=scores_config(["model", "accuracy", "macro_f1"]))
    selection = summary.get("selection")
    if selection:
        st.subheader("Chosen configuration")
        # the candidate's name comes from the config, the reason may quote a category
        st.caption(components.plain(
            f"{selection['chosen']}: {selection['reason']} on the training tickets only"
            f" ({selection['seconds']:.0f} s). Every candidate's cross-validated score:"))
        candidates = fmt.without_bidi(data.selection_table(selection))
        st.dataframe(candidates, hide_index=True, placeholder="–", width="stretch",
                     column_config=scores_config(candidates.columns))
    left, right = st.columns(2)
    per_class = pd.DataFrame([{"label": k, **v} for k, v in m.get("per_class", {}).items()])
    left.plotly_chart(charts.per_class_f1(per_class, f"F1 per category (version {version})"),
                      width="stretch")
    conf = m.get("confusion", {})
    right.plotly_chart(charts.confusion(conf.get("labels", []), conf.get("matrix", []),
                                        f"Confusion matrix on the holdout (version {version})"),
                       width="stretch")
    st.plotly_chart(charts.histogram(data.confidence_bins(), "Confidence of current "
                                     "predictions", "Category confidence (0–1)"),
                    width="stretch")
    c1, c2 = st.columns(2)
    if c1.button("Promote this version", key="models_promote", disabled=bool(
            cat.loc[cat["version"] == version, "active"].iloc[0])):
        data.promote(int(version))
        st.success(components.plain(f"Version {version} is now active; tickets were re-scored."))
    if c2.button("Roll back to the previous version", key="models_rollback",
                 disabled=len(cat) < 2):
        try:
            st.success(components.plain(f"Rolled back to version {data.rollback()}."))
        except data.TriageError as exc:
            components.error(exc)

st.subheader("Evaluate on your own labeled file")
st.caption("A CSV, Parquet or JSON file with a text column and a label column. Category: "
           "the active model is scored on it (nothing is trained or saved). Sentiment labels: "
           "negative / neutral / positive, or numbers (-1 / 0 / 1, 0 / 1 / 2, 0 / 4, 1-5 "
           "stars; others with a label map), scored with the zero-shot default.")
upload = st.file_uploader("Labeled file", type=["csv", "tsv", "parquet", "json", "jsonl"],
                          key="models_upload")
if upload is not None:
    frame = data.read_labeled_upload(upload.getvalue(), upload.name)
    if isinstance(frame, str):
        components.error(frame)
    else:
        c1, c2, c3 = st.columns(3)
        task = c1.selectbox("Task", ["category", "sentiment"], key="models_task")
        text_cols = c2.multiselect("Text column(s)", list(frame.columns),
                                   default=[c for c in frame.columns if c in ("text", "body",
                                                                              "subject")][:2],
                                   key="models_text")
        label_col = c3.selectbox("Label column", list(frame.columns), key="models_label",
                                 index=list(frame.columns).index("category")
                                 if "category" in frame.columns else 0)
        label_map = ""
        if task == "sentiment":
            label_map = st.text_input(
                "Label map (optional)", key="models_label_map",
                placeholder="1=negative, 2=negative, 3=neutral, 4=positive, 5=positive",
                help="How to read labels that are not negative / neutral / positive, every "
                "value once. Numbers such as -1 / 0 / 1, 0 / 1 / 2 or 1-5 stars are read "
                "without it; the result says how.")
        if st.button("Evaluate", key="models_evaluate", disabled=not text_cols):
            try:
                report = data.evaluate_upload(frame, task, text_cols, label_col, label_map)
            except data.TriageError as exc:
                components.error(exc)
            else:
                if report.get("label_reading"):
                    note = report["label_reading"]["note"]
                    st.info(components.plain(note[:1].upper() + note[1:] + "."))
                for warning in report.get("warnings") or []:
                    st.warning(components.plain(warning))
                st.metric("Accuracy", f"{report['accuracy']:.3f}")
                st.metric("Macro-F1", f"{report['macro_f1']:.3f}")
                st.caption(components.plain(f"{report['n_test']:,} rows evaluated, "
                                            f"{report['n_skipped']:,} skipped (empty label)."))
                st.dataframe(fmt.without_bidi(pd.DataFrame(report["per_class"]).T), width="stretch",
                             placeholder="–")
                rows = report["rows"]
                if len(rows):
                    wrong = rows[~rows["correct"]].drop(columns="correct")
                    st.caption(components.plain(
                        f"{len(wrong):,} of {len(rows):,} rows predicted wrong"
                        + (" (row: the row in the file, 1 = the first under the header)."
                           if len(wrong) else ".")))
                    if len(wrong):
                        st.dataframe(fmt.without_bidi(wrong), width="stretch", hide_index=True,
                                     placeholder="–")
                    st.download_button("Download every row's prediction (CSV)",
                                       data.spreadsheet_csv(rows), file_name="predictions.csv",
                                       mime="text/csv", on_click="ignore",
                                       key="models_predictions")
