"""`make bench`, part 2: a real `triage serve` on localhost under load, a dashboard session open.

Builds the demo database (`triage demo`), creates a token, starts `triage serve` (dashboard and
API, one process), opens the dashboard in Chromium (when /usr/bin/chromium exists) and keeps
that session open, then:

- single-ticket POSTs from 20 concurrent clients (keep-alive connections, each sending its next
  ticket as soon as the previous one is answered): p50, p90, p99, max latency, throughput and
  the number of errors (non-2xx answers or failed connections);
- the same single tickets posted again by the same clients (updates of existing tickets, as a
  helpdesk's webhook sends them): the same figures;
- Zendesk webhook calls from the same clients (new tickets in the helpdesk's own values, signed
  as Zendesk signs them, mapped by its preset): the same figures;
- 1,000-ticket batch POSTs (3 runs, new tickets each time);
- single new tickets from the same clients while the server runs `triage retrain` (sent as a
  job, as the nightly cron line sends it), until the retrain ends: the same figures and how
  long the retrain took.

Tickets are demo texts (sample_data) for existing customers, with new ids.
Usage: python -m benchmarks.server_load [--clients 20] [--requests 100] [--keep DIR]
Results: printed table, benchmarks/results/server.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from triage_core.server.settings import ENV_ZENDESK

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SAMPLE = ROOT / "sample_data"
CHROMIUM = Path("/usr/bin/chromium")
TRIAGE = [sys.executable, "-m", "triage_core.cli"]
LIMIT = 300.0  # seconds a server may take to come up and warm up


def texts(n: int) -> list[dict[str, Any]]:
    """``n`` ticket bodies from the demo world, for existing customers."""
    import pandas as pd

    t = pd.read_parquet(SAMPLE / "tickets.parquet", columns=["customer_id", "subject", "body",
                                                             "channel"]).head(n)
    return t.to_dict("records")


def ticket(base: dict[str, Any], ticket_id: str) -> dict[str, Any]:
    return {**base, "ticket_id": ticket_id, "status": "new",
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


class Client:
    """One keep-alive HTTP/1.1 connection that POSTs JSON and times each answer."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.token = token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, payload: Any,
                   sign: Callable[[bytes], dict[str, str]] | None = None
                   ) -> tuple[int, float, bytes]:
        """POST ``payload`` as JSON with the bearer token; ``sign``: the headers that sign its
        body too (a webhook's)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        body = json.dumps(payload).encode()
        auth = f"Authorization: Bearer {self.token}\r\n" + (
            "".join(f"{k}: {v}\r\n" for k, v in sign(body).items()) if sign else "")
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n{auth}"
                f"Content-Type: application/json\r\nContent-Length: "
                f"{len(body)}\r\n\r\n").encode()
        start = time.perf_counter()
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        answer = await self.reader.readexactly(length)
        return int(status_line.split()[1]), time.perf_counter() - start, answer


def zendesk_payload(base: dict[str, Any], ticket_id: str) -> dict[str, Any]:
    """What Zendesk sends with the README's webhook template (a new ticket, the helpdesk's
    own values: its requester id, "Web Form", "Normal")."""
    return {"ticket_id": ticket_id, "customer_id": f"zd-{abs(hash(base['customer_id'])) % 5000}",
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "subject": base["subject"], "body": base["body"], "status": "Open",
            "channel": "Web Form", "source_priority": "Normal"}


def zendesk_signer(secret: str) -> Callable[[bytes], dict[str, str]]:
    from triage_core.server import webhooks

    def sign(body: bytes) -> dict[str, str]:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return {webhooks.ZENDESK_SIGNATURE: webhooks.zendesk_signature(secret, stamp, body),
                webhooks.ZENDESK_TIMESTAMP: stamp}
    return sign


async def load(url: str, token: str, clients: int, per_client: int,
               pool: list[dict[str, Any]], prefix: str, webhook_secret: str | None = None,
               until: threading.Event | None = None) -> dict[str, Any]:
    """``clients`` connections, each POSTing ``per_client`` single tickets back to back (to
    the Zendesk webhook, signed with ``webhook_secret``, when given; until ``until`` is set
    instead, when given)."""
    latencies: list[float] = []
    errors = 0
    path, make = "/api/v1/tickets", ticket
    sign = None
    if webhook_secret is not None:
        path, make, sign = ("/api/v1/webhooks/zendesk", zendesk_payload,
                            zendesk_signer(webhook_secret))

    async def one(c: int) -> None:
        nonlocal errors
        client = Client(url, token)
        for i in itertools.count() if until is not None else range(per_client):
            if until is not None and until.is_set():
                break
            base = pool[(c * per_client + i) % len(pool)]
            try:
                status, seconds, _ = await client.post(
                    path, make(base, f"{prefix}-{c:02d}-{i:05d}"), sign)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                errors += 1
                client = Client(url, token)
                continue
            latencies.append(seconds)
            errors += not 200 <= status < 300

    start = time.perf_counter()
    await asyncio.gather(*(one(c) for c in range(clients)))
    wall = time.perf_counter() - start
    ms = sorted(x * 1000 for x in latencies)

    def pct(p: float) -> float:
        return round(ms[min(len(ms) - 1, int(p / 100 * len(ms)))], 1) if ms else float("nan")

    return {"clients": clients, "requests": len(ms) + errors, "answered": len(ms),
            "errors": errors, "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99),
            "max_ms": round(ms[-1], 1) if ms else None,
            "mean_ms": round(statistics.fmean(ms), 1) if ms else None,
            "throughput_rps": round(len(ms) / wall, 1), "seconds": round(wall, 2)}


async def batches(url: str, token: str, pool: list[dict[str, Any]], runs: int = 3,
                  size: int = 1000, run_id: str = "") -> list[dict[str, Any]]:
    out = []
    client = Client(url, token)
    for r in range(runs):
        rows = [ticket(pool[i % len(pool)], f"BATCH{run_id}-{r}-{i:05d}") for i in range(size)]
        status, seconds, _ = await client.post("/api/v1/tickets", rows)
        out.append({"status": status, "seconds": round(seconds, 3)})
    return out


def start_server(db: Path, log: Path, env: dict[str, str] | None = None
                 ) -> tuple[subprocess.Popen, dict[str, Any]]:
    from triage_core.server import owner

    proc = subprocess.Popen([*TRIAGE, "serve", "--db", str(db), "--port", "0"], cwd=ROOT,
                            stdout=log.open("w"), stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})})
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        record = owner.live(db)
        if record:
            return proc, record
        if proc.poll() is not None:
            raise SystemExit(f"triage serve exited with {proc.returncode}; see {log}")
        time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"triage serve did not come up; see {log}")


def wait_ready(url: str, limit: float = LIMIT) -> float:
    """Wait until the server says it is warmed up (models loaded, first background run of the
    emerging-topic alerts done), as it is for every user after its first minute; seconds
    waited."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        with urllib.request.urlopen(f"{url.rstrip('/')}/api/v1/health", timeout=10) as r:
            if json.load(r).get("ready"):
                return time.perf_counter() - start
        time.sleep(0.5)
    raise TimeoutError(f"the server at {url} was not ready within {limit:.0f} s")


