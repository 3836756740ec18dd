"""The `triage` command as a user runs it: real processes, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, db: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "triage_core.cli", *args, "--db", str(db)],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=300,
    )


def info(db: Path) -> dict:
    out = run("info", "--json", db=db)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["tables"]


@pytest.fixture
def db(tmp_path: Path, data_dir: Path) -> Path:
    path = tmp_path / "cli.duckdb"
    for table in ("customers", "campaigns", "agents", "tickets", "touchpoints"):
        r = run("import", table, str(data_dir / f"{table}.csv"), db=path)
        assert r.returncode == 0, r.stderr
    return path


def test_import_and_info(db: Path, data_dir: Path) -> None:
    counts = info(db)
    assert counts["tickets"] == 3 and counts["touchpoints"] == 3
    again = run("import", "tickets", str(data_dir / "tickets.csv"), db=db)
    assert again.returncode == 0
    assert "0 new" in again.stdout
    assert info(db) == counts


def test_bad_file_one_line_exit_1(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("ticket_id,created_at,customer_id,status\nT9,not-a-date,C1,open\n")
    before = info(db)
    r = run("import", "tickets", str(bad), db=db)
    assert r.returncode == 1
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "bad.csv" in lines[0] and "row 1" in lines[0] and "created_at" in lines[0]
    assert "Traceback" not in r.stderr
    assert info(db) == before


def test_map_option_and_preset_flag(db: Path, tmp_path: Path) -> None:
    f = tmp_path / "mapped.csv"
    f.write_text("Case,Opened,Client,State\nM1,2026-02-01 10:00,C1,open\n")
    r = run("import", "tickets", str(f), "--map", "Case=ticket_id", "--map", "Opened=created_at",
            "--map", "Client=customer_id", "--map", "State=status", db=db)
    assert r.returncode == 0, r.stderr
    assert info(db)["tickets"] == 4
    bad = run("import", "tickets", str(f), "--map", "Case", db=db)
    assert bad.returncode == 1 and "SOURCE=TARGET" in bad.stderr


def test_db_from_environment(tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "env.duckdb"
    r = subprocess.run([sys.executable, "-m", "triage_core.cli", "import", "customers",
                        str(data_dir / "customers.csv")], capture_output=True, text=True,
                       env={**os.environ, "TRIAGE_DB": str(path)}, timeout=120)
    assert r.returncode == 0, r.stderr
    assert path.exists()


def test_info_on_missing_database(tmp_path: Path) -> None:
    r = run("info", db=tmp_path / "nope.duckdb")
    assert r.returncode == 1 and "no such database" in r.stderr
    assert not (tmp_path / "nope.duckdb").exists()


@pytest.mark.parametrize("verb", ["demo", "import", "info"])
def test_help_everywhere(verb: str, tmp_path: Path) -> None:
    r = run(verb, "--help", db=tmp_path / "x.duckdb")
    assert r.returncode == 0 and "--db" in r.stdout
