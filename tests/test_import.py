"""Import: every format and preset lands; every kind of bad input is refused and changes nothing."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from triage_core.errors import ConfigError, ImportValidationError, TriageError
from triage_core.schema import IMPORT_TABLES
from triage_core.store import Store


def test_csv_happy_path_and_values(loaded_store: Store) -> None:
    counts = {t: n for t, n in loaded_store.counts().items() if t in IMPORT_TABLES}
    assert counts == {"customers": 3, "campaigns": 2, "agents": 2, "tickets": 3, "touchpoints": 3,
                      "csat_surveys": 0}
    t = loaded_store.query("SELECT * FROM tickets ORDER BY ticket_id")
    assert t["body"][0] == "I was charged twice.\nPlease help"
    # aliases: 'Web Form' -> web, 'Hold' -> on_hold
    assert t["channel"].tolist() == ["email", "web", "chat"]
    assert t["status"].tolist() == ["open", "on_hold", "solved"]
    assert t["csat"].isna().tolist() == [True, False, False]


def test_reimport_is_idempotent(loaded_store: Store, data_dir: Path) -> None:
    before = loaded_store.counts()
    snapshot = loaded_store.query("SELECT * FROM tickets ORDER BY ticket_id")
    result = loaded_store.import_file("tickets", data_dir / "tickets.csv")
    assert (result.new_rows, result.existing_rows) == (0, 3)
    assert loaded_store.counts() == before
    pd.testing.assert_frame_equal(
        loaded_store.query("SELECT * FROM tickets ORDER BY ticket_id"), snapshot
    )


def test_upsert_updates_changed_rows(loaded_store: Store, tmp_path: Path) -> None:
    f = tmp_path / "tickets.csv"
    f.write_text("ticket_id,created_at,customer_id,status\nT1,2026-02-01 10:00:00,C1,solved\n")
    loaded_store.import_file("tickets", f)
    row = loaded_store.query("SELECT status, body FROM tickets WHERE ticket_id = 'T1'")
    assert row["status"][0] == "solved"
    # columns absent from the file keep their values
    assert row["body"][0].startswith("I was charged twice")


def test_parquet_and_json_formats(store: Store, data_dir: Path, tmp_path: Path) -> None:
    store.import_file("customers", data_dir / "customers.csv")
    tickets = pd.read_csv(data_dir / "tickets.csv", dtype=str)
    tickets["created_at"] = pd.to_datetime(tickets["created_at"])
    pq = tmp_path / "tickets.parquet"
    tickets.to_parquet(pq)
    assert store.import_file("tickets", pq).new_rows == 3
    records = pd.read_csv(data_dir / "customers.csv", dtype=str).to_dict("records")
    js = tmp_path / "customers.json"
    js.write_text(json.dumps(records))
    assert store.import_file("customers", js).existing_rows == 3
    jl = tmp_path / "customers.jsonl"
    jl.write_text("\n".join(json.dumps(r) for r in records))
    assert store.import_file("customers", jl).existing_rows == 3
    assert store.counts()["tickets"] == 3


def test_struct_columns_of_parquet_are_read_as_dotted_fields(store: Store,
                                                             tmp_path: Path) -> None:
    """A warehouse's copy of a Zendesk export keeps ``via`` as a struct: the preset finds
    ``via.channel`` as it does in JSON (the whole struct was stored as the text "{'channel':
    web}"), and a deeper field can be mapped by its dotted name."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    store.import_frame("customers", pd.DataFrame({"customer_id": ["C1"]}))
    table = pa.table({
        "id": ["Z1", "Z2"], "requester_id": ["C1", "C1"], "status": ["open", "new"],
        "created_at": ["2026-07-01 10:00:00", "2026-07-02 11:00:00"],
        "subject": ["Refund please", "App crash"], "description": ["Charged twice", "Crashes"],
        "via": [{"channel": "email", "source": {"rel": "x"}}, {"channel": "web", "source": None}],
        "custom": [{"topic": {"name": "billing"}}, {"topic": {"name": "app_crash"}}]})
    path = tmp_path / "zendesk.parquet"
    pq.write_table(table, path)
    result = store.import_file("tickets", path, preset="zendesk",
                               mapping={"custom.topic.name": "category"})
    assert not {"via", "custom"} & set(result.ignored_columns)  # their fields are read
    assert "via.source.rel" in result.ignored_columns
    got = store.query("SELECT ticket_id, channel, category FROM tickets ORDER BY ticket_id")
    assert got.values.tolist() == [["Z1", "email", "billing"], ["Z2", "web", "app_crash"]]


