"""The `triage` command's checks of its arguments, run in this process with click's CliRunner on
small databases built with `triage import` and `triage train`: a --db where there is no database,
numbers out of range (limits, days, tolerance, examples), a folder given as a CSV, an unknown
campaign or a model of the other kind, and who a correction is recorded by."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from _cli import ok, one_line_error, run

from triage_core.cli import common, triage
from triage_core.cli.server import command_line
from triage_core.store import Store

# Labeled tickets enough to train a category model on (customers C1..C3 of tests/conftest.py).
WORDS = {"billing": "I was charged twice on my invoice",
         "account_access": "I cannot log in and my password reset fails",
         "shipping": "my parcel is late and the tracking does not move"}
LABELED = "ticket_id,created_at,customer_id,channel,subject,body,status,category\n" + "".join(
    f"L{c}{i},2026-02-{i + 1:02d} 10:00:00,C{i % 3 + 1},email,{words},"
    f"{words} (order {i}),open,{c}\n"
    for c, words in WORDS.items() for i in range(8))


def imported(path: Path, data_dir: Path) -> Path:
    for table in ("customers", "campaigns", "agents", "tickets", "touchpoints"):
        ok("import", table, str(data_dir / f"{table}.csv"), db=path)
    return path


def counts(db: Path) -> dict[str, int]:
    with Store(db, read_only=True) as s:
        return {**s.counts(),
                "model_events": int(s.scalar("SELECT count(*) FROM model_events"))}


def usage_error(r, option: str) -> str:
    """The error line of a command line click refused (exit status 2) for ``option``."""
    assert r.exit_code == 2 and r.stdout == "", (r.exit_code, r.stdout, r.stderr)
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith(f"Error: Invalid value for '{option}'"), r.stderr
    return line


@pytest.fixture
def db(tmp_path: Path, data_dir: Path) -> Path:
    """The hand-made data of tests/conftest.py imported; nothing trained."""
    return imported(tmp_path / "args.duckdb", data_dir)


@pytest.fixture
def trained(db: Path, tmp_path: Path) -> Path:
    """``db`` plus 24 labeled tickets, category model version 1 trained and every ticket
    triaged."""
    labeled = tmp_path / "labeled.csv"
    labeled.write_text(LABELED, encoding="utf-8")
    ok("import", "tickets", str(labeled), db=db)
    ok("train", "--force", db=db)
    return db


# -- 1. a --db where there is no database ----------------------------------------------------

# The verbs that may create their database, and the one that uses none.
CREATE = {("demo",), ("import",), ("serve",)}
NO_DB = {("evaluate",)}
# Read a file or a shipped preset: they work before the first import, on no database.
WITHOUT_DB = {("mapping", "suggest"), ("mapping", "show")}
# Every other verb, with the arguments it needs.
NEED_DB = [
    ["mapping", "save", "mine", "mine.toml"], ["mapping", "list"], ["mapping", "delete", "mine"],
    ["info"], ["score"], ["backtest", "--profile", "default"], ["attribution"], ["lift"],
    ["forecast", "--backtest"], ["feedback", "add", "--ticket", "T1", "--category", "refund"],
    ["feedback", "list"], ["feedback", "undo", "1"], ["review"], ["train"], ["models"],
    ["models", "promote", "1"], ["models", "rollback"], ["predict"], ["retrain"], ["topics"],
    ["topics", "rename", "1", "x"], ["topics", "merge", "1", "2"], ["topics", "split", "1"],
    ["topics", "drop", "1"], ["topics", "accept"], ["topics", "undo"], ["emerging"],
    ["tokens", "create", "--name", "x"], ["tokens", "list"], ["tokens", "revoke", "x"],
]


def runnable(group: click.Group = triage, path: tuple[str, ...] = ()):
    """Every command line a user can run: the verbs, and groups that run without a verb."""
    for name, command in group.commands.items():
        here = (*path, name)
        if not isinstance(command, click.Group) or command.invoke_without_command:
            yield here
        if isinstance(command, click.Group):
            yield from runnable(command, here)


def verb_of(argv: list[str]) -> tuple[str, ...]:
    """The verb a command line runs (its groups' names first)."""
    command, path = triage, []
    while isinstance(command, click.Group) and argv[len(path):] and \
            argv[len(path)] in command.commands:
        command = command.commands[argv[len(path)]]
        path.append(argv[len(path)])
    return tuple(path)


def test_every_verb_but_demo_import_and_serve_refuses_a_missing_database(
        tmp_path: Path) -> None:
    covered = {verb_of(argv) for argv in NEED_DB}
    assert set(runnable()) == CREATE | NO_DB | WITHOUT_DB | covered
    missing = tmp_path / "nope" / "x.duckdb"
    for argv in NEED_DB:
        line = one_line_error(run(*argv, db=missing))
        assert line == (f"error: {missing}: no such database; create one with 'triage demo' or"
                        " 'triage import'"), argv
        assert not missing.parent.exists(), argv


def test_mapping_suggest_and_show_need_no_database(tmp_path: Path, data_dir: Path) -> None:
    missing = tmp_path / "nope" / "x.duckdb"
    assert 'ticket_id = "Id"' in ok("mapping", "show", "zendesk", db=missing)
    out = ok("mapping", "suggest", "tickets", str(data_dir / "tickets.csv"), db=missing)
    assert "# mapping for tickets, guessed from a file with 3 rows" in out
    assert not missing.parent.exists()


def test_files_written_by_options_never_replace_inputs_or_a_database(
        tmp_path: Path, data_dir: Path) -> None:
    """`mapping suggest FILE --out FILE` replaced the export with the mapping, and `--out` or
    `demo --truth-out` given the database (a typo of --db) overwrote it."""
    export = tmp_path / "tickets.csv"
    export.write_bytes((data_dir / "tickets.csv").read_bytes())
    db = tmp_path / "triage.duckdb"
    Store(db).close()
    kept = {p: p.read_bytes() for p in (export, db)}
    line = one_line_error(run("mapping", "suggest", "tickets", str(export), "--out",
                              str(export), db=db))
    assert line == f"error: --out {export}: that is an input file; choose another name"
    other = tmp_path / "other.duckdb"
    Store(other).close()
    kept[other] = other.read_bytes()
    line = one_line_error(run("mapping", "suggest", "tickets", str(export), "--out",
                              str(other), db=db))
    assert line == (f"error: --out {other}: an existing file that is not text (a DuckDB"
                    " database); it would be overwritten: choose another name")
    line = one_line_error(run("demo", "--no-triage", "--truth-out", str(other),
                              db=tmp_path / "new.duckdb"))
    assert line.startswith(f"error: --truth-out {other}: an existing file that is not text")
    assert not (tmp_path / "new.duckdb").exists()  # refused before the work
    assert {p: p.read_bytes() for p in kept} == kept
    # --force replaces a database only (--force --db export.csv replaced the export)
    line = one_line_error(run("demo", "--force", "--no-triage", db=export))
    assert line == (f"error: {export} is not a DuckDB database; --force replaces only a"
                    " database: choose another --db")
    assert {p: p.read_bytes() for p in kept} == kept
    mapping = tmp_path / "map.toml"
    mapping.write_text("# an earlier suggestion\n", encoding="utf-8")  # text: replaced
    run("mapping", "suggest", "tickets", str(export), "--out", str(mapping), db=db)
    assert "# mapping for tickets" in mapping.read_text(encoding="utf-8")


# -- 2. retrain --tolerance ------------------------------------------------------------------


def test_retrain_tolerance_is_a_number_from_0_to_1(trained: Path) -> None:
    before = counts(trained)
    for value in ("nan", "NaN", "inf", "-inf", "-1", "-0.01", "1.5"):
        usage_error(run("retrain", "--tolerance", value, db=trained), "--tolerance")
    assert counts(trained) == before
    assert json.loads(ok("retrain", "--tolerance", "1", "--json", db=trained))["version"] == 2


# -- 3. --limit --------------------------------------------------------------------------------


def test_limits_are_at_least_1(trained: Path) -> None:
    ok("feedback", "add", "--ticket", "T2", "--category", "coupon_promo", db=trained)
    for verb in (["feedback", "list"], ["review"]):
        for value in ("0", "-1"):
            usage_error(run(*verb, "--limit", value, "--json", db=trained), "--limit")
        assert len(json.loads(ok(*verb, "--limit", "1", "--json", db=trained))) == 1


# -- 4. days and examples --------------------------------------------------------------------


def test_days_options_are_bounded(trained: Path) -> None:
    before = counts(trained)
    refused = [
        (["backtest", "--profile", "default", "--days"], "--days", ("0", "999999999")),
        (["attribution", "--lookback-days"], "--lookback-days",
         ("0", "-1", "nan", "inf", "1000000000")),
        (["attribution", "--model", "time_decay", "--half-life-days"], "--half-life-days",
         ("0", "nan", "inf", "1e12")),
        (["lift", "--window-days"], "--window-days", ("0", "366", "1000000000")),
    ]
    for argv, option, values in refused:
        for value in values:
            line = usage_error(run(*argv, value, db=trained), option)
            assert "is not in the range" in line or "is not a number" in line, line
    assert counts(trained) == before
    out = json.loads(ok("backtest", "--profile", "default", "--days", str(common.MAX_DAYS),
                        "--json", db=trained))
    assert out["days"] == common.MAX_DAYS and out["tickets"] == before["tickets"]
    records = json.loads(ok("attribution", "--lookback-days", str(common.MAX_DAYS),
                            "--half-life-days", str(common.MAX_DAYS), "--model", "time_decay",
                            "--json", db=trained))
    assert sum(r["tickets"] for r in records) == pytest.approx(before["tickets"])


def test_topics_examples_is_not_negative(db: Path) -> None:
    usage_error(run("topics", "--examples", "-2", db=db), "--examples")
    assert "[x>=0]" in ok("topics", "--help", db=db)


def test_dates_are_read_one_way(trained: Path) -> None:
    """score --as-of and forecast --start/--end take ISO dates only: 05.03.2024 was read as
    3 May, and the year 1900 was taken."""
    before = counts(trained)
    for argv, option in ((["score", "--as-of"], "--as-of"),
                         (["forecast", "--reach", "100", "--start"], "--start"),
                         (["forecast", "--reach", "100", "--start", "2026-03-01", "--end"],
                          "--end")):
        for value in ("05.03.2024", "03/05/2024", "tomorrow", "1900-01-01", "2024-02-30"):
            line = usage_error(run(*argv, value, db=trained), option)
            assert value in line, line
    assert counts(trained) == before
    out = json.loads(ok("score", "--as-of", "2026-03-05 14:30", "--json", db=trained))
    assert out["as_of"] == "2026-03-05 14:30:00"


def test_score_says_which_categories_no_routing_rule_names(trained: Path) -> None:
    """The labels of ``trained`` include "shipping", which the packaged rules do not name
    (they name shipping_delivery): its tickets all go to the triage queue, and score says so."""
    r = run("score", db=trained)
    assert r.exit_code == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if "no routing rule" in ln]
    assert len(lines) == 1 and "('shipping')" in lines[0], r.stderr


