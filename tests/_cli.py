"""Shared test helper: the `triage` command run in this process with click's CliRunner."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from triage_core.cli import triage


def run(*args: str, db: Path | None = None, env: dict[str, str] | None = None) -> Result:
    """``triage ARGS [--db DB]``; exit status, stdout and stderr on the result. An exception that
    is not a clean exit (a bug, not a user error) propagates to the test."""
    argv = [*args, "--db", str(db)] if db is not None else list(args)
    return CliRunner(env=env).invoke(triage, argv, prog_name="triage", catch_exceptions=False)


def ok(*args: str, db: Path | None = None) -> str:
    """stdout of a run that must succeed."""
    r = run(*args, db=db)
    assert r.exit_code == 0, r.stderr
    return r.stdout


def one_line_error(r: Result) -> str:
    """The one line on stderr of a run that failed with a user error (exit status 1)."""
    assert r.exit_code == 1 and r.stdout == "", (r.exit_code, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    return lines[0]