def test_parquets_custom_field_lists_and_deep_fields_are_offered_as_in_json(
        store: Store, tmp_path: Path) -> None:
    """An Airbyte copy of Zendesk keeps custom_fields as a list of {id, value} structs, and
    the sender's address four levels down: JSON offered both, Parquet neither."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "id": [6000, 6001], "requester_id": ["C1", "C1"], "status": ["open", "new"],
        "created_at": ["2026-07-01 10:00:00", "2026-07-02 11:00:00"],
        "via": [{"channel": "email", "source": {"from": {"address": "u0@ex.com"}}},
                {"channel": "web", "source": {"from": {"address": "u1@ex.com"}}}],
        "custom_fields": [[{"id": 360001, "value": "billing"}, {"id": 360002, "value": None}],
                          [{"id": 360002, "value": "x"}, {"id": 360001, "value": "login"}]]})
    path = tmp_path / "airbyte.parquet"
    pq.write_table(table, path)
    result = store.import_file("tickets", path, preset="zendesk", create_missing=True,
                               mapping={"custom_fields.360001": "category",
                                        "via.source.from.address": "customer_id"})
    assert "custom_fields.360002" in result.ignored_columns
    got = store.query("SELECT ticket_id, customer_id, category FROM tickets ORDER BY 1")
    assert got.values.tolist() == [["6000", "u0@ex.com", "billing"],
                                   ["6001", "u1@ex.com", "login"]]
    # a dropdown's option name where the list gives one (Help Scout), as JSON reads it
    from triage_core.store import formats

    pq.write_table(pa.table({"id": [1, 2], "customFields": [
        [{"id": 11, "value": "7", "text": "Billing"}], [{"id": 11, "value": "8", "text": None}]]}),
        path)
    assert formats.read_parquet_frame(path)["customFields.11"].tolist() == ["Billing", "8"]


def test_whole_floats_are_whole_numbers_before_a_preset_maps_values(store: Store,
                                                                     tmp_path: Path) -> None:
    """A preset maps some values of the agent, channel and priority columns; pandas writes a
    column of ids or codes with a gap as float64: 362000000001.0 is still agent
    362000000001 (it was stored with its '.0'), and Freshdesk's source code 7.0 is chat
    (stored '7.0'), its forum (4) and Mobihelp (8) codes web."""
    import numpy as np

    pd.DataFrame({"Id": ["Z1", "Z2"], "Requester id": ["C1", "C1"], "Subject": ["a", "b"],
                  "Description": ["x", "y"], "Status": ["Open", "New"],
                  "Created at": ["2026-07-01 10:00:00", "2026-07-01 11:00:00"],
                  "Assignee id": [362000000001.0, np.nan]}).to_parquet(tmp_path / "z.parquet")
    store.import_file("tickets", tmp_path / "z.parquet", preset="zendesk", create_missing=True)
    pd.DataFrame({"id": [1, 2, 3, 4], "requester_id": ["c1"] * 4, "subject": list("abcd"),
                  "description_text": list("wxyz"), "status": [2, 3, 4, 5],
                  "created_at": ["2026-07-01T10:00:00Z"] * 4, "source": [7.0, 4.0, 8.0, np.nan],
                  "priority": [4.0, np.nan, 1.0, 2.0]}).to_parquet(tmp_path / "f.parquet")
    store.import_file("tickets", tmp_path / "f.parquet", preset="freshdesk",
                      create_missing=True)
    got = store.query("SELECT ticket_id, agent_id, channel, source_priority FROM tickets"
                      " ORDER BY ticket_id").astype(object)
    got = got.where(got.notna(), None).values.tolist()
    assert got == [["1", None, "chat", "Urgent"], ["2", None, "web", None],
                   ["3", None, "web", "Low"], ["4", None, None, "Medium"],
                   ["Z1", "362000000001", None, None], ["Z2", None, None, None]]


def test_whole_float_ids_from_parquet_are_kept_as_whole_numbers(store: Store,
                                                                 tmp_path: Path) -> None:
    """pandas writes an id column with gaps as float64: 3600001.0 is agent '3600001', so the
    tickets that name it find it; a real fraction stays as it is."""
    agents = pd.DataFrame({"agent_id": [3600001.0, 3600002.0, 7.5], "name": ["A", "B", "C"],
                           "team": ["billing"] * 3, "capacity": [5.0, 5.0, 5.0]})
    pq = tmp_path / "agents.parquet"
    agents.to_parquet(pq)
    store.import_file("agents", pq)
    got = store.query("SELECT agent_id FROM agents ORDER BY name")["agent_id"].tolist()
    assert got == ["3600001", "3600002", "7.5"]


def test_a_name_twice_in_the_header_is_refused_with_a_preset_too(loaded_store: Store,
                                                                 tmp_path: Path) -> None:
    """A preset (or a mapping) naming "Subject" does not say which of two "Subject" columns
    is meant: refused, nothing written; naming the repeated one takes it."""
    f = tmp_path / "export.csv"
    f.write_text("Id,Subject,Subject,Status,Created at,Requester id,Description\n"
                 "Z1,first,second,Open,2026-03-01 10:00:00,C1,text\n")
    before = loaded_store.counts()
    with pytest.raises(ImportValidationError, match=r"two columns could be subject: 'Subject'"
                       r" and 'Subject_1'.*take the second with --map Subject_1=subject"):
        loaded_store.import_file("tickets", f, preset="zendesk")
    assert loaded_store.counts() == before
    from triage_core.store.mapping import ImportMapping

    mapping = ImportMapping.from_mapping({"columns": {"ticket_id": "Id", "subject": "Subject_1",
                                                      "status": "Status",
                                                      "created_at": "Created at",
                                                      "customer_id": "Requester id"}})
    loaded_store.import_file("tickets", f, mapping=mapping)
    assert loaded_store.query("SELECT subject FROM tickets WHERE ticket_id = 'Z1'"
                              )["subject"].tolist() == ["second"]


ZENDESK_CSV = (
    "Id,Requester,Requester id,Requester email,Subject,Description,Status,Priority,Via,"
    "Created at,Updated at,Solved at,Assignee,Satisfaction Score,Tags\n"
    "101,Jo,C1,jo@example.com,Card declined,My card keeps getting declined,solved,high,"
    "Web Form,2026-02-01 10:00:00,2026-02-02 10:00:00,2026-02-02 09:00:00,Ana,Good,billing\n"
    "102,Al,C2,al@example.com,App broken,It crashes at start,hold,urgent,Email,"
    "2026-02-03T08:00:00Z,2026-02-03 09:00:00,,Ben,Unoffered,\n"
)

FRESHDESK_CSV = (
    "Ticket ID,Subject,Description,Status,Priority,Source,Type,Agent,Group,Created time,"
    "Due by Time,Resolved time,Closed time,Initial response time,Contact ID,Survey results\n"
    "5001,Where is my parcel,Ordered 2 weeks ago,Resolved,Medium,Portal,Question,Cara,Logistics,"
    "2026-02-04 12:00:00,2026-02-05 12:00:00,2026-02-06 12:00:00,,2026-02-04 13:00:00,C3,"
    "Awesome\n"
    "5002,Refund,Please refund,Waiting on Customer,Low,Email,Refund,Dan,Billing,"
    "2026-02-05 12:00:00,,,,,C1,\n"
)


@pytest.mark.parametrize("preset,text,ids", [
    ("zendesk", ZENDESK_CSV, ["101", "102"]),
    ("freshdesk", FRESHDESK_CSV, ["5001", "5002"]),
])
def test_helpdesk_presets(store: Store, data_dir: Path, tmp_path: Path, preset: str, text: str,
                          ids: list[str]) -> None:
    store.import_file("customers", data_dir / "customers.csv")
    f = tmp_path / f"{preset}.csv"
    f.write_text(text)
    result = store.import_file("tickets", f, preset=preset)
    assert result.new_rows == 2
    t = store.query("SELECT * FROM tickets ORDER BY ticket_id")
    assert t["ticket_id"].tolist() == ids
    assert set(t["status"]) <= {"solved", "on_hold", "pending"}
    assert t["body"].notna().all()
    if preset == "zendesk":
        assert t["channel"].tolist() == ["web", "email"]
        assert t["csat"].tolist()[0] == 5
        assert str(t["created_at"][1]) == "2026-02-03 08:00:00"
    else:
        assert t["channel"].tolist() == ["web", "email"]
        assert t["status"].tolist() == ["solved", "pending"]
        assert str(t["first_response_at"][0]) == "2026-02-04 13:00:00"


def test_generic_map(store: Store, data_dir: Path, tmp_path: Path) -> None:
    store.import_file("customers", data_dir / "customers.csv")
    f = tmp_path / "t.csv"
    f.write_text("Case #,Opened,Client,State\nX1,2026-02-01 10:00,C1,open\n")
    store.import_file("tickets", f, mapping={"Case #": "ticket_id", "Opened": "created_at",
                                             "Client": "customer_id", "State": "status"})
    assert store.scalar("SELECT ticket_id FROM tickets") == "X1"
    with pytest.raises(TriageError, match="has no column 'nope'"):
        store.import_file("tickets", f, mapping={"Case #": "nope"})


BAD_FILES = {
    "missing_column.csv": (b"ticket_id,customer_id,status\nT9,C1,open\n", None, "created_at",
                           "missing required column"),
    "wrong_type.csv": (b"ticket_id,created_at,customer_id,status,csat\n"
                       b"T9,2026-02-01 10:00:00,C1,open,5\n"
                       b"T10,2026-02-01 10:00:00,C1,open,great\n", 2, "csat", "not a whole number"),
    "out_of_range.csv": (b"ticket_id,created_at,customer_id,status,csat\n"
                         b"T9,2026-02-01 10:00:00,C1,open,7\n", 1, "csat", "at most 5"),
    "bad_timestamp.csv": (b"ticket_id,created_at,customer_id,status\n"
                          b"T9,2026-02-01 10:00:00,C1,open\nT10,yesterday,C1,open\n", 2,
                          "created_at", "as a timestamp"),
    "impossible_date.csv": (b"ticket_id,created_at,customer_id,status\n"
                            b"T9,2026-02-30 10:00:00,C1,open\n", 1, "created_at",
                            "not a date of the calendar (2026-02 has no day 30)"),
    "no_month_13.csv": (b"ticket_id,created_at,customer_id,status\n"
                        b"T9,2026-13-01T10:00:00Z,C1,open\n", 1, "created_at",
                        "not a date of the calendar (there is no month 13)"),
    "duplicate_id.csv": (b"ticket_id,created_at,customer_id,status\n"
                         b"T9,2026-02-01 10:00:00,C1,open\nT8,2026-02-01 10:00:00,C1,open\n"
                         b"T9,2026-02-02 10:00:00,C1,open\n", 3, "ticket_id", "duplicate"),
    "dangling_reference.csv": (b"ticket_id,created_at,customer_id,status\n"
                               b"T9,2026-02-01 10:00:00,NOBODY,open\n", 1, "customer_id",
                               "does not exist in customers"),
    "non_utf8.csv": (b"ticket_id,created_at,customer_id,status,body\n"
                     b"T9,2026-02-01 10:00:00,C1,open,fine\n"
                     b"T10,2026-02-01 10:00:00,C1,open,caf\xe9 cr\xe8me\n", 2, "body", "UTF-8"),
    "unicode_text.txt": (("ticket_id\tcreated_at\tcustomer_id\tstatus\n"
                          "T9\t2026-02-01 10:00:00\tC1\topen\n").encode("utf-16"), None, None,
                         "UTF-16 text"),
    "empty.csv": (b"", None, None, "file is empty"),
    # a helpdesk's export downloaded compressed, or saved as a workbook, under a text name
    "gzipped.csv": (gzip.compress(b"ticket_id,created_at,customer_id,status\n"),
                    None, None, "a gzip-compressed file, not CSV text: unpack it"),
    "workbook.json": (b"PK\x03\x04" + b"\0" * 40, None, None,
                      "a ZIP archive or a spreadsheet workbook, not JSON text"),
    "header_only.csv": (b"ticket_id,created_at,customer_id,status\n", 1, None, "no data rows"),
    "bad_status.csv": (b"ticket_id,created_at,customer_id,status\n"
                       b"T9,2026-02-01 10:00:00,C1,exploded\n", 1, "status", "is not one of"),
    "empty_required.csv": (b"ticket_id,created_at,customer_id,status\n"
                           b",2026-02-01 10:00:00,C1,open\n", 1, "ticket_id", "empty"),
    # rows that do not fit the header: DuckDB's sniffer would read the file another way
    "field_too_many.csv": (b"ticket_id,created_at,customer_id,status,subject\n"
                           b"T9,2026-02-01 10:00:00,C1,open,x,EXTRA\n", 1, None,
                           "6 fields where the header has 5"),
    # the sniffer took the first data row, one field longer, as the header (then refused
    # the file for missing columns named by that row's values)
    "first_row_too_long.csv": (b"ticket_id,created_at,customer_id,status,subject\n"
                               b"0001,2026-02-01 10:00:00,C1,open,x,EXTRA\n"
                               b"0002,2026-02-01 10:00:00,C1,open,y,\n", 1, None,
                               "6 fields where the header has 5"),
    "field_missing.csv": (b"ticket_id,created_at,customer_id,status,subject\n"
                          b"T9,2026-02-01 10:00:00,C1,open,x\nT10,2026-02-01 10:00:00,C1\n", 2,
                          None, "3 fields where the header has 5"),
    "unclosed_quote.csv": (b"ticket_id,created_at,customer_id,status,subject\n"
                           b"T9,2026-02-01 10:00:00,C1,open,\"cut off\n"
                           b"T10,2026-02-01 10:00:00,C1,open,x\n", 1, None, "never closed"),
    "epoch.csv": (b"ticket_id,created_at,customer_id,status\nT9,epoch,C1,open\n", 1,
                  "created_at", "as a timestamp"),
    "two_digit_year.json": (b'[{"ticket_id": "T9", "created_at": "03-12-26", "customer_id": "C1",'
                            b' "status": "open"}]', 1, "created_at", "as a timestamp"),
    "day_first.jsonl": (b'{"ticket_id": "T9", "created_at": "03-12-2026 14:05:00",'
                        b' "customer_id": "C1", "status": "open"}\n', 1, "created_at",
                        "as a timestamp"),
    "huge_csat.csv": (b"ticket_id,created_at,customer_id,status,csat\n"
                      b"T9,2026-02-01 10:00:00,C1,open,99999999999\n", 1, "csat", "too large"),
    "empty_list.json": (b"[]", None, None, "no records"),
    # two columns that could be the subject: importing the first would drop the second's
    "same_header_twice.csv": (b"ticket_id,created_at,customer_id,status,subject,subject\n"
                              b"T9,2026-02-01 10:00:00,C1,open,a,b\n", None, "subject",
                              "two columns could be subject: 'subject' and 'subject_1'"),
    "names_alike.csv": (b"ticket_id,created_at,customer_id,status,Subject,subject \n"
                        b"T9,2026-02-01 10:00:00,C1,open,a,b\n", None, "subject",
                        "two columns could be subject"),
    "not_objects.json": (b'[{"ticket_id": "T9"}, [1, 2]]', 2, None, "a JSON list, not an object"),
    # ids and labels are one line of limited length (keys, shown in tables, charts and URLs)
    "id_line_break.csv": (b'ticket_id,created_at,customer_id,status\n"T9\nx",2026-02-01 10:00:00'
                          b",C1,open\n", 1, "ticket_id", "invisible character; an id is one line"),
    "id_too_long.csv": (b"ticket_id,created_at,customer_id,status\n" + b"T" * 201
                        + b",2026-02-01 10:00:00,C1,open\n", 1, "ticket_id",
                        "an id is at most 200"),
    "customer_bidi.csv": (("ticket_id,created_at,customer_id,status\nT9,2026-02-01 10:00:00,"
                           "C\u202e1,open\n").encode(), 1, "customer_id", "control"),
    # an id that looks like another: a zero-width space, a word joiner, a BOM
    "id_zero_width.csv": (("ticket_id,created_at,customer_id,status\nT\u200b9,2026-02-01"
                           " 10:00:00,C1,open\nT\u206010,2026-02-01 10:00:00,C1,open\n"
                           ).encode(), 1, "ticket_id", "or invisible character; an id is one"),
    "category_bom.csv": (("ticket_id,created_at,customer_id,status,category\nT9,2026-02-01"
                          " 10:00:00,C1,open,\ufeffbilling\n").encode(), 1, "category",
                         "invisible character; a category is one line"),
    "category_too_long.csv": (b"ticket_id,created_at,customer_id,status,category\n"
                              b"T9,2026-02-01 10:00:00,C1,open,billing\n"
                              b"T10,2026-02-01 10:00:00,C1,open," + b"x" * 101 + b"\n", 2,
                              "category", "a category is at most 100"),
    "category_tab.json": (b'[{"ticket_id": "T9", "created_at": "2026-02-01 10:00:00",'
                          b' "customer_id": "C1", "status": "open", "category": "a\\tb"}]', 1,
                          "category", "a category is one line"),
}


def _parquet_without_rows() -> bytes:
    import io

    out = io.BytesIO()
    pd.DataFrame({c: pd.Series([], dtype=str) for c in ("ticket_id", "created_at",
                                                         "customer_id", "status")}
                 ).to_parquet(out)
    return out.getvalue()


BAD_FILES["no_rows.parquet"] = (_parquet_without_rows(), None, None,
                                "no data rows (the Parquet file has columns but no rows)")


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_input_is_refused_and_changes_nothing(loaded_store: Store, tmp_path: Path,
                                                  name: str) -> None:
    content, row, column, words = BAD_FILES[name]
    f = tmp_path / name
    f.write_bytes(content)
    before = loaded_store.counts()
    snapshot = loaded_store.query("SELECT * FROM tickets ORDER BY ticket_id")
    with pytest.raises(ImportValidationError) as info:
        loaded_store.import_file("tickets", f)
    err = info.value
    assert err.file == name
    assert err.row == row
    assert err.column == column
    assert words in str(err)
    assert "\n" not in str(err)
    assert str(err).startswith(name)
    assert loaded_store.counts() == before
    pd.testing.assert_frame_equal(
        loaded_store.query("SELECT * FROM tickets ORDER BY ticket_id"), snapshot
    )


def test_a_mapping_chooses_between_two_columns_of_the_same_name(loaded_store: Store,
                                                                tmp_path: Path) -> None:
    f = tmp_path / "twice.csv"
    f.write_bytes(b"ticket_id,created_at,customer_id,status,subject,subject\n"
                  b"T9,2026-02-01 10:00:00,C1,open,first,second\n")
    loaded_store.import_file("tickets", f, mapping={"subject_1": "subject"})
    assert loaded_store.scalar("SELECT subject FROM tickets WHERE ticket_id = 'T9'") == "second"


def test_a_campaign_that_ends_before_it_starts_is_refused(loaded_store: Store,
                                                          tmp_path: Path) -> None:
    f = tmp_path / "campaigns.csv"
    f.write_text("campaign_id,name,channel,Launch,end_at\n"
                 "K8,Fine,email,2026-03-01 00:00:00,2026-03-05 00:00:00\n"
                 "K9,Backwards,email,2026-03-20 00:00:00,2026-03-05 00:00:00\n")
    before = loaded_store.counts()
    with pytest.raises(ImportValidationError) as info:
        loaded_store.import_file("campaigns", f, mapping={"Launch": "start_at"})
    err = info.value
    assert (err.row, err.column) == (2, "end_at")
    assert "'2026-03-05 00:00:00' is before Launch '2026-03-20 00:00:00'" in str(err)
    assert loaded_store.counts() == before
    f.write_text("campaign_id,name,channel,start_at,end_at\n"
                 "K9,Same day,email,2026-03-20 00:00:00,2026-03-20 00:00:00\n"
                 "K10,Running,email,2026-03-20 00:00:00,\n")
    assert loaded_store.import_file("campaigns", f).new_rows == 2  # equal or open: fine


def test_bad_json_is_refused(loaded_store: Store, tmp_path: Path) -> None:
    f = tmp_path / "tickets.json"
    f.write_text('[{"ticket_id": "T9", "created_at": ')
    before = loaded_store.counts()
    with pytest.raises(ImportValidationError, match=r"tickets.json: cannot read the file as JSON"):
        loaded_store.import_file("tickets", f)
    assert loaded_store.counts() == before
    # JSON Lines with one record cut short: its own line is named (DuckDB names the next)
    good = '{"ticket_id": "T%d", "created_at": "2026-02-01 10:00:00", "customer_id": "C1"}'
    lines = [good % i for i in range(20, 25)]
    lines[2] = lines[2][:30]
    f = tmp_path / "tickets.jsonl"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(ImportValidationError, match=r"tickets.jsonl: cannot read the file as"
                       r" JSON: line 3 is not one complete JSON record"):
        loaded_store.import_file("tickets", f)
    assert loaded_store.counts() == before


def test_zendesk_custom_fields_are_offered_by_id(store: Store, data_dir: Path,
                                                 tmp_path: Path) -> None:
    """Zendesk keeps custom fields (often the category) as a list of {id, value}: each id is a
    field a mapping can name, custom_fields.360001; a record without it reads as empty."""
    from triage_core.store.inspect import inspect_file

    store.import_file("customers", data_dir / "customers.csv")
    base = {"requester_id": "C1", "status": "open", "created_at": "2026-02-01T10:00:00Z"}
    rows = [{**base, "id": 1, "custom_fields": [{"id": 360001, "value": "billing"},
                                                {"id": 42, "value": None}]},
            {**base, "id": 2, "custom_fields": [{"id": 42, "value": "x"},
                                                {"id": 360001, "value": "login"}]},
            {**base, "id": 3, "custom_fields": []},
            {**base, "id": 4}]
    f = tmp_path / "export.json"
    f.write_text(json.dumps({"tickets": rows}))
    columns = inspect_file(store, "tickets", f).columns
    assert "custom_fields.360001" in columns and "custom_fields.42" in columns
    from triage_core.store.mapping import preset

    # the preset with --map custom_fields.360001=category, as the command line builds it
    store.import_file("tickets", f, mapping=preset("zendesk").with_overrides(
        {"custom_fields.360001": "category"}))
    got = store.query("SELECT category FROM tickets ORDER BY ticket_id")["category"].tolist()
    assert got[:2] == ["billing", "login"] and pd.isna(got[2]) and pd.isna(got[3])


def test_json_fields_are_read_as_text(store: Store, data_dir: Path, tmp_path: Path) -> None:
    """Numbers and texts mixed in one field, integers beyond 64 bits, quoted numbers: every
    value as written, like a CSV cell (DuckDB's own JSON reader guesses a type per field)."""
    store.import_file("customers", data_dir / "customers.csv")
    f = tmp_path / "tickets.json"
    f.write_text(json.dumps([
        {"ticket_id": 5001, "created_at": "2026-02-01T10:00:00Z", "customer_id": "C1",
         "status": "open", "csat": "5"},
        {"ticket_id": "ZD-5002", "created_at": "2026-02-01 10:00:00 +02:00",
         "customer_id": "C1", "status": "open", "csat": 4},
        {"ticket_id": 123456789012345678901234, "created_at": "2026-02-01 10:00:00 -3:00",
         "customer_id": "C1", "status": "open", "csat": None}]))
    assert store.import_file("tickets", f).new_rows == 3
    t = store.query("SELECT ticket_id, created_at, csat FROM tickets ORDER BY created_at")
    assert t["ticket_id"].tolist() == ["ZD-5002", "5001", "123456789012345678901234"]
    assert [str(v) for v in t["created_at"]] == ["2026-02-01 08:00:00", "2026-02-01 10:00:00",
                                                 "2026-02-01 13:00:00"]
    assert t["csat"].tolist()[:2] == [4, 5]


def test_wrapped_api_export_with_nested_fields(store: Store, data_dir: Path,
                                               tmp_path: Path) -> None:
    """Zendesk's tickets API: {"tickets": [...], "next_page": ...}, the channel in via.channel
    and the rating in satisfaction_rating.score; the preset reads them."""
    store.import_file("customers", data_dir / "customers.csv")
    f = tmp_path / "export.json"
    f.write_text(json.dumps({"tickets": [
        {"id": 901, "subject": "Refund", "description": "Still no refund", "status": "hold",
         "requester_id": "C1", "created_at": "2026-02-01T10:00:00Z",
         "via": {"channel": "web", "source": {"from": {}, "to": {}}},
         "satisfaction_rating": {"score": "bad"}, "custom_fields": [{"id": 1, "value": None}]},
        {"id": 902, "subject": "Hi", "description": "Thanks", "status": "solved",
         "requester_id": "C2", "created_at": "2026-02-02T10:00:00Z",
         "via": {"channel": "email"}, "satisfaction_rating": {"score": "good"}}],
        "next_page": None, "count": 2}))
    result = store.import_file("tickets", f, preset="zendesk")
    assert result.new_rows == 2
    t = store.query("SELECT ticket_id, channel, status, csat FROM tickets ORDER BY ticket_id")
    assert t.to_dict("list") == {"ticket_id": ["901", "902"], "channel": ["web", "email"],
                                 "status": ["on_hold", "solved"], "csat": [1, 5]}


def test_a_customer_known_by_address_is_one_customer_whatever_its_case(store: Store,
                                                                       tmp_path: Path) -> None:
    """A CRM's customers file writes "Jane@Example.com", the helpdesk's tickets
    "jane@example.com " (they were refused as an unknown customer, or with --create-missing
    made a second customer); a file's own two spellings of a new address are one customer;
    an id that is no address keeps its case."""
    (tmp_path / "c.csv").write_text("customer_id,plan\nJane@Example.com,basic\nAB-1,free\n")
    store.import_file("customers", tmp_path / "c.csv")
    (tmp_path / "t.csv").write_text(
        "ticket_id,created_at,customer_id,status\n"
        "T1,2026-02-01 10:00:00,jane@example.com ,open\n"
        "T2,2026-02-01 11:00:00,NEW@Example.org,open\n"
        "T3,2026-02-01 12:00:00,new@example.ORG,open\n")
    with pytest.raises(ImportValidationError) as info:  # the new address: still unknown
        store.import_file("tickets", tmp_path / "t.csv")
    assert "NEW@Example.org" in str(info.value) and info.value.row == 2
    store.import_file("tickets", tmp_path / "t.csv", create_missing=True)
    t = store.query("SELECT ticket_id, customer_id FROM tickets ORDER BY ticket_id")
    assert t["customer_id"].tolist() == ["Jane@Example.com", "NEW@Example.org",
                                         "NEW@Example.org"]
    assert sorted(store.query("SELECT customer_id FROM customers")["customer_id"]) == [
        "AB-1", "Jane@Example.com", "NEW@Example.org"]
    (tmp_path / "c2.csv").write_text("customer_id,plan\nJANE@EXAMPLE.COM,pro\nab-1,free\n")
    assert store.import_file("customers", tmp_path / "c2.csv").existing_rows == 1
    c = store.query("SELECT customer_id, coalesce(plan, '-') AS plan FROM customers"
                    " ORDER BY customer_id")
    assert c.values.tolist() == [["AB-1", "free"], ["Jane@Example.com", "pro"],
                                 ["NEW@Example.org", "-"], ["ab-1", "free"]]
    (tmp_path / "c3.csv").write_text("customer_id,plan\nx@y.io,free\nX@Y.io,pro\n")
    with pytest.raises(ImportValidationError, match="duplicate") as dup:
        store.import_file("customers", tmp_path / "c3.csv")
    assert dup.value.row == 2


def test_excels_sep_line_before_the_header_is_read_past(store: Store, tmp_path: Path) -> None:
    """Excel writes "sep=;" above the header of a CSV it saves for another locale."""
    f = tmp_path / "excel.csv"
    f.write_text("sep=;\nticket_id;created_at;customer_id;status;subject\n"
                 "T1;2026-02-01 10:00:00;C1;open;Refund\n")
    assert store.import_file("tickets", f, create_missing=True).new_rows == 1
    assert store.query("SELECT subject FROM tickets")["subject"].tolist() == ["Refund"]
    # a header with more commas inside a quoted name than semicolons between the names
    g = tmp_path / "semi.csv"
    g.write_text('ticket_id;"Name (last, first, middle)";created_at;customer_id;status\n'
                 "T2;a;2026-02-01 10:00:00;C1;open\n")
    assert store.import_file("tickets", g, create_missing=True).new_rows == 1


def test_a_csv_ticket_of_megabytes_is_stored_whole(store: Store, tmp_path: Path) -> None:
    """A pasted log of 3 MB in one CSV row (DuckDB reads lines up to 2 MB by default, and the
    refusal then quoted Python's 128 KB field limit); a value beyond the limit is refused,
    naming its row."""
    from triage_core.store import formats

    body = "log line 0123456789\n" * 150_000
    f = tmp_path / "t.csv"
    pd.DataFrame({"ticket_id": ["T1", "T2"], "created_at": ["2026-02-01 10:00:00"] * 2,
                  "customer_id": ["C1", "C1"], "status": ["open"] * 2,
                  "body": [body, "short"]}).to_csv(f, index=False)
    assert store.import_file("tickets", f, create_missing=True).new_rows == 2
    got = store.query("SELECT length(body) AS n FROM tickets ORDER BY ticket_id")["n"].tolist()
    assert got == [len(body.strip()), 5]
    import csv

    with pytest.MonkeyPatch.context() as mp:  # a limit of 1 MB, to refuse a value beyond it
        mp.setattr(formats, "MAX_CSV_LINE_BYTES", 1 << 20)
        mp.setitem(formats.READERS, "csv", formats.READERS["csv"].replace(
            str(64 << 20), str(1 << 20)))
        before = csv.field_size_limit(1 << 20)
        try:
            with pytest.raises(ImportValidationError, match="longer than 1 MB") as info:
                store.import_file("tickets", f, create_missing=True)
        finally:
            csv.field_size_limit(before)
    assert info.value.row == 1


@pytest.mark.parametrize("shape", ["intercom", "hal", "servicenow", "pages", "ndjson_pages"])
def test_other_apis_wrappers_and_pages_of_an_export(store: Store, tmp_path: Path,
                                                    shape: str) -> None:
    """Intercom's {"conversations": [...]}, Help Scout's {"_embedded": {"conversations":
    [...]}}, ServiceNow's {"result": [...]}, and pages of an export written one after another
    (or one a line): their records (each was read as one record holding a list, and refused
    for missing columns)."""
    rows = [{"ticket_id": f"W{i}", "created_at": "2026-02-01T10:00:00Z", "customer_id": "C1",
             "status": "open", "tags": [{"id": 1, "name": "x"}]} for i in range(4)]
    text = {"intercom": json.dumps({"type": "conversation.list", "conversations": rows,
                                    "pages": {"next": None}, "total_count": 4}),
            "hal": json.dumps({"_embedded": {"conversations": rows}, "page": {"size": 50}}),
            "servicenow": json.dumps({"result": rows}),
            "pages": json.dumps({"tickets": rows[:3], "next_page": "p2"})
            + json.dumps({"tickets": rows[3:], "next_page": None}),
            "ndjson_pages": json.dumps({"tickets": rows[:1], "count": 4}) + "\n"
            + json.dumps({"tickets": [], "count": 4}) + "\n"
            + json.dumps({"tickets": rows[1:], "count": 4}) + "\n"}[shape]
    f = tmp_path / "export.json"
    f.write_text(text)
    result = store.import_file("tickets", f, create_missing=True)
    assert result.new_rows == 4 and "tags" in result.ignored_columns
    assert store.query("SELECT ticket_id FROM tickets ORDER BY ticket_id")[
        "ticket_id"].tolist() == ["W0", "W1", "W2", "W3"]


@pytest.mark.parametrize("extra", [{"data": [{"k": 1}]}, {"cases": []}, {"issues": [{"id": 9}]},
                                   {"request": {"id": 7, "type": "refund"}}])
@pytest.mark.parametrize("n", [1, 2])
def test_tickets_holding_a_list_named_like_a_wrapper_stay_tickets(
        store: Store, tmp_path: Path, extra: dict, n: int) -> None:
    """Tickets one a line, each with a list or object under a wrapper's name: tickets, not
    pages (an empty "cases" list made the file "nothing to import", silently; one ticket
    with a "request" object was read as that object)."""
    f = tmp_path / "t.jsonl"
    f.write_text("".join(json.dumps({"ticket_id": f"D{i}", "created_at": "2026-02-01 10:00:00",
                                     "customer_id": "C1", "status": "open", **extra}) + "\n"
                         for i in range(n)))
    assert store.import_file("tickets", f, create_missing=True).new_rows == n


def test_one_ticket_as_the_api_answers_it(store: Store, data_dir: Path, tmp_path: Path) -> None:
    """Zendesk's answer for one ticket, ``{"ticket": {...}}`` with side-loaded users beside
    it, is that ticket (it was refused as "a JSON object with no records")."""
    store.import_file("customers", data_dir / "customers.csv")
    f = tmp_path / "ticket.json"
    f.write_text(json.dumps({"ticket": {
        "id": 77, "subject": "Refund", "description": "Still no refund", "status": "open",
        "requester_id": "C1", "created_at": "2026-02-01T10:00:00Z", "via": {"channel": "web"}},
        "users": [{"id": "C1", "name": "Jane"}]}))
    assert store.import_file("tickets", f, preset="zendesk").new_rows == 1
    t = store.query("SELECT ticket_id, channel, subject FROM tickets")
    assert t.to_dict("list") == {"ticket_id": ["77"], "channel": ["web"], "subject": ["Refund"]}


def test_freshdesk_api_json_with_the_preset(store: Store, data_dir: Path,
                                           tmp_path: Path) -> None:
    """The tickets API's numeric status and source codes, description_text and requester_id."""
    store.import_file("customers", data_dir / "customers.csv")
    f = tmp_path / "fd.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in [
        {"id": 4001, "subject": "Payment failed", "description": "<div>My card</div>",
         "description_text": "My card was declined", "status": 2, "source": 1,
         "requester_id": "C1", "responder_id": None, "created_at": "2026-03-10T08:00:00Z"},
        {"id": 4002, "subject": "Late", "description": "", "description_text": "Not here",
         "status": 4, "source": 7, "requester_id": "C2", "responder_id": 77,
         "created_at": "2026-03-11T09:00:00Z"}]))
    assert store.import_file("tickets", f, preset="freshdesk").new_rows == 2
    t = store.query("SELECT ticket_id, status, channel, body, coalesce(agent_id, '-') AS agent"
                    " FROM tickets ORDER BY ticket_id")
    assert t.to_dict("list") == {"ticket_id": ["4001", "4002"], "status": ["open", "solved"],
                                 "channel": ["email", "chat"],
                                 "body": ["My card was declined", "Not here"],
                                 "agent": ["-", "77"]}


