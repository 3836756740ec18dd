"""Model selection: candidates scored by stratified CV on the training rows only, rare classes,
the fit budget, the settings, calibration from the held-out scores, and the recorded choice."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_classifier import make_tickets

from triage_core.config import defaults
from triage_core.errors import ConfigError, ModelError
from triage_core.models.classifier import ClassifierSettings, TicketClassifier
from triage_core.models.selection import (
    CandidateScore,
    SelectionSettings,
    _candidate_params,
    _fit_key,
    _keep_plain,
    allowed_fits,
    cv_folds,
    cv_sample,
    fit_selected,
    sample_rows,
    select,
    selection_settings,
)


def settings(**over: object) -> SelectionSettings:
    """The packaged table with ``over``; every fit allowed unless a budget is given."""
    data = defaults("training")["selection"]
    data.update({"fit_budget": 10_000, "cv_folds": 3, **over})
    return SelectionSettings.from_mapping(data)


TWO = {"default": {}, "plain": dict(defaults("training")["selection"]["candidates"]["plain"])}


def test_packaged_candidates_include_the_plain_baseline() -> None:
    s = selection_settings()
    names = [n for n, _ in s.candidates]
    assert names[0] == "default" and "plain" in names
    plain = dict(s.candidates)["plain"]
    assert plain["semantic_weight"] == plain["semantic_max_weight"] == plain["skip_weight"] == 0
    assert plain["multi_class"] == "ovr"


def test_packaged_selection_scores_every_candidate_on_both_folds_and_keeps_plain_on_ties(
        ) -> None:
    """The packaged budget fits every candidate on every fold at ``budget_rows`` tickets,
    `plain_balanced` is the plain model with class weights, `lead` that with the opening words
    counted twice, and a richer candidate must lead the plain ones by half a standard
    error."""
    s = selection_settings()
    params = [ClassifierSettings.from_config(over).params() for _, over in s.candidates]
    fits = len({_fit_key(p) for p in params})
    assert fits == len(s.candidates) - 1  # `neighbors` shares the fits of `default`
    assert allowed_fits(s, s.budget_rows, fits, s.cv_folds) == fits * s.cv_folds
    assert dict(s.candidates)["neighbors"] == {"neighbor_weight": 1.0}
    lead = dict(s.candidates)["lead"]
    plain = dict(s.candidates)["plain"]
    weighted = dict(s.candidates)["plain_balanced"]
    assert weighted == {**plain, "class_weight": "balanced", "C": 0.3}
    assert lead == {**weighted, "lead_words": 10}
    assert s.baseline_margin == 0.5
    # a tie between a richer candidate and the plain one goes to the plain one by default,
    # to the earlier candidate without a margin
    texts, labels = make_tickets(40, seed=13)
    tie = {"training": {"selection": {"candidates": TWO, "fit_budget": 10_000}}}
    chosen = select(texts, labels, None, selection_settings(tie["training"]))
    scores = {c.name: c.score for c in chosen.candidates}
    assert scores["default"] == scores["plain"] and chosen.chosen == "plain"
    tie["training"]["selection"]["baseline_margin"] = 0.0
    assert select(texts, labels, None, selection_settings(tie["training"])).chosen == "default"


def test_the_plain_candidates_cover_every_c_of_the_plain_baseline() -> None:
    """The baseline reported beside the model chooses its C from ``[training.baseline]
    c_grid``; a plain candidate of each of those C (the same blocks: no skip-grams, no word
    vectors) lets selection choose what the baseline would, e.g. C = 0.1 on noisy labels."""
    from triage_core.models.baseline import BaselineSettings
    from triage_core.models.classifier import ClassifierSettings

    plain_cs = set()
    for _, over in selection_settings().candidates:
        params = ClassifierSettings.from_config(over)
        if (params.multi_class == "ovr" and params.skip_weight == 0
                and params.semantic_weight == params.semantic_max_weight == 0
                and params.class_weight is None):
            plain_cs.add(params.C)
    assert set(BaselineSettings.from_config().c_grid) <= plain_cs


def test_folds_keep_rare_classes_in_training() -> None:
    y = np.array([0] * 9 + [1] * 9 + [2] + [3, 3])  # class 2 once, class 3 twice
    folds = cv_folds(y, 3, 0)
    assert len(folds) == 3
    held = np.concatenate([te for _, te in folds])
    assert sorted(held.tolist()) == list(range(18))  # every common row held out once
    for train, test in folds:
        assert {18, 19, 20} <= set(train.tolist())  # the rare rows train every fold
        assert not set(train.tolist()) & set(test.tolist())
        assert set(y[train].tolist()) == {0, 1, 2, 3}  # each fold's model knows every class


def test_no_folds_when_fewer_than_two_classes_are_common() -> None:
    assert cv_folds(np.array([0] * 10 + [1, 2]), 3, 0) == []


def test_chooses_the_best_cv_candidate_and_records_every_score() -> None:
    texts, labels = make_tickets(15, seed=2)
    # a candidate that cannot learn: every feature block weighs nothing
    blind = {"word_weight": 0.0, "char_weight": 0.0, "skip_weight": 0.0,
             "semantic_weight": 0.0, "semantic_max_weight": 0.0}
    s = settings(candidates={"weak": blind, **TWO}, baseline_margin=0.0)  # the best score wins
    chosen = select(texts, labels, None, s)
    scores = {c.name: c for c in chosen.candidates}
    assert set(scores) == {"weak", "default", "plain"}
    assert all(c.folds == 3 for c in scores.values())
    best = max(scores.values(), key=lambda c: c.score)
    assert chosen.chosen == best.name != "weak"
    assert scores["weak"].score < best.score
    assert chosen.params["C"] == (1.0 if chosen.chosen == "plain" else 0.5)
    summary = chosen.summary()
    json.dumps(summary)  # JSON-ready
    assert summary["chosen"] == chosen.chosen and len(summary["candidates"]) == 3
    assert "3-fold cross-validation" in summary["reason"]


def _scored(name: str, score: float) -> CandidateScore:
    return CandidateScore(name, {}, score, score, score, 2, 0.0)


def test_a_lead_over_the_plain_model_within_noise_keeps_the_plain_model() -> None:
    """The standard error of the paired per-ticket difference decides: 400 held-out tickets."""
    s = settings(baseline_margin=1.0)
    names = ["default", "plain", "plain_c0_3"]
    plain = np.zeros(400, dtype=bool)
    plain[:300] = True  # right on 300
    # default: right on 10 more, wrong on none that plain gets right: a lead of 0.025 with a
    # standard error of 0.0078
    clear = plain.copy()
    clear[300:310] = True
    scored = [_scored("default", 0.775), _scored("plain", 0.75), _scored("plain_c0_3", 0.70)]
    assert _keep_plain(names, scored, {0: clear, 1: plain, 2: plain}, 0, s) is None
    # default: right on 30 that plain misses, wrong on 26 that plain gets: a lead of 0.01 with
    # a standard error of 0.0187
    close = plain.copy()
    close[300:330] = True
    close[:26] = False
    scored = [_scored("default", 0.76), _scored("plain", 0.75), _scored("plain_c0_3", 0.70)]
    kept = _keep_plain(names, scored, {0: close, 1: plain, 2: plain}, 0, s)
    assert kept is not None and kept[0] == 1  # the better of the plain candidates
    assert "0.0100" in kept[1] and "0.0187" in kept[1]
    # no margin, no plain candidates, or a plain candidate already best: the best stays
    assert _keep_plain(names, scored, {0: close, 1: plain, 2: plain}, 0,
                       settings(baseline_margin=0.0)) is None
    assert _keep_plain(names, scored, {0: close, 1: plain, 2: plain}, 0,
                       settings(baseline=[], baseline_margin=1.0)) is None
    assert _keep_plain(names, scored, {0: close, 1: plain, 2: plain}, 1, s) is None
    # the packaged margin, half a standard error: a lead of 0.01 clears 0.5 x 0.0187, and one
    # of 0.005 does not
    assert settings().baseline_margin == 0.5
    assert _keep_plain(names, scored, {0: close, 1: plain, 2: plain}, 0, settings()) is None
    nearer = [_scored("default", 0.755), *scored[1:]]
    kept = _keep_plain(names, nearer, {0: close, 1: plain, 2: plain}, 0, settings())
    assert kept is not None and kept[0] == 1


def test_selection_reports_the_plain_model_it_kept() -> None:
    texts, labels = make_tickets(15, seed=2)
    best = select(texts, labels, None, settings(candidates=TWO, baseline_margin=0.0))
    kept = select(texts, labels, None, settings(candidates=TWO, baseline_margin=1e6))
    scores = {c.name: c.score for c in best.candidates}
    assert scores == {c.name: c.score for c in kept.candidates}  # the same folds and scores
    assert kept.chosen == "plain" and kept.params["multi_class"] == "ovr"
    if best.chosen == "default":  # the richer model led: the huge margin overrules it
        assert scores["default"] >= scores["plain"]
        assert "the plain model is kept" in kept.reason
        assert "the plain model is kept" in kept.candidates[0].note
        assert not np.array_equal(best.held_out[0], kept.held_out[0])  # plain's calibrates
    model, chosen = fit_selected(texts, labels, {"training": {"selection": {
        "baseline_margin": 1e6, "fit_budget": 10_000}}})
    assert chosen.chosen.startswith("plain") and model.multi_class == "ovr"


def test_ties_go_to_the_earlier_candidate() -> None:
    texts, labels = make_tickets(10, seed=3)
    s = settings(candidates={"first": {}, "same": {}})
    chosen = select(texts, labels, None, s)
    a, b = chosen.candidates
    assert a.score == b.score and chosen.chosen == "first"


def test_rare_classes_do_not_break_selection() -> None:
    texts, labels = make_tickets(12, seed=5)
    texts += ["my password reset link does not work", "locked out", "locked out again"]
    labels += ["account", "lockout", "lockout"]
    model, chosen = fit_selected(texts, labels, {"training": {"selection": {
        "candidates": TWO, "fit_budget": 10_000, "cv_folds": 3}}})
    assert chosen.folds == 3
    assert set(model.classes_) == set(labels)
    assert "held-out rows of model selection" in model.calibration_


def test_candidates_that_differ_only_in_prediction_keys_share_a_fit() -> None:
    """`neighbors` (the [classifier] section with similar tickets voting) needs no fit of its
    own: it scores the held-out tickets with `default`'s fold model, exactly as a fit of its
    own would, and the budget and the progress bar count the shared fit once."""
    texts, labels = make_tickets(30, seed=21)
    rng = np.random.default_rng(3)  # a fifth of the labels wrong: no candidate is perfect
    names = sorted(set(labels))
    labels = [names[rng.integers(len(names))] if rng.random() < 0.2 else lab for lab in labels]
    near = {"neighbor_weight": 1.0, "neighbor_k": 2}
    totals: list[int] = []

    class Bar:
        def __init__(self, desc: str, total: int, unit: str) -> None:
            totals.append(total)

        def update(self, n: int) -> None:
            pass

        def close(self) -> None:
            pass

    shared = select(texts, labels, None,
                    settings(candidates={"default": {}, "near": near}, workers=1), Bar)
    alone = select(texts, labels, None,
                   settings(candidates={"plain": TWO["plain"], "near": near}, workers=1))
    assert totals == [3]  # 3 folds x 1 fit for 2 candidates
    by_name = {c.name: c for c in shared.candidates}
    assert by_name["near"].score == {c.name: c for c in alone.candidates}["near"].score
    assert by_name["near"].folds == by_name["default"].folds == 3
    assert by_name["near"].note.startswith("the fits of default")
    assert by_name["default"].note == ""
    assert by_name["near"].score != by_name["default"].score  # the votes changed predictions


def test_similar_tickets_and_a_section_without_word_vectors() -> None:
    """The vote needs the word-vector blocks. A [classifier] section without them still
    trains (the `neighbors` candidate cannot, and says why); a section with the vote on keeps
    the plain candidates plain (no blocks, no vote) instead of making them invalid."""
    texts, labels = make_tickets(20, seed=1)
    off = {"semantic_weight": 0.0, "semantic_max_weight": 0.0}
    chosen = select(texts, labels, off, settings())
    notes = {c.name: c.note for c in chosen.candidates}
    assert notes["neighbors"].startswith("cannot train: classifier: neighbor_weight needs")
    assert chosen.chosen != "neighbors"
    changes = [over for _, over in settings().candidates]
    names = [name for name, _ in settings().candidates]
    params, unusable = _candidate_params({"neighbor_weight": 2.0}, changes)
    assert not unusable
    weights = {n: p["neighbor_weight"] for n, p in zip(names, params, strict=True)}
    assert weights["default"] == 2.0 and weights["neighbors"] == 1.0
    assert weights["plain"] == weights["lead"] == weights["plain_c0_1"] == 0.0
    with pytest.raises(ConfigError, match="neighbor_weight needs"):  # the user's own section
        _candidate_params({**off, "neighbor_weight": 1.0}, changes)


def test_the_fit_budget_limits_the_folds_deterministically() -> None:
    """The number of fits follows from the number of tickets, never from the clock: the same
    data always chooses the same configuration, on a quiet or a busy machine."""
    texts, labels = make_tickets(20, seed=6)
    n = len(texts)
    s = settings(fit_budget=4, budget_rows=n, candidates={**TWO, "third": {"C": 2.0}},
                 workers=1)
    chosen = select(texts, labels, None, s)
    first, second, third = chosen.candidates
    # fold-major: fold 1 of all three, then fold 2 of the first: compared on one fold
    assert first.folds == second.folds == third.folds == 1
    assert chosen.chosen in ("default", "plain", "third") and "1 of 3 folds" in chosen.reason
    again = select(texts, labels, None, settings(fit_budget=4, budget_rows=n, workers=2,
                                                 candidates={**TWO, "third": {"C": 2.0}}))
    assert [c.score for c in again.candidates] == [c.score for c in chosen.candidates]
    # twice the tickets at the same budget: half the fits, never fewer than fold 1 of the
    # first two candidates
    assert allowed_fits(s, 2 * n, 3, 3) == 2 and allowed_fits(s, n, 3, 3) == 4
    assert allowed_fits(s, 100 * n, 3, 3) == 2 and allowed_fits(s, 1, 3, 3) == 9


def _children(pid: int) -> set[int]:
    kids: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids |= {int(p) for p in (task / "children").read_text().split()}
    return kids


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_selection_runs_in_processes_from_a_script_without_a_main_guard(tmp_path) -> None:
    """The folds run in worker processes (liblinear's random generator is one per process, so
    threads sharing it made the scores vary between runs). The workers must not import the
    caller's ``__main__``: a script without ``if __name__ == "__main__"`` (or Streamlit's
    runner) would start selection again in each of them, and multiprocessing's own pools then
    fail. The same data scores the same in two runs, and the same as in this process; and the
    workers exit when their process is killed with SIGKILL (as a server may be)."""
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "train_me.py"
    script.write_text(
        "import json, os, sys, time\n"
        f"sys.path[:0] = [{str(Path(__file__).parent)!r}, {str(Path.cwd())!r}]\n"
        "from test_classifier import make_tickets\n"
        "from test_selection import settings, TWO\n"
        "from triage_core.models import selection\n"
        "from triage_core.models.selection import select\n"
        "selection.PROCESS_MIN_ROWS = 0  # processes even for these few tickets\n"
        "texts, labels = make_tickets(40, seed=11)\n"
        "runs = [select(texts, labels, None, settings(candidates=TWO, workers=2))\n"
        "        for _ in range(2)]\n"
        "print(json.dumps([[c.score for c in r.candidates] for r in runs]), flush=True)\n"
        "time.sleep(300)\n")
    err = tmp_path / "stderr.txt"
    with err.open("w") as errors, subprocess.Popen(
            [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=errors, text=True,
            cwd=tmp_path) as proc:
        try:
            line = proc.stdout.readline() if proc.stdout else ""
            assert line, err.read_text()[-2000:]
            workers = {k for k in _children(proc.pid)
                       if "LokyProcess" in Path(f"/proc/{k}/cmdline").read_text()}
            assert len(workers) == 2
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            deadline = time.monotonic() + 20
            while any(_alive(k) for k in workers) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not any(_alive(k) for k in workers)
        finally:
            proc.kill()
    first, second = json.loads(line)
    assert first == second and all(s is not None for s in first)
    texts, labels = make_tickets(40, seed=11)
    here = select(texts, labels, None, settings(candidates=TWO, workers=1))
    assert [c.score for c in here.candidates] == first


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_stop_workers_ends_the_worker_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that stops calls stop_workers: uvicorn ends the process by raising the signal
    again, so the exit handlers that would stop the workers never run (and their resource
    tracker printed warnings of leaked semaphores into the server's log). The workers run at
    a lower CPU priority."""
    import os

    from triage_core.models import selection

    monkeypatch.setattr(selection, "PROCESS_MIN_ROWS", 0)
    texts, labels = make_tickets(40, seed=12)
    select(texts, labels, None, settings(candidates=TWO, workers=2))
    workers = {k for k in _children(os.getpid())
               if "LokyProcess" in Path(f"/proc/{k}/cmdline").read_text()}
    assert len(workers) == 2
    # at a lower CPU priority than this process: a server triages arriving tickets first
    nice = {int(Path(f"/proc/{k}/stat").read_text().rsplit(") ", 1)[1].split()[16])
            for k in workers}
    assert nice == {min(os.nice(0) + 10, 19)}
    selection.stop_workers()
    assert not any(_alive(k) for k in workers)
    selection.stop_workers()  # nothing left to stop: no error


