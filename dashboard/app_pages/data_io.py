"""Data: import files with a mapping (guessed, preset, saved), triage them, export anything."""

from __future__ import annotations

import re

import streamlit as st

from dashboard import components, data
from dashboard.format import without_bidi

NOT_IN_FILE = "(not in the file)"
LEAVE = "(leave it: the import refuses it)"

st.title("Data")

counts = data.counts()
st.subheader("In the database")
st.dataframe(
    [{"table": t, "rows": n} for t, n in data.user_tables(counts).items()], hide_index=True,
    placeholder="–",
    column_config={"table": st.column_config.TextColumn("Table"),
                   "rows": st.column_config.NumberColumn("Rows", format="localized")},
)
components.health_notes(data.health())


def choose_mapping(table: str) -> object | None:
    """The mapping to start from: guessed from the file, a preset, a saved one, or a file."""
    names = data.mapping_names()
    start = st.selectbox("Start from", ["guess from the file", *names, "a mapping file (.toml)"],
                         key="data_mapping_source", format_func=data.display,
                         help="Mappings say which of the file's columns and values are ours")
    if start == "guess from the file":
        return None
    if start == "a mapping file (.toml)":
        upload = st.file_uploader("Mapping file", type=["toml"], key="data_mapping_file")
        if upload is None:
            return None
        try:
            return data.parse_mapping(upload.getvalue().decode("utf-8"), "uploaded")
        except (ValueError, UnicodeDecodeError) as exc:
            components.error(exc)
            return None
    try:
        mapping = data.load_mapping(start)
    except data.TriageError as exc:
        components.error(exc)
        return None
    if mapping.table not in (None, table):
        st.warning(components.plain(f"That mapping is for {mapping.table}, not {table}."))
    return mapping


def _scope(mapping: object | None) -> str:
    """A part of the form's widget keys per mapping started from: a widget keeps the value it
    has under its key, so after choosing a preset the pickers still showed the guesses (the
    Zendesk preset's first reply column stayed "(not in the file)")."""
    name = getattr(mapping, "name", None)
    return "" if mapping is None else re.sub(r"\W", "_", name or "file") + "_"


def column_form(table: str, report: object, scope: str = ""
                ) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """One picker per column of ours, pre-filled with the mapping or the guess; a constant
    for a required column the file lacks."""
    spec = data.IMPORT_TABLES[table]
    columns, defaults = {}, {}
    start = report.mapping.columns if report.mapping is not None else {
        c: (s,) for c, s in report.guesses.items()}
    options = [NOT_IN_FILE, *report.columns]
    cols = st.columns(3)
    for i, col in enumerate(spec.columns):
        found = [s for s in start.get(col.name, ()) if s in report.columns]
        pick = cols[i % 3].selectbox(
            f"{col.name}{' *' if col.required else ''}", options,
            index=options.index(found[0]) if found else 0, format_func=data.display,
            key=f"data_col_{table}_{scope}{col.name}", help=col.meaning)
        if pick != NOT_IN_FILE:
            columns[col.name] = (pick,)
        elif col.required:
            value = cols[i % 3].text_input(f"{col.name}: the same value for every row",
                                           key=f"data_default_{table}_{scope}{col.name}")
            if value.strip():
                defaults[col.name] = value.strip()
    return columns, defaults


def value_form(table: str, report: object, base: dict[str, dict[str, str | None]],
               scope: str = "") -> dict[str, dict[str, str | None]]:
    """Every value of a closed-set column that does not fit, with a place to map it."""
    spec = data.IMPORT_TABLES[table]
    values = {c: dict(v) for c, v in base.items()}
    raw = report.raw_unmatched or {}
    for col, found in raw.items():
        allowed = list(spec.column(col).choices)
        st.markdown(f"**Values of {components.plain(col)} that are not ours** "
                    f"(ours: {components.plain(', '.join(allowed))})")
        cols = st.columns(3)
        for i, (value, n) in enumerate(found):
            pick = cols[i % 3].selectbox(
                f"{components.plain(data.display(value))} ({n:,} rows)", [LEAVE, *allowed],
                key=f"data_val_{table}_{scope}{col}_{i}")
            if pick != LEAVE:
                values.setdefault(col, {})[value.strip().lower()] = pick
    return values


def import_section() -> None:
    st.subheader("Import a file")
    st.caption("CSV, Parquet, JSON or JSON Lines, UTF-8. Load customers and campaigns before "
               "the tickets and touchpoints that refer to them. A file with any problem is "
               "refused whole and the database is unchanged.")
    tables = list(data.IMPORT_TABLES)
    table = st.selectbox("Table", tables, index=tables.index("tickets"), key="data_table")
    upload = st.file_uploader("File", type=["csv", "parquet", "json", "jsonl"],
                              key="data_file")
    if upload is None:
        return
    if upload.size > data.max_upload_mb() * 1024 * 1024:
        st.error(components.plain(
            f"The file is {upload.size / 2**20:,.0f} MB; the limit is {data.max_upload_mb():,}"
            " MB ([dashboard] max_upload_mb). Import it with 'triage import' instead."))
        return
    path = data.save_upload(upload.name, upload.getvalue())
    base = choose_mapping(table)
    try:
        first = data.inspect_upload(table, path, base)
    except data.TriageError as exc:
        components.error(exc)
        return
    st.markdown("**Columns** (ours on the left; `*` required)")
    for col, why in first.passed_over.items():
        st.caption(components.plain(f"{col}: {why}"))
    columns, defaults = column_form(table, first, _scope(base))
    from_base = dict(base.values) if base is not None else {}
    formats = format_form(first, base)
    duplicates = base.duplicates if base is not None else "refuse"
    try:
        draft = data.mapping_of(table, columns, {**(base.defaults if base else {}), **defaults},
                                from_base, formats, duplicates)
        report = data.inspect_upload(table, path, draft)
    except data.TriageError as exc:
        components.error(exc)
        return
    values = value_form(table, report, dict(draft.values), _scope(base))
    for col, found in report.placeholders.items():  # Zendesk's "-": an empty cell
        st.caption(components.plain(f"{col}: {', '.join(map(repr, found))} read as empty"))
        values[col] = {**dict.fromkeys(found, ""), **values.get(col, {})}
    mapping = data.mapping_of(table, columns, dict(draft.defaults), values, formats, duplicates)
    preview_and_import(table, path, mapping)


