"""A user's config file is checked as a whole when it is loaded: unknown sections and keys are
refused, training row caps and priority weights are range-checked, and every message names the
file, the section and the key on one line."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _cli import one_line_error, run

from triage_core.config import DEFAULTS_DIR, ENV_CONFIG, default_config, load_config
from triage_core.config.validate import Checker
from triage_core.errors import ConfigError
from triage_core.ops.priority.profile import PriorityProfile, PrioritySettings
from triage_core.store import Store
from triage_core.triage import training

README = Path(__file__).resolve().parent.parent / "README.md"
SECTIONS = sorted(f.stem for f in DEFAULTS_DIR.glob("*.toml"))


def write(tmp_path: Path, text: str, name: str = "my.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    return message


# -- 1. unknown sections, and unknown keys of [pipeline] and [training] -----------------------


def test_a_misspelt_section_is_refused_with_the_closest_name(tmp_path: Path) -> None:
    path = write(tmp_path, "[prioirty.profiles.default.weights]\nsentiment = 5\n")
    message = load_error(path)
    assert message.startswith(f"{path}: unknown section 'prioirty'")
    assert "did you mean 'priority'?" in message
    assert f"known: {', '.join(SECTIONS)}" in message


def test_an_unknown_section_is_refused_listing_the_known_ones(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, "[bogus]\nx = 1\n"))
    assert "unknown section 'bogus'" in message and "did you mean" not in message
    assert f"known: {', '.join(SECTIONS)}" in message
    # a key put above every section header belongs to no section
    path = write(tmp_path, "confidence_threshold = 0.5\n[routing]\n", "top.toml")
    assert load_error(path) == (
        f"{path}: unknown top-level key 'confidence_threshold': keys belong in a section "
        f"({', '.join(SECTIONS)}); it is a key of [routing], put it under that header")


@pytest.mark.parametrize(("text", "expected"), [
    ("[pipeline]\nbogus = 1\n", "pipeline: unknown key 'bogus' (allowed: workers)"),
    ("[training]\nfoo = 1\n", "training: unknown key 'foo' (allowed: max_train_rows, "
                              "max_holdout_rows, selection, baseline)"),
])
def test_pipeline_and_training_refuse_unknown_keys(tmp_path: Path, text: str,
                                                   expected: str) -> None:
    path = write(tmp_path, text)
    assert load_error(path) == f"{path}: {expected}"


def test_training_settings_refuse_unknown_keys_without_a_file() -> None:
    from triage_core.config.training import TrainingSettings

    with pytest.raises(ConfigError, match=re.escape("training: unknown key 'max_rows'")):
        TrainingSettings.from_mapping({"max_rows": 10})


# -- 2. [training] max_train_rows / max_holdout_rows ------------------------------------------


@pytest.mark.parametrize(("key", "toml", "expected"), [
    ("max_train_rows", '"abc"', "must be a whole number, got 'abc'"),
    ("max_train_rows", '"100"', "must be a whole number, got '100'"),
    ("max_train_rows", "[1]", "must be a whole number, got [1]"),
    ("max_train_rows", "1.5", "must be a whole number, got 1.5"),
    ("max_train_rows", "true", "must be a whole number, got True"),
    ("max_train_rows", "0", "must be at least 1, got 0"),
    ("max_holdout_rows", "inf", "must be a whole number, got inf"),
    ("max_holdout_rows", "nan", "must be a whole number, got nan"),
    ("max_holdout_rows", "-5", "must be at least 1, got -5"),
])
def test_training_row_caps_must_be_positive_whole_numbers(tmp_path: Path, key: str, toml: str,
                                                          expected: str) -> None:
    path = write(tmp_path, f"[training]\n{key} = {toml}\n")
    assert load_error(path) == f"{path}: training: {key} {expected}"


def test_labeled_checks_the_row_caps_it_is_given(tmp_path: Path) -> None:
    with Store(tmp_path / "t.duckdb") as store:
        for bad in ("abc", "100", math.inf, [1], 0):
            with pytest.raises(ConfigError, match=r"^training: max_train_rows must be"):
                training.labeled(store, {"training": {"max_train_rows": bad}})
        with pytest.raises(ConfigError, match=r"^training: unknown key 'foo'"):
            training.labeled(store, {"training": {"foo": 1}})
        assert training.labeled(store, {"training": {"max_train_rows": 5}}).empty


def test_labeled_tickets_come_in_one_order(tmp_path: Path) -> None:
    """Training rows come newest first (then by id), training rows before the holdout's,
    however the table stores them: selection samples and folds them by position."""
    import pandas as pd

    rng = np.random.default_rng(5)
    n = 30000
    stamps = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 50, n), unit="D")
    frame = pd.DataFrame({"ticket_id": [f"T{i}" for i in rng.permutation(n)],
                          "customer_id": "c1", "status": "new", "created_at": stamps,
                          "subject": "s", "body": "b", "category": rng.choice(["a", "b"], n)})
    with Store(tmp_path / "t.duckdb") as store:
        store.import_frame("customers", pd.DataFrame({"customer_id": ["c1"]}))
        store.import_frame("tickets", frame)
        got = training.labeled(store, {"training": {"max_train_rows": 20000}})
    want = (got.assign(key=got["ticket_id"]).sort_values(
        ["holdout", "created_at", "key"], ascending=[True, False, True]))
    assert got["ticket_id"].tolist() == want["ticket_id"].tolist()
    assert (~got["holdout"]).sum() == 20000 and got["holdout"].iloc[-1]


def test_training_row_caps_are_read(tmp_path: Path) -> None:
    from triage_core.config.training import MAX_ROWS, TrainingSettings

    assert TrainingSettings.from_mapping() == TrainingSettings(30000, 20000)
    assert TrainingSettings.from_mapping({"max_holdout_rows": 7}).max_holdout_rows == 7
    # a cap beyond any table means every row (and stays a valid SQL BIGINT)
    huge = {"max_train_rows": 10 ** 400, "max_holdout_rows": 2 ** 70}
    assert TrainingSettings.from_mapping(huge) == TrainingSettings(MAX_ROWS, MAX_ROWS)
    with Store(tmp_path / "t.duckdb") as store:
        assert training.labeled(store, {"training": huge}).empty


# -- 3. priority weights ----------------------------------------------------------------------


@pytest.mark.parametrize(("weights", "message"), [
    ({"sentiment": 1e308, "value": 1e308}, "weights.sentiment must be at most 1e+06"),
    ({"sentiment": 1, "wait": 2e6}, "weights.wait must be at most 1e+06"),
    ({"severity": 1e-310}, "weights sum to 1e-310"),
])
def test_weights_out_of_range_are_refused_naming_the_key(weights: dict[str, Any],
                                                         message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"priority profile 'mine': {message}")):
        PriorityProfile.from_mapping({"name": "mine", "weights": weights})


def test_overflowing_weights_in_a_file_name_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[priority.profiles.default.weights]\n"
                           "sentiment = 1e308\nvalue = 1e308\n")
    assert load_error(path) == (f"{path}: priority profile 'default': weights.sentiment must "
                                "be at most 1e+06 (weights are relative: they are divided by "
                                "their sum), got 1e+308")
    # the same table given to the settings directly (no file) still names the key
    with pytest.raises(ConfigError, match=r"^priority profile 'default': weights\.sentiment"):
        PrioritySettings.from_mapping({"profiles": {"default": {"weights": {"sentiment": 1e308,
                                                                           "value": 1e308}}}})
    # large and small weights within the bounds still make a profile
    big = PriorityProfile.from_mapping({"name": "big", "weights": {"sentiment": 1e6,
                                                                   "value": 1e6}})
    assert big.weights.total == 2e6
    PriorityProfile.from_mapping({"name": "small", "weights": {"value": 1e-6}})


# -- 4. checker errors name the file ----------------------------------------------------------


def test_checker_errors_name_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[routing]\nconfidence_threshold = "high"\n')
    assert load_error(path) == (f"{path}: routing: confidence_threshold must be a number, "
                                "got 'high'")
    path = write(tmp_path, "[lift]\nwindow_days = -2\n", "lift.toml")
    assert load_error(path).startswith(f"{path}: lift: window_days must be between 1 and 365")
    path = write(tmp_path, "routing = 5\n", "scalar.toml")
    assert load_error(path) == f"{path}: routing: expected a table, got 5"


def test_the_file_from_the_environment_is_named(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[pipeline]\nworkers = "two"\n', "env.toml")
    monkeypatch.setenv(ENV_CONFIG, str(path))
    with pytest.raises(ConfigError) as info:
        load_config()
    assert str(info.value) == f"{path}: pipeline: workers must be a whole number, got 'two'"


def test_a_huge_whole_number_is_a_config_error_not_an_overflow(tmp_path: Path) -> None:
    path = write(tmp_path, f"[lift]\nwindow_days = {'9' * 400}\n")
    assert load_error(path).startswith(f"{path}: lift: window_days must be between 1 and 365")
    assert Checker("x").integer(10 ** 400, "k", lo=1) == 10 ** 400
    with pytest.raises(ConfigError, match=r"^x: k must be at most 5, got 9"):
        Checker("x").integer(9, "k", hi=5)


@pytest.mark.parametrize(("text", "expected"), [
    ("[prioirty.profiles.default.weights]\nsentiment = 5\n", "unknown section 'prioirty'"),
    ("[training]\nmax_train_rows = \"abc\"\n", "training: max_train_rows must be a whole"),
    ("[priority.profiles.default.weights]\nsentiment = 1e308\nvalue = 1e308\n",
     "weights.sentiment must be at most"),
    ('[routing]\nconfidence_threshold = "high"\n', "routing: confidence_threshold"),
])
def test_the_command_line_prints_one_line_naming_the_file(tmp_path: Path, text: str,
                                                          expected: str) -> None:
    path = write(tmp_path, text)
    Store(tmp_path / "empty.duckdb").close()
    line = one_line_error(run("forecast", "--backtest", "--config", str(path),
                              db=tmp_path / "empty.duckdb"))
    assert line.startswith(f"error: {path}: ") and expected in line


# -- what the repository ships still loads ----------------------------------------------------


def test_what_the_repository_ships_passes_every_check(tmp_path: Path) -> None:
    from triage_core.config import sections

    assert load_config() == default_config()
    assert sorted(sections.VALIDATORS) == sorted(default_config()) == SECTIONS
    sections.check(default_config(), SECTIONS)
    readme = README.read_text(encoding="utf-8").split("## Configuration", 1)[1]
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    assert "[priority.profiles.default.weights]" in example
    config = load_config(write(tmp_path, example))
    assert config["routing"]["confidence_threshold"] == 0.5


def test_attribution_windows_are_at_most_a_century() -> None:
    """A lookback of 1e9 days passed every check and overflowed DuckDB's interval."""
    from triage_core.marketing.settings import AttributionSettings

    for key in ("lookback_days", "half_life_days"):
        with pytest.raises(ConfigError, match=f"{key} must be at most 36500"):
            AttributionSettings.from_mapping({key: 1_000_000_000})
    assert AttributionSettings.from_mapping({"lookback_days": 36_500}).lookback_days == 36_500
