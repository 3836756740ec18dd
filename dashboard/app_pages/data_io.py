"""Data: import files (preview, preset, validation), run triage, export any table or queue."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from dashboard import components, data

st.title("Data")

counts = data.counts()
st.subheader("In the database")
st.dataframe(
    [{"table": t, "rows": n} for t, n in counts.items()], hide_index=True,
    column_config={"rows": st.column_config.NumberColumn(format="localized")},
)

st.subheader("Import a file")
st.caption("CSV, Parquet, JSON or JSON Lines, UTF-8. Load customers and campaigns before the "
           "tickets and touchpoints that refer to them. A file with any problem is refused "
           "whole and the database is unchanged.")
c1, c2 = st.columns(2)
tables = list(data.IMPORT_TABLES)
table = c1.selectbox("Table", tables, index=tables.index("tickets"), key="data_table")
preset = c2.selectbox("Helpdesk export preset", ["none", *data.PRESETS], key="data_preset",
                      help="Maps Zendesk or Freshdesk export column names to ours",
                      disabled=table != "tickets")
upload = st.file_uploader("File", type=["csv", "parquet", "json", "jsonl"], key="data_file")
create_missing = st.checkbox("Create customers/campaigns that do not exist yet",
                             key="data_create_missing")
if upload is not None:
    preview = data.preview_upload(upload.name, upload.getvalue())
    if isinstance(preview, str):
        st.error(preview)
    else:
        st.caption(components.plain(f"Preview of {upload.name} (first rows, text masked)"))
        st.dataframe(data.masked(preview), hide_index=True, width="stretch")
    if st.button("Import", type="primary", key="data_import"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(upload.name).name
            path.write_bytes(upload.getvalue())
            try:
                result = data.write(lambda s: s.import_file(
                    table, path, preset=None if preset == "none" else preset,
                    create_missing=create_missing))
            except ValueError as exc:  # TriageError: one line naming file, row and column
                st.error(str(exc))
            else:
                st.success(f"{result.rows_in_file:,} rows into {result.table}: "
                           f"{result.new_rows:,} new, {result.existing_rows:,} updated.")
                if result.ignored_columns:
                    st.info("Ignored columns: " + ", ".join(result.ignored_columns))

st.subheader("Triage")
st.caption("Categorize, score sentiment and severity for new or changed tickets, then "
           "re-score priorities and re-route every open ticket.")
if st.button("Triage all tickets", key="data_triage", disabled=not counts.get("tickets")):
    with st.spinner("Triaging…"):
        try:
            summary = data.write(data.run_triage)
        except ValueError as exc:
            st.error(str(exc))
        else:
            st.success(summary)

st.subheader("Export")
st.caption("Text columns are masked unless masking is turned off in the sidebar.")
c1, c2 = st.columns(2)
choices = data.exportable()
name = c1.selectbox("Table or queue", choices, key="data_export_table")
fmt = c2.radio("Format", ["CSV", "Parquet"], horizontal=True, key="data_export_fmt")
mask = bool(st.session_state.get("mask_pii", True))
if name:
    st.download_button(
        f"Download {name}.{fmt.lower()}",
        data=lambda: data.export_bytes(name, fmt.lower(), mask),
        file_name=f"{name.replace(':', '_')}.{fmt.lower()}",
        mime="text/csv" if fmt == "CSV" else "application/octet-stream",
        key="data_download", icon=":material/download:",
    )
