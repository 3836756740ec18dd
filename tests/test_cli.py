"""The `triage` command: import and info in this process, exit codes and one-line errors, and a
few runs of the real `python -m triage_core.cli` (one-line errors, usage errors, fast help)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import click
import pytest
from _cli import ok, one_line_error, run

from triage_core import cli, demo, store
from triage_core.cli import common

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "sklearn", "skops", "numpy", "duckdb", "streamlit", "pyarrow", "tqdm")


def process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The real command in a new interpreter, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "triage_core.cli", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=300)


def info(db: Path) -> dict:
    return json.loads(ok("info", "--json", db=db))["tables"]


def verbs(group: click.Group = cli.triage, path: tuple[str, ...] = ()):
    """Every command of the tree as (path, command), groups included."""
    for name, command in group.commands.items():
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from verbs(command, (*path, name))


@pytest.fixture
def db(tmp_path: Path, data_dir: Path) -> Path:
    path = tmp_path / "cli.duckdb"
    for table in ("customers", "campaigns", "agents", "tickets", "touchpoints"):
        ok("import", table, str(data_dir / f"{table}.csv"), db=path)
    return path


def test_import_and_info(db: Path, data_dir: Path) -> None:
    counts = info(db)
    assert counts["tickets"] == 3 and counts["touchpoints"] == 3
    assert "0 new" in ok("import", "tickets", str(data_dir / "tickets.csv"), db=db)
    assert info(db) == counts
    text = ok("info", db=db)
    assert text.startswith(f"database {db} (schema version ")
    assert "  tickets  " in text


def test_a_long_list_of_ignored_columns_is_cut_in_the_line(db: Path, tmp_path: Path) -> None:
    """An API export flattened to dotted columns has dozens of fields we do not use: the
    import's line names the first 15 and counts the others; --json lists them all."""
    record = {"ticket_id": "T77", "created_at": "2026-02-01 10:00:00", "customer_id": "C1",
              "status": "open", **{f"custom.field_{i:02d}": str(i) for i in range(40)}}
    f = tmp_path / "wide.json"
    f.write_text(json.dumps([record]))
    line = ok("import", "tickets", str(f), db=db)
    assert "custom.field_14" in line and "custom.field_15" not in line
    assert "and 25 more (--json lists them all)" in line
    full = json.loads(ok("import", "tickets", str(f), "--json", db=db))
    assert len(full["ignored_columns"]) == 40


def test_an_export_page_with_no_tickets_is_nothing_to_import(db: Path, tmp_path: Path) -> None:
    """An incremental export's page when nothing changed ({"tickets": [], ...}): a cron line
    importing each page succeeds and says so; a bare empty list is still refused."""
    before = info(db)
    page = tmp_path / "page.json"
    page.write_text('{"tickets": [], "next_page": null, "end_of_stream": true, "count": 0}')
    r = run("import", "tickets", str(page), "--preset", "zendesk", db=db)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("page.json: nothing to import (its 'tickets' list is empty")
    assert "the database is unchanged" in r.stdout
    full = json.loads(ok("import", "tickets", str(page), "--json", db=db))
    assert (full["rows_in_file"], full["new_rows"], full["existing_rows"]) == (0, 0, 0)
    assert "nothing to import" in full["warnings"][0]
    assert info(db) == before
    bare = tmp_path / "bare.json"
    bare.write_text("[]")
    assert "holds no records" in one_line_error(run("import", "tickets", str(bare), db=db))
    assert info(db) == before


def test_a_refused_first_import_leaves_no_database_behind(tmp_path: Path) -> None:
    """The database a refused import would have started is not left behind (an empty
    536 KB file was); a refused import into an existing one leaves it as it was."""
    new = tmp_path / "new.duckdb"
    bad = tmp_path / "t.csv"
    bad.write_text("ticket_id,created_at,customer_id,status\nT1,yesterday,C1,open\n")
    assert "yesterday" in one_line_error(run("import", "tickets", str(bad), db=new))
    assert not new.exists() and not Path(f"{new}.wal").exists()
    good = tmp_path / "c.csv"
    good.write_text("customer_id\nC1\n")
    ok("import", "customers", str(good), db=new)
    assert "yesterday" in one_line_error(run("import", "tickets", str(bad), db=new))
    assert new.exists()
    # an import that committed stays, whatever fails after it (here: the config's check)
    other = tmp_path / "other.duckdb"
    broken = tmp_path / "broken.toml"
    broken.write_text("[routing\n")
    r = run("import", "customers", str(good), db=other, env={"TRIAGE_CONFIG": str(broken)})
    assert r.exit_code == 1 and other.exists()