def test_an_unknown_reference_is_named_by_the_files_column(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "t.csv"
    f.write_text("Ticket ID,Created time,Contact ID,Status\nF1,2026-03-01 10:00:00,NOBODY,Open\n")
    with pytest.raises(ImportValidationError) as info:
        store.import_file("tickets", f, preset="freshdesk")
    assert info.value.column == "Contact ID"  # it named ours, customer_id


def test_a_users_export_keys_customers_by_its_id_and_its_tickets_find_them(
        store: Store, tmp_path: Path) -> None:
    """A Zendesk users export (Id, Name, Email): the suggested mapping took Email for
    customer_id (a synonym), so the tickets' "Requester id" found no customer."""
    from triage_core.store.mapping import guess_columns, suggest

    columns = ["Id", "Name", "Email", "Created at"]
    proposed = suggest(IMPORT_TABLES["customers"], columns)
    assert proposed.columns["customer_id"] == ("Id",)
    assert guess_columns(IMPORT_TABLES["agents"], ["id", "name", "email"])["agent_id"] == "id"
    users = tmp_path / "users.csv"
    users.write_text("Id,Name,Email,Created at\n900149,Ana,ana@example.com,2024-01-02 10:00:00\n")
    store.import_file("customers", users, mapping={"Id": "customer_id"})
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("Id,Requester id,Subject,Status,Created at\n"
                       "5001,900149,Card declined,open,2024-03-05 14:02:11\n")
    store.import_file("tickets", tickets, preset="zendesk")
    assert store.query("SELECT customer_id FROM tickets")["customer_id"].tolist() == ["900149"]


def test_suggested_mapping_reads_the_field_of_a_nested_object(store: Store,
                                                              tmp_path: Path) -> None:
    from triage_core.store.inspect import inspect_file

    f = tmp_path / "export.jsonl"
    f.write_text(json.dumps({"id": 1, "requester_id": "C1", "status": "open",
                             "created_at": "2026-02-01T10:00:00Z", "via": {"channel": "web"},
                             "satisfaction_rating": {"score": "good", "comment": "ok"}}) + "\n")
    columns = inspect_file(store, "tickets", f).suggestion().columns
    assert columns["channel"] == ("via.channel",)
    assert columns["csat"] == ("satisfaction_rating.score",)
    assert columns["ticket_id"] == ("id",)
    # Intercom: a source's id is a message id, its type the channel (the id was taken)
    f.write_text(json.dumps({"id": 1, "contact": "C1", "state": "open", "created_at": 1,
                             "source": {"id": "403918330", "type": "email"}}) + "\n")
    assert inspect_file(store, "tickets", f).suggestion().columns["channel"] == (
        "source.type",)


@pytest.mark.parametrize(("header", "want"), [
    ("Ticket-ID;Betreff;Beschreibung;Status;Priorität;Anfragender E-Mail;Erstellt;Gelöst;Kanal",
     ["ticket_id", "subject", "body", "status", "source_priority", "customer_id", "created_at",
      "resolved_at", "channel"]),
    ("ID;Sujet;Description;Statut;Priorité;Demandeur;E-mail du demandeur;Date de création;"
     "Résolu le;Canal",
     ["ticket_id", "subject", "body", "status", "source_priority", None, "customer_id",
      "created_at", "resolved_at", "channel"]),
    ("Summary;Issue key;Issue Type;Status;Priority;Assignee;Reporter;Created;Resolved;"
     "Description",
     # (Issue Type: left out by suggest when its values are Jira's issue types)
     ["subject", "ticket_id", "category", "status", "source_priority", "agent_id",
      "customer_id", "created_at", "resolved_at", "body"]),
    ('"Ticket ID";"Ticket created - Timestamp";"Ticket solved - Timestamp";"Requester email"',
     ["ticket_id", "created_at", "resolved_at", "customer_id"]),
    # a word for the row before our name: a tweet set, a reviews export (nothing was found
    # but the text); an "email_id" is an address, and a customer's id stays the customer's
    ("tweet_id;airline;text;sentiment;negativereason;tweet_created",
     ["ticket_id", None, "body", None, None, "created_at"]),
    ("review_id;review_date;reviewer;review_text;stars",
     ["ticket_id", "created_at", None, "body", None]),
    ("email_id;customer_id;message_timestamp;message",
     [None, "customer_id", "created_at", "body"]),
    ("id;request_id;created", ["ticket_id", None, "created_at"]),
    # only the key, times, subject and body: a call's type is no category
    ("call_id;call_type;call_created;review_rating", ["ticket_id", None, "created_at",
                                                         None])])
def test_suggest_reads_localized_and_other_helpdesks_headers(header: str,
                                                             want: list[str | None]) -> None:
    """German, French, Jira and Zendesk Explore headers: only ID, Status and Description
    were found (accented names did not even normalize: 'Gelöst' was 'gel_st')."""
    from triage_core.schema import TICKETS
    from triage_core.store.mapping import guess_columns

    names = [h.strip('"') for h in header.split(";")]
    found = {src: ours for ours, src in guess_columns(TICKETS, names).items()}
    assert [found.get(n) for n in names] == want


def test_a_german_zendesk_export_imports_with_the_suggested_mapping(store: Store,
                                                                    tmp_path: Path) -> None:
    """Headers, day-first times, status and channel words of a German interface's export."""
    from triage_core.store.inspect import inspect_file

    f = tmp_path / "de.csv"
    f.write_text("Ticket-ID;Betreff;Status;Anfragender E-Mail;Erstellt;Gelöst;Kanal\n"
                 "1;Rechnung;Offen;a@b.de;31.12.2025 14:05;-;E-Mail\n"
                 "2;Login;Gelöst;a@b.de;02.01.2026 09:00;03.01.2026 10:00;Web-Formular\n"
                 "3;App;Angehalten;a@b.de;04.01.2026 09:00;-;Telefon\n", encoding="utf-8")
    suggestion = inspect_file(store, "tickets", f).suggestion()
    assert store.import_file("tickets", f, mapping=suggestion, create_missing=True).new_rows == 3
    t = store.query("SELECT status, channel, CAST(created_at AS VARCHAR) AS created"
                    " FROM tickets ORDER BY ticket_id")
    assert t.values.tolist() == [["open", "email", "2025-12-31 14:05:00"],
                                 ["solved", "web", "2026-01-02 09:00:00"],
                                 ["on_hold", "phone", "2026-01-04 09:00:00"]]


def test_suggest_prefers_the_plain_text_body_to_the_html_one(store: Store,
                                                              tmp_path: Path) -> None:
    """Freshdesk's tickets API gives description (HTML) and description_text: the body is
    the text one, whichever comes first in the file."""
    from triage_core.store.inspect import inspect_file

    f = tmp_path / "fd.jsonl"
    f.write_text(json.dumps({"id": 1, "requester_id": "C1", "status": 2,
                             "created_at": "2026-02-01T10:00:00Z",
                             "description": "<div>My card</div>",
                             "description_text": "My card"}) + "\n")
    assert inspect_file(store, "tickets", f).suggestion().columns["body"] == (
        "description_text",)


def test_suggest_leaves_zendesk_ticket_types_out_of_the_category(store: Store,
                                                                  tmp_path: Path) -> None:
    """A Zendesk export's "Type" (question, incident, problem, task) is no issue category:
    suggest does not map it and says why (the CLI's comment, the Data page's caption); a
    "Type" column of a helpdesk's own categories (Freshdesk's) is mapped."""
    from triage_core.store.inspect import inspect_file

    zendesk = tmp_path / "zendesk.csv"
    zendesk.write_text("Id,Requester id,Created at,Status,Type,Subject\n"
                       "1,C1,2026-02-01 10:00:00,open,Incident,Login fails\n"
                       "2,C1,2026-02-01 10:00:00,open,question,Refund?\n"
                       "3,C1,2026-02-01 10:00:00,open,-,Hello\n")
    report = inspect_file(store, "tickets", zendesk)
    assert "category" not in report.suggestion().columns
    assert "category" not in report.guesses
    assert ("'Type' holds Zendesk's and Freshdesk's built-in ticket types (incident, question)"
            in report.passed_over["category"])
    result = store.import_file("tickets", zendesk, preset="zendesk", create_missing=True)
    assert not [w for w in result.warnings if "category" in w], result.warnings
    assert store.scalar("SELECT count(*) FROM tickets WHERE category IS NOT NULL") == 0
    freshdesk = tmp_path / "freshdesk.csv"
    freshdesk.write_text("Ticket ID,Contact ID,Created time,Status,Type,Subject\n"
                         "1,C1,2026-02-01 10:00:00,open,Refund,Money back\n"
                         "2,C1,2026-02-01 10:00:00,open,Question,How?\n")
    report = inspect_file(store, "tickets", freshdesk)
    assert report.suggestion().columns["category"] == ("Type",)
    assert report.passed_over == {}
    result = store.import_file("tickets", freshdesk, create_missing=True,
                               mapping={"Ticket ID": "ticket_id", "Contact ID": "customer_id",
                                        "Created time": "created_at"})
    assert any("'Type' (-> category?)" in w for w in result.warnings), result.warnings


@pytest.mark.parametrize(("values", "why"), [
    (["email", "chat", "phone"], "holds channels (chat, email, phone)"),
    (["Bug", "Task", "Story"], "holds Jira's issue types (bug, story, task)"),
    (["conversation"], "holds one value for every row ('conversation')")])
def test_suggest_leaves_other_types_that_are_no_categories_out(
        store: Store, tmp_path: Path, values: list[str], why: str) -> None:
    """Help Scout's Type is the channel, Jira's Issue Type a kind of work, Intercom's type
    "conversation" on every row: suggest took each as the category."""
    from triage_core.store.inspect import inspect_file

    f = tmp_path / "export.csv"
    f.write_text("id,customer,created,status,type,subject\n" + "".join(
        f"{i},C1,2026-02-01 10:00:00,open,{values[i % len(values)]},s{i}\n" for i in range(12)))
    report = inspect_file(store, "tickets", f)
    assert "category" not in report.suggestion().columns
    assert why in report.passed_over["category"]


def test_suggest_lists_satisfaction_words_with_their_likely_scores(store: Store,
                                                                    data_dir: Path,
                                                                    tmp_path: Path) -> None:
    """csat holds 1-5: words (Zendesk's good/bad, a survey's "Very happy") are listed under
    [values.csat] like a status that does not fit, the usual ones proposed, so the suggested
    mapping imports."""
    from triage_core.store.inspect import inspect_file

    store.import_file("customers", data_dir / "customers.csv")
    f = tmp_path / "export.csv"
    f.write_text("ticket_id,created_at,customer_id,status,csat\n"
                 "T1,2026-02-01 10:00:00,C1,open,good\nT2,2026-02-01 10:00:00,C1,open,Bad\n"
                 "T3,2026-02-01 10:00:00,C1,open,Very happy\nT4,2026-02-01 10:00:00,C1,open,3\n"
                 "T5,2026-02-01 10:00:00,C1,open,meh\nT6,2026-02-01 10:00:00,C1,open,-\n")
    report = inspect_file(store, "tickets", f)
    assert sorted(v for v, _ in report.unmatched["csat"]) == ["Bad", "Very happy", "good",
                                                               "meh"]
    assert report.placeholders == {"csat": ["-"]}  # an empty cell, listed apart
    suggestion = report.suggestion()
    # Zendesk's "-" (no survey) is no score: proposed as empty, as its preset maps it
    assert suggestion.values["csat"] == {"good": "5", "Bad": "1", "Very happy": "4",
                                         "meh": "meh", "-": ""}
    from triage_core.store.mapping import ImportMapping

    written = suggestion.to_toml().replace('"meh" = "meh"', '"meh" = "3"')
    store.import_file("tickets", f, mapping=ImportMapping.from_toml(written))
    got = store.query("SELECT csat FROM tickets ORDER BY ticket_id")["csat"]
    assert got.iloc[:5].tolist() == [5, 1, 4, 3, 3] and pd.isna(got.iloc[5])


def test_satisfaction_words_are_listed_with_how_to_map_them(store: Store,
                                                           tmp_path: Path) -> None:
    """A survey's words in csat were refused one at a time ("'Amazing' is not a whole
    number"), with no word of how to map them, unlike a status of another helpdesk."""
    f = tmp_path / "t.csv"
    f.write_text("ticket_id,created_at,customer_id,status,csat\n" + "".join(
        f"T{i},2026-02-01 10:00:00,C1,open,{v}\n"
        for i, v in enumerate(["4", "Amazing", "Meh", "Amazing ", ""])))
    with pytest.raises(ImportValidationError) as info:
        store.import_file("tickets", f, create_missing=True)
    assert info.value.row == 2 and info.value.column == "csat"
    assert ("2 values are not a whole number 1-5: 'Amazing' (2 rows), 'Meh' (1 row); map them"
            ' in a mapping file ([values.csat] "Amazing" =') in str(info.value)
    assert store.scalar("SELECT count(*) FROM tickets") == 0


def test_a_ticket_listed_again_keeps_its_last_row_when_the_mapping_says_so(
        store: Store, data_dir: Path, tmp_path: Path) -> None:
    """Zendesk's incremental export lists a ticket again after each change: its preset keeps
    the last of each (and says how many rows went); without it, the file is refused."""
    from triage_core.store.mapping import ImportMapping

    store.import_file("customers", data_dir / "customers.csv")
    rows = [{"id": 7, "requester_id": "C1", "status": "open", "subject": "first",
             "created_at": "2026-02-01T10:00:00Z"},
            {"id": 8, "requester_id": "C1", "status": "new", "subject": "other",
             "created_at": "2026-02-01T11:00:00Z"},
            {"id": 7, "requester_id": "C1", "status": "solved", "subject": "changed",
             "created_at": "2026-02-01T10:00:00Z"}]
    f = tmp_path / "incremental.json"
    f.write_text(json.dumps({"tickets": rows, "end_of_stream": True}))
    plain = ImportMapping.from_mapping({"columns": {"ticket_id": "id",
                                                    "customer_id": "requester_id"}})
    with pytest.raises(ImportValidationError, match="duplicate ticket_id '7'"):
        store.import_file("tickets", f, mapping=plain)
    result = store.import_file("tickets", f, preset="zendesk")
    assert (result.rows_in_file, result.new_rows, result.existing_rows) == (3, 2, 0)
    assert any("1 row listed a ticket_id again" in w for w in result.warnings)
    got = store.query("SELECT ticket_id, status, subject FROM tickets ORDER BY ticket_id")
    assert got.values.tolist() == [["7", "solved", "changed"], ["8", "new", "other"]]
    last = ImportMapping.from_toml(plain.to_toml().replace("[columns]",
                                                           'duplicates = "last"\n[columns]'))
    assert ImportMapping.from_toml(last.to_toml()).duplicates == "last"
    assert store.import_file("tickets", f, mapping=last).existing_rows == 2
    # rows without an id are no repeats: the first of them is named (it was the last)
    empty = tmp_path / "empty_ids.csv"
    empty.write_text("Id,Requester id,Subject,Status,Created at\n"
                     "9,C1,a,open,2026-02-01 10:00:00\n,C1,b,open,2026-02-01 10:00:00\n"
                     ",C1,c,open,2026-02-01 10:00:00\n")
    with pytest.raises(ImportValidationError, match="empty") as info:
        store.import_file("tickets", empty, preset="zendesk")
    assert info.value.row == 2


def test_ids_a_spreadsheet_wrote_in_scientific_notation_are_named(store: Store, data_dir: Path,
                                                                 tmp_path: Path) -> None:
    """Long numeric ids saved by a spreadsheet as 5.70301E+17 lost their last digits, so
    different tickets share one: the refusal says why and what to do, not only 'duplicate'."""
    store.import_file("customers", data_dir / "customers.csv")
    before = store.query("SELECT count(*) AS n FROM tickets")["n"][0]
    f = tmp_path / "tweets.csv"
    f.write_text("ticket_id,customer_id,created_at,status,body\n"
                 "5.70306E+17,C1,2026-02-01 10:00:00,open,first\n"
                 "5.70301E+17,C1,2026-02-01 11:00:00,open,second\n"
                 "5.70301E+17,C1,2026-02-01 12:00:00,open,third\n")
    with pytest.raises(ImportValidationError, match=r"row 3, column 'ticket_id': duplicate"
                       r" ticket_id '5\.70301E\+17' \(first seen in row 2\); the id is a long"
                       r" number a spreadsheet saved in scientific notation"):
        store.import_file("tickets", f)
    assert store.query("SELECT count(*) AS n FROM tickets")["n"][0] == before
    f.write_text("ticket_id,customer_id,created_at,status,body\n"
                 "T7,C1,2026-02-01 10:00:00,open,first\nT7,C1,2026-02-01 11:00:00,open,again\n")
    with pytest.raises(ImportValidationError, match=r"duplicate ticket_id 'T7' \(first seen in"
                       r" row 1\)$"):
        store.import_file("tickets", f)


def test_a_file_with_the_key_but_not_every_required_column_updates_existing_rows(
        store: Store, data_dir: Path, tmp_path: Path) -> None:
    """A spreadsheet of ticket ids and categories (a support lead labeling tickets), or agents'
    new capacities: the rows that exist take its columns and keep the rest; a new row is
    refused, naming it and what it lacks, and the database is unchanged."""
    store.import_file("customers", data_dir / "customers.csv")
    store.import_file("tickets", data_dir / "tickets.csv")
    before = store.query("SELECT * FROM tickets ORDER BY ticket_id")
    first, second = before["ticket_id"].iloc[:2]
    labels = tmp_path / "labels.csv"
    labels.write_text(f"ticket_id,category\n{first},Refunds\n{second},Login\n")
    result = store.import_file("tickets", labels)
    assert (result.new_rows, result.existing_rows) == (0, 2)
    assert not any("no text column" in w for w in result.warnings)  # the tickets keep theirs
    after = store.query("SELECT * FROM tickets ORDER BY ticket_id")
    assert after["category"].iloc[:2].tolist() == ["Refunds", "Login"]
    # a date of the labeling beside them is no created_at under another name
    labels.write_text(f"ticket_id,category,review_date\n{first},Refunds,2026-03-01\n")
    assert store.import_file("tickets", labels).existing_rows == 1
    same = [c for c in before.columns if c != "category"]
    pd.testing.assert_frame_equal(after[same], before[same])
    pd.testing.assert_frame_equal(after.iloc[2:], before.iloc[2:])
    labels.write_text(f"ticket_id,category\n{first},Billing\nNEW-1,Login\n")
    with pytest.raises(ImportValidationError, match=r"^labels\.csv, row 2, column 'ticket_id':"
                       r" ticket_id 'NEW-1' is not in tickets: a file without created_at,"
                       r" customer_id, status can only update the tickets that exist; add"
                       r" those columns to import new ones$"):
        store.import_file("tickets", labels)
    pd.testing.assert_frame_equal(store.query("SELECT * FROM tickets ORDER BY ticket_id"),
                                  after)
    # no row exists: a first import that lacks the columns, refused as ever
    labels.write_text("ticket_id,category\nNEW-1,Login\n")
    with pytest.raises(ImportValidationError, match="missing required columns for tickets"):
        store.import_file("tickets", labels)
    # the file seems to have a missing column under another name: refused, not an update
    labels.write_text(f"ticket_id,Requester,category\n{first},C1,Billing\n")
    with pytest.raises(ImportValidationError, match="perhaps customer_id = 'Requester'"):
        store.import_file("tickets", labels)
    store.import_file("agents", data_dir / "agents.csv")
    agent = store.query("SELECT agent_id, name, team FROM agents ORDER BY 1").iloc[0]
    capacity = tmp_path / "capacity.csv"
    capacity.write_text(f"agent_id,capacity\n{agent['agent_id']},3\n")
    store.import_file("agents", capacity)
    got = store.query("SELECT name, team, capacity FROM agents WHERE agent_id = ?",
                      [agent["agent_id"]]).iloc[0]
    assert (got["name"], got["team"], got["capacity"]) == (agent["name"], agent["team"], 3)


def test_zendesk_dashes_are_empty_fields(store: Store, data_dir: Path, tmp_path: Path) -> None:
    """Zendesk's CSV export writes "-" for a field without a value: empty, not a priority,
    agent or time called "-"."""
    store.import_file("customers", data_dir / "customers.csv")
    f = tmp_path / "export.csv"
    f.write_text("Id,Requester id,Subject,Description,Status,Via,Created at,Solved at,Assignee,"
                 "Satisfaction Score,Priority,Requester locale\n"
                 "1,C1,Hi,Body text,Open,-,2026-02-01 10:00:00,-,-,-,-,-\n")
    store.import_file("tickets", f, preset="zendesk")
    row = store.query("SELECT channel, resolved_at, agent_id, csat, source_priority, language"
                      " FROM tickets")
    assert row.isna().all(axis=None)


def test_zendesk_first_reply_minutes_become_the_first_response_time(store: Store,
                                                                    data_dir: Path,
                                                                    tmp_path: Path) -> None:
    """Zendesk's CSV export has "First reply time in minutes", no time of the first reply: the
    preset reads it as minutes after the ticket's creation, so first-response SLAs can be
    measured; a value that is no number of minutes is refused naming it."""
    store.import_file("customers", data_dir / "customers.csv")
    f = tmp_path / "export.csv"
    head = "Id,Requester id,Subject,Status,Created at,First reply time in minutes\n"
    f.write_text(head + "1,C1,Hi,Solved,2026-02-01 10:00:00 +0100,95\n"
                 "2,C1,Hi,Open,2026-02-01 11:00:00,-\n3,C1,Hi,Open,2026-02-01 12:00:00,1.5\n")
    store.import_file("tickets", f, preset="zendesk")
    got = store.query("SELECT ticket_id, created_at, first_response_at FROM tickets"
                      " ORDER BY ticket_id")
    assert got["first_response_at"].iloc[0] == pd.Timestamp("2026-02-01 10:35:00")  # UTC
    assert pd.isna(got["first_response_at"].iloc[1])
    assert got["first_response_at"].iloc[2] == pd.Timestamp("2026-02-01 12:01:30")
    before = store.query("SELECT * FROM tickets ORDER BY ticket_id")
    for bad in ("soon", "-3"):
        f.write_text(head + f"1,C1,Hi,Solved,2026-02-01 10:00:00,{bad}\n")
        with pytest.raises(ImportValidationError, match=rf"row 1, column 'First reply time in"
                           rf" minutes': cannot read '{bad}' as a number of minutes from 0 up"
                           " after created_at"):
            store.import_file("tickets", f, preset="zendesk")
    pd.testing.assert_frame_equal(store.query("SELECT * FROM tickets ORDER BY ticket_id"),
                                  before)
    # a file of ids and minutes only updates the tickets: minutes after the stored created_at
    # (it was refused, as "after created_at" found no created_at in the file)
    f.write_text("Id,First reply time in minutes\n 2 ,30\n")
    assert store.import_file("tickets", f, preset="zendesk").existing_rows == 1
    got = store.query("SELECT first_response_at FROM tickets WHERE ticket_id = '2'")
    assert got["first_response_at"].iloc[0] == pd.Timestamp("2026-02-01 11:30:00")
    # an id column named as a stored ticket's column (it read every ticket's created_at, and
    # the latest one was taken; "agent_id" mapped to ticket_id compared the stored agent_id)
    for header, mapping in (("ticket_id", None), ("TICKET_ID", None),
                            ("agent_id", {"agent_id": "ticket_id"})):
        f.write_text(f"{header},First reply time in minutes\n3,20\n")
        store.import_file("tickets", f, preset="zendesk", mapping=mapping)
        got = store.query("SELECT first_response_at FROM tickets WHERE ticket_id = '3'")
        assert got["first_response_at"].iloc[0] == pd.Timestamp("2026-02-01 12:20:00"), header
    before = store.query("SELECT * FROM tickets ORDER BY ticket_id")
    f.write_text("Id,First reply time in minutes\n1,10\n7,5\n")
    with pytest.raises(ImportValidationError, match=r"row 2, column 'Id': ticket_id '7' is not"
                       " in tickets: a file without created_at"):
        store.import_file("tickets", f, preset="zendesk")
    f.write_text("Id,First reply time in minutes\n1,soon\n")
    with pytest.raises(ImportValidationError, match=r"row 1, column 'First reply time in"
                       r" minutes': cannot read 'soon' as a number of minutes"):
        store.import_file("tickets", f, preset="zendesk")
    pd.testing.assert_frame_equal(store.query("SELECT * FROM tickets ORDER BY ticket_id"),
                                  before)
    # a column of our name instead (a webhook's body): a time, not the preset's minutes
    f.write_text("Id,Requester id,Subject,Status,Created at,first_response_at\n"
                 "4,C1,Hi,Open,2026-02-01 10:00:00,2026-02-01 10:20:00\n")
    store.import_file("tickets", f, preset="zendesk")
    got = store.query("SELECT first_response_at FROM tickets WHERE ticket_id = '4'")
    assert got["first_response_at"].iloc[0] == pd.Timestamp("2026-02-01 10:20:00")
    from triage_core.store.mapping import ImportMapping

    with pytest.raises(ConfigError, match=r'formats\.created_at: "minutes"'):
        ImportMapping.from_toml('[formats]\ncreated_at = "minutes"\n')


def test_numbers_with_a_decimal_comma_import_when_the_mapping_says_so(store: Store,
                                                                       tmp_path: Path) -> None:
    """European exports write 1.234,56: refused with the way out named; suggest proposes
    [formats] lifetime_value = "decimal_comma", which reads them (with [values] too)."""
    from triage_core.store.inspect import inspect_file
    from triage_core.store.mapping import ImportMapping

    f = tmp_path / "customers.csv"
    f.write_text("customer_id;segment;lifetime_value\nC1;smb;1234,56\nC2;smb;1.234.567,5\n"
                 "C3;smb;980\nC4;smb;-\nC5;smb;\n", encoding="utf-8")
    with pytest.raises(ImportValidationError, match='add \\[formats\\] lifetime_value ='
                       ' "decimal_comma"'):
        store.import_file("customers", f)
    report = inspect_file(store, "customers", f)
    assert report.formats == {}  # "-" is not a number of any form: nothing proposed
    mapping = ImportMapping.from_mapping({"formats": {"lifetime_value": "decimal_comma"},
                                          "values": {"lifetime_value": {"-": ""}}})
    store.import_file("customers", f, mapping=mapping)
    got = store.query("SELECT lifetime_value FROM customers ORDER BY customer_id")
    assert got["lifetime_value"].tolist()[:3] == [1234.56, 1234567.5, 980.0]
    assert got["lifetime_value"].isna().tolist()[3:] == [True, True]
    g = tmp_path / "plain.csv"
    g.write_text("customer_id;lifetime_value\nC1;1234,56\nC2;7\n", encoding="utf-8")
    assert inspect_file(store, "customers", g).suggestion().formats == {
        "lifetime_value": "decimal_comma"}
    # US exports write 1,250 and 980.50: a decimal point rules out a decimal comma, so
    # thousands_comma is proposed; 1,250 alone may be either, so nothing is; the refusal
    # names both readings
    for name, text, proposed in (
            ("us.csv", 'C1,"1,250"\nC2,"12,000"\nC3,980.50\nC4,45\n', "thousands_comma"),
            ("us2.csv", 'C1,"1,234.56"\nC2,"12,000"\n', "thousands_comma"),
            ("ambiguous.csv", 'C1,"1,250"\nC2,"12,000"\n', None)):
        h = tmp_path / name
        h.write_text("customer_id,lifetime_value\n" + text, encoding="utf-8")
        assert inspect_file(store, "customers", h).suggestion().formats == (
            {"lifetime_value": proposed} if proposed else {}), name
        with pytest.raises(ImportValidationError,
                           match='a thousands separator\\? add \\[formats\\] lifetime_value = '
                           '"thousands_comma"; a decimal comma\\?'):
            store.import_file("customers", h)
    store.import_file("customers", tmp_path / "us.csv",
                      mapping=ImportMapping.from_mapping(
                          {"formats": {"lifetime_value": "thousands_comma"}}))
    got = store.query("SELECT lifetime_value FROM customers ORDER BY customer_id")
    assert got["lifetime_value"].tolist()[:4] == [1250.0, 12000.0, 980.5, 45.0]
    # a value of the other form is refused with its row, not read another way
    # (980.50 under decimal_comma was stored as 980.5; 12,5 under thousands_comma as 125)
    before = store.query("SELECT * FROM customers ORDER BY customer_id")
    for fmt, text, bad in (("decimal_comma", "C1;1.250,5\nC2;980.50\n", "980.50"),
                           ("thousands_comma", 'C1,"1,250.5"\nC2,"12,5"\n', "12,5")):
        h = tmp_path / f"{fmt}.csv"
        sep = ";" if fmt == "decimal_comma" else ","
        h.write_text(f"customer_id{sep}lifetime_value\n" + text, encoding="utf-8")
        with pytest.raises(ImportValidationError) as caught:
            store.import_file("customers", h, mapping=ImportMapping.from_mapping(
                {"formats": {"lifetime_value": fmt}}))
        assert caught.value.row == 2 and caught.value.column == "lifetime_value"
        assert f"'{bad}' is not a number written with" in str(caught.value), caught.value
        assert "\u2063" not in str(caught.value)
    assert store.query("SELECT * FROM customers ORDER BY customer_id").equals(before)
    # a column the file types as numbers (Parquet) is read as is under either format
    pq = tmp_path / "typed.parquet"
    pd.DataFrame({"customer_id": ["C1", "C2"], "lifetime_value": [980.5, 12.0]}).to_parquet(pq)
    for fmt in ("decimal_comma", "thousands_comma"):
        store.import_file("customers", pq, mapping=ImportMapping.from_mapping(
            {"formats": {"lifetime_value": fmt}}))
        got = store.query("SELECT lifetime_value FROM customers ORDER BY customer_id")
        assert got["lifetime_value"].tolist()[:2] == [980.5, 12.0], fmt
    with pytest.raises(TriageError, match="decimal_comma"):
        ImportMapping.from_mapping({"formats": {"lifetime_value": "%Y"}})


def test_time_offsets_after_a_space_are_kept(store: Store, data_dir: Path,
                                             tmp_path: Path) -> None:
    store.import_file("customers", data_dir / "customers.csv")
    f = tmp_path / "t.csv"
    f.write_text("ticket_id,created_at,customer_id,status\n"
                 "T1,2026-03-01T10:00:00 +02:00,C1,open\nT2,2026-03-01 10:00:00 +5:30,C1,open\n"
                 "T3,2026-03-01T10:00:00 -0300,C1,open\nT4,2026-03-01 10:00:00 -3:00,C1,open\n"
                 "T5,2026-03-01 10:00:00 Z,C1,open\nT6,2026-03-01 10:00:00+0100,C1,open\n")
    store.import_file("tickets", f)
    got = store.query("SELECT ticket_id, strftime(created_at, '%H:%M') AS t FROM tickets"
                      " ORDER BY ticket_id")["t"].tolist()
    assert got == ["08:00", "04:30", "13:00", "13:00", "10:00", "09:00"]


def test_a_mapping_reads_times_in_the_helpdesks_own_format(store: Store, data_dir: Path,
                                                           tmp_path: Path) -> None:
    """US and European exports write 03/12/2026 2:30 PM; ISO 8601 alone is read without a
    mapping (which of 03/12 is the month is not in the file), the mapping's [formats] says."""
    from triage_core.store.mapping import ImportMapping

    store.import_file("customers", data_dir / "customers.csv")
    f = tmp_path / "us.csv"
    f.write_text("ticket_id,created_at,customer_id,status,resolved_at\n"
                 "T1,03/12/2026 2:30 PM,C1,open,3/13/2026 9:05 AM\n"
                 "T2,12/31/2025 11:59 PM,C1,open,\n")
    with pytest.raises(ImportValidationError,
                       match=r"row 1, column 'created_at'.*\[formats\] created_at = "):
        store.import_file("tickets", f)
    mapping = ImportMapping.from_toml('[formats]\ncreated_at = "%m/%d/%Y %I:%M %p"\n'
                                      'resolved_at = "%m/%d/%Y %I:%M %p"\n')
    assert ImportMapping.from_toml(mapping.to_toml()).formats == mapping.formats
    store.import_file("tickets", f, mapping=mapping)
    got = store.query("SELECT ticket_id, strftime(created_at, '%Y-%m-%d %H:%M') AS c,"
                      " strftime(resolved_at, '%Y-%m-%d %H:%M') AS r FROM tickets"
                      " ORDER BY ticket_id")
    assert got["c"].tolist() == ["2026-03-12 14:30", "2025-12-31 23:59"]
    assert got["r"].iloc[0] == "2026-03-13 09:05" and pd.isna(got["r"].iloc[1])
    # an offset is made UTC; a value the format does not fit is named (ISO 8601 is still
    # read), nothing is written
    eu = tmp_path / "eu.csv"
    eu.write_text("ticket_id,created_at,customer_id,status\n"
                  "T3,13.03.2026 14:30 +0200,C1,open\nT4,13/03/2026,C1,open\n")
    with pytest.raises(ImportValidationError, match=r"row 2, column 'created_at': cannot read "
                       r"'13/03/2026' as a timestamp in the mapping's format"):
        store.import_file("tickets", eu, mapping=ImportMapping.from_toml(
            '[formats]\ncreated_at = "%d.%m.%Y %H:%M %z"\n'))
    assert store.query("SELECT count(*) AS n FROM tickets")["n"][0] == 2
    eu.write_text("ticket_id,created_at,customer_id,status\nT3,13.03.2026 14:30 +0200,C1,open\n")
    store.import_file("tickets", eu, mapping=ImportMapping.from_toml(
        '[formats]\ncreated_at = "%d.%m.%Y %H:%M %z"\n'))
    assert str(store.query("SELECT created_at FROM tickets WHERE ticket_id = 'T3'")
               ["created_at"][0]) == "2026-03-13 12:30:00"


def test_an_empty_cell_written_as_a_dash_is_refused_with_the_mapping_that_reads_it(
        store: Store, data_dir: Path, tmp_path: Path) -> None:
    """Exports write "-" or "N/A" for no value; in a time or number column the import says
    how the mapping reads it as empty (no format would), and reads it so with that mapping."""
    from triage_core.store.mapping import ImportMapping

    store.import_file("customers", data_dir / "customers.csv")
    f = tmp_path / "dash.csv"
    f.write_text("ticket_id,created_at,customer_id,status,resolved_at\n"
                 "T1,2026-03-12 14:30,C1,open,2026-03-13 09:00\nT2,2026-03-12 15:00,C1,open,-\n")
    with pytest.raises(ImportValidationError, match=r"row 2, column 'resolved_at': '-' is not a"
                       r" time; .*\[values.resolved_at\] \"-\" = \"\""):
        store.import_file("tickets", f)
    c = tmp_path / "ltv.csv"
    c.write_text("customer_id,lifetime_value\nC1,120.5\nC2,N/A\n")
    with pytest.raises(ImportValidationError, match=r"row 2, column 'lifetime_value': 'N/A' is"
                       r" not a number; .*\[values.lifetime_value\] \"N/A\" = \"\""):
        store.import_file("customers", c)
    # a required column's dash is no empty cell to map: the format advice stays
    f.write_text("ticket_id,created_at,customer_id,status\nT3,-,C1,open\n")
    with pytest.raises(ImportValidationError, match=r"'created_at': cannot read '-' as a"):
        store.import_file("tickets", f)
    assert store.query("SELECT count(*) AS n FROM tickets")["n"][0] == 0
    f.write_text("ticket_id,created_at,customer_id,status,resolved_at\n"
                 "T1,2026-03-12 14:30,C1,open,2026-03-13 09:00\nT2,2026-03-12 15:00,C1,open,-\n")
    store.import_file("tickets", f, mapping=ImportMapping.from_toml(
        '[values.resolved_at]\n"-" = ""\n'))
    got = store.query("SELECT resolved_at FROM tickets ORDER BY ticket_id")["resolved_at"]
    assert str(got[0]) == "2026-03-13 09:00:00" and pd.isna(got[1])


def test_epoch_numbers_are_read_when_the_mapping_says_so(store: Store, data_dir: Path,
                                                         tmp_path: Path) -> None:
    """Seconds or milliseconds since 1970 are refused without a mapping (which of the two?),
    read with [formats] ... = "epoch" / "epoch_ms"; a number outside 1970-2099 is named."""
    from triage_core.store.inspect import inspect_file
    from triage_core.store.mapping import ImportMapping

    store.import_file("customers", data_dir / "customers.csv")
    f = tmp_path / "epoch.csv"
    f.write_text("ticket_id,created_at,customer_id,status\nE1,1741000000,C1,open\n"
                 "E2,1741000000.5,C1,open\n")
    assert inspect_file(store, "tickets", f).suggestion().formats == {"created_at": "epoch"}
    with pytest.raises(ImportValidationError, match="cannot read '1741000000'"):
        store.import_file("tickets", f)
    seconds = ImportMapping.from_toml('[formats]\ncreated_at = "epoch"\n')
    store.import_file("tickets", f, mapping=seconds)
    got = store.query("SELECT strftime(created_at, '%Y-%m-%d %H:%M:%S.%g') AS t FROM tickets"
                      " ORDER BY ticket_id")["t"].tolist()
    assert got == ["2025-03-03 11:06:40.000", "2025-03-03 11:06:40.500"]
    f.write_text("ticket_id,created_at,customer_id,status\nE3,1741000000123,C1,open\n")
    assert inspect_file(store, "tickets", f).suggestion().formats == {"created_at": "epoch_ms"}
    with pytest.raises(ImportValidationError, match=r"row 1, column 'created_at': cannot read "
                       r"'1741000000123' as a timestamp in the mapping's format 'epoch'"):
        store.import_file("tickets", f, mapping=seconds)
    store.import_file("tickets", f, mapping=ImportMapping.from_toml(
        '[formats]\ncreated_at = "epoch_ms"\n'))
    assert str(store.query("SELECT created_at FROM tickets WHERE ticket_id = 'E3'")
               ["created_at"][0]) == "2025-03-03 11:06:40.123000"
    # with value mappings on the same column (their parameters come in every copy of it)
    f.write_text("ticket_id,created_at,customer_id,status,resolved_at\n"
                 "E4,1741000000,C1,open,never\nE5,now,C1,open,1741003600\n")
    store.import_file("tickets", f, mapping=ImportMapping.from_toml(
        '[formats]\ncreated_at = "epoch"\nresolved_at = "epoch"\n'
        '[values.created_at]\nnow = "1741007200"\n[values.resolved_at]\nnever = ""\n'))
    got = store.query("SELECT ticket_id, strftime(created_at, '%H:%M') AS c,"
                      " strftime(resolved_at, '%H:%M') AS r FROM tickets"
                      " WHERE ticket_id IN ('E4', 'E5') ORDER BY ticket_id")
    assert got["c"].tolist() == ["11:06", "13:06"] and pd.isna(got["r"][0])
    assert got["r"][1] == "12:06"


@pytest.mark.parametrize(("text", "message"), [
    ('[formats]\ncreated_at = "%Q"', "is not a strptime format"),
    ('[formats]\ncreated_at = "tomorrow"', "is not a strptime format"),
    ('[formats]\ncreated_at = 5', "must be a strptime format"),
    ('[formats]\nsubject = "%Y"', "unknown key 'formats.subject'"),
])
def test_a_bad_time_format_is_a_mapping_error(text: str, message: str) -> None:
    from triage_core.errors import ConfigError
    from triage_core.store.mapping import ImportMapping

    with pytest.raises(ConfigError, match=message):
        ImportMapping.from_toml(text)


def test_suggest_finds_the_time_format_only_when_the_file_tells(store: Store,
                                                                 tmp_path: Path) -> None:
    from triage_core.store.inspect import inspect_file

    def suggested(*times: str) -> tuple[dict[str, str], dict]:
        f = tmp_path / "t.csv"
        f.write_text("ticket_id,Created,customer_id,status\n" + "".join(
            f"T{i},{t},C1,open\n" for i, t in enumerate(times)))
        report = inspect_file(store, "tickets", f)
        return dict(report.suggestion().formats), report.formats

    assert suggested("13/03/2026 14:30", "01/02/2026 09:00")[0] == {
        "created_at": "%d/%m/%Y %H:%M"}
    assert suggested("03/13/2026 2:30 PM")[0] == {"created_at": "%m/%d/%Y %I:%M %p"}
    assert suggested("5-Mar-2026")[0] == {"created_at": "%d-%b-%Y"}
    formats, found = suggested("03/05/2026 09:00")  # March or May: not guessed
    assert formats == {} and found == {"created_at": (None, "03/05/2026 09:00", (
        "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M"))}
    assert suggested("2026-03-05 09:00")[0] == {}  # ISO 8601 needs none
    # Jira's and RFC 2822's forms; Zendesk's "-" for no time is no value to read
    assert suggested("31/Dec/25 2:05 PM", "-")[0] == {"created_at": "%d/%b/%y %I:%M %p"}
    assert suggested('"Wed, 31 Dec 2025 14:05:33 +0000"')[0] == {
        "created_at": "%a, %d %b %Y %H:%M:%S %z"}
    assert suggested("sometime in May")[1]["created_at"].fits == ()


def test_suggest_advice_on_times_says_which_forms_fit(store: Store, tmp_path: Path) -> None:
    """The hint for a time column whose form is not clear: both orders that fit when 03/05
    could be March or May (it proposed %m/%d/%Y %H:%M whatever the values: for
    "1/3/2026 11:30 AM" that refused the import), the codes when no usual form fits; "-"
    cells of an optional column are proposed as empty."""
    from triage_core.cli.mapping import _commented
    from triage_core.store.inspect import inspect_file

    f = tmp_path / "t.csv"
    f.write_text("ticket_id,created,customer_id,status,solved at,assignee\n"
                 "T1,1/3/2026 11:30 AM,C1,open,-,-\nT2,2/4/2026 9:05 AM,C1,open,sometime,A7\n")
    report = inspect_file(store, "tickets", f)
    text = _commented(report, report.suggestion().to_toml())
    assert ('created_at = "%m/%d/%Y %I:%M %p" (month first) or "%d/%m/%Y %I:%M %p"'
            ' (day first)') in text
    assert "resolved_at: 'sometime' is not ISO 8601; no usual form fits" in text
    assert report.suggestion().values["agent_id"] == {"-": ""}
    assert report.suggestion().values["resolved_at"] == {"-": ""}


def test_touchpoint_references_both_tables(loaded_store: Store, tmp_path: Path) -> None:
    f = tmp_path / "tp.csv"
    f.write_text("customer_id,campaign_id,touched_at,kind\nC1,K404,2026-01-15 09:00:00,click\n")
    with pytest.raises(ImportValidationError, match="campaign_id 'K404' does not exist"):
        loaded_store.import_file("touchpoints", f)


def test_create_missing_customers(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "t.csv"
    f.write_text("ticket_id,created_at,customer_id,status\nT1,2026-02-01 10:00,NEW1,open\n")
    store.import_file("tickets", f, create_missing=True)
    assert store.counts()["customers"] == 1


def test_failed_directory_import_rolls_back_everything(store: Store, data_dir: Path) -> None:
    (data_dir / "touchpoints.csv").write_text(
        "customer_id,campaign_id,touched_at,kind\nC1,K1,not a time,click\n"
    )
    with pytest.raises(ImportValidationError):
        store.import_directory(data_dir)
    assert all(n == 0 for n in store.counts().values())


def test_unknown_table_and_format(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "x.xlsx"
    f.write_bytes(b"PK")
    with pytest.raises(TriageError, match="unknown table"):
        store.import_file("orders", f)
    with pytest.raises(ImportValidationError, match="unknown file type"):
        store.import_file("tickets", f)
    packed = tmp_path / "export.csv.gz"
    packed.write_bytes(b"\x1f\x8b\x08\x00")
    with pytest.raises(ImportValidationError, match="a gzip-compressed file; unpack it first"):
        store.import_file("tickets", packed)


def test_a_bad_row_deep_in_a_large_csv_is_named_like_one_near_the_top(store: Store,
                                                                     tmp_path: Path) -> None:
    """DuckDB's sniffer reads the start of a file; a row with a field too many far below it
    fails the read itself, and the refusal still names the row and the reason."""
    f = tmp_path / "big.csv"
    lines = ["ticket_id,created_at,customer_id,status,subject"]
    lines += [f"T{i},2024-03-05T14:02:11Z,C1,new,subject {i}" + (",extra" if i == 30_000 else "")
              for i in range(40_000)]
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ImportValidationError,
                       match=r"big.csv, row 30001: 6 fields where the header has 5"):
        store.import_file("tickets", f, create_missing=True)
    assert store.scalar("SELECT count(*) FROM tickets") == 0


def test_a_time_error_proposes_the_format_the_values_fit(loaded_store: Store,
                                                         tmp_path: Path) -> None:
    """The error showed the example "%m/%d/%Y %H:%M" even for a file whose 13/03/2024 says
    day first (users took it for the proposal): now the format all values fit, if one does."""
    head = "ticket_id,created_at,customer_id,status\n"
    day_first = tmp_path / "dmy.csv"
    day_first.write_text(head + "T9,05/03/2024 14:02,C1,open\nT10,13/03/2024 09:00,C1,open\n")
    with pytest.raises(ImportValidationError,
                       match=r'add to the mapping \[formats\] created_at = "%d/%m/%Y %H:%M"'):
        loaded_store.import_file("tickets", day_first)
    either = tmp_path / "amb.csv"
    either.write_text(head + "T9,05/03/2024 14:02,C1,open\n")
    with pytest.raises(ImportValidationError, match=r'"%m/%d/%Y %H:%M" \(month first\) or'
                       r' "%d/%m/%Y %H:%M" \(day first\)'):
        loaded_store.import_file("tickets", either)


def test_a_currency_sign_is_named_as_what_keeps_a_number_from_reading(store: Store,
                                                                      tmp_path: Path) -> None:
    """$1,234.56 was told "a decimal comma?", which is wrong, and neither format reads it."""
    f = tmp_path / "money.csv"
    f.write_text('customer_id,lifetime_value\nC1,"$1,234.56"\n', encoding="utf-8")
    with pytest.raises(ImportValidationError, match="a currency sign: export the column"
                       " without it") as info:
        store.import_file("customers", f)
    assert "decimal comma" not in str(info.value)


@pytest.mark.parametrize(("header", "want"), [
    # API field names in camel case (Help Scout, Zoho Desk, Salesforce)
    ("ticketId;createdAt;customerId;status;subject",
     ["ticket_id", "created_at", "customer_id", "status", "subject"]),
    ("CaseNumber;CreatedDate;ContactId;Status;Subject;Description;ClosedDate;Origin",
     ["ticket_id", "created_at", "customer_id", "status", "subject", "body", "resolved_at",
      "channel"]),
    # ServiceNow's list export: resolved before closed (days apart)
    ("Number;Opened;Caller;Short description;State;Closed;Resolved",
     ["ticket_id", "created_at", "customer_id", "subject", "status", None, "resolved_at"]),
    # Zendesk's CSV: "Initially assigned at" is no first reply
    ("Id;Requester;Subject;Status;Created at;Initially assigned at;Solved at",
     ["ticket_id", "customer_id", "subject", "status", "created_at", None, "resolved_at"]),
    # Jira Service Management: the request type is the category, not the issue type
    ("Issue key;Issue Type;Custom field (Request Type);Custom field (Satisfaction rating)",
     ["ticket_id", None, "category", "csat"]),
    # HubSpot's ticket export (IDs is one word)
    ("Ticket ID;Ticket status;Create date;Close date;Associated Contact IDs",
     ["ticket_id", "status", "created_at", "resolved_at", "customer_id"])])
def test_suggest_reads_api_and_ticket_system_names(header: str, want: list[str | None]) -> None:
    """camelCase names were never matched (ticketId), ServiceNow's Closed was taken for the
    resolved time, Zendesk's assignment time for the first reply."""
    from triage_core.schema import TICKETS
    from triage_core.store.mapping import guess_columns

    names = header.split(";")
    found = {src: ours for ours, src in guess_columns(TICKETS, names).items()}
    assert [found.get(n) for n in names] == want


def test_a_jira_search_page_imports_with_the_suggested_mapping(store: Store,
                                                               tmp_path: Path) -> None:
    """Jira's search answer (startAt, maxResults, expand beside "issues") was read as one
    record; the fields are under "fields", the reporter is an object, and Jira Cloud's
    description is a rich-text document (stored as its JSON before)."""
    from triage_core.store.inspect import inspect_file

    doc = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [
            {"type": "text", "text": "The VPN "},
            {"type": "text", "text": "drops", "marks": [{"type": "strong"}]},
            {"type": "text", "text": " hourly."}, {"type": "hardBreak"},
            {"type": "mention", "attrs": {"id": "1", "text": "@Ann"}},
            {"type": "text", "text": " please look"}]},
        {"type": "bulletList", "content": [
            {"type": "listItem", "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "Windows "},
                                                  {"type": "text", "text": "11",
                                                   "marks": [{"type": "code"}]}]},
                {"type": "orderedList", "content": [
                    {"type": "listItem", "content": [{"type": "paragraph", "content": [
                        {"type": "text", "text": "build 22631"}]}]}]}]},
            {"type": "listItem", "content": [{"type": "paragraph", "content": [
                {"type": "text", "text": "Cisco client"}]}]}]}]}
    issue = {"key": "HELP-1", "fields": {
        "summary": "VPN broken", "created": "2024-03-01T08:00:00.000+0100", "description": doc,
        "reporter": {"accountId": "5b10", "emailAddress": "a@example.com"},
        "status": {"name": "In Progress"}}}
    other = {"key": "HELP-2", "fields": {
        "summary": "Printer", "created": "2024-03-02T08:00:00.000+0100", "description": None,
        "reporter": {"accountId": "5b11", "emailAddress": "b@example.com"},
        "status": {"name": "To Do"}}}
    f = tmp_path / "search.json"
    f.write_text(json.dumps({"expand": "schema,names", "startAt": 0, "maxResults": 50,
                             "total": 2, "isLast": True, "issues": [issue, other]}))
    suggestion = inspect_file(store, "tickets", f).suggestion()
    assert {c: s[0] for c, s in suggestion.columns.items()} == {
        "ticket_id": "key", "created_at": "fields.created", "subject": "fields.summary",
        "customer_id": "fields.reporter.emailAddress", "body": "fields.description",
        "status": "fields.status.name"}
    assert store.import_file("tickets", f, mapping=suggestion, create_missing=True
                             ).new_rows == 2
    t = store.query("SELECT ticket_id, CAST(created_at AS VARCHAR) AS c, status,"
                    " coalesce(body, '(none)') AS body FROM tickets ORDER BY ticket_id")
    assert t.values.tolist() == [
        ["HELP-1", "2024-03-01 07:00:00", "open",
         "The VPN drops hourly.\n@Ann please look\nWindows 11\nbuild 22631\nCisco client"],
        ["HELP-2", "2024-03-02 07:00:00", "new", "(none)"]]


