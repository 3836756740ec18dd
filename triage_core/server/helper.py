"""A second process that detects the language and scores the sentiment of the intake's tickets
while the intake writes them and predicts their categories, so a batch uses both cores.

The server's intake is one thread of one interpreter: with 20 clients posting single tickets it
was busy 72-83 % of the time, half of that in prediction, while the machine's second core
idled. Language detection and sentiment (VADER) are a good half of that prediction and depend
on nothing the category model computes, so as a batch starts the intake hands its texts to this
helper (:meth:`Helper.submit`, from :meth:`triage_core.server.quick.QuickTriage.expect`), then
upserts the tickets and predicts their categories and severities, and takes the helper's answer
for every ticket stored with exactly those texts. The helper runs the same function
(:func:`triage_core.triage.batch.language_and_sentiment`) with a copy of the same models; what
waits when it is free is computed together. It first sends back the model inputs it made
(:func:`~triage_core.triage.batch.ticket_texts`: subject and cleaned body), which the intake
takes for its categories and severities instead of making them again (about 1 ms a batch of
20 that the intake's thread no longer spends). Its results are the intake's own: sentiment is
computed text by text, and language detection gives each text the same result whatever else
is in the batch.

Should the helper fail or be slow to answer (:meth:`Pending.limit`: 5 s, more for many or long
texts), the intake computes them itself: the helper only ever saves time. After a failure it is
started again on a later batch (not before ``RETRY_SECONDS``); it ends with the server
(:func:`triage_core.processes.watch_parent`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import time
from typing import Any

import numpy as np
import pandas as pd

from triage_core.processes import plain_main
from triage_core.triage.batch import TriageModels, language_and_sentiment, ticket_texts

log = logging.getLogger("triage.server")

TIMEOUT = 5.0  # seconds the intake waits for an answer before computing it itself ...
PER_TEXT_TIMEOUT = 0.002  # ... plus this per text (10,000 texts take 2-4 s) ...
PER_MB_TIMEOUT = 3.0  # ... and this per million characters (long e-mails: about 1 s a MB)
START_TIMEOUT = 60.0  # ... for the first answer of a new helper (it loads the models first)
RETRY_SECONDS = 60.0  # after a failure, no new helper process before this
TEXTS, RESULT = "texts", "result"  # the two messages the helper sends for each submit
Texts = tuple[list[Any], list[Any], list[Any]]  # subjects, bodies, languages
Result = tuple[np.ndarray, np.ndarray, np.ndarray]  # languages, scores, labels


def _frame(texts: Texts) -> pd.DataFrame:
    subjects, bodies, languages = texts
    return pd.DataFrame({"subject": subjects, "body": bodies, "language": languages},
                        dtype=object)


def _answer(conn: Any, models: TriageModels | None, waiting: list[tuple[int, Texts]]) -> None:
    """Compute the ``waiting`` requests together and answer each."""
    seqs = [seq for seq, _ in waiting]
    try:
        assert models is not None, "no models"
        texts: Texts = ([], [], [])
        for _, part in waiting:
            for into, values in zip(texts, part, strict=True):
                into.extend(values)
        def send(status: str, columns: Any) -> None:  # each request's part of the columns
            at = 0
            for seq, part in waiting:
                n = len(part[0])
                conn.send((seq, status, columns(slice(at, at + n))))
                at += n

        frame = _frame(texts)
        made = ticket_texts(frame)
        cleaned = made.tolist()
        send(TEXTS, cleaned.__getitem__)  # first: the intake's categories need them
        result = language_and_sentiment(frame, models, made)
        send("ok", lambda part: tuple(column[part] for column in result))
    except Exception as exc:  # the intake computes it itself and logs this
        for seq in seqs:
            conn.send((seq, "error", f"{type(exc).__name__}: {exc}"))


def _serve(conn: Any, parent: int) -> None:
    """The helper process: ("models", 0, models) or ("texts", seq, texts) in; (seq, "texts",
    model inputs), then (seq, "ok", result), or (seq, "error", message) out. Requests that
    wait are computed together."""
    from triage_core.processes import watch_parent

    watch_parent(parent)
    models: TriageModels | None = None
    while True:
        try:
            message = conn.recv()
            waiting: list[tuple[int, Texts]] = []
            while True:
                kind, seq, payload = message
                if kind == "models":
                    if waiting:
                        _answer(conn, models, waiting)
                        waiting = []
                    models = payload
                else:
                    waiting.append((seq, payload))
                if not conn.poll(0):
                    break
                message = conn.recv()
        except (EOFError, OSError):  # the server is gone (a reset pipe after SIGKILL)
            return
        if waiting:
            _answer(conn, models, waiting)


class Pending:
    """The texts of one :meth:`Helper.submit`; :meth:`result` gives their answer."""

    def __init__(self, helper: Helper | None, seq: int, texts: Texts,
                 models: TriageModels) -> None:
        self.helper, self.seq, self.texts, self.models = helper, seq, texts, models
        self.conn = helper._conn if helper is not None else None  # the process asked
        self._asked = False
        self._answer: Result | None = None
        self._texts_asked = False
        self._texts: list[str] | None = None

    def answer(self) -> Result | None:
        """The helper's answer (waited for once), or None: it failed, or was not asked."""
        if not self._asked:
            self._asked = True
            if self.helper is not None:
                answer = self.helper.take(self.seq, self.conn, self.limit())
                n = len(self.texts[0])
                if answer is not None and all(len(column) == n for column in answer):
                    self._answer = answer
                elif answer is not None:  # never seen; the intake computes them itself
                    log.warning("the prediction helper answered %s rows for %d tickets",
                                [len(column) for column in answer], n)
        return self._answer

    def helper_texts(self) -> list[str] | None:
        """The model input of each ticket (:func:`~triage_core.triage.batch.ticket_texts`) as
        the helper made them (waited for once; it sends them before its answer), or None."""
        if not self._texts_asked:
            self._texts_asked = True
            if self.helper is not None:
                got = self.helper.take(self.seq, self.conn, self.limit(), TEXTS)
                if (isinstance(got, list) and len(got) == len(self.texts[0])
                        and all(isinstance(t, str) for t in got)):
                    self._texts = got
                elif got is not None:  # never seen; the intake makes them itself
                    log.warning("the prediction helper made texts that do not fit the tickets")
        return self._texts

    def made_texts(self) -> list[str] | None:
        """None: texts handed over only when the intake needs them are made quicker there
        than by the helper (see :meth:`Rows.made_texts`)."""
        return None

    def limit(self) -> float:
        """Seconds to wait for the answer: :data:`TIMEOUT` and more for many or long texts."""
        assert self.helper is not None
        chars = sum(len(v) for column in self.texts[:2] for v in column if isinstance(v, str))
        return (self.helper.timeout + PER_TEXT_TIMEOUT * len(self.texts[0])
                + PER_MB_TIMEOUT * chars / 1e6)

    def result(self) -> Result:
        """Languages, sentiment scores and labels of the texts (computed here if the helper
        could not)."""
        answer = self.answer()
        return answer if answer is not None else language_and_sentiment(_frame(self.texts),
                                                                         self.models)


