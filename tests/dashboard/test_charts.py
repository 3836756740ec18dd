"""The pure chart builders in dashboard/charts.py, called directly on small hand-made frames.

Each builder must return a plotly Figure with a title, the right traces and the values the
frame holds (transformed as the chart says: shares as %, sorted bars, computed ROI).
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import charts

WEEKS = pd.to_datetime(["2026-01-05", "2026-01-12", "2026-01-19"])


def ys(trace) -> list:
    return list(np.asarray(trace.y).tolist())


def xs(trace) -> list:
    return list(np.asarray(trace.x).tolist())


def assert_empty(fig: go.Figure, title_part: str, message: str = "No data") -> None:
    assert isinstance(fig, go.Figure)
    assert title_part in fig.layout.title.text
    assert len(fig.data) == 0
    assert message in fig.layout.annotations[0].text


# -- one test per builder -----------------------------------------------------------------------

def test_volume_bars_and_negative_share_in_percent() -> None:
    df = pd.DataFrame({"period": WEEKS, "tickets": [10, 20, 5],
                       "negative_share": [0.1, 0.5, 0.0]})
    fig = charts.volume(df, "week")
    assert fig.layout.title.text == "Tickets per week and share with negative sentiment"
    bar, line = fig.data
    assert (bar.type, line.type) == ("bar", "scatter")
    assert ys(bar) == [10, 20, 5]
    assert ys(line) == pytest.approx([10.0, 50.0, 0.0])
    assert line.yaxis == "y2" and fig.layout.yaxis2.overlaying == "y"
    assert fig.layout.xaxis.type == "date" and "%H" not in fig.layout.xaxis.tickformat
    assert_empty(charts.volume(df.iloc[:0], "day"), "Tickets per day")


def test_volume_marks_partial_periods() -> None:
    df = pd.DataFrame({"period": WEEKS, "tickets": [10, 20, 5],
                       "negative_share": [0.1, 0.5, 0.0]})
    fig = charts.volume(df, "week", partial=[True, False, True])
    full, part, _ = fig.data
    assert ys(full) == [20] and ys(part) == [10, 5]
    assert part.name == "Tickets (partial week)" and part.marker.pattern.shape == "/"
    assert "only in part" in fig.layout.title.subtitle.text


def test_sla_csat_two_axes() -> None:
    df = pd.DataFrame({"period": WEEKS, "sla_compliance": [0.8, 1.0, np.nan],
                       "csat": [4.5, 3.0, np.nan]})
    fig = charts.sla_csat(df, "month")
    assert "per month" in fig.layout.title.text
    sla, csat = fig.data
    assert ys(sla)[:2] == pytest.approx([80.0, 100.0]) and np.isnan(ys(sla)[2])
    assert ys(csat)[:2] == [4.5, 3.0] and csat.yaxis == "y2"
    assert list(fig.layout.yaxis2.range) == [1, 5]
    assert_empty(charts.sla_csat(df.iloc[:0]), "SLA")


def test_sentiment_lines_one_trace_per_group() -> None:
    df = pd.DataFrame({"period": list(WEEKS[:2]) * 2, "group": ["email"] * 2 + ["chat"] * 2,
                       "mean_sentiment": [-0.2, 0.1, 0.4, 0.3], "tickets": [5, 6, 7, 8]})
    fig = charts.sentiment_lines(df, "channel", "week")
    assert fig.layout.title.text.endswith("per week, by channel")
    by_name = {t.name: ys(t) for t in fig.data}
    assert by_name == {"email": [-0.2, 0.1], "chat": [0.4, 0.3]}
    assert any(s.y0 == 0 and s.y1 == 0 for s in fig.layout.shapes)  # the zero line
    assert_empty(charts.sentiment_lines(df.iloc[:0], "segment", "day"), "by segment")


def test_sentiment_lines_top_groups_with_a_visible_note() -> None:
    df = pd.DataFrame({"period": [WEEKS[0]] * 3, "group": ["a", "b", "c"],
                       "mean_sentiment": [0.1, 0.2, 0.3], "tickets": [5, 50, 20]})
    fig = charts.sentiment_lines(df, "category", "week", top=2)
    assert {t.name for t in fig.data} == {"b", "c"}
    assert "2 category groups with the most tickets of 3" in fig.layout.title.subtitle.text
    assert not charts.sentiment_lines(df, "category", "week").layout.title.subtitle.text


def test_breakdown_bars_horizontal_colored_by_sentiment() -> None:
    df = pd.DataFrame({"group": ["billing", "refund", "coupon_promo"], "tickets": [30, 20, 10],
                       "mean_sentiment": [-0.5, -0.1, 0.2]})
    fig = charts.breakdown_bars(df, "category")
    assert fig.layout.title.text == "Tickets by category (color: mean sentiment)"
    (bar,) = fig.data
    assert bar.orientation == "h"
    assert xs(bar) == [30, 20, 10] and ys(bar) == ["billing", "refund", "coupon_promo"]
    assert list(bar.marker.color) == [-0.5, -0.1, 0.2]
    assert fig.layout.height >= 260
    # diverging, centred on 0, fitted to the data (not -1..+1)
    assert fig.layout.coloraxis.cmid == 0
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (-0.51, 0.51)
    assert_empty(charts.breakdown_bars(df.iloc[:0], "category"), "Tickets by category")


def test_tier_counts_saved_vs_preview_and_plain() -> None:
    both = pd.DataFrame({"tier": ["P1", "P2", "P1", "P2"], "tickets": [3, 9, 5, 7],
                         "profile": ["saved", "saved", "preview", "preview"]})
    fig = charts.tier_counts(both, "Saved vs preview")
    assert fig.layout.title.text == "Saved vs preview"
    assert {t.name: ys(t) for t in fig.data} == {"saved": [3, 9], "preview": [5, 7]}
    plain = charts.tier_counts(pd.DataFrame({"tier": ["P2", "P1"], "tickets": [4, 2]}))
    colors = {t.name: t.marker.color for t in plain.data}
    assert colors == {"P2": charts.TIER_COLORS["P2"], "P1": charts.TIER_COLORS["P1"]}
    assert_empty(charts.tier_counts(both.iloc[:0]), "Open tickets per priority tier")


def test_workload_highest_load_first_over_capacity_red_with_optional_preview() -> None:
    df = pd.DataFrame({"agent_id": ["A2", "A1", "A3"], "team": ["tech", "billing", "billing"],
                       "capacity": [8, 10, 6], "assigned": [7, 2, 9],
                       "agent": ["Bea", "Ana", "Cy"]})
    fig = charts.workload(df)
    assert [t.name for t in fig.data] == ["Capacity", "Assigned now"]
    # names on the axis, highest load first; the id and team in the hover
    assert list(fig.data[0].x) == ["Cy", "Bea", "Ana"]
    assert list(fig.data[0].hovertext) == ["Cy · A3 · billing", "Bea · A2 · tech",
                                           "Ana · A1 · billing"]
    # a long name is shortened on the axis and whole in the hover (it was not in it at all)
    long = "Maximiliane Konstantinopoulou-Schwarzenberger von Hohenzollern"
    fig = charts.workload(df.assign(agent=[long, "Ana", "Cy"]))
    assert len(fig.data[0].x[1]) < len(long) and long in fig.data[0].hovertext[1]
    assert ys(fig.data[0]) == [6, 8, 10] and ys(fig.data[1]) == [9, 7, 2]
    colors = list(fig.data[1].marker.color)
    assert colors[:2] == [charts.TIER_COLORS["P1"], charts.ACCENT]  # red: over capacity
    assert "over capacity" in fig.layout.title.subtitle.text
    fig = charts.workload(df.assign(assigned_preview=[1, 2, 3]), "Preview")
    assert fig.layout.title.text == "Preview"
    assert ys(fig.data[2]) == [3, 1, 2]
    top = charts.workload(df, top=2)
    assert len(top.data[0].x) == 2 and "The 2 agents with the highest load of 3" in \
        top.layout.title.subtitle.text
    assert_empty(charts.workload(df.iloc[:0]), "Agent workload")


def test_team_load_now_and_candidate_per_team() -> None:
    df = pd.DataFrame({"team": ["tech", "billing"], "capacity": [20, 30], "assigned": [18, 30],
                       "assigned_preview": [19, 30], "waiting": [3, 12],
                       "waiting_preview": [2, 12]})
    fig = charts.team_load(df)
    assert [t.name for t in fig.data] == ["Capacity", "Agent now", "Agent (candidate)",
                                          "Waiting now", "Waiting (candidate)"]
    assert list(fig.data[0].x) == ["billing", "tech"]
    assert ys(fig.data[4]) == [12, 2]
    assert_empty(charts.team_load(df.iloc[:0]), "Open work per team")


def test_legend_sits_above_the_plot_never_over_axis_labels() -> None:
    fig = charts.volume(pd.DataFrame({"period": WEEKS, "tickets": [3, 4, 5],
                                      "negative_share": [0.1, 0.2, 0.3]}), "week")
    assert fig.layout.legend.yanchor == "bottom" and fig.layout.legend.y >= 1
    assert fig.layout.margin.t >= 80


IMPACT = pd.DataFrame({
    "campaign_id": ["K1", "K2", "K3", None], "name": ["Spring", "App", "Free", None],
    "channel": ["email", "paid_social", "email", None],
    "tickets": [12.0, 30.0, 3.0, 50.0], "spend": [1000.0, 2000.0, 0.0, np.nan],
    "revenue": [5000.0, 2500.0, 100.0, np.nan], "roi_after_support": [3.5, -0.1, np.nan, np.nan],
})


def test_campaign_bars_sorted_and_compared() -> None:
    fig = charts.campaign_bars(IMPACT, "tickets", "Attributed tickets", "last_touch")
    assert fig.layout.title.text == "Attributed tickets per campaign (last touch attribution)"
    (bar,) = fig.data
    assert xs(bar) == ["App", "Spring", "Free"]  # unattributed row dropped, largest first
    assert ys(bar) == [30.0, 12.0, 3.0]
    other = IMPACT.assign(tickets=[1.0, 2.0, 4.0, 50.0]).iloc[::-1]
    fig = charts.campaign_bars(IMPACT, "tickets", "Attributed tickets", "last_touch", other,
                               "linear")
    assert fig.layout.title.text == "Attributed tickets per campaign: last_touch vs linear"
    assert [t.name for t in fig.data] == ["last_touch", "linear"]
    assert ys(fig.data[1]) == [2.0, 1.0, 4.0]  # aligned by campaign id, not by position
    assert_empty(charts.campaign_bars(IMPACT.iloc[:0], "tickets", "T", "linear"), "T per")


def test_roi_scatter_computes_roi_before_support_in_percent_labelled() -> None:
    fig = charts.roi_scatter(IMPACT, "first_touch")
    assert fig.layout.title.text == "ROI before and after support cost (first touch)"
    points = {(t.name, h): (x, y) for t in fig.data
              for h, x, y in zip(t.hovertext, xs(t), ys(t), strict=True)}
    # (revenue - spend) / spend: Spring (5000-1000)/1000 = 400 %; App (2500-2000)/2000 = 25 %
    assert points == {("email", "Spring"): (400.0, 350.0), ("paid_social", "App"): (25.0, -10.0)}
    assert {tuple(t.text) for t in fig.data} == {("Spring",), ("App",)}  # labelled bubbles
    few = charts.roi_scatter(IMPACT, "first_touch", label_top=0)  # only those losing money
    assert {tuple(t.text) for t in few.data} == {("",), ("App",)}
    diag = fig.layout.shapes[0]
    assert (diag.x0, diag.x1) == (-10.0, 400.0) and (diag.y0, diag.y1) == (-10.0, 400.0)
    assert_empty(charts.roi_scatter(IMPACT.assign(roi_after_support=np.nan), "linear"), "ROI")


def test_daily_series_with_launch_marker() -> None:
    df = pd.DataFrame({"day": WEEKS, "tickets": [1.0, 2.5, 0.5]})
    fig = charts.daily_series(df, "Per day", marker="2026-01-10")
    assert fig.layout.title.text == "Per day"
    assert ys(fig.data[0]) == [1.0, 2.5, 0.5]
    (line,) = fig.layout.shapes
    assert line.x0 == pd.Timestamp("2026-01-10").timestamp() * 1000
    assert [a.text for a in fig.layout.annotations] == ["launch"]
    no_marker = charts.daily_series(df.rename(columns={"tickets": "sentiment"}), "S",
                                    y="sentiment", label="Sentiment")
    assert not no_marker.layout.shapes
    assert_empty(charts.daily_series(df.iloc[:0], "Per day"), "Per day")


def test_category_mix_donut() -> None:
    df = pd.DataFrame({"category": ["billing", "refund"], "value": [3.0, 1.0]})
    fig = charts.category_mix(df, "Mix")
    (pie,) = fig.data
    assert pie.type == "pie" and pie.hole == 0.5
    assert list(pie.labels) == ["billing", "refund"] and list(pie.values) == [3.0, 1.0]
    assert_empty(charts.category_mix(df.iloc[:0], "Mix"), "Mix")


def test_confusion_matrix_heatmap() -> None:
    fig = charts.confusion(["a", "b"], [[5, 1], [2, 7]], "Confusion")
    (heat,) = fig.data
    assert heat.type == "heatmap"
    assert np.asarray(heat.z).tolist() == [[5, 1], [2, 7]]
    assert list(heat.x) == ["a", "b"] and list(heat.y) == ["a", "b"]
    assert fig.layout.xaxis.title.text == "Predicted" and fig.layout.yaxis.title.text == "True"
    assert_empty(charts.confusion([], [], "Confusion"), "Confusion")


def test_per_class_f1_sorted_worst_first() -> None:
    df = pd.DataFrame({"label": ["a", "b", "c"], "f1": [0.9, 0.4, 0.7], "support": [10, 5, 8]})
    fig = charts.per_class_f1(df, "F1")
    (bar,) = fig.data
    assert ys(bar) == ["b", "c", "a"] and xs(bar) == [0.4, 0.7, 0.9]
    assert list(fig.layout.xaxis.range) == [0, 1]
    assert_empty(charts.per_class_f1(df.iloc[:0], "F1"), "F1")


def test_histogram_draws_the_bins_it_is_given() -> None:
    counts = pd.DataFrame({"low": [0.0, 0.5], "high": [0.5, 1.0], "tickets": [3, 7]})
    fig = charts.histogram(counts, "Confidence", "Confidence")
    (bars,) = fig.data
    assert bars.type == "bar" and xs(bars) == [0.25, 0.75] and ys(bars) == [3, 7]
    assert list(bars.width) == [0.5, 0.5] and list(bars.customdata) == ["0.00–0.50", "0.50–1.00"]
    assert fig.layout.yaxis.title.text == "Tickets"
    assert_empty(charts.histogram(counts.assign(tickets=0), "Confidence", "x"), "Confidence")
    assert_empty(charts.histogram(counts.iloc[:0], "Confidence", "x"), "Confidence")


def test_model_history_versions_in_order() -> None:
    df = pd.DataFrame({"version": [2, 1], "accuracy": [0.9, 0.8], "macro_f1": [0.85, 0.7],
                       "n_corrections": [4, 0]})
    fig = charts.model_history(df)
    assert sorted(t.name for t in fig.data) == ["Accuracy", "Corrections used", "Macro-F1"]
    by_name = {t.name: t for t in fig.data}
    acc, corrections = by_name["Accuracy"], by_name["Corrections used"]
    assert xs(acc) == ["v1", "v2"] and ys(acc) == [0.8, 0.9]
    assert ys(corrections) == [0, 4]
    # the scores on the axis drawn last (in front of the bars), at the left
    assert acc.yaxis == "y2" and fig.layout.yaxis2.side == "left"
    assert fig.layout.yaxis2.overlaying == "y" and fig.layout.yaxis.side == "right"
    assert corrections.width <= 0.5  # one version's bar must not cover the whole plot
    # the higher score of a version is labeled above its point (v1: accuracy; v2 below)
    df.loc[df["version"] == 2, "macro_f1"] = 0.95
    by_name = {t.name: t for t in charts.model_history(df).data}
    assert list(by_name["Accuracy"].textposition) == ["top center", "bottom center"]
    assert list(by_name["Macro-F1"].textposition) == ["bottom center", "top center"]
    assert_empty(charts.model_history(df.iloc[:0]), "Model quality")


def test_weekly_bars_one_trace_per_color_value() -> None:
    df = pd.DataFrame({"week": list(WEEKS[:2]) * 2, "field": ["category"] * 2 + ["tier"] * 2,
                       "n": [3, 1, 2, 5]})
    fig = charts.weekly_bars(df, "Corrections per week", color="field")
    assert fig.layout.title.text == "Corrections per week"
    assert {t.name: ys(t) for t in fig.data} == {"category": [3, 1], "tier": [2, 5]}
    # dates on the time axis, never a time of day such as 23:59:59.9996
    assert fig.layout.xaxis.tickformat == "%d %b %Y" and fig.layout.xaxis.dtick >= 7 * 86_400_000
    assert_empty(charts.weekly_bars(df.iloc[:0], "Corrections per week"), "Corrections",
                 "Nothing recorded yet")


def test_csat_sentiment_needs_csat_answers() -> None:
    df = pd.DataFrame({"period": WEEKS, "csat": [4.0, np.nan, 2.5],
                       "mean_sentiment": [0.3, -0.1, -0.6]})
    fig = charts.csat_sentiment(df)
    csat, senti = fig.data
    assert ys(csat)[0] == 4.0 and np.isnan(ys(csat)[1]) and csat.name == "CSAT"
    assert ys(senti) == [0.3, -0.1, -0.6] and senti.yaxis == "y2"
    assert list(fig.layout.yaxis2.range) == [-1, 1]
    assert_empty(charts.csat_sentiment(df.assign(csat=np.nan)), "CSAT", "No CSAT answers yet")


def test_lift_bars_escape_campaign_names() -> None:
    df = pd.DataFrame({"name": ["<b>Sale</b> & more"], "incremental_tickets": [5.0],
                       "ci_low": [1.0], "ci_high": [9.0], "attributed_tickets": [12.0]})
    fig = charts.lift_bars(df, "last_touch", "Tickets caused vs credited per campaign")
    assert list(fig.data[0].x) == ["&lt;b&gt;Sale&lt;/b&gt; &amp; more"]
    assert list(fig.data[1].error_y.array) == [4.0] and list(fig.data[1].error_y.arrayminus) \
        == [4.0]
    empty = charts.lift_bars(df.assign(incremental_tickets=float("nan")), "last_touch", "t")
    assert not empty.data


def test_forecast_band_chart() -> None:
    daily = pd.DataFrame({"date": pd.date_range("2026-07-01", periods=3), "tickets": [1.0, 2, 3],
                          "low": [0.0, 1, 1], "high": [2.0, 4, 6]})
    fig = charts.forecast_band(daily, "Forecast", 0.8)
    assert [t.name for t in fig.data[1:]] == ["80% interval", "forecast"]
    assert list(fig.data[0].y) == [2.0, 4, 6] and fig.data[1].fill == "tonexty"
    assert fig.layout.yaxis.title.text == "Tickets per day"


def test_every_public_builder_is_tested() -> None:
    """A new chart builder needs a test here (names of the tests above)."""
    builders = {n for n, f in inspect.getmembers(charts, inspect.isfunction)
                if f.__module__ == charts.__name__ and not n.startswith("_") and n != "empty"}
    tested = {n.removeprefix("test_") for n in globals() if n.startswith("test_")}
    missing = {b for b in builders if not any(t.startswith(b) for t in tested)}
    assert not missing, f"untested chart builders: {sorted(missing)}"


def test_every_figure_has_the_shared_look() -> None:
    fig = charts.empty("Nothing")
    assert fig.layout.template.layout.paper_bgcolor == "white"  # plotly_white
    assert fig.layout.title.x == 0 and fig.layout.legend.orientation == "h"


PAYLOAD = '<a href="https://evil.example/x">click</a><b>bold</b>&amp;\u202egpj.exe'


def _shown_texts(fig: go.Figure) -> list[str]:
    """Every string a figure shows from its data: values, names, categories, title."""
    out = [fig.layout.title.text or ""]
    for trace in fig.data:
        for attr in ("x", "y", "text", "hovertext", "labels", "name", "legendgroup"):
            value = getattr(trace, attr, None)
            if isinstance(value, str):
                out.append(value)
            elif value is not None:
                out += [v for v in np.asarray(value, dtype=object).ravel().tolist()
                        if isinstance(v, str)]
    return out


def test_markup_from_the_data_reaches_plotly_escaped() -> None:
    """Plotly renders <a>, <b> and styled spans in labels: names from the data must arrive
    escaped (so they show as typed) and without bidirectional overrides."""
    df = pd.DataFrame({"group": [PAYLOAD, "plain"], "tickets": [3, 4],
                       "negative_share": [0.1, 0.2], "mean_sentiment": [-0.1, 0.2]})
    texts = _shown_texts(charts.breakdown_bars(df, "category"))
    assert any("&lt;a href" in t for t in texts)
    for t in texts:
        assert "<a" not in t and "<b>" not in t and "\u202e" not in t


def test_long_names_are_shortened_where_drawn_and_kept_apart() -> None:
    """A 5,000-character category squashed the plot to a few pixels: labels drawn on the chart
    are cut to MAX_LABEL characters, two long names that start alike stay two categories, and
    the hover text keeps the whole name."""
    long_a, long_b = "a" * 5000, "a" * 4999 + "b"
    df = pd.DataFrame({"group": [long_a, long_b, "short"], "tickets": [3, 2, 1],
                       "mean_sentiment": [0.1, -0.2, 0.0]})
    (bar,) = charts.breakdown_bars(df, "category").data
    shown = ys(bar)
    assert len(set(shown)) == 3 and shown[2] == "short"
    assert all(len(s) <= charts.MAX_LABEL for s in shown)
    assert list(bar.hovertext) == [long_a, long_b, "short"]  # the hover shows the whole name
    assert "%{hovertext}" in bar.hovertemplate and "%{y}" not in bar.hovertemplate
    # a campaign's long name too (the bars' default hover), escaped
    named = IMPACT.assign(name=["<i>" + "s" * 300, "App", "Free", None])
    (bar,) = charts.campaign_bars(named, "tickets", "Attributed tickets", "linear").data
    assert xs(bar)[1] == "&lt;i&gt;" + "s" * (charts.MAX_LABEL - 4) + "…"  # escaped after
    assert list(bar.hovertext) == ["App", "&lt;i&gt;" + "s" * 300, "Free"]
    # short names leave the hover as it was
    (bar,) = charts.campaign_bars(IMPACT, "tickets", "Attributed tickets", "linear").data
    assert bar.hovertext is None
    # the legend of a long channel no longer reserves a band for 5,000 characters
    impact = IMPACT.assign(channel=["x" * 5000, "paid_social", "email", None],
                           name=["<b>" + "n" * 5000, "App", "Free", None])
    fig = charts.roi_scatter(impact, "first_touch")
    assert fig.layout.margin.t <= 140
    names = {t.name for t in fig.data}
    assert all(len(n) <= charts.MAX_LEGEND for n in names)
    hover = [h for t in fig.data for h in t.hovertext]
    assert "&lt;b&gt;" + "n" * 5000 in hover  # escaped, whole
    labels = [s for t in fig.data for s in t.text if s]
    assert labels and all(len(s) <= charts.MAX_LABEL + 10 and "<b>" not in s for s in labels)