def test_pages_that_are_bare_lists_are_read_one_after_another(store: Store,
                                                              tmp_path: Path) -> None:
    """Freshdesk's list pages are bare lists; saved one after another they were refused as
    "a JSON list, not an object"."""
    f = tmp_path / "pages.json"
    page = [{"ticket_id": f"F{i}", "customer_id": "C1", "status": "open",
             "created_at": "2026-02-01T10:00:00Z"} for i in range(3)]
    f.write_text(json.dumps(page[:2]) + "\n" + json.dumps(page[2:]) + "\n" + "[]")
    assert store.import_file("tickets", f, create_missing=True).new_rows == 3
    assert store.query("SELECT ticket_id FROM tickets ORDER BY ticket_id"
                       )["ticket_id"].tolist() == ["F0", "F1", "F2"]


def test_help_scout_conversations_read_channel_and_custom_field_names(store: Store,
                                                                     tmp_path: Path) -> None:
    """Help Scout: source.via says who wrote (customer), source.type the channel; a dropdown's
    value is its option's id, its text the option."""
    from triage_core.store.inspect import inspect_file

    conv = [{"id": 10 + i, "status": status, "subject": "Charged twice",
             "createdAt": "2024-03-01T08:00:00Z",
             "primaryCustomer": {"id": 5, "email": "bear@acme.com"},
             "source": {"type": "email", "via": "customer"},
             "customFields": [{"id": 8, "name": "Issue type", "value": str(i + 1),
                               "text": text}]}
            for i, (status, text) in enumerate([("active", "Billing"), ("pending", "Bug"),
                                                ("snoozed", "Billing")])]
    f = tmp_path / "hs.json"
    f.write_text(json.dumps({"_embedded": {"conversations": conv},
                             "page": {"size": 25, "number": 1}}))
    suggestion = inspect_file(store, "tickets", f).suggestion()
    assert suggestion.columns["channel"] == ("source.type",)
    assert suggestion.columns["customer_id"] == ("primaryCustomer.email",)
    mapping = replace(suggestion, columns={**suggestion.columns,
                                           "category": ("customFields.8",)})
    store.import_file("tickets", f, mapping=mapping, create_missing=True)
    t = store.query("SELECT status, channel, category FROM tickets ORDER BY ticket_id")
    assert t.values.tolist() == [["open", "email", "Billing"], ["pending", "email", "Bug"],
                                 ["on_hold", "email", "Billing"]]