def test_bad_file_one_line_exit_1(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("ticket_id,created_at,customer_id,status\nT9,not-a-date,C1,open\n")
    before = info(db)
    r = process("import", "tickets", str(bad), "--db", str(db))
    assert r.returncode == 1
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: ")
    assert "bad.csv" in lines[0] and "row 1" in lines[0] and "created_at" in lines[0]
    assert "Traceback" not in r.stderr
    assert info(db) == before


def test_usage_errors_exit_2_and_help_imports_no_heavy_module() -> None:
    r = process("import", "nope", "x.csv")
    assert r.returncode == 2 and r.stdout == "" and "TABLE" in r.stderr
    assert process("bogus").returncode == 2
    code = ("import sys\nfrom triage_core.cli import main\n"
            "codes = [main(['--help']), main(['score', '--help'])]\n"
            f"print(codes, [m for m in {HEAVY!r} if m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[0, 0] []"


def test_main_returns_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == "triage 0.1.0"
    assert cli.main(["feedback", "add"]) == 2
    assert "--ticket" in capsys.readouterr().err


def test_console_script_is_main() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"] == {"triage": "triage_core.cli:main"}


def test_map_option_and_preset_flag(db: Path, tmp_path: Path) -> None:
    f = tmp_path / "mapped.csv"
    f.write_text("Case,Opened,Client,State\nM1,2026-02-01 10:00,C1,open\n")
    ok("import", "tickets", str(f), "--map", "Case=ticket_id", "--map", "Opened=created_at",
       "--map", "Client=customer_id", "--map", "State=status", db=db)
    assert info(db)["tickets"] == 4
    err = one_line_error(run("import", "tickets", str(f), "--map", "Case", db=db))
    assert "SOURCE=TARGET" in err
    # with a preset, a --map source the file does not have is named too (a preset's own
    # columns an export may lack are not)
    z = tmp_path / "zendesk.csv"
    z.write_text("Id,Requester id,Subject,Description,Status,Created at\n"
                 "Z1,C1,Refund,please refund,open,2026-02-01 10:00:00\n")
    r = run("import", "tickets", str(z), "--preset", "zendesk", "--map", "Kategorie=category",
            db=db)
    assert r.exit_code == 0, r.stderr
    assert "the mapping names 'Kategorie' for category, which the file does not have" in r.stderr
    r = run("import", "tickets", str(z), "--preset", "zendesk", db=db)
    assert r.exit_code == 0 and "which the file does not have" not in r.stderr, r.stderr
    # a --map source the file lacks, for a column its own column of that name fills: the
    # warning said "stay empty" while the column was imported
    b = tmp_path / "own.csv"
    b.write_text("ticket_id,customer_id,status,created_at,body\n"
                 "B1,C1,open,2026-02-01 10:00:00,please refund\n")
    r = run("import", "tickets", str(b), "--map", "nothere=body", db=db)
    assert r.exit_code == 0, r.stderr
    assert ("the mapping names 'nothere' for body (read from its column 'body' instead), which"
            " the file does not have") in r.stderr and "stay empty" not in r.stderr
    # two sources for one column (one was dropped without a word), an empty source
    assert one_line_error(run("import", "tickets", str(b), "--map", "body=subject", "--map",
                              "status=subject", db=db)) == (
        "error: --map 'body=subject' and --map 'status=subject' both fill subject: keep one")
    assert "no column of the file before '='" in one_line_error(
        run("import", "tickets", str(b), "--map", " =body", db=db))


def test_db_from_environment(tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "env.duckdb"
    r = run("import", "customers", str(data_dir / "customers.csv"),
            env={"TRIAGE_DB": str(path)})
    assert r.exit_code == 0, r.stderr
    assert path.exists()


def test_db_after_the_verb_wins(db: Path, tmp_path: Path) -> None:
    assert json.loads(ok("--db", str(db), "info", "--json"))["db"] == str(db)
    r = run("--db", str(db), "info", db=tmp_path / "other.duckdb")
    assert "no such database" in one_line_error(r)
    assert ok("feedback", "--db", str(db), "list").strip() == "no feedback yet"


def test_default_db_is_the_stores(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TRIAGE_DB", raising=False)
    assert common.default_db() == str(store.default_db_path()) == "triage.duckdb"
    monkeypatch.setenv("TRIAGE_DB", "")
    assert common.default_db() == str(store.default_db_path())
    monkeypatch.setenv("TRIAGE_DB", str(tmp_path / "x.duckdb"))
    assert common.default_db() == str(store.default_db_path())


def test_demo_defaults_are_the_demo_worlds() -> None:
    defaults = {p.name: p.default for p in cli.data.demo_cmd.params}
    assert (defaults["tickets"], defaults["seed"]) == (demo.DEMO_TICKETS, demo.DEMO_SEED)


def test_info_on_missing_database(tmp_path: Path) -> None:
    assert "no such database" in one_line_error(run("info", db=tmp_path / "nope.duckdb"))
    assert not (tmp_path / "nope.duckdb").exists()


@pytest.mark.parametrize("path", [" ".join(p) for p, _ in verbs()])
def test_help_everywhere(path: str, tmp_path: Path) -> None:
    out = ok(*path.split(), "--help", db=tmp_path / "x.duckdb")
    assert "--db" in out and f"Usage: triage {path} " in out
    assert not (tmp_path / "x.duckdb").exists()