# -- 5. evaluate on a folder -----------------------------------------------------------------


def test_evaluate_refuses_a_folder(tmp_path: Path) -> None:
    test = tmp_path / "test.csv"
    test.write_text("text,label\nI was charged twice,negative\n", encoding="utf-8")
    folder = tmp_path / "adir"
    folder.mkdir()
    cols = ["--text-col", "text", "--label-col", "label"]
    line = one_line_error(run("evaluate", "--task", "sentiment", "--test", str(folder), *cols))
    assert line == f"error: {folder}: a folder, not a file"
    line = one_line_error(run("evaluate", "--task", "category", "--train", str(folder),
                              "--test", str(test), *cols))
    assert line == f"error: {folder}: a folder, not a file"


# -- 7. lift --campaign ----------------------------------------------------------------------


def test_lift_refuses_an_unknown_campaign(db: Path) -> None:
    for extra in ([], ["--json"]):
        line = one_line_error(run("lift", "--campaign", "K1", "--campaign", "NOPE", *extra,
                                  db=db))
        assert line == ("error: unknown campaign 'NOPE' in --campaign; see 'triage attribution'"
                        " for the campaign ids")
    rows = json.loads(ok("lift", "--campaign", "K1", "--json", db=db))
    assert [r["campaign_id"] for r in rows] == ["K1"]