def test_satisfaction_ratings_not_answered_are_skipped(store: Store, tmp_path: Path) -> None:
    """Zendesk's satisfaction ratings: the list was not unwrapped, good/bad were not
    proposed as scores, and an "offered" survey (never answered) refused the file."""
    from triage_core.store.inspect import inspect_file

    store.import_file("customers", _csv(tmp_path, "c.csv", "customer_id\nC1\n"))
    store.import_file("tickets", _csv(tmp_path, "t.csv", "ticket_id,customer_id,created_at,"
                                      "status\n2000,C1,2026-01-02 10:00,solved\n"
                                      "2001,C1,2026-01-02 11:00,solved\n"))
    f = tmp_path / "ratings.json"
    f.write_text(json.dumps({"satisfaction_ratings": [
        {"id": 1, "ticket_id": 2000, "score": "good", "created_at": "2026-01-03T10:00:00Z",
         "comment": "Thanks"},
        {"id": 2, "ticket_id": 2001, "score": "offered", "created_at": "2026-01-03T10:00:00Z",
         "comment": None}], "next_page": None, "count": 2}))
    suggestion = inspect_file(store, "csat_surveys", f).suggestion()
    assert suggestion.values["score"] == {"good": "5", "offered": ""}
    assert suggestion.columns["answered_at"] == ("created_at",)
    result = store.import_file("csat_surveys", f, mapping=suggestion)
    assert any("1 row had no score" in w and "was skipped" in w for w in result.warnings)
    assert store.query("SELECT ticket_id, score FROM csat_surveys").values.tolist() == [
        ["2000", 5]]
    # without a mapping that reads it as empty, the word is refused as before
    with pytest.raises(ImportValidationError, match="'offered'"):
        store.import_file("csat_surveys", f, mapping=replace(
            suggestion, values={"score": {"good": "5"}}))


