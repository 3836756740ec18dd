"""`make bench`: time every stage on demo databases of 100,000 and 1,000,000 tickets.

Each size runs in its own process (so its peak memory is its own). First the documented
commands as users run them, each a fresh ``triage`` process on a database they build
(``demo --no-triage``, ``train --no-score``, ``score --full``, a day of 1,000 new tickets,
``info``, ``--help``), with each process's peak memory, and every dashboard page's first load
in Chromium served by ``triage serve`` on that database (benchmarks/browser_pages.py). Then
the in-process stage breakdown:
generate the demo files,
import them, train the category model (capped sample, see defaults/training.toml), predict
category / sentiment / severity, score + route, re-score with new weights (the ≤ 1 s target),
attribution per model, lift for every campaign, one forecast and the forecast's backtest (each a
fresh ``triage`` process), every dashboard page's server-side run with AppTest (cold and warm), a
weight change on the tuning page, and an incremental day: 1,000 new tickets imported and
triaged. The same run compares against the naive approach: per-ticket
``SentimentIntensityAnalyzer.polarity_scores`` and row-by-row priority scoring, and (when
../shared/datasets is there) our sentiment end to end against per-text ``polarity_scores`` on
the real airline tweets (CPU time, fresh processes, best of three).

Usage: python -m benchmarks.run [--sizes 100000,1000000] [--keep DIR]
Results: printed table, benchmarks/results/bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DATASETS = Path(os.environ.get("TRIAGE_DATASETS", ROOT.parent / "shared" / "datasets"))
PAGES = ["overview", "campaigns", "sentiment", "queues", "tuning", "explorer", "review",
         "models", "data_io", "plan"]
# Campaign planning, each timed as a fresh process running the documented command.
PLANNING = [
    ("lift: all campaigns (`triage lift --json`, fresh process)", ["lift", "--json"]),
    ("forecast: one plan (`triage forecast --like CMP08 ... --json`, fresh process)",
     ["forecast", "--like", "CMP08", "--reach", "50000", "--start", "2026-07-06", "--end",
      "2026-07-20", "--spend", "20000", "--revenue", "150000", "--json"]),
    ("forecast: backtest (`triage forecast --backtest --json`, fresh process)",
     ["forecast", "--backtest", "--json"]),
]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Timer:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, stage: str, seconds: float, **extra: Any) -> None:
        row = {"stage": stage, "seconds": round(seconds, 3), "peak_rss_mib": round(
            peak_rss_mib(), 1), **extra}
        self.rows.append(row)
        print(f"  {stage:<42} {seconds:9.3f} s   peak {row['peak_rss_mib']:8.0f} MiB"
              + (f"   {extra}" if extra else ""), file=sys.stderr, flush=True)

    def time(self, stage: str, fn, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        self.add(stage, time.perf_counter() - start)
        return out


def new_day(store, tmp: Path, n: int = 1000) -> Path:
    """1,000 new tickets for existing customers (ids that do not exist yet)."""
    import numpy as np

    from triage_core import demo

    d = tmp / "newday"
    demo.generate(d, tickets=n, seed=4242)
    import pandas as pd

    t = pd.read_parquet(d / "tickets.parquet")
    customers = store.query("SELECT customer_id FROM customers USING SAMPLE 5000 ROWS "
                            "(reservoir, 1)")["customer_id"].to_numpy()
    rng = np.random.default_rng(1)
    t["ticket_id"] = [f"NEW{i:07d}" for i in range(len(t))]
    t["customer_id"] = rng.choice(customers, len(t))
    t["created_at"] = pd.Timestamp(store.scalar("SELECT max(created_at) FROM tickets")) + \
        pd.to_timedelta(rng.integers(60, 86_400, len(t)), unit="s")
    t["status"] = "new"
    for c in ("first_response_at", "resolved_at", "agent_id", "csat", "category"):
        t[c] = None
    path = tmp / "new_tickets.parquet"
    t.to_parquet(path, index=False)
    return path


def naive_comparisons(timer: Timer, store, sample: int = 20_000) -> None:
    """Our scorer vs vaderSentiment per ticket; vectorized vs row-by-row priority scoring."""
    import numpy as np
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from triage_core.config import load_config
    from triage_core.models.sentiment import LexiconSentiment, VaderEngine, vader_lexicon
    from triage_core.ops import priority, scoring
    from triage_core.text import ticket_text_series

    # DuckDB's SAMPLE clause takes only constants; int() keeps it a number
    rows = store.query(f"SELECT subject, body FROM tickets USING SAMPLE {int(sample)} ROWS"
                       " (reservoir, 3)")
    texts = ticket_text_series(rows["subject"], rows["body"]).tolist()
    scorer = LexiconSentiment()
    sentences = scorer.split_sentences(scorer.prepare(texts, False))[1].to_pylist()
    sia = SentimentIntensityAnalyzer()
    start = time.perf_counter()
    for s in sentences:
        sia.polarity_scores(s)
    naive = time.perf_counter() - start
    engine = VaderEngine(vader_lexicon())
    start = time.perf_counter()
    engine.compounds(sentences)  # first call: every word is new to the token memo
    cold = time.perf_counter() - start
    start = time.perf_counter()
    engine.compounds(sentences)  # as in a running service, which has seen its vocabulary
    fast = time.perf_counter() - start
    timer.add("naive: polarity_scores per sentence (20,000 tickets)", naive,
              sentences=len(sentences))
    timer.add("ours: VaderEngine, same sentences, 1 core, first call", cold,
              ratio=round(naive / cold, 1))
    timer.add("ours: VaderEngine, same sentences, 1 core, warm", fast,
              ratio=round(naive / fast, 1))

    config = load_config()
    frame = scoring.scoring_frame(store, open_only=False).head(sample)
    profile = scoring.load_profile(store, config)
    as_of = scoring.data_time(store)
    start = time.perf_counter()
    priority.score(frame, profile, as_of=as_of)
    vec = time.perf_counter() - start
    w = profile.weights
    total = w.total
    start = time.perf_counter()
    out = []
    for r in frame.itertuples(index=False):  # the row-by-row way: one ticket at a time
        s = 0.0 if r.sentiment is None or np.isnan(r.sentiment) else max(0.0, -r.sentiment)
        sev = 0.0 if r.severity is None or r.severity != r.severity else (r.severity - 1) / 3
        out.append(100 * (w.sentiment * s + w.value * r.ltv_percentile + w.severity * sev)
                   / total)
    rowwise = time.perf_counter() - start
    timer.add("naive: row-by-row priority (20,000 tickets, 3 of 5 terms)", rowwise)
    timer.add("ours: vectorized priority (same tickets, all 5 terms)", vec,
              ratio=round(rowwise / vec, 1))
    # each in a fresh process, as `triage evaluate` meets it (not this one's large heap); the
    # best of three, because this VM's cost of touching fresh memory (the system time of the
    # first call) moves from minute to minute, while the user time does not
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", "from benchmarks.run import Timer, "
                              "real_text_sentiment as f; import json; t = Timer(); f(t); "
                              "print(json.dumps(t.rows))"], capture_output=True, text=True,
                             cwd=ROOT, check=True)
        rows = json.loads(out.stdout.strip().splitlines()[-1])
        if not rows:  # no real texts here
            return
        runs.append(rows)
    if runs:
        naive, ours = (min(run[i]["seconds"] for run in runs) for i in (0, 1))
        timer.add(runs[0][0]["stage"] + ", best of 3", naive)
        timer.add(runs[0][1]["stage"] + ", best of 3", ours, ratio=round(naive / ours, 1),
                  runs=[run[1]["seconds"] for run in runs])


def real_text_sentiment(timer: Timer, copies: int = 7) -> None:
    """Sentiment end to end (cleaning, phrases and patterns, sentences, the engine) against
    per-text ``polarity_scores`` on the same real short texts: the airline tweets of
    ../shared/datasets, ``copies`` times over (CPU time; skipped without them). Both are built
    before the clock starts; ours has seen no text yet (its token memo starts empty), as in
    ``triage evaluate``."""
    import pandas as pd
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from triage_core.models.sentiment import LexiconSentiment

    path = DATASETS / "airline_tweets" / "dev.csv"
    if not path.exists():
        print(f"  (no {path}: sentiment on real texts not timed)", file=sys.stderr)
        return
    texts = pd.read_csv(path)["text"].tolist() * copies
    sia = SentimentIntensityAnalyzer()  # both built before the clock starts
    scorer = LexiconSentiment()
    start = time.process_time()
    for t in texts:
        sia.polarity_scores(t)
    naive = time.process_time() - start
    start = time.process_time()
    scorer.score_texts(texts)
    ours = time.process_time() - start
    label = f"{len(texts):,} real tweets"
    timer.add(f"naive: polarity_scores per text ({label}, CPU)", naive)
    timer.add("ours: sentiment end to end, fresh scorer (same texts, CPU)", ours,
              ratio=round(naive / ours, 1))


def run_size(n: int, workdir: Path) -> dict[str, Any]:
    from triage_core import demo, marketing
    from triage_core.config import load_config
    from triage_core.ops import scoring
    from triage_core.store import Store
    from triage_core.triage import pipeline, training

    timer = Timer()
    # first, on a quiet process: the commands as users run them (fresh processes)
    user_commands(n, workdir, timer)
    files = workdir / f"files_{n}"
    db = workdir / f"bench_{n}.duckdb"
    customers = int(n * 1.35) if n >= 1_000_000 else None  # ~5M touchpoints at 1M tickets
    touches = (2, 12) if n >= 1_000_000 else (1, 8)
    timer.time("generate demo files", demo.generate, files, tickets=n, seed=42,
               customers=customers, touches_per_customer=touches)
    db.unlink(missing_ok=True)
    store = Store(db)
    timer.time("import (all tables, validated, one transaction)", store.import_directory, files)
    counts = store.counts()
    config = load_config()
    result = timer.time("train category model (capped sample)", training.train, store, config)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    pipeline.predict(store, config, full=True, timings=timings)
    predict_total = time.perf_counter() - start
    for stage in ("select", "text", "category", "sentiment", "severity", "write"):
        timer.add(f"predict: {stage}", timings.get(stage, 0.0))
    timer.add("predict total, 1 process (category + sentiment + severity)", predict_total)
    start = time.perf_counter()
    pipeline.predict(store, config, full=True, workers=0)  # as the CLI: a process per core
    parallel = time.perf_counter() - start
    timer.add(f"predict total, {os.cpu_count()} processes", parallel)
    start = time.perf_counter()
    scoring.score_all(store, config, full=True)
    score_total = time.perf_counter() - start
    timer.add("score + route all tickets (read, compute, write)", score_total)
    timer.add("full triage (predict + score + route)", parallel + score_total)
    timer.time("campaign view for the dashboard (stored by a full `triage score`)",
               pipeline.refresh_campaign_tables, store, config)

    frame = scoring.scoring_frame(store)
    for col in ("status", "segment", "category", "language", "campaign_id", "channel"):
        frame[col] = frame[col].astype("category")
    agents = store.query("SELECT * FROM agents")
    base = scoring.load_profile(store, config)
    new = base.from_mapping({**base.to_dict(), "name": "bench",
                             "weights": {"sentiment": 0.4, "value": 0.3, "severity": 0.2,
                                         "wait": 0.1, "boost": 0.0}})
    rules = scoring.rules(config)
    as_of = scoring.data_time(store)
    best = min(_timed(scoring.score_frame, frame, agents, new, rules, as_of) for _ in range(3))
    timer.add("re-score + re-route all tickets, new weights (in memory, best of 3)", best)

    for model in marketing.MODELS:
        timer.time(f"attribution: {model}", marketing.campaign_impact, store, model,
                   config=config.get("attribution"))

    naive_comparisons(timer, store)
    store.close()
    for stage, args in PLANNING:
        timer.add(stage, cli_seconds(db, args))
    # pages on the database as a full `triage score` leaves it (campaign view stored)
    timer.rows.extend(page_times(db))
    store = Store(db)
    new_file = new_day(store, workdir)
    start = time.perf_counter()
    store.import_file("tickets", new_file)
    pipeline.triage(store, config, workers=0)
    timer.add("incremental: import + triage 1,000 new tickets", time.perf_counter() - start)
    store.close()
    # after an incremental run the stored campaign view is stale: that page computes live
    live = [r for r in page_times(db, only=("campaigns",)) if r["stage"] == "page: campaigns"]
    for r in live:
        r["stage"] = "page: campaigns, live view (after an incremental run)"
    timer.rows.extend(live)
    return {"tickets": n, "counts": counts, "train": result, "stages": timer.rows,
            "peak_rss_mib": round(peak_rss_mib(), 1)}


def cli_run(args: list[str], db: Path | None = None) -> tuple[float, float]:
    """Wall seconds and peak memory (MiB) of ``triage ARGS [--db DB]`` as a new process, the
    way a user runs it (interpreter start-up and imports included)."""
    cmd = [sys.executable, "-m", "triage_core.cli", *args, *(["--db", str(db)] if db else [])]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"triage {' '.join(args)} failed: {err.strip()[-500:]}")
    return seconds, usage.ru_maxrss / 1024


def browser_pages(db: Path, timer: Timer) -> None:
    """Every page's first load in Chromium, served by `triage serve` on ``db`` (see
    benchmarks/browser_pages.py); skipped without Chromium."""
    from benchmarks import browser_pages as bp

    if not bp.CHROMIUM.exists():
        print(f"  (no Chromium at {bp.CHROMIUM}: pages not timed in a browser)", file=sys.stderr)
        return
    for row in bp.measure(db, runs=3):
        extra = {"warm_seconds": row["warm_median_s"]} if row["warm_median_s"] else {}
        timer.add(f"browser: {row['page']} (first load, new session)", row["first_s"],
                  **extra)


def user_commands(n: int, workdir: Path, timer: Timer) -> None:
    """The documented commands, each a fresh process, on a database they build themselves:
    ``triage demo --no-triage``, ``triage train --no-score``, ``triage score --full``, then a
    day of 1,000 new tickets (``triage import`` + ``triage score``), ``triage info`` and
    ``triage --help``."""
    from triage_core.store import Store

    db = workdir / f"user_{n}.duckdb"
    db.unlink(missing_ok=True)
    steps = [
        ("`triage demo --tickets N --no-triage`",  # one label for every size: one table row
         ["demo", "--tickets", str(n), "--seed", "42", "--no-triage",
          "--out", str(workdir / f"user_files_{n}")]),
        ("`triage train --no-score`", ["train", "--no-score"]),
        ("`triage score --full` (predict, score, route every ticket)", ["score", "--full"]),
    ]
    for label, args in steps:
        seconds, peak = cli_run(args, db)
        timer.add(f"user: {label}", seconds, process_peak_mib=round(peak))
    browser_pages(db, timer)
    with Store(db, read_only=True) as store:
        new_file = new_day(store, workdir / f"user_day_{n}")
    imported, _ = cli_run(["import", "tickets", str(new_file)], db)
    scored, peak = cli_run(["score"], db)
    timer.add("user: 1,000 new tickets (`triage import tickets FILE` + `triage score`)",
              imported + scored, process_peak_mib=round(peak))
    timer.add("user: `triage info`", min(cli_run(["info"], db)[0] for _ in range(3)))
    timer.add("user: `triage --help`", min(cli_run(["--help"])[0] for _ in range(3)))


def cli_seconds(db: Path, args: list[str]) -> float:
    """Wall time of ``triage ARGS --db DB`` in a new process (start-up and imports included)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "triage_core.cli", *args, "--db", str(db)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"triage {' '.join(args)} failed: {proc.stderr.strip()}")
    return seconds


