"""`triage serve` and `triage tokens`, and every verb going through a running server: progress
and output come back, errors stay one line, a second server is refused, `demo --force` empties
the served database in place, and without a server the verbs open the file as always."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from _cli import ok, one_line_error, run
from _served import ROOT, call, live_server, triage_cmd
from _world import WORLD_TICKETS

from triage_core.cli import triage
from triage_core.cli.server import CliVerbs, command_line
from triage_core.errors import TriageError
from triage_core.server import owner


def test_tokens_without_a_server(db: Path) -> None:
    token = json.loads(ok("tokens", "create", "--name", "zendesk", "--json", db=db))["token"]
    assert token.startswith("tt_") and len(token) > 50
    listed = json.loads(ok("tokens", "list", "--json", db=db))
    assert [(t["name"], t["revoked_at"]) for t in listed] == [("zendesk", None)]
    assert token not in json.dumps(listed)
    assert "exists" in one_line_error(run("tokens", "create", "--name", "zendesk", db=db))
    assert ok("tokens", "revoke", "zendesk", db=db).startswith("revoked token ")
    assert json.loads(ok("tokens", "list", "--json", db=db))[0]["revoked_at"] is not None
    assert "no active token" in one_line_error(run("tokens", "revoke", "zendesk", db=db))


@pytest.mark.slow
def test_verbs_go_through_the_server(db: Path, tmp_path: Path) -> None:
    with live_server(db, tmp_path / "serve.log", "--no-dashboard") as live:
        second = triage_cmd("serve", "--db", str(db), "--port", "0")
        assert second.returncode == 1
        assert f"is already served by process {live.proc.pid}" in second.stderr
        info = triage_cmd("info", "--db", str(db), "--json")
        assert info.returncode == 0, info.stderr
        assert json.loads(info.stdout)["tables"]["tickets"] == WORLD_TICKETS
        token = json.loads(triage_cmd("tokens", "create", "--db", str(db), "--name", "t",
                                      "--json").stdout)["token"]
        missing = triage_cmd("import", "tickets", "nowhere.csv", "--db", str(db))
        assert missing.returncode == 1 and missing.stderr.startswith("error: ")
        assert missing.stderr.count("\n") == 1
        demo = triage_cmd("demo", "--db", str(db), "--force", "--tickets", "300", "--seed",
                          "3", "--no-triage")
        assert demo.returncode == 0, demo.stderr
        info = json.loads(triage_cmd("info", "--db", str(db), "--json").stdout)
        assert info["tables"]["tickets"] == 300 and "triaged_tickets" not in info["tables"]
        status, _ = call(live.url + "/api/v1/openapi.json", token=token)
        assert status == 200  # tokens outlive `demo --force`
        # a group that works on its own (it said another program was using the database)
        topics = triage_cmd("topics", "--db", str(db), "--json")
        assert topics.returncode == 0, topics.stderr
        assert json.loads(topics.stdout)["topics"]
        rename = triage_cmd("topics", "rename", "1", "Renamed", "--db", str(db), "--json")
        assert rename.returncode == 0, rename.stderr
        assert json.loads(rename.stdout)["topics"][0]["name"] == "Renamed"
        assert live.proc.poll() is None
    assert owner.read(db) is None  # a clean stop removes the record
    info = json.loads(ok("info", "--json", db=db))  # no server: the file, as always
    assert info["tables"]["tickets"] == 300


def test_forwarded_command_lines_keep_every_option() -> None:
    cmd = triage.commands["import"]
    assert isinstance(cmd, click.Command)
    ctx = cmd.make_context("import", ["tickets", "x.csv", "--map", "A=ticket_id", "--map",
                                      "B=subject", "--create-missing", "--db", "/some/db"])
    line = command_line(("import",), cmd, ctx.params)
    assert line == ["import", "--map", "A=ticket_id", "--map", "B=subject", "--create-missing",
                    "--", "tickets", str(Path("x.csv").resolve())]
    score = triage.commands["score"]
    ctx = score.make_context("score", ["--full", "--config", "my.toml", "--as-of", "2026-01-01"])
    assert command_line(("score",), score, ctx.params) == [
        "score", "--config", str(Path("my.toml").resolve()), "--as-of", "2026-01-01", "--full",
        "--engine", "local"]


def test_a_server_lost_while_a_job_runs_is_one_line() -> None:
    """The server accepted the command and then stopped answering (stopped or killed while the
    job ran): one line that says so and that the job may not have finished, no traceback."""
    import http.server
    import threading

    from triage_core.errors import TriageError
    from triage_core.server.client import run_remote

    class Once(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.dumps({"job": {"job_id": "abc123", "state": "running"}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self.close_connection = True  # gone: no answer at all

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Once)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        record = {"url": f"http://127.0.0.1:{httpd.server_address[1]}", "token": "t",
                  "pid": 1, "db": "x.duckdb"}
        with pytest.raises(TriageError) as err:
            run_remote(record, ["retrain"])
    finally:
        httpd.shutdown()
        httpd.server_close()
    message = str(err.value)
    assert message.startswith(f"lost the server at {record['url']} while it ran this command "
                              "(job abc123): ")
    assert "may not have finished" in message and "\n" not in message
    assert "but did not answer" not in message  # not the message of a server never reached


_HOLDER = """
import sys, time
from triage_core.server import owner
from triage_core.store import Store
db, seconds = sys.argv[1], float(sys.argv[2])
store = Store(db)  # the lock, as a server holds it while it starts
owner.write(db, {"url": "", "pid": __import__("os").getpid(), "instance": "starting",
                 "token": "x", "db": db})