def test_suggest_takes_whole_number_floats_as_scores(store: Store, tmp_path: Path) -> None:
    """An export's CSAT written 3.0 was listed as a value to map ("3.0" = "3.0")."""
    from triage_core.store.inspect import inspect_file

    f = _csv(tmp_path, "k.csv", "ticket_id,customer_id,created_at,status,csat\n"
             "K1,C1,2026-01-02 10:00,open,3.0\nK2,C1,2026-01-02 10:00,open,\n"
             "K3,C1,2026-01-02 10:00,Pending Customer Response,Great\n")
    suggestion = inspect_file(store, "tickets", f).suggestion()
    assert suggestion.values.get("csat") == {"Great": "Great"}
    assert "status" not in suggestion.values


def test_the_zendesk_preset_reads_not_offered_as_no_rating(store: Store,
                                                           tmp_path: Path) -> None:
    store.import_file("customers", _csv(tmp_path, "c.csv", "customer_id\nC1\n"))
    f = _csv(tmp_path, "z.csv", "Id,Requester id,Subject,Status,Created at,Satisfaction Score\n"
             "1,C1,Card,Open,2024-03-05 14:02:11,Not Offered\n"
             "2,C1,Login,Solved,2024-03-05 15:02:11,Good\n")
    store.import_file("tickets", f, preset="zendesk")
    assert store.query("SELECT csat FROM tickets ORDER BY ticket_id")["csat"].tolist()[1] == 5
    assert store.query("SELECT count(csat) AS n FROM tickets")["n"][0] == 1


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    f = tmp_path / name
    f.write_text(text)
    return f


