"""The intake's helper process (server/helper.py) answers as the intake itself would.

It detects the languages and scores the sentiment of the tickets it is handed, several
requests together when they wait, and the intake takes each request's answer in any order;
a helper that fails or is killed is replaced by the intake's own computation, and a new one
is not started before ``RETRY_SECONDS``.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from triage_core.config import default_config
from triage_core.server import helper as helper_mod
from triage_core.server.helper import Helper, Rows
from triage_core.store import Store
from triage_core.triage.batch import TriageModels, language_and_sentiment, ticket_texts
from triage_core.triage.pipeline import load_models

TEXTS = [("Charged twice", "I was charged twice and want my money back NOW!!", None),
         ("Danke", "Ich möchte mein Abonnement kündigen, bitte helfen Sie mir schnell.", None),
         (None, "Je n'arrive pas à me connecter depuis hier, c'est inacceptable.", "fr"),
         ("Question", "How do I change the email on my account? Thanks, great app", "en-US"),
         ("ok", None, None),
         (None, None, None),
         ("Crash", "The app crashes every time I open settings. Terrible #fail", "de")]


@pytest.fixture
def helper() -> Iterator[Helper]:
    running = Helper()
    yield running
    running.close()


@pytest.fixture(scope="module")
def models(world_db: Path) -> TriageModels:
    with Store(world_db, read_only=True) as s:
        return load_models(s, default_config())


def _alone(texts: list[tuple[str | None, str | None, str | None]], models: TriageModels
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frame = pd.DataFrame(texts, columns=["subject", "body", "language"], dtype=object)
    return language_and_sentiment(frame, models)


def _equal(got: tuple[np.ndarray, ...], want: tuple[np.ndarray, ...]) -> None:
    languages, scores, labels = got
    assert languages.tolist() == want[0].tolist()
    np.testing.assert_array_equal(scores, want[1])  # NaN where not scored, in both
    assert labels.tolist() == want[2].tolist()


def _columns(texts: list[tuple[str | None, str | None, str | None]]) -> list[list[str | None]]:
    return [list(c) for c in zip(*texts, strict=True)]


def test_requests_answered_together_and_taken_in_any_order(
        helper: Helper, models: TriageModels) -> None:
    parts = [TEXTS[:3], TEXTS[3:4], TEXTS[4:]]
    pending = [helper.submit(*_columns(p), models) for p in parts]  # waiting together
    for p, texts in reversed(list(zip(pending, parts, strict=True))):
        _equal(p.result(), _alone(texts, models))
        assert p.answer() is p.answer() is not None  # asked once
    assert helper._proc is not None and helper._proc.is_alive()
    rows = Rows([(pending[2], 1), (pending[0], 0), (pending[1], 0)])
    want = _alone([TEXTS[5], TEXTS[0], TEXTS[3]], models)
    _equal(rows.result(), want)
    assert rows.result()[1].dtype == np.float64


def test_answers_nobody_takes_are_dropped(helper: Helper, models: TriageModels) -> None:
    helper.submit(*_columns(TEXTS[:2]), models)  # never asked for
    helper.forget()
    later = helper.submit(*_columns(TEXTS[2:]), models)
    _equal(later.result(), _alone(TEXTS[2:], models))
    assert helper._answers == {}


def test_a_dead_helper_is_replaced_by_the_intake(helper: Helper, models: TriageModels,
                                                 caplog: pytest.LogCaptureFixture,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _equal(helper.submit(*_columns(TEXTS), models).result(), _alone(TEXTS, models))
    first = helper._proc
    first.kill()
    first.join(10)
    with caplog.at_level(logging.WARNING, logger="triage.server"):
        pending = helper.submit(*_columns(TEXTS[:4]), models)
        _equal(pending.result(), _alone(TEXTS[:4], models))
    assert "prediction helper" in caplog.text
    # no new process before RETRY_SECONDS: computed here meanwhile
    assert helper._proc is None
    _equal(helper.submit(*_columns(TEXTS), models).result(), _alone(TEXTS, models))
    assert helper._proc is None
    monkeypatch.setattr(helper_mod, "RETRY_SECONDS", 0.0)
    _equal(helper.submit(*_columns(TEXTS), models).result(), _alone(TEXTS, models))
    assert helper._proc is not None and helper._proc is not first
    assert helper._proc.is_alive()


def test_a_helper_that_does_not_answer_in_time_is_replaced(
        helper: Helper, models: TriageModels) -> None:
    helper.submit(*_columns(TEXTS), models).result()  # started, models loaded
    helper.timeout = 0.5
    proc = helper._proc
    os.kill(proc.pid, signal.SIGSTOP)  # alive, but silent
    try:
        pending = helper.submit(*_columns(TEXTS[:3]), models)
        _equal(pending.result(), _alone(TEXTS[:3], models))
    finally:
        if proc.is_alive():
            os.kill(proc.pid, signal.SIGCONT)
    assert helper._proc is None
    proc.join(10)
    assert not proc.is_alive()  # stopped for good, not left behind


def test_new_models_reach_the_helper(helper: Helper, models: TriageModels) -> None:
    import dataclasses

    _equal(helper.submit(*_columns(TEXTS), models).result(), _alone(TEXTS, models))
    # undetectable texts ("ok", none at all) are taken to be in the default language
    other = dataclasses.replace(models, default_language="xx")
    got = helper.submit(*_columns(TEXTS), other).result()
    _equal(got, _alone(TEXTS, other))
    assert np.isnan(got[1][4]) and not np.isnan(_alone(TEXTS, models)[1][4])


def test_rows_of_a_request_the_helper_refused_are_computed_alone(
        helper: Helper, models: TriageModels) -> None:
    """A text the helper cannot read (a lone surrogate, which the database refuses too) fails
    its whole request there; the other rows of that request are computed here, without it."""
    texts = [TEXTS[0], ("bad \ud800", "text", None), TEXTS[3]]
    pending = helper.submit(*_columns(texts), models)
    assert pending.answer() is None
    assert pending.answer() is None  # asked once: not waited for again
    _equal(Rows([(pending, 2), (pending, 0)]).result(), _alone([TEXTS[3], TEXTS[0]], models))
    assert helper._proc is not None and helper._proc.is_alive()  # it goes on
    _equal(helper.submit(*_columns(TEXTS), models).result(), _alone(TEXTS, models))


def test_many_or_long_texts_are_given_more_time(helper: Helper, models: TriageModels) -> None:
    short = helper.submit(["a"], ["b"], [None], models)
    many = helper.submit(["a"] * 1000, ["b"] * 1000, [None] * 1000, models)
    long = helper.submit(["a"], ["x" * 2_000_000], [None], models)
    assert short.limit() == pytest.approx(helper_mod.TIMEOUT + helper_mod.PER_TEXT_TIMEOUT,
                                          abs=1e-3)
    assert many.limit() > short.limit() + 1.9
    assert long.limit() > short.limit() + 2 * helper_mod.PER_MB_TIMEOUT - 0.01
    _equal(long.result(), _alone([("a", "x" * 2_000_000, None)], models))


def test_an_answer_of_the_wrong_size_is_not_used(helper: Helper, models: TriageModels,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(Helper, "take", lambda self, seq, conn, limit: (
        np.array(["en"], dtype=object), np.array([0.5]), np.array(["positive"],
                                                                   dtype=object)))
    with caplog.at_level(logging.WARNING, logger="triage.server"):
        pending = helper.submit(*_columns(TEXTS[:3]), models)
        _equal(pending.result(), _alone(TEXTS[:3], models))
    assert "answered [1, 1, 1] rows for 3 tickets" in caplog.text


def test_the_helper_does_not_run_the_servers_main_script(
        helper: Helper, models: TriageModels,
        page_as_main: tuple[types.ModuleType, Path]) -> None:
    """In `triage serve`, ``__main__`` is the dashboard page Streamlit ran last; a process
    started from there would run that page first (it did: "No runtime found" in the log)."""
    page, ran = page_as_main
    _equal(helper.submit(*_columns(TEXTS), models).result(), _alone(TEXTS, models))
    assert helper._proc is not None and helper._proc.is_alive()
    assert not ran.exists()
    assert sys.modules["__main__"] is page  # put back


def test_the_helper_makes_the_model_inputs_before_its_answer(
        helper: Helper, models: TriageModels) -> None:
    """The helper sends each request's model inputs (ticket_texts) before its answer: rows of
    requests handed over as the batch started take them; a request handed over only when the
    intake needs it does not wait for them."""
    parts = [TEXTS[:3], TEXTS[3:]]
    pending = [helper.submit(*_columns(p), models) for p in parts]
    rows = Rows([(pending[1], 2), (pending[0], 0), (pending[0], 2)])
    frame = pd.DataFrame([TEXTS[5], TEXTS[0], TEXTS[2]], columns=["subject", "body", "language"],
                         dtype=object)
    assert rows.made_texts() == ticket_texts(frame).tolist()
    assert pending[0].helper_texts() is pending[0].helper_texts()  # asked once
    assert pending[0].made_texts() is None
    _equal(rows.result(), _alone([TEXTS[5], TEXTS[0], TEXTS[2]], models))
    assert pending[1].helper_texts() == ticket_texts(
        pd.DataFrame(parts[1], columns=["subject", "body", "language"], dtype=object)).tolist()
    _equal(pending[1].result(), _alone(parts[1], models))
    assert helper._answers == {}


def test_texts_the_helper_could_not_make_or_that_do_not_fit_are_made_here(
        helper: Helper, models: TriageModels, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    refused = helper.submit(*_columns([TEXTS[0], ("bad \ud800", "text", None)]), models)
    assert Rows([(refused, 0)]).made_texts() is None  # it failed before it made them
    assert refused.answer() is None
    take = Helper.take
    monkeypatch.setattr(Helper, "take", lambda self, seq, conn, limit, kind="result": (
        ["just one"] if kind == helper_mod.TEXTS else take(self, seq, conn, limit, kind)))
    with caplog.at_level(logging.WARNING, logger="triage.server"):
        pending = helper.submit(*_columns(TEXTS[:3]), models)
        assert Rows([(pending, 0), (pending, 1)]).made_texts() is None
        _equal(pending.result(), _alone(TEXTS[:3], models))
    assert "texts that do not fit" in caplog.text