def format_form(report: object, base: object) -> dict[str, str]:
    """A format for each time column whose values are not ISO 8601, pre-filled with the one
    that fits every value (empty when 03/05 could be March or May), and decimal_comma or
    thousands_comma for a number column written 1.234,56 or 1,234.56."""
    formats = dict(base.formats) if base is not None else {}
    for col, guess in report.formats.items():
        typed = st.text_input(
            f"Format of {col}, e.g. {components.plain(guess.example[:40])}",
            value=formats.get(col) or guess.format or "",
            key=f"data_format_{_scope(base)}{col}",
            help="strptime codes: %Y year, %m month, %d day, %H:%M:%S time, %I:%M %p with "
                 "AM/PM, %b month name, %z UTC offset. Empty when the file does not tell "
                 "month/day from day/month: type the one your helpdesk uses. A number "
                 "column: decimal_comma reads 1.234,56 as 1234.56, thousands_comma reads "
                 "1,234.56.")
        if typed.strip():
            formats[col] = typed.strip()
    return formats


def preview_and_import(table: str, path: object, mapping: object) -> None:
    try:
        report = data.inspect_upload(table, path, mapping)
    except data.TriageError as exc:
        components.error(exc)
        return
    if report.problem:
        components.warn(data.for_page(report.problem))
    if report.plan is not None:
        for note in report.plan.warnings:
            components.warn(note)
    if report.preview is not None:
        st.caption(components.plain(f"Preview: the first rows as they would be imported"
                                    f" ({report.rows:,} rows in the file)"))
        st.dataframe(without_bidi(report.preview), hide_index=True, placeholder="–",
                     width="stretch")
    create_missing = st.checkbox("Create customers/campaigns that do not exist yet",
                                 key="data_create_missing")
    c1, c2, c3 = st.columns([1, 2, 1])
    if c1.button("Import", type="primary", key="data_import"):
        with st.status(f"Importing {components.plain(path.name)} into {table}…",
                       expanded=True) as status:
            st.write("Validating every row, then writing them in one transaction…")
            try:
                result = data.import_upload(table, path, mapping, create_missing)
            except data.TriageError as exc:
                status.update(label="Import refused", state="error")
                components.error(data.for_page(str(exc)))
                result = None
            else:
                rows = f"{result.rows_in_file:,} row{'' if result.rows_in_file == 1 else 's'}"
                status.update(label=f"Imported {rows}", state="complete", expanded=False)
        if result is not None:
            # numbers and the table name (escaped) only
            st.success(f"{rows} into {components.plain(result.table)}: "
                       f"{result.new_rows:,} new, {result.existing_rows:,} updated.")
            for note in result.warnings:
                components.warn(note)
    name = c2.text_input("Save this mapping as", key="data_mapping_name",
                         label_visibility="collapsed", placeholder="Save this mapping as…")
    if c2.button("Save mapping", key="data_mapping_save", disabled=not name.strip()):
        try:
            data.save_mapping(name, mapping)
            st.success(f"Saved mapping {components.plain(name.strip())}.")
        except data.TriageError as exc:
            components.error(exc)
    c3.download_button("Download mapping", mapping.to_toml(), file_name="mapping.toml",
                       mime="application/toml", key="data_mapping_download")


import_section()

st.subheader("Triage")
st.caption("Categorize, score sentiment and severity for new or changed tickets, then "
           "compute priority, tier, SLA and routing for every ticket.")
if st.button("Triage all tickets", key="data_triage", disabled=not counts.get("tickets")):
    with st.status("Triaging…", expanded=True) as status:
        bars = components.PageProgress(st)
        st.write("Predicting new or changed tickets, then scoring and routing every ticket…")
        try:
            summary = data.write(lambda s: data.run_triage(s, bars))
        except ValueError as exc:
            status.update(label="Triage failed", state="error")
            components.error(exc)
        else:
            status.update(label="Triage done", state="complete", expanded=False)
            st.success(components.plain(summary))

st.subheader("Export")
st.caption("E-mail addresses, phone numbers and card numbers are masked in every column unless "
           "masking is turned off in the sidebar.")
c1, c2 = st.columns(2)
choices = data.exportable()
name = c1.selectbox("Table or queue", choices, key="data_export_table", format_func=data.display)
fmt = c2.radio("Format", ["CSV", "Parquet"], horizontal=True, key="data_export_fmt")
people = st.toggle("Column headers for people (e.g. “Support cost” instead of support_cost)",
                   value=bool(name and name.startswith(data.QUEUE_PREFIX)),
                   key="data_export_people",
                   help="Off: the column names, so the file can be imported again")
if name:
    file_name = f"{data.safe_file_name(data.display(name)) or 'export'}.{fmt.lower()}"
    st.download_button(
        f"Download {components.plain(file_name)}",
        data=lambda: data.export_bytes(name, fmt.lower(), people),
        file_name=file_name,
        mime="text/csv" if fmt == "CSV" else "application/octet-stream",
        key="data_download", icon=":material/download:",
    )