def test_jira_clouds_system_issue_types_are_no_categories(store: Store, tmp_path: Path) -> None:
    from triage_core.store.inspect import inspect_file

    f = _csv(tmp_path, "jsm.csv", "Summary,Issue key,Issue Type,Status,Created,Reporter\n"
             "VPN,HELP-1,[System] Incident,Open,2024-03-01 08:00,a@x.com\n"
             "Printer,HELP-2,[System] Service request,Open,2024-03-01 09:00,a@x.com\n")
    report = inspect_file(store, "tickets", f)
    assert "category" not in report.suggestion().columns
    assert "Jira's issue types" in report.passed_over["category"]


def test_a_mapping_names_a_camel_case_column_in_any_case(store: Store, tmp_path: Path) -> None:
    """With camel case split ("CaseRef" -> case_ref), a mapping's "caseref" no longer named
    the file's "CaseRef", nor its "CaseRef" a warehouse's "CASEREF"; "eMail" was no e-mail."""
    from triage_core.schema import TICKETS
    from triage_core.store.mapping import guess_columns

    assert guess_columns(TICKETS, ["CaseRef", "eMail", "Opened"])["customer_id"] == "eMail"
    for header, name, ticket in (("CaseRef", "caseref", "X1"), ("CASEREF", "CaseRef", "X2")):
        f = _csv(tmp_path, "t.csv", f"{header},Email,Opened,Status\n"
                 f"{ticket},C1,2026-01-01 10:00,open\n")
        result = store.import_file("tickets", f, create_missing=True, mapping={
            name: "ticket_id", "email": "customer_id", "opened": "created_at"})
        assert result.new_rows == 1