def settled(page: Any, quiet: float = 2.0, limit: float = 300.0) -> None:
    """Wait until the page's script has finished its first run (Streamlit's status widget,
    shown while the script runs, absent for ``quiet`` seconds): the load then meets an open
    session, not the page still loading."""
    deadline = time.monotonic() + limit
    calm_since = time.monotonic()
    while time.monotonic() < deadline:
        if page.locator('[data-testid="stStatusWidget"]').count():
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since >= quiet:
            return
        page.wait_for_timeout(250)


@contextlib.contextmanager
def dashboard_session(url: str) -> Any:
    """A browser showing the dashboard while the block runs (in a thread: Playwright's sync API
    keeps its own event loop); yields whether there is one (no Chromium: False)."""
    if not CHROMIUM.exists():
        yield False
        return
    from playwright.sync_api import sync_playwright

    ready, done, errors = threading.Event(), threading.Event(), []

    def hold() -> None:
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
                    "--headless=new", "--no-sandbox", "--disable-gpu"])
                page = browser.new_page()
                page.goto(url, timeout=300_000)
                page.get_by_text("Support overview").first.wait_for(timeout=300_000)
                settled(page)
                ready.set()
                done.wait()
                browser.close()
        except Exception as exc:  # reported by the caller
            errors.append(exc)
            ready.set()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    ready.wait(600)
    if errors:
        raise errors[0]
    try:
        yield True
    finally:
        done.set()
        thread.join(60)


def during_retrain(url: str, token: str, clients: int, pool: list[dict[str, Any]],
                   prefix: str) -> dict[str, Any]:
    """Single new tickets from ``clients`` clients while the server runs ``triage retrain``
    (sent as a job, as the nightly cron line or the CLI sends it), until the job ends."""
    def api(method: str, path: str, body: Any = None) -> dict[str, Any]:
        req = urllib.request.Request(url + path, method=method, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            data=None if body is None else json.dumps(body).encode())
        with urllib.request.urlopen(req, timeout=120) as resp:
            return json.loads(resp.read())

    done = threading.Event()
    job = api("POST", "/api/v1/jobs/retrain", {})["job"]
    start = time.perf_counter()

    def follow() -> None:
        nonlocal job
        try:
            while job["state"] not in ("done", "failed", "interrupted"):
                job = api("GET", f"/api/v1/jobs/{job['job_id']}?wait=0.5")["job"]
        finally:
            done.set()

    watcher = threading.Thread(target=follow, daemon=True)
    watcher.start()
    result = asyncio.run(load(url, token, clients, 1, pool, prefix, until=done))
    watcher.join(timeout=600)
    return {**result, "retrain_seconds": round(time.perf_counter() - start, 1),
            "retrain_state": job["state"]}


