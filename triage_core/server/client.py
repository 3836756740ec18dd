"""The client side of ``triage`` verbs on a database that a server owns: send the command line,
follow the job with a progress bar, print what the verb printed, return its exit status."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Any

from triage_core.errors import TriageError

FINISHED = ("done", "failed", "interrupted")
WAIT = 0.5  # seconds the server holds a poll open while the job runs


def call(record: dict[str, Any], method: str, path: str, body: Any = None,
         timeout: float = 60.0) -> dict[str, Any]:
    """One JSON request to the server with the owner token."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(record["url"] + path, data=data, method=method, headers={
        "Authorization": f"Bearer {record['token']}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error") or exc.reason
        except ValueError:
            message = exc.reason
        raise TriageError(f"the server at {record['url']} refused: {message}") from None
    except (OSError, ValueError) as exc:
        error = TriageError(f"the server at {record['url']} (process {record.get('pid')}) owns "
                            f"{record.get('db')} but did not answer ({exc})")
        error.reason = str(exc)  # type: ignore[attr-defined]
        raise error from None


class _Bar:
    """A terminal progress bar that mirrors the job's newest one."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.desc = None

    def show(self, progress: dict[str, Any] | None) -> None:
        if not progress or not sys.stderr.isatty():
            return
        if self.bar is None or progress["desc"] != self.desc:
            self.close()
            from tqdm import tqdm

            self.desc = progress["desc"]
            self.bar = tqdm(total=progress["total"], desc=progress["desc"],
                            unit=progress["unit"] or "it", file=sys.stderr, leave=False,
                            dynamic_ncols=True)
        self.bar.total = progress["total"]
        self.bar.n = progress["n"]
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def run_remote(record: dict[str, Any], argv: list[str]) -> int:
    """Run ``argv`` in the server; print its output here; return its exit status."""
    job = call(record, "POST", "/api/v1/cli", {"argv": argv})["job"]
    bar = _Bar()
    try:
        while job["state"] not in FINISHED:
            bar.show(job.get("progress"))
            job = call(record, "GET", f"/api/v1/jobs/{job['job_id']}?wait={WAIT}")["job"]
    except KeyboardInterrupt:
        bar.close()
        print(f"interrupted; the server goes on with job {job['job_id']}", file=sys.stderr)
        return 130
    except TriageError as exc:  # it stopped or was killed while the job ran
        bar.close()
        why = getattr(exc, "reason", exc)
        raise TriageError(f"lost the server at {record['url']} while it ran this command "
                          f"(job {job['job_id']}): {why}; it may not have finished, so check "
                          "its result (or run it again once a server or none owns the "
                          "database)") from None
    bar.close()
    sys.stdout.write(job.get("stdout") or "")
    sys.stderr.write(job.get("stderr") or "")
    if job["state"] == "interrupted":
        print("error: the server stopped before the job finished", file=sys.stderr)
        return 1
    return int(job.get("exit_code") or 0)