print("holding", flush=True)
time.sleep(seconds)
owner.remove(db, "starting")
store.close()
"""


def _hold(db: Path, seconds: float) -> subprocess.Popen:
    """A process that holds ``db`` and a record without an address (a server starting) for
    ``seconds``, then lets both go."""
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(db), str(seconds)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    return proc


def test_a_verb_waits_for_a_server_that_is_starting(db: Path) -> None:
    """A verb that finds the file locked by a server still starting (its record written, its
    address not yet) waits for it instead of failing; here the holder goes away instead of
    answering, and the verb then runs on the file. A second server is refused meanwhile."""
    holder = _hold(db, 4)
    try:
        from triage_core.config import default_config
        from triage_core.server.app import Server

        with pytest.raises(TriageError, match=r"already served by process \d+ \(starting up\)"):
            Server(db, default_config(), CliVerbs())
        made = triage_cmd("tokens", "create", "--db", str(db), "--name", "cron", "--json")
    finally:
        holder.communicate(timeout=60)
    assert made.returncode == 0, made.stderr
    assert f"(process {holder.pid}) is starting; waiting for it" in made.stderr
    assert json.loads(made.stdout)["token"].startswith("tt_")
    listed = json.loads(ok("tokens", "list", "--json", db=db))
    assert [t["name"] for t in listed] == ["cron"]


def test_a_verb_without_a_starting_server_fails_at_once_on_a_locked_file(db: Path,
                                                                         tmp_path: Path) -> None:
    """A lock held by a process without a record (another program) is the usual one-line
    error, at once."""
    script = tmp_path / "lock.py"
    script.write_text("import sys, time\nfrom triage_core.store import Store\n"
                      "s = Store(sys.argv[1])\nprint('holding', flush=True)\ntime.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, str(script), str(db)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
        start = time.monotonic()
        failed = triage_cmd("tokens", "create", "--db", str(db), "--name", "cron")
        assert time.monotonic() - start < 20
    finally:
        proc.kill()
        proc.communicate(timeout=60)
    assert failed.returncode == 1
    assert "another program is using this database" in failed.stderr
    assert "waiting" not in failed.stderr


@pytest.mark.slow
def test_a_verb_sent_while_the_server_starts_goes_through_it(db: Path, tmp_path: Path) -> None:
    """`triage serve` writes its record as soon as it holds the file; a verb run from then on
    reaches it, even before it listens."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with (tmp_path / "serve.log").open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "triage_core.cli", "serve", "--db",
                                 str(db), "--port", "0", "--no-dashboard"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while owner.read(db) is None:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.02)
            made = triage_cmd("tokens", "create", "--db", str(db), "--name", "early",
                              "--json")
            assert made.returncode == 0, made.stderr
            assert owner.live(db) is not None
        finally:
            proc.terminate()
            proc.wait(timeout=120)
    listed = json.loads(ok("tokens", "list", "--json", db=db))
    assert [t["name"] for t in listed] == ["early"]