# -- 8. models promote --kind ----------------------------------------------------------------


def test_promote_refuses_a_version_of_another_kind(trained: Path) -> None:
    before = counts(trained)
    line = one_line_error(run("models", "promote", "1", "--kind", "sentiment", db=trained))
    assert line == ("error: version 1 is a category model, not a sentiment one; see 'triage"
                    " models'")
    assert counts(trained) == before
    assert ok("models", "promote", "1", "--kind", "category", db=trained).strip() == \
        "version 1 is now active; tickets re-scored"
    assert "no model version 9" in one_line_error(
        run("models", "promote", "9", "--kind", "sentiment", db=trained))


# -- 10. who a correction is recorded by -----------------------------------------------------


def test_feedback_is_recorded_by_the_login_name_without_by(db: Path) -> None:
    env = {"LOGNAME": "ana"}
    for by in ([], ["--by", " "]):
        r = run("feedback", "add", "--ticket", "T1", "--category", "coupon_promo", *by,
                "--db", str(db), env=env)
        assert r.exit_code == 0, r.stderr
        feedback_id = r.stdout.split("#")[1].split()[0]
        r = run("feedback", "undo", feedback_id, *by, "--db", str(db), env=env)
        assert r.exit_code == 0, r.stderr
    listed = json.loads(ok("feedback", "list", "--json", db=db))
    assert [(f["author"], f["undone_by"]) for f in listed] == [("ana", "ana")] * 2
    ok("feedback", "add", "--ticket", "T1", "--category", "coupon_promo", "--by", "ben", db=db)
    assert json.loads(ok("feedback", "list", "--json", "--limit", "1", db=db))[0][
        "author"] == "ben"


def test_a_verb_sent_to_a_server_carries_the_login_name(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "ana")  # what getpass.getuser() reads first
    add = triage.commands["feedback"].commands["add"]  # type: ignore[attr-defined]
    ctx = add.make_context("add", ["--ticket", "T1", "--flag"])
    assert command_line(("feedback", "add"), add, ctx.params) == [
        "feedback", "add", "--ticket", "T1", "--flag", "--by", "ana"]


def test_terminal_tables_line_up_wide_characters() -> None:
    """A CJK label or an emoji takes two columns of a terminal, a combining accent none: the
    per-class table of `triage evaluate` (and every other table) stays aligned."""
    import pandas as pd
    from wcwidth import wcswidth

    frame = pd.DataFrame({"category": ["billing", "請求書", "\U0001f4b3 card", "cafe\u0301"],
                          "f1": [0.5, 0.25, 1.0, 0.1]})
    lines = common.table(frame).splitlines()
    assert {wcswidth(line) for line in lines} == {len(lines[1])}
    assert lines[3].startswith("  請求書  0.25")