def _timed(fn, *args: Any) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def page_times(db: Path, only: tuple[str, ...] = tuple(PAGES)) -> list[dict[str, Any]]:
    """Each page's server-side run with AppTest: first (cold caches) and second (warm)."""
    from streamlit.testing.v1 import AppTest

    os.environ["TRIAGE_DB"] = str(db)
    rows = []
    # Server start: imports (plotly, pandas...) and the connection, paid once per process, not
    # per page view; timed separately so the page figures are the pages' own work.
    sys.path.insert(0, str(ROOT))
    import triage_core.triage.pipeline  # noqa: F401  (scikit-learn, models: imported once per server)
    from dashboard import charts
    from triage_core.text import mask_pii_series

    start = time.perf_counter()
    charts.empty("warm-up").to_json()  # plotly's lazy validators, once per process
    mask_pii_series(["warm-up a@b.co +1 555 0100"])  # regex compilation, once per process
    at = AppTest.from_file(str(ROOT / "dashboard" / "streamlit_app.py"), default_timeout=120)
    at.switch_page("app_pages/data_io.py")
    at.run()
    rows.append({"stage": "app start (imports incl. scikit-learn, connection, sidebar)",
                 "seconds": round(time.perf_counter() - start, 3)})
    from streamlit import cache_data

    cache_data.clear()  # every page below starts with cold query caches
    for page in only:
        at = AppTest.from_file(str(ROOT / "dashboard" / "streamlit_app.py"), default_timeout=120)
        at.switch_page(f"app_pages/{page}.py")
        start = time.perf_counter()
        at.run()
        cold = time.perf_counter() - start
        start = time.perf_counter()
        at.run()
        warm = time.perf_counter() - start
        errors = [str(e.value)[:80] for e in at.exception]
        row = {"stage": f"page: {page}", "seconds": round(cold, 3), "warm_seconds":
               round(warm, 3), "errors": errors}
        print(f"  page {page:<20} cold {cold:7.3f} s  warm {warm:7.3f} s  {errors or ''}",
              file=sys.stderr, flush=True)
        rows.append(row)
        if page == "tuning" and not errors:
            slider = at.slider(key="tuning_w_sentiment_default") if _has_key(
                at, "tuning_w_sentiment_default") else at.slider[0]
            slider.set_value(0.9)
            start = time.perf_counter()
            at.run()
            change = time.perf_counter() - start
            rows.append({"stage": "tuning: weight change (preview)",
                         "seconds": round(change, 3)})
            print(f"  tuning weight change      {change:7.3f} s", file=sys.stderr)
    return rows