class Rows:
    """Rows of one or more :class:`Pending` of the same models (``rows``: per row, its
    Pending and position there)."""

    def __init__(self, rows: list[tuple[Pending, int]]) -> None:
        self.rows = rows

    def made_texts(self) -> list[str] | None:
        """The rows' model inputs as the helper made them (handed over as the batch started,
        they are ready by the time the intake has written the tickets), or None."""
        made: dict[int, list[str] | None] = {}
        out = []
        for pending, at in self.rows:
            if id(pending) not in made:
                made[id(pending)] = pending.helper_texts()
            texts = made[id(pending)]
            if texts is None:
                return None
            out.append(texts[at])
        return out

    def result(self) -> Result:
        groups: dict[int, tuple[Pending, list[int], list[int]]] = {}
        for i, (pending, at) in enumerate(self.rows):
            _, into, taken = groups.setdefault(id(pending), (pending, [], []))
            into.append(i)
            taken.append(at)
        answers = [(g[0].answer(), g[1], g[2]) for g in groups.values()]
        if any(answer is None for answer, _, _ in answers):  # these rows, computed here
            texts: Texts = tuple([p.texts[k][at] for p, at in self.rows] for k in range(3))
            return language_and_sentiment(_frame(texts), self.rows[0][0].models)
        languages = np.empty(len(self.rows), dtype=object)
        scores = np.full(len(self.rows), np.nan)
        labels = np.empty(len(self.rows), dtype=object)
        for answer, into, taken in answers:
            for out, column in zip((languages, scores, labels), answer, strict=True):
                out[into] = column[taken]
        return languages, scores, labels