def test_the_final_fit_in_a_worker_is_the_model_of_this_process(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """fit_selected fits the chosen configuration in a worker process (a server keeps its
    interpreter for arriving tickets); the model that comes back predicts exactly as one
    fitted here, calibration included."""
    from triage_core.models import selection

    monkeypatch.setattr(selection, "PROCESS_MIN_ROWS", 0)
    texts, labels = make_tickets(40, seed=13)
    # margin 0: the best score wins, here the Crammer-Singer `default`, which is fitted whole (a
    # one-vs-rest model is fitted in shares and agrees only to about 0.002)
    model, chosen = fit_selected(texts, labels, {"training": {"selection": {
        "candidates": TWO, "workers": 2, "fit_budget": 10_000, "baseline_margin": 0.0}}})
    assert chosen.chosen == "default"
    assert selection._POOL is not None  # the workers ran
    here = selection.fit_final(chosen.params, texts, labels, chosen.held_out)
    assert model.calibration_ == here.calibration_
    np.testing.assert_array_equal(model.predict_proba(texts), here.predict_proba(texts))


def test_a_one_vs_rest_final_fit_is_shared_over_the_workers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A chosen one-vs-rest configuration is fitted in shares of its categories, one per
    worker (:meth:`TicketClassifier.fit_part`): the model predicts as one fitted whole here.
    ``alongside`` (the plain baselines) starts once the final fit runs, in workers only."""
    from triage_core.models import selection

    monkeypatch.setattr(selection, "PROCESS_MIN_ROWS", 0)
    texts, labels = make_tickets(40, seed=13)
    # every candidate one-vs-rest (the packaged ones are on top of [classifier])
    config = {"classifier": {"multi_class": "ovr"},
              "training": {"selection": {"workers": 2, "fit_budget": 10_000}}}
    calls: list[object] = []
    bars: dict[str, list[int]] = {}

    class Bar:  # what the CLI's and the server jobs' progress bars offer
        def __init__(self, desc: str, total: int, unit: str) -> None:
            self.steps = bars.setdefault(desc, [total])

        def update(self, n: int) -> None:
            self.steps.append(n)

        def close(self) -> None:
            self.steps.append(0)
    model, chosen = fit_selected(texts, labels, config, Bar,
                                 alongside=lambda: calls.append(selection._POOL))
    assert calls == [selection._POOL] and calls[0] is not None
    assert chosen.params["multi_class"] == "ovr"
    assert bars[f"final fit ({chosen.chosen})"] == [2, 1, 1, 0]  # a share per worker
    here = selection.fit_final(chosen.params, texts, labels, chosen.held_out)
    assert model.calibration_ == here.calibration_
    np.testing.assert_allclose(model.class_scores(texts), here.class_scores(texts), atol=0.02)
    assert list(model.predict(texts)) == list(here.predict(texts))
    monkeypatch.setattr(selection, "PROCESS_MIN_ROWS", 10_000)  # in this process: not called
    fit_selected(texts, labels, config, alongside=lambda: calls.append("here"))
    assert len(calls) == 1


def test_the_baseline_beside_the_final_fit_shares_its_pool(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The baseline started beside the final fit uses the pool of [training.selection]'s
    size: a pool of another size would be resized, which waits for the running fit (and
    loky's warning of it is an error here). A fit that fails leaves nothing waiting."""
    from triage_core.models import selection
    from triage_core.models.baseline import start_baselines

    monkeypatch.setattr(selection, "PROCESS_MIN_ROWS", 0)
    texts, labels = make_tickets(40, seed=15)
    workers = selection.default_workers() + 1
    training = {"selection": {"workers": workers, "fit_budget": 10_000}}
    config = {"classifier": {"multi_class": "ovr"}, "training": training}
    half = len(texts) // 2
    started: list = []
    fit_selected(texts[:half], labels[:half], config, alongside=lambda: started.append(
        start_baselines(texts[:half], labels[:half], texts[half:], labels[half:], training)))
    assert selection._POOL._max_workers == workers
    assert 0 < started[0]()["tfidf_svm"]["accuracy"] <= 1

    def fail() -> None:
        raise RuntimeError("the baseline could not start")
    with pytest.raises(RuntimeError, match="could not start"):
        fit_selected(texts, labels, config, alongside=fail)
    model, _ = fit_selected(texts, labels, config)  # the pool still works
    assert list(model.classes_) == sorted(set(labels))


def test_the_plain_baseline_in_a_worker_scores_as_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """The TF-IDF + SVM baseline runs in a worker process (scikit-learn's vectorizer held a
    training server's interpreter for up to a second at a time): the same figures and C as
    computed in this process."""
    from triage_core.models import selection
    from triage_core.models.baseline import BaselineSettings, _tfidf_svm, baselines

    monkeypatch.setattr(selection, "PROCESS_MIN_ROWS", 0)
    texts, labels = make_tickets(40, seed=14)
    half = len(texts) // 2
    got = baselines(texts[:half], labels[:half], texts[half:], labels[half:])
    here = _tfidf_svm(texts[:half], labels[:half], texts[half:], labels[half:],
                      BaselineSettings.from_config(None))
    assert got["tfidf_svm"] == here and 0 < here["accuracy"] <= 1


def test_workers_default_to_one_per_core_at_most_four(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each worker process holds its own scikit-learn (about 300 MB): a 64-core machine must
    not start 64 of them by default (threads, before, shared one interpreter)."""
    from triage_core.models import selection

    monkeypatch.setattr(selection, "cores", lambda: 64)
    assert selection.default_workers() == 4
    monkeypatch.setattr(selection, "cores", lambda: 2)
    assert selection.default_workers() == 2


def test_too_few_rows_or_selection_off_use_the_first_candidate() -> None:
    texts, labels = make_tickets(2, seed=7)
    chosen = select(texts, labels, None, settings(candidates=TWO))
    assert chosen.chosen == "default" and "too few tickets" in chosen.reason
    assert all(c.score is None for c in chosen.candidates)
    model, off = fit_selected(*make_tickets(10, seed=8), {"training": {"selection": {
        "enabled": False, "candidates": TWO}}})
    assert off.chosen == "default" and "off" in off.reason
    assert isinstance(model, TicketClassifier) and model.calibration_.startswith("temperature")
    # many tickets, one category common: the reason is the categories, not the count
    lopsided = select([f"refund please {i}" for i in range(60)] + ["my app crashes"],
                      ["refund"] * 60 + ["bug"], None, settings(candidates=TWO))
    assert lopsided.chosen == "default"
    assert lopsided.reason.startswith("too few examples per category to cross-validate")


def test_candidates_change_the_classifier_section() -> None:
    texts, labels = make_tickets(10, seed=9)
    chosen = select(texts, labels, {"C": 0.25}, settings(candidates={"only": {}}))
    assert chosen.params["C"] == 0.25  # the user's [classifier] section is the base


@pytest.mark.parametrize(("over", "message"), [
    ({"metric": "f2"}, "training.selection: metric"),
    ({"cv_folds": 1}, "training.selection: cv_folds"),
    ({"candidates": {}}, "at least one"),
    ({"candidates": {"bad": {"C": -1}}}, "classifier: C"),
    ({"candidates": {"bad": {"nope": 1}}}, "nope"),
    ({"fit_budget": 0}, "fit_budget"),
    ({"baseline_margin": -1}, "baseline_margin"),
    ({"baseline": "plain"}, "baseline must be a list"),
    ({"extra": 1}, "extra"),
])
def test_bad_settings_are_named(over: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings(**over)



def test_cv_sample_is_stratified_bounded_and_deterministic() -> None:
    y = np.array([0] * 900 + [1] * 90 + [2] * 2 + [3] * 8)
    rows = cv_sample(y, 100, 3, 0)
    assert np.array_equal(rows, cv_sample(y, 100, 3, 0)) and np.all(np.diff(rows) > 0)
    counts = np.bincount(y[rows], minlength=4)
    assert counts.tolist() == [90, 9, 2, 3]  # shares kept; at least k, all of a rarer class
    assert not np.array_equal(rows, cv_sample(y, 100, 3, 1))
    assert np.array_equal(cv_sample(y, 5000, 3, 0), np.arange(len(y)))


def test_large_training_sets_are_cross_validated_on_a_sample() -> None:
    texts, labels = make_tickets(40, 3)
    s = settings(max_rows=60, candidates=TWO)
    chosen = select(texts, labels, None, s)
    scores, held = chosen.held_out
    assert len(held) == len(scores) <= 64 < len(texts)
    assert set(held) == set(labels)  # every class still held out somewhere


def test_the_plain_baseline_chooses_c_on_fewer_rows_of_long_tickets() -> None:
    """As model selection's sample: max_rows up to budget_chars of mean length, then fewer as
    the square root of the length (its nine fits took 68 s on 10,000 e-mails of 700
    characters)."""
    from triage_core.models.baseline import BaselineSettings, _cv_rows

    base = BaselineSettings.from_config({"baseline": {"max_rows": 1000, "budget_chars": 100}})
    assert _cv_rows(base, ["short text"] * 50) == 1000
    assert _cv_rows(base, ["x" * 400] * 50) == 500
    assert _cv_rows(base, []) == 1000
    with pytest.raises(ConfigError, match="budget_chars"):
        BaselineSettings.from_config({"baseline": {"budget_chars": 0}})


def test_long_tickets_are_cross_validated_on_fewer_rows() -> None:
    """The sample shrinks with the tickets' mean length beyond budget_chars (as the square
    root), counting only what the model reads (max_chars)."""
    s = settings(max_rows=1000, budget_chars=100)
    assert sample_rows(s, ["short text"] * 50, 20_000) == 1000
    assert sample_rows(s, ["x" * 400] * 50, 20_000) == 500
    assert sample_rows(s, ["x" * 400] * 50, 100) == 1000  # cut to 100 before reading
    texts, labels = make_tickets(40, 3)
    long = [t + " " + "filler words " * 40 for t in texts]
    mean = np.mean([len(t) for t in long])
    s = settings(max_rows=60, budget_chars=int(mean / 4), candidates=TWO)
    _, held = select(long, labels, None, s).held_out
    assert len(held) <= 34 < 60  # about 60 / 2 rows, stratified


def test_a_candidate_that_cannot_train_is_passed_over() -> None:
    """Texts that are only quoted replies: the `email` candidate's cleaning leaves them empty,
    so it cannot train; selection says so and chooses among the others."""
    texts = [f"> {word} {word} order {i}" for i in range(12) for word in ("refund", "login")]
    labels = [word for _ in range(12) for word in ("refund", "login")]
    s = settings(candidates={"default": {}, "email": {"clean_text": True}}, min_rows=10)
    chosen = select(texts, labels, None, s)
    scores = {c.name: c for c in chosen.candidates}
    assert chosen.chosen == "default"
    assert scores["email"].score is None
    assert scores["email"].note.startswith("cannot train: the training texts have no words")
    with pytest.raises(ModelError, match="no words to learn from"):
        select(["", "  "] * 12, labels, None, s)  # every candidate: one clear error


def test_training_on_empty_texts_is_refused() -> None:
    with pytest.raises(ModelError, match=r"no words to learn from \(all 4 are empty\)"):
        TicketClassifier().fit(["", " ", "\n", ""], ["a", "b", "a", "b"])
    # with selection, the count is that of the training texts, not of one fold's (it said
    # "all 158 are empty" of 316)
    labels = [word for _ in range(40) for word in ("refund", "login")]
    with pytest.raises(ModelError, match=r"\(all 80 are empty\)"):
        fit_selected(["", "  "] * 40, labels, {"training": {"selection": {"min_rows": 10}}})