def _has_key(at, key: str) -> bool:
    try:
        at.slider(key=key)
    except KeyError:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--keep", help="work folder to keep (default: a temporary one)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one size
    args = parser.parse_args()
    if args.one:
        out = run_size(args.one, Path(args.keep))
        print(json.dumps(out, default=str))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s]
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="triage-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    machine = {"python": platform.python_version(), "platform": platform.platform(),
               "cpus": os.cpu_count(), "memory_gib": round(
                   os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}
    results = {"machine": machine, "sizes": []}
    for n in sizes:
        print(f"== {n:,} tickets ==", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--one", str(n),
                               "--keep", str(work)], capture_output=False,
                              stdout=subprocess.PIPE, text=True, cwd=ROOT, check=False)
        if proc.returncode != 0:
            print(f"size {n} failed (exit {proc.returncode})", file=sys.stderr)
            return 1
        results["sizes"].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nmachine: {machine}")
    header = "| stage | " + " | ".join(f"{s['tickets']:,} tickets" for s in results["sizes"])
    growth = len(results["sizes"]) == 2
    print(header + (" | growth" if growth else "") + " |")
    print("|---" * (len(results["sizes"]) + 1 + growth) + "|")
    stages = [r["stage"] for r in results["sizes"][0]["stages"]]
    for stage in stages:
        cells = []
        for s in results["sizes"]:
            row = next((r for r in s["stages"] if r["stage"] == stage), None)
            if row is None:
                cells.append("")
                continue
            cell = f"{row['seconds']:.3f} s"
            if row.get("warm_seconds") is not None:
                cell += f" (warm {row['warm_seconds']:.3f} s)"
            if "ratio" in row:
                cell += f" ({row['ratio']}× faster)"
            if "process_peak_mib" in row:
                cell += f", peak {row['process_peak_mib']:,} MiB"
            cells.append(cell)
        if len(results["sizes"]) == 2:  # how the figure grows from the small to the large size
            a, b = (next((r for r in s["stages"] if r["stage"] == stage), None)
                    for s in results["sizes"])
            cells.append(f"{b['seconds'] / a['seconds']:.1f}×" if a and b and a["seconds"]
                         else "")
        print(f"| {stage} | " + " | ".join(cells) + " |")
    print("| peak memory | " + " | ".join(f"{s['peak_rss_mib']:,.0f} MiB"
                                         for s in results["sizes"]) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