def machine_speed() -> float:
    """Seconds for a fixed Python loop (3,000,000 additions; 0.08-0.09 s on this machine's
    quiet evenings): how fast the machine runs Python at the moment, for comparing runs."""
    start = time.perf_counter()
    n = 0
    for i in range(3_000_000):
        n += i
    return round(time.perf_counter() - start, 3)


def intake_helper() -> bool:
    """Whether the server runs the intake's helper process ([server] intake_helper of the
    configuration the server gets, $TRIAGE_CONFIG included)."""
    from triage_core.config import load_config

    return bool(load_config().get("server", {}).get("intake_helper", True))


def run(work: Path, clients: int, per_client: int) -> dict[str, Any]:
    db = work / "serve.duckdb"
    if not db.exists():
        subprocess.run([*TRIAGE, "demo", "--db", str(db)], cwd=ROOT, check=True)
    token = json.loads(subprocess.run(
        [*TRIAGE, "tokens", "create", "--db", str(db), "--name", f"bench-{time.time_ns()}",
         "--json"], cwd=ROOT, check=True, capture_output=True, text=True).stdout)["token"]
    secret = f"bench-{time.time_ns()}"
    proc, record = start_server(db, work / "serve.log", {ENV_ZENDESK: secret})
    pool = texts(2000)
    try:
        # as users meet it after the server's first minute: models loaded, the first
        # background run of the emerging-topic alerts done
        wait_ready(record["url"])
        # ids new to the database on every run (a kept database already has the last run's)
        run_id = time.strftime("%Y%m%d%H%M%S")
        with dashboard_session(record["url"]) as session:
            asyncio.run(load(record["url"], token, clients, 5, pool, f"WARM{run_id}"))
            single = asyncio.run(load(record["url"], token, clients, per_client, pool,
                                      f"LOAD{run_id}"))
            # the same tickets posted again (a helpdesk's webhook fires on updates too): each
            # is an existing ticket, triaged by the SQL path
            again = asyncio.run(load(record["url"], token, clients,
                                     max(1, per_client // 4), pool, f"LOAD{run_id}"))
            # Zendesk's webhook: new tickets in the helpdesk's values, mapped by its preset
            hooks = asyncio.run(load(record["url"], token, clients, max(1, per_client // 4),
                                     pool, f"ZD{run_id}", webhook_secret=secret))
            batch = asyncio.run(batches(record["url"], token, pool, run_id=run_id))
            # last: it activates a new model version
            retrain = during_retrain(record["url"], token, clients, pool, f"RT{run_id}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    return {"single": single, "updates": again, "zendesk_webhook": hooks, "batch_1000": batch,
            "during_retrain": retrain, "dashboard_session": session,
            "intake_helper": intake_helper()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=100, help="per client")
    parser.add_argument("--keep", help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="triage-serve-"))
    work.mkdir(parents=True, exist_ok=True)
    speed = machine_speed()
    result = run(work, args.clients, args.requests)
    result["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                         "load_average": os.getloadavg(), "loop_seconds_before": speed,
                         "loop_seconds_after": machine_speed()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "server.json").write_text(json.dumps(result, indent=2))
    s = result["single"]
    print(f"\n| triage serve, {s['clients']} clients, single-ticket POST | |\n|---|---|")
    for key in ("requests", "errors", "p50_ms", "p90_ms", "p99_ms", "max_ms",
                "throughput_rps"):
        print(f"| {key} | {s[key]} |")
    u = result["updates"]
    print(f"| the same tickets posted again (updates), {u['clients']} clients | p50 "
          f"{u['p50_ms']} ms, p99 {u['p99_ms']} ms, {u['throughput_rps']} tickets/s, "
          f"{u['errors']} errors in {u['requests']} |")
    z = result["zendesk_webhook"]
    print(f"| Zendesk webhook calls (new tickets), {z['clients']} clients | p50 "
          f"{z['p50_ms']} ms, p99 {z['p99_ms']} ms, {z['throughput_rps']} tickets/s, "
          f"{z['errors']} errors in {z['requests']} |")
    r = result["during_retrain"]
    print(f"| new tickets during a retrain ({r['retrain_seconds']} s, {r['retrain_state']}), "
          f"{r['clients']} clients | p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max "
          f"{r['max_ms']} ms, {r['throughput_rps']} tickets/s, {r['errors']} errors in "
          f"{r['requests']} |")
    for i, b in enumerate(result["batch_1000"], 1):
        print(f"| 1,000-ticket POST, run {i} | {b['seconds']:.3f} s (HTTP {b['status']}) |")
    print(f"| dashboard session open | {'yes' if result['dashboard_session'] else 'no'} |")
    print(f"| intake helper process | {'yes' if result['intake_helper'] else 'no'} |")
    m = result["machine"]
    print(f"| fixed loop (machine speed), before / after | {m['loop_seconds_before']} / "
          f"{m['loop_seconds_after']} s |")
    return 0 if (s["errors"] == 0 and u["errors"] == 0 and z["errors"] == 0
                 and r["errors"] == 0 and r["retrain_state"] == "done") else 1


if __name__ == "__main__":
    sys.exit(main())
