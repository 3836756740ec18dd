"""Data health: what the import, train and score commands warn about in a helpdesk's data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from triage_core.ops import health
from triage_core.store import Store


def codes(store: Store) -> list[str]:
    return [f.code for f in health.check(store)]


def test_an_empty_database_has_no_findings(store: Store) -> None:
    assert health.check(store) == []


def test_a_full_world_has_no_findings(loaded_store: Store) -> None:
    assert codes(loaded_store) == []


def test_each_gap_gets_its_finding(store: Store) -> None:
    store.import_frame("tickets", pd.DataFrame({
        "ticket_id": ["T1", "T2", "T3"], "customer_id": ["C1"] * 3, "status": ["new"] * 3,
        "created_at": ["2026-11-01T10:00:00Z"] * 3, "subject": [None, " ", "Refund"],
        "body": ["", None, None],
        "first_response_at": ["2026-10-31T10:00:00Z", None, None],
        "resolved_at": [None, "2026-10-01T10:00:00Z", None]}), create_missing=True)
    found = health.check(store)
    assert [f.code for f in found] == [
        "no_text", "no_labels", "no_ltv", "no_segment", "no_campaigns",
        "negative_first_response_at", "negative_resolved_at", "no_agents"]
    assert found[0].message.startswith("2 of 3 tickets have no text")
    # a body of markup only has no text either (an HTML export's empty descriptions)
    store.execute("UPDATE tickets SET body = '<p>&nbsp;</p><br/>' WHERE ticket_id = 'T1'")
    assert health.check(store)[0].message.startswith("2 of 3 tickets have no text")
    store.execute("UPDATE tickets SET body = '<p>Ça ne marche pas</p>' WHERE ticket_id = 'T1'")
    assert "no_text" not in codes(store)  # 1 of 3: below half
    store.execute("UPDATE tickets SET first_response_at = created_at + INTERVAL 200 DAY")
    assert "absurd_first_response" in codes(store)
    assert "negative_first_response_at" not in codes(store)


def test_a_ticket_dated_in_the_future_does_not_move_the_sla_clock(store: Store) -> None:
    """One ticket dated 2100 (a typo in the year) made the newest creation time the SLA clock
    of every scoring: every open ticket came out breached. The clock passes over tickets
    created more than a day after the machine's clock, and a finding names them; a world
    dated wholly ahead of the machine keeps its own newest time."""
    from triage_core.ops import scoring

    store.import_frame("tickets", pd.DataFrame({
        "ticket_id": ["T1", "T2"], "customer_id": ["C1"] * 2, "status": ["new"] * 2,
        "created_at": ["2026-01-05T10:00:00Z", "2026-01-06T09:30:00Z"],
        "subject": ["Refund", "Login"], "body": ["x", "y"]}), create_missing=True)
    assert scoring.data_time(store) == pd.Timestamp("2026-01-06 09:30").to_pydatetime()
    assert "future_created_at" not in codes(store)
    store.import_frame("tickets", pd.DataFrame({
        "ticket_id": ["T3"], "customer_id": ["C1"], "status": ["new"],
        "created_at": ["2100-01-01T00:00:00Z"], "subject": ["Typo"], "body": ["z"]}))
    assert scoring.data_time(store) == pd.Timestamp("2026-01-06 09:30").to_pydatetime()
    found = [f for f in health.check(store) if f.code == "future_created_at"]
    assert [f.message for f in found] == [
        "1 ticket has created_at more than a day after this machine's clock: the SLA clock"
        " and the default date range do not run to it; check the year and time zone of the"
        " file's created_at"]
    store.execute("UPDATE tickets SET created_at = created_at + INTERVAL 100 YEAR"
                  " WHERE ticket_id <> 'T3'")  # every ticket ahead: the world's own time
    assert scoring.data_time(store) == pd.Timestamp("2126-01-06 09:30").to_pydatetime()
    assert "future_created_at" not in codes(store)
    # an empty date exported as Unix time 0
    assert "epoch_created_at" not in codes(store)
    store.execute("UPDATE tickets SET created_at = TIMESTAMP '1970-01-01' WHERE ticket_id = 'T3'")
    assert [f.message for f in health.check(store) if f.code == "epoch_created_at"] == [
        "1 ticket has created_at 1970-01-01 00:00:00, Unix time 0: often an empty date exported"
        " as zero; check the file's created_at (the dashboard's date range starts there)"]


def test_category_labels_spelled_in_several_ways_are_named(store: Store) -> None:
    """A free-text category field ("Billing", "BILLING", "billing") gave five categories for
    two, a model no better than guessing, and no word why; a mapping's [values.category]
    makes them one, as the finding says."""
    from triage_core.store.mapping import ImportMapping

    labels = ["Billing"] * 4 + ["BILLING"] * 3 + ["billing"] * 2 + ["Login", "login  "] + ["Refund"]
    frame = pd.DataFrame({
        "ticket_id": [f"T{i}" for i in range(len(labels))], "customer_id": ["C1"] * len(labels),
        "status": ["new"] * len(labels), "created_at": ["2026-11-01T10:00:00Z"] * len(labels),
        "subject": ["x"] * len(labels), "category": labels})
    store.import_frame("tickets", frame, create_missing=True)
    found = [f.message for f in health.check(store) if f.code == "label_variants"]
    assert len(found) == 1 and found[0].startswith(
        "2 categories are spelled in several ways (case or spacing) and count as separate "
        "categories: 'Billing' (4), 'BILLING' (3), 'billing' (2); 'Login' (1), 'login' (1);")
    assert '[values.category] "Billing" = "Billing"' in found[0]
    store.import_frame("tickets", frame, create_missing=True, mapping=ImportMapping.from_toml(
        '[values.category]\n"Billing" = "Billing"\n"Login" = "Login"\n'))
    assert "label_variants" not in codes(store)
    assert sorted(store.query("SELECT DISTINCT category FROM tickets")["category"]) == [
        "Billing", "Login", "Refund"]


def test_categories_no_routing_rule_names_are_named(store: Store, loaded_store: Store) -> None:
    """A helpdesk's own categories ("Billing", "Hardware") with no [routing.categories] rule
    sent every ticket to the triage queue, and nothing said why."""
    from triage_core.config import load_config

    config = load_config()
    assert [f.code for f in health.check(loaded_store, config)] == []  # the demo's are routed
    labels = ["Hardware"] * 3 + ["Billing"] * 2 + ["billing"]
    store.import_frame("tickets", pd.DataFrame({
        "ticket_id": [f"T{i}" for i in range(len(labels))], "customer_id": ["C1"] * len(labels),
        "status": ["new"] * len(labels), "created_at": ["2026-11-01T10:00:00Z"] * len(labels),
        "subject": ["x"] * len(labels), "category": labels}), create_missing=True)
    assert "unrouted_categories" not in codes(store)  # without a config: not checked
    found = [f.message for f in health.check(store, config) if f.code == "unrouted_categories"]
    assert found == ["2 of 3 categories have no routing rule ('Hardware', 'Billing'): their "
                     "tickets all go to the triage queue 'triage_queue', however sure the model"
                     " is; name a team for each in your config file: "
                     '[routing.categories."Hardware"] team = "..."']
    routed = {**config, "routing": {"categories": {"Hardware": {"team": "it"},
                                                   "Billing": {"team": "billing"}}}}
    assert "unrouted_categories" not in [f.code for f in health.check(store, routed)]
    # a long name with a quote: the suggested line, pasted, names the whole category (it was
    # cut to 40 characters with "…", matching none)
    import tomllib

    long = 'balance_not_updated_after_cheque_or_cash_deposit "EU"'
    store.import_frame("tickets", pd.DataFrame({
        "ticket_id": ["L1"], "customer_id": ["C1"], "status": ["new"],
        "created_at": ["2026-11-02T10:00:00Z"], "subject": ["x"], "category": [long]}),
        create_missing=True)
    found = [f.message for f in health.check(store, routed) if f.code == "unrouted_categories"]
    line = found[0][found[0].index("[routing.categories."):]  # the header, then its key
    pasted = tomllib.loads(line.replace('"] team = ', '"]\nteam = '))
    assert pasted["routing"]["categories"] == {long: {"team": "..."}}


def test_helpdesk_priorities_the_profile_does_not_know_are_named(store: Store) -> None:
    """With a source weight, "Hoch" and "Sev 1" counted 0, like low, and nothing said so;
    the usual names in other languages and tools (ServiceNow's "1 - Critical") are known."""
    from triage_core.config import load_config

    values = ["Sev 1", "Sev 1", "Hoch", "1 - Critical", "urgent", "P2", None]
    store.import_frame("tickets", pd.DataFrame({
        "ticket_id": [f"T{i}" for i in range(len(values))], "customer_id": ["C1"] * len(values),
        "status": ["new"] * len(values), "created_at": ["2026-11-01T10:00:00Z"] * len(values),
        "subject": ["x"] * len(values), "source_priority": values}), create_missing=True)
    config = load_config()
    assert "unknown_source_priority" not in [f.code for f in health.check(store, config)]
    weighted = {**config, "priority": {"profiles": {"default": {"weights": {"source": 0.3}}}}}
    found = [f.message for f in health.check(store, weighted)
             if f.code == "unknown_source_priority"]
    assert found == ["2 tickets have a helpdesk priority that priority profile 'default' does"
                     " not know ('Sev 1' (2)): they count 0 for its source weight, like low;"
                     " name them in your config file: [priority.profiles.default.source_levels]"
                     ' "sev 1" = 0.0 to 1.0']
    # a profile's own levels are added to the default profile's, as scoring reads them
    mine = {**config, "priority": {"active_profile": "mine", "profiles": {"mine": {
        "weights": {"source": 0.4}, "source_levels": {"sev 1": 1.0}}}}}
    assert "unknown_source_priority" not in [f.code for f in health.check(store, mine)]


def test_tickets_the_sentiment_model_cannot_score_are_named_by_language(store: Store) -> None:
    store.import_frame("tickets", pd.DataFrame({
        "ticket_id": [f"T{i}" for i in range(20)], "customer_id": ["C1"] * 20,
        "status": ["new"] * 20, "created_at": ["2026-11-01T10:00:00Z"] * 20,
        "subject": ["Hallo"] * 20}), create_missing=True)
    store.execute("CREATE OR REPLACE TABLE triage_results AS SELECT ticket_id,"
                  " CASE WHEN ticket_id < 'T15' THEN 'de' ELSE 'en' END AS language,"
                  " CASE WHEN ticket_id < 'T15' THEN NULL ELSE 0.1 END AS sentiment"
                  " FROM tickets")
    found = {f.code: f.message for f in health.check(store)}
    assert found["no_sentiment"].startswith("7 of 20 tickets (35%) have no sentiment score")
    assert "(de 7)" in found["no_sentiment"]


IMPORT_WITHOUT_PANDAS = """
import sys
from triage_core.cli import main
sys.argv = ["triage", *sys.argv[1:]]
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code
print("exit", code, "pandas" in sys.modules, file=sys.stderr)
"""


def test_importing_a_file_does_not_import_pandas(tmp_path: Path, data_dir: Path) -> None:
    """The import reads files with DuckDB and checks the data with plain rows: a fresh
    ``triage import`` process needs no pandas (about 0.5 s of every import)."""
    db = tmp_path / "h.duckdb"
    for table in ("customers", "tickets"):
        done = subprocess.run([sys.executable, "-c", IMPORT_WITHOUT_PANDAS, "import", table,
                               str(data_dir / f"{table}.csv"), "--db", str(db)],
                              capture_output=True, text=True, timeout=300)
        assert done.stderr.strip().splitlines()[-1] == "exit 0 False", done.stderr
    with Store(db) as store:
        assert store.scalar("SELECT count(*) FROM tickets") == 3


def test_placeholder_categories_are_named_with_the_mapping_line(store: Store) -> None:
    """"N/A", "NULL" and "-" (an export's empty field) were imported as categories without a
    word; "None" is a category name too and is left alone."""
    labels = ["N/A"] * 3 + ["NULL"] * 2 + ["None", "Billing"]
    store.import_frame("tickets", pd.DataFrame({
        "ticket_id": [f"T{i}" for i in range(len(labels))], "customer_id": ["C1"] * len(labels),
        "status": ["new"] * len(labels), "created_at": ["2026-11-01T10:00:00Z"] * len(labels),
        "subject": ["x"] * len(labels), "category": labels}), create_missing=True)
    found = [f.message for f in health.check(store) if f.code == "placeholder_categories"]
    assert found == ["5 tickets have a category that is how exports write an empty field ('N/A'"
                     " (3), 'NULL' (2)): the category model learns it as a category of its own."
                     " Import the tickets again with a mapping that reads it as no category:"
                     ' [values.category] "N/A" = ""']
    store.execute("UPDATE tickets SET category = NULL WHERE category IN ('N/A', 'NULL')")
    assert "placeholder_categories" not in codes(store)
