"""The one formatting layer (dashboard/format.py) and the [dashboard] config section."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard import format as fmt
from triage_core.config.dashboard import DashboardSettings
from triage_core.errors import ConfigError


def test_counts_money_shares_whole_and_signed() -> None:
    assert fmt.count(1634.0) == "1,634" and fmt.count(1634.4) == "1,634"
    assert fmt.count(None) == fmt.count(np.nan) == "–"
    assert fmt.money(114349.5, symbol="$") == "$114,350"
    assert fmt.money(-5530.2, symbol="€") == "−€5,530"
    assert fmt.money_exact(12.2, symbol="$") == "$12.20"
    assert fmt.pct(0.647) == "64.7 %" and fmt.pct(0.54) == "54.0 %"
    assert fmt.pct(-5.53) == "−553.0 %" and fmt.pct(0.5, signed=True) == "+50.0 %"


def test_durations_in_words_never_signed_hours() -> None:
    assert fmt.due_in(3) == "in 3 h" and fmt.due_in(3.5) == "in 3.5 h"
    assert fmt.due_in(-2913) == "121 d overdue"
    assert fmt.due_in(-0.5) == "30 min overdue"
    assert fmt.due_in(0) == "due now"
    assert fmt.duration(57 / 60) == "57 min" and fmt.duration(41) == "41 h"
    now = pd.Timestamp("2026-06-30 12:00")
    due = pd.Series(pd.to_datetime(["2026-06-30 15:00", "2026-06-25 12:00"]))
    assert fmt.due_texts(due, now).tolist() == ["in 3 h", "5 d overdue"]


def test_labels_and_tables_for_people() -> None:
    assert fmt.label("moved_by") == "Places moved" and fmt.label("saved_rank") == "Rank now"
    assert fmt.label("some_new_column") == "Some new column"
    df = pd.DataFrame({"tickets": [1634.0], "negative_share": [0.647], "spend": [10.0],
                       "name": ["A"]})
    shown, config = fmt.table(df)
    assert shown["negative_share"].iloc[0] == pytest.approx(64.7)  # percent, still a number
    assert df["negative_share"].iloc[0] == 0.647  # the input is not changed
    assert config["tickets"]["type_config"]["format"] == "%,.0f"
    assert config["negative_share"]["type_config"]["format"] == "%.1f %%"
    assert config["spend"]["type_config"]["format"].endswith("%,.0f")
    assert config["negative_share"]["label"] == "Negative share"
    assert list(fmt.for_people(df).columns) == ["Tickets", "Negative share", "Spend", "Name"]


def test_numbered_ids_sort_as_numbers() -> None:
    shown, config = fmt.table(pd.DataFrame({"ticket_id": ["1405", "540", None, "0"],
                                            "customer_id": ["c1", "2", "3", "4"]}))
    assert shown["ticket_id"].sort_values().tolist()[:3] == [0, 540, 1405]
    assert shown["ticket_id"].isna().sum() == 1
    assert config["ticket_id"]["type_config"] == {**config["ticket_id"]["type_config"],
                                                  "type": "number", "format": "%d"}
    assert config["ticket_id"]["label"] == "Ticket"
    assert shown["customer_id"].tolist() == ["c1", "2", "3", "4"]  # not every id a number
    for kept in (["007", "12"], ["TK0001792"], ["١٢", "3"], ["1e3"], [" 12"], ["9" * 19]):
        assert fmt.numeric_ids(pd.Series(kept)) is None, kept
    assert fmt.numeric_ids(pd.Series([None, None])) is None


def test_metric_delta_in_the_metrics_unit() -> None:
    assert fmt.metric_delta(120, 100) == "+20"
    assert fmt.metric_delta(0.62, 0.65, "share") == "−3.0 pts"
    assert fmt.metric_delta(2.5, 1.0, "hours") == "+1.5 h"
    assert fmt.metric_delta(1, 1) is None and fmt.metric_delta(None, 1) is None


def test_currency_is_configured_and_validated() -> None:
    assert DashboardSettings.from_mapping(None).currency == "$"
    assert DashboardSettings.from_mapping({"currency": "€"}).currency == "€"
    for bad in ("", "<b>", "dollars!", 5):
        with pytest.raises(ConfigError, match="dashboard: currency must be a short symbol"):
            DashboardSettings.from_mapping({"currency": bad})
    with pytest.raises(ConfigError, match="unknown key 'colour'"):
        DashboardSettings.from_mapping({"colour": "red"})


def test_without_bidi_cleans_texts_and_names_and_leaves_the_rest() -> None:
    import pandas as pd

    from dashboard.format import without_bidi

    frame = pd.DataFrame({"na\u202eme": ["a\u202eb", None, "\u2066c\u2069"], "n": [1, 2, 3],
                          "t": pd.to_datetime(["2026-01-01"] * 3)})
    out = without_bidi(frame)
    assert list(out.columns) == ["name", "n", "t"]
    assert out["name"].isna().tolist() == [False, True, False]
    assert out["name"][[0, 2]].tolist() == ["ab", "c"]
    assert out["n"].tolist() == [1, 2, 3] and out["t"].equals(frame["t"])
    assert frame.iloc[0, 0] == "a\u202eb"  # the original is not changed
    clean = pd.DataFrame({"x": ["a", "b"]})
    assert without_bidi(clean) is clean


def test_plain_breaks_streamlits_icon_codes_and_line_breaks() -> None:
    """Streamlit drew :material/home: and :streamlit: from the data although plain() escaped
    their colons, and a line break in a name cut a heading, started a paragraph or a list
    (a Chromium run of the hostile world checks the page; this checks the text)."""
    import re

    from dashboard.components import plain

    shown = plain(":material/home: :streamlit: :smile: EMO  \nsecond\n\n- item\r\nend 10:30"
                  " :+1: :100: :-1:")
    bare = shown.replace("\\", "")
    assert not re.search(r":[^\W\d_]|:[\w+-]+:", bare), shown  # no code can form
    assert not re.search(r"[\r\n]", shown), shown
    assert shown.replace("\u200b", "").replace("\\", "") == (
        ":material/home: :streamlit: :smile: EMO second - item end 10:30 :+1: :100: :-1:")
    assert "10\\:30" in shown  # a time keeps its colon as it was


def test_the_pages_and_the_terminal_drop_the_same_bidi_controls() -> None:
    """Two copies of one table (a page imports no core module): they must not drift apart."""
    from triage_core.schema import BIDI

    assert fmt.BIDI == BIDI
