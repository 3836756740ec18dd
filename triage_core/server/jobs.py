"""Jobs: work that outlives a request (score, train, retrain, imports and forwarded CLI verbs).

A job runs one ``triage`` verb inside the server process, on the database the server owns, with
what it prints kept per job (:mod:`~triage_core.server.capture`) and its progress bars readable
while it runs (:meth:`Job.bar`, used by ``triage_core.cli.common.progress``). Verbs that write run
one at a time, in order; verbs that only read run next to them. A verb that loses a write
conflict is run again. Every job's state is kept in the table ``jobs`` (a job that was running
when the server stopped is marked ``interrupted`` at the next start); the last ``job_history``
jobs keep their output in memory.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import threading
import traceback
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from triage_core.server import capture, context
from triage_core.store import Store
from triage_core.store.retry import is_conflict, retry_on_conflict

log = logging.getLogger("triage.server")
RunVerb = Callable[[list[str]], int]
ATTEMPTS = 3  # runs of a verb that keeps losing write conflicts
INTERNAL = "internal error while running the job; the server log has the details"


class _Null:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(eq=False)
class Job:
    job_id: str
    kind: str
    argv: list[str]
    submitted_by: str
    writes: bool
    state: str = "queued"
    created_at: dt.datetime = field(default_factory=_now)
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    done: threading.Event = field(default_factory=threading.Event)
    bars: list[Any] = field(default_factory=list)
    after: Callable[[], None] | None = None  # run when the job has ended (e.g. clean up files)
    failure: Exception | None = None  # the TriageError the verb reported, if any (not stored)

    def bar(self, desc: str, total: int | None = None, unit: str = "it") -> Any:
        """A progress bar whose state the job reports (it prints nothing)."""
        from tqdm import tqdm

        bar = tqdm(total=total, desc=desc, unit=unit, file=_Null(), mininterval=0,
                   leave=False)
        self.bars.append(bar)
        return bar

    def progress(self) -> dict[str, Any] | None:
        """The newest open progress bar: desc, n, total, unit."""
        for bar in reversed(self.bars):
            if not bar.disable:
                d = bar.format_dict
                return {"desc": bar.desc, "n": d["n"], "total": d["total"], "unit": d["unit"]}
        return None

    @property
    def error(self) -> str | None:
        """The verb's one-line error, if it failed."""
        if self.state != "failed":
            return None
        lines = [ln.removeprefix("error: ") for ln in self.stderr.splitlines()
                 if ln.startswith("error: ")]
        return lines[-1] if lines else (self.stderr.strip().splitlines() or [INTERNAL])[-1]

    def result(self) -> Any:
        """What the verb printed as JSON (verbs run with --json), else None."""
        try:
            return json.loads(self.stdout) if self.stdout.strip() else None
        except ValueError:
            return None

    def to_dict(self, output: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "job_id": self.job_id, "kind": self.kind, "state": self.state,
            "created_at": self.created_at.isoformat(),
            "started_at": self.started_at and self.started_at.isoformat(),
            "finished_at": self.finished_at and self.finished_at.isoformat(),
            "exit_code": self.exit_code, "progress": self.progress(), "error": self.error,
            "result": self.result() if self.state == "done" else None,
        }
        if output:
            out |= {"stdout": self.stdout, "stderr": self.stderr}
        return out


class JobRunner:
    def __init__(self, store: Store, run_verb: RunVerb, history: int,
                 after_write: Callable[[], None]) -> None:
        self.cur = store.cursor()
        self.run_verb = run_verb
        self.history = history
        self.after_write = after_write
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._writes: queue.Queue[Job | None] = queue.Queue()
        self._reads = ThreadPoolExecutor(2, thread_name_prefix="triage-read")
        self._thread = threading.Thread(target=self._write_loop, name="triage-jobs",
                                        daemon=True)

    def start(self) -> None:
        self.cur.execute("UPDATE jobs SET state = 'interrupted', finished_at = now()::TIMESTAMP"
                         " WHERE state IN ('queued', 'running')")
        self._thread.start()

    def stop(self) -> None:
        self._writes.put(None)
        self._thread.join(timeout=60)
        self._reads.shutdown(wait=True, cancel_futures=True)
        self.cur.close()

    def submit(self, kind: str, argv: Sequence[str], by: str, writes: bool,
               after: Callable[[], None] | None = None) -> Job:
        job = Job(uuid.uuid4().hex[:16], kind, list(argv), by, writes, after=after)
        with self._lock:
            self._jobs[job.job_id] = job
            while len(self._jobs) > self.history:
                oldest = next(iter(self._jobs.values()))
                if not oldest.done.is_set():
                    break
                self._jobs.popitem(last=False)
        self._save(job)
        if writes:
            self._writes.put(job)
        else:
            self._reads.submit(self._run, job)
        return job

    def get(self, job_id: str) -> Job | dict[str, Any] | None:
        """The job (in memory), its stored state (older jobs), or None."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None:
            return job
        rows = self.cur.query("SELECT job_id, kind, state, submitted_by, created_at, started_at,"
                              " finished_at, exit_code, error, result FROM jobs WHERE job_id = ?",
                              [job_id])
        if rows.empty:
            return None
        row = rows.astype(object).where(rows.notna(), None).iloc[0].to_dict()
        out = {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in row.items()}
        # the shape of a job in memory (Job.to_dict; the API leaves out submitted_by): its
        # progress ended with it
        out["progress"] = None
        out["result"] = json.loads(out["result"]) if out["result"] is not None else None
        return out

    def _write_loop(self) -> None:
        while (job := self._writes.get()) is not None:
            self._run(job)
            try:
                self.after_write()
            except Exception:
                log.exception("after a write job")

    def _run(self, job: Job) -> None:
        job.state, job.started_at = "running", _now()
        self._save(job)
        for attempt in range(ATTEMPTS):
            job.bars.clear()
            job.failure = None
            with capture.captured() as (out, err), context.running(job):
                try:
                    job.exit_code = self.run_verb(job.argv)
                except Exception as exc:
                    if is_conflict(exc) and attempt < ATTEMPTS - 1:
                        continue
                    log.error("job %s (%s) failed:\n%s", job.job_id, " ".join(job.argv[:2]),
                              traceback.format_exc())
                    err.write(f"error: {INTERNAL}\n")
                    job.exit_code = 1
            job.stdout, job.stderr = out.getvalue(), err.getvalue()
            break
        job.state = "done" if job.exit_code == 0 else "failed"
        job.finished_at = _now()
        self._save(job)
        if job.after is not None:
            job.after()
        job.done.set()

    def _save(self, job: Job) -> None:
        def write() -> None:
            result = job.result() if job.state == "done" else None
            self.cur.execute(
                "INSERT OR REPLACE INTO jobs (job_id, kind, state, submitted_by, created_at,"
                " started_at, finished_at, exit_code, error, result)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [job.job_id, job.kind, job.state, job.submitted_by, job.created_at,
                 job.started_at, job.finished_at, job.exit_code, job.error,
                 None if result is None else json.dumps(result)])

        try:
            retry_on_conflict(self.cur, write)
        except Exception:  # the record is for people; the job itself goes on
            log.exception("could not record job %s", job.job_id)