def test_a_folder_is_named_as_one_with_or_without_a_suffix(tmp_path: Path) -> None:
    """A folder without a suffix was an "unknown file type '(none)'"."""
    from triage_core.store.formats import detect_format

    for name in ("exports", "exports.csv"):
        (tmp_path / name).mkdir()
        with pytest.raises(ImportValidationError, match=rf"{name}.*is a folder, not a file"):
            detect_format(tmp_path / name)
    assert detect_format(tmp_path / "tickets.csv") == "csv"  # a file that is not there yet


def test_an_empty_unnamed_column_is_not_listed_as_ignored(store: Store, tmp_path: Path) -> None:
    """A spreadsheet's export with a comma at the end of every line has a last column without
    a name and without values: the import said "ignored columns: column5". An unnamed column
    that holds values is still listed, by the name --map takes."""
    f = tmp_path / "trailing.csv"
    f.write_text("ticket_id,created_at,customer_id,status,,note\n"
                 "TC1,2026-02-01 10:00:00,C1,open,,a\nTC2,2026-02-01 11:00:00,C1,open, ,\n")
    result = store.import_file("tickets", f, create_missing=True)
    assert result.new_rows == 2 and list(result.ignored_columns) == ["note"]
    f.write_text("ticket_id,created_at,customer_id,status,,\n"
                 "TC1,2026-02-01 10:00:00,C1,open,x,\n")
    result = store.import_file("tickets", f, create_missing=True)
    assert list(result.ignored_columns) == ["column4"]