class Helper:
    """The helper process, used by one thread (the intake's)."""

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout
        self._proc: Any = None
        self._conn: Any = None
        self._models: TriageModels | None = None
        self._seq = 0
        self._floor = 0  # answers to earlier submits are no longer wanted
        # arrived before they were asked for, by (seq, TEXTS or RESULT)
        self._answers: dict[tuple[int, str], tuple[str, Any]] = {}
        self._failed_at = -RETRY_SECONDS
        self._first = 0  # the first submit the current process got

    def submit(self, subjects: list[Any], bodies: list[Any], languages: list[Any],
               models: TriageModels) -> Pending:
        """Hand the texts to the helper (computed here instead when it cannot take them)."""
        texts = (subjects, bodies, languages)
        self._seq += 1
        if self._proc is not None and not self._proc.is_alive():
            self._failed(f"ended (exit code {self._proc.exitcode})", trace=False)
        if self._conn is None and time.monotonic() - self._failed_at < RETRY_SECONDS:
            return Pending(None, self._seq, texts, models)
        try:
            self._ensure(models)
            self._conn.send(("texts", self._seq, texts))
            return Pending(self, self._seq, texts, models)
        except Exception:
            self._failed("could not hand it tickets")
            return Pending(None, self._seq, texts, models)

    def forget(self) -> None:
        """Answers to what was submitted so far will not be asked for (the batch is done)."""
        self._floor = self._seq + 1
        self._answers.clear()

    def take(self, seq: int, conn: Any, limit: float, kind: str = RESULT) -> Any:
        """The answer (``kind`` RESULT) or the model inputs (TEXTS) to :meth:`submit` number
        ``seq``, sent on ``conn``, waited for up to ``limit`` seconds, or None (failed, too
        slow, or the helper was restarted since)."""
        if conn is None or self._conn is not conn:
            return None
        try:
            if seq == self._first:
                limit = max(limit, START_TIMEOUT)
            deadline = time.monotonic() + limit
            while (seq, kind) not in self._answers:
                if kind == TEXTS and (seq, RESULT) in self._answers:
                    return None  # it failed before it made them
                wait = deadline - time.monotonic()
                if wait <= 0 or not self._conn.poll(wait):
                    raise TimeoutError(f"no answer in {limit:g} s")
                got, status, payload = self._conn.recv()
                if got >= self._floor:
                    self._answers[(got, TEXTS if status == TEXTS else RESULT)] = (status,
                                                                                  payload)
            status, payload = self._answers.pop((seq, kind))
            if status == TEXTS:
                return payload
            self._answers.pop((seq, TEXTS), None)  # asked for before the answer, or never
            if status != "ok":
                log.warning("the prediction helper failed on tickets: %s; predicting them in "
                            "the intake", payload)
                return None
            return payload
        except Exception:
            self._failed("did not answer")
            return None

    def _failed(self, what: str, trace: bool = True) -> None:
        log.warning("the prediction helper %s; predicting in the intake (a new helper in %.0f "
                    "s at the earliest)", what, RETRY_SECONDS, exc_info=trace)
        self._failed_at = time.monotonic()
        self._stop()

    def _ensure(self, models: TriageModels) -> None:
        if self._proc is None:
            import multiprocessing as mp

            from triage_core.triage.engines import _fork_context

            ctx: Any = _fork_context()
            ours, theirs = mp.Pipe()
            proc = ctx.Process(target=_serve, args=(theirs, os.getpid()),
                               name="triage-helper", daemon=True)
            with plain_main():  # not the dashboard's script (see plain_main)
                proc.start()
            theirs.close()
            self._proc, self._conn, self._models = proc, ours, None
            self._first = self._seq
        if self._models is not models:  # the category model stays here (it is not needed)
            self._conn.send(("models", 0, dataclasses.replace(models, category=None)))
            self._models = models

    def _stop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
        if self._proc is not None and self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)
        self._proc = self._conn = self._models = None
        self._answers.clear()

    def close(self) -> None:
        self._stop()
