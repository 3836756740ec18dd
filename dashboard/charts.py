"""Pure chart builders: DataFrame -> plotly Figure. No Streamlit calls; unit-tested directly.
Built with graph_objects, not plotly express (a figure in 10-40 ms instead of 100-150 ms:
every rerun of a page builds its figures again).

Every figure has a title that says what it shows, axis titles with units, and a consistent
look (template, colors, margins).
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from dashboard.format import BIDI as _BIDI

TEMPLATE = "plotly_white"
# Every figure gets the template from the default: assigning it to each figure copies and
# validates the whole template again (~25 ms a figure, a third of a page's chart time).
pio.templates.default = TEMPLATE
TIER_COLORS = {"P1": "#c62828", "P2": "#ef6c00", "P3": "#f9a825", "P4": "#7cb342"}
SENTIMENT_COLORS = {"negative": "#d64545", "neutral": "#9aa5b1", "positive": "#2e9d6a"}
ACCENT = "#3557d6"


# Plotly renders a subset of HTML in every label (<b>, <i>, <a href>, <span style>, <br>):
# values from the data must reach it escaped, and without bidirectional controls.
_DATA_ATTRS = ("x", "y", "z", "text", "hovertext", "labels", "ids", "customdata", "parents")


def _label(value: object) -> str:
    """A value from the data as a Plotly label that shows exactly its characters."""
    s = str(value).translate(_BIDI)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape(values: object) -> object:
    if isinstance(values, str):
        return _label(values)
    if isinstance(values, tuple | list):
        return type(values)(_escape(v) for v in values)
    if hasattr(values, "dtype") and getattr(values, "dtype", None) is not None \
            and values.dtype.kind == "O":
        return [_escape(v) for v in values.tolist()]
    return values


# Labels longer than these are shortened on the chart (axis categories and text on the plot;
# legend entries): a 5,000-character category name would leave the plot a few pixels wide,
# and a long legend entry widens every column of a wrapped legend. The hover text keeps the
# whole value.
MAX_LABEL = 40
MAX_LEGEND = 30
_SHORTENED = ("x", "y", "text", "labels", "ids", "parents")


def _strings(values: object) -> list[str]:
    if isinstance(values, str):
        return [values]
    if isinstance(values, tuple | list) or (
            getattr(values, "dtype", None) is not None and values.dtype.kind == "O"):
        items = values.tolist() if hasattr(values, "tolist") else values
        return [v for v in items if isinstance(v, str)]
    return []


def _shortener(values: list[str], limit: int) -> dict[str, str]:
    """Each value longer than ``limit`` -> a short one, distinct from every other value (two
    long names that start alike do not merge into one category)."""
    seen = set(values)
    out: dict[str, str] = {}
    for value in dict.fromkeys(v for v in values if len(v) > limit):
        short = value[: limit - 1].rstrip() + "…"
        n = 1
        while short in seen:
            n += 1
            short = f"{value[: limit - 4].rstrip()}… {n}"
        seen.add(short)
        out[value] = short
    return out


def _shorten(values: object, short: dict[str, str]) -> object:
    if not short:
        return values
    if isinstance(values, str):
        return short.get(values, values)
    if isinstance(values, tuple | list):
        return type(values)(_shorten(v, short) for v in values)
    if getattr(values, "dtype", None) is not None and values.dtype.kind == "O":
        return [_shorten(v, short) for v in values.tolist()]
    return values


def _keep_whole_in_hover(trace: object, short: dict[str, str]) -> None:
    """A bar's or a point's category that is shortened on the axis stays whole in its hover
    text: the whole values go to ``hovertext`` (escaped with the rest) and the hover template
    shows them where it showed the axis value."""
    if not short or getattr(trace, "type", None) not in ("bar", "scatter") \
            or trace["hovertext"] is not None:
        return
    for attr in ("x", "y"):
        values = _strings(trace[attr])
        field = "%{" + attr + "}"
        template = trace["hovertemplate"]
        if not any(v in short for v in values) or (template and field not in template):
            continue
        trace["hovertext"] = list(trace[attr])
        other = "%{" + ("y" if attr == "x" else "x") + "}"
        trace["hovertemplate"] = (template.replace(field, "%{hovertext}") if template else
                                  f"%{{hovertext}}: {other}<extra>%{{fullData.name}}</extra>")
        return


def _sanitize(fig: go.Figure) -> go.Figure:
    """Escape every text a figure shows from its data: values, trace names, categories; and
    shorten the long ones where they are drawn (not in the hover text).
    Templates (hovertemplate, texttemplate) are code and stay as they are."""
    labels: list[str] = []
    names: list[str] = []
    for trace in fig.data:
        for attr in _SHORTENED:
            if attr in trace and trace[attr] is not None:
                labels += _strings(trace[attr])
        for attr in ("name", "legendgroup"):
            names += _strings(getattr(trace, attr, None))
    for axis in ("xaxis", "yaxis"):
        for attr in ("categoryarray", "ticktext"):
            labels += _strings(fig.layout[axis][attr])
    short, short_names = _shortener(labels, MAX_LABEL), _shortener(names, MAX_LEGEND)
    for trace in fig.data:
        _keep_whole_in_hover(trace, short)
        for attr in _DATA_ATTRS:
            if attr in trace and trace[attr] is not None:
                values = _shorten(trace[attr], short) if attr in _SHORTENED else trace[attr]
                trace[attr] = _escape(values)
        for attr in ("name", "legendgroup"):
            if isinstance(getattr(trace, attr, None), str):
                trace[attr] = _label(_shorten(trace[attr], short_names))
    for axis in ("xaxis", "yaxis"):
        ax = fig.layout[axis]
        for attr in ("categoryarray", "ticktext"):
            if ax[attr] is not None:
                ax[attr] = _escape(_shorten(ax[attr], short))
    return fig


def _style(fig: go.Figure, title: str, height: int = 340, note: str | None = None
           ) -> go.Figure:
    """Escape, then one look: the title (and an optional note under it, e.g. "the 8 largest of
    14 groups") top left, the legend in its own band between the title and the plot, never over
    an axis title or tick labels."""
    _sanitize(fig)
    heading: dict[str, object] = {"text": _label(title), "x": 0, "xanchor": "left", "y": 1,
                                  "yref": "container", "yanchor": "top", "pad": {"t": 10}}
    if note:
        heading["subtitle"] = {"text": _label(note), "font": {"size": 12, "color": "#6b7280"}}
    # room for the legend's rows (estimated for a half-width chart) under the title
    names = [t.name for t in fig.data if t.name and t.showlegend is not False]
    names = names if len(names) > 1 else []  # plotly draws a legend for two traces or more
    rows = math.ceil(sum(len(str(n)) * 7 + 40 for n in names) / 340) if names else 0
    top = (100 if note else 80) + 20 * max(0, rows - 1)
    height += 20 * max(0, rows - 1)
    fig.update_layout(height=height, title=heading,
                      margin={"l": 10, "r": 10, "t": top, "b": 40},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.01,
                              "xanchor": "left", "x": 0, "title": {"text": ""},
                              "bgcolor": "rgba(255,255,255,0)"})
    return fig


def _date_axis(fig: go.Figure, x: object, freq: str = "day", axis: str = "xaxis") -> None:
    """Dates (never times of day) on a time axis: ticks on whole periods, labelled by date."""
    values = pd.to_datetime(pd.Series(list(x) if x is not None else []), errors="coerce").dropna()
    unit = {"day": 1, "week": 7, "month": 30}.get(freq, 1)
    span = (values.max() - values.min()).days if len(values) else 0
    step = max(unit, -(-span // (8 * unit)) * unit) if span else unit
    if freq == "month":
        fmt, dtick = "%b %Y", f"M{max(1, round(step / 30))}"
    else:
        fmt, dtick = "%d %b %Y", step * 86_400_000
    settings = {"type": "date", "tickformat": fmt, "dtick": dtick, "title": None}
    if len(values):
        settings["tick0"] = values.min()
    fig.update_layout({axis: settings})


def empty(title: str, message: str = "No data for the current filters") -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 14, "color": "#6b7280"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _style(fig, title, height=240)


def volume(df: pd.DataFrame, freq: str = "day", partial: object = None) -> go.Figure:
    """Tickets per period (bars) with negative share (line, right axis). ``partial``: one
    flag per row, True for a period the date range covers only in part (drawn lighter and
    hatched, named in the legend)."""
    title = f"Tickets per {freq} and share with negative sentiment"
    if df.empty:
        return empty(title)
    flags = (pd.Series(list(partial), index=df.index).astype(bool) if partial is not None
             else pd.Series(False, index=df.index))
    fig = go.Figure()
    full = df[~flags]
    # one bar width for both traces (else plotly sizes each trace by its own spacing)
    width = 0.8 * {"day": 1, "week": 7, "month": 30}.get(freq, 1) * 86_400_000
    fig.add_bar(x=full["period"], y=full["tickets"], name="Tickets", marker_color=ACCENT,
                opacity=0.8, width=width)
    if flags.any():
        part = df[flags]
        fig.add_bar(x=part["period"], y=part["tickets"], name=f"Tickets (partial {freq})",
                    width=width,
                    marker={"color": ACCENT, "opacity": 0.35, "pattern": {"shape": "/"}})
    fig.add_scatter(x=df["period"], y=df["negative_share"] * 100, name="Negative (%)",
                    yaxis="y2", mode="lines", line={"color": SENTIMENT_COLORS["negative"]})
    fig.update_layout(yaxis={"title": "Tickets"}, barmode="overlay",
                      yaxis2={"title": "Negative (%)", "overlaying": "y", "side": "right",
                              "range": [0, 100], "dtick": 20, "tickmode": "linear",
                              "showgrid": False})
    _date_axis(fig, df["period"], freq)
    half = pd.Timedelta(days={"day": 1, "week": 7, "month": 31}.get(freq, 1) * 0.6)
    periods = pd.to_datetime(df["period"])
    fig.update_xaxes(range=[periods.min() - half, periods.max() + half])
    note = (f"Hatched: a {freq} the date range covers only in part" if flags.any() else None)
    return _style(fig, title, note=note)


def sla_csat(df: pd.DataFrame, freq: str = "week") -> go.Figure:
    """SLA compliance (%) and mean CSAT (1-5) per period."""
    title = f"First-response SLA met (%) and mean CSAT (1–5) per {freq}"
    if df.empty:
        return empty(title)
    fig = go.Figure()
    fig.add_scatter(x=df["period"], y=df["sla_compliance"] * 100, name="SLA met (%)",
                    mode="lines+markers", line={"color": ACCENT})
    fig.add_scatter(x=df["period"], y=df["csat"], name="CSAT", yaxis="y2",
                    mode="lines+markers", line={"color": "#2e9d6a"})
    fig.update_layout(yaxis={"title": "SLA met (%)", "range": [0, 105]},
                      yaxis2={"title": "CSAT (1–5)", "overlaying": "y", "side": "right",
                              "range": [1, 5], "dtick": 1, "tickmode": "linear",
                              "showgrid": False})
    _date_axis(fig, df["period"], freq)
    return _style(fig, title)


def sentiment_lines(df: pd.DataFrame, by: str, freq: str, top: int = 8) -> go.Figure:
    """Mean sentiment (-1..+1) per period, one line per group: the ``top`` groups with the
    most tickets, with a note under the title when there are more."""
    title = f"Mean sentiment (−1 to +1) per {freq}, by {by}"
    if df.empty:
        return empty(title)
    sizes = df.groupby("group")["tickets"].sum().sort_values(ascending=False)
    note = None
    if len(sizes) > top:
        note = (f"Showing the {top} {by} groups with the most tickets of {len(sizes)}; "
                "narrow the sidebar filters to see others")
        df = df[df["group"].isin(sizes.index[:top])]
    fig = go.Figure()
    for group, part in df.groupby("group", sort=False):
        fig.add_trace(go.Scatter(
            x=part["period"], y=part["mean_sentiment"], mode="lines+markers", name=str(group),
            customdata=part[["tickets"]].to_numpy(),
            hovertemplate="%{x|%d %b %Y}<br>Mean sentiment %{y:+.2f}<br>"
                          "Tickets %{customdata[0]:,}<extra>%{fullData.name}</extra>"))
    fig.update_layout(yaxis={"title": "Mean sentiment"})
    fig.add_hline(y=0, line_dash="dot", line_color="#9aa5b1")
    _date_axis(fig, df["period"], freq)
    return _style(fig, title, height=420, note=note)


def breakdown_bars(df: pd.DataFrame, by: str) -> go.Figure:
    """Tickets per group colored by mean sentiment on a diverging scale centred on 0 and
    fitted to the data (red below 0, green above)."""
    title = f"Tickets by {by} (color: mean sentiment)"
    if df.empty:
        return empty(title)
    values = df["mean_sentiment"].dropna()
    reach = float(values.abs().max()) if len(values) else 1.0
    reach = max(round(reach + 0.005, 2), 0.01)
    fig = go.Figure(go.Bar(
        x=df["tickets"], y=df["group"], orientation="h",
        marker={"color": df["mean_sentiment"], "coloraxis": "coloraxis"},
        hovertemplate="%{y}<br>Tickets %{x:,}<br>Mean sentiment %{marker.color:+.2f}"
                      "<extra></extra>"))
    # three ticks (−, 0, +) and room for them: with few groups the bar is short
    fig.update_layout(
        xaxis={"title": "Tickets"}, yaxis={"title": None, "autorange": "reversed"},
        coloraxis={"colorscale": "RdYlGn", "cmin": -reach, "cmax": reach, "cmid": 0.0,
                   "colorbar": {"title": {"text": "Mean<br>sentiment"}, "tickformat": "+.2f",
                                "nticks": 3, "tickvals": [-reach, 0.0, reach]}})
    return _style(fig, title, height=max(340, 28 * len(df) + 120),
                  note=f"Colour scale −{reach:.2f} … +{reach:.2f}, centred on 0")


def tier_counts(counts: pd.DataFrame, title: str = "Open tickets per priority tier") -> go.Figure:
    """Bars per tier; ``counts`` has columns tier, tickets and optionally profile."""
    if counts.empty:
        return empty(title)
    order = {t: i for i, t in enumerate(TIER_COLORS)}
    counts = counts.sort_values("tier", key=lambda t: t.map(order), kind="stable")
    by = "profile" if "profile" in counts.columns else "tier"
    fig = go.Figure()
    for name, part in counts.groupby(by, sort=False):
        fig.add_trace(go.Bar(x=part["tier"], y=part["tickets"], name=str(name),
                             text=part["tickets"], textposition="auto",
                             marker={"color": TIER_COLORS.get(str(name))} if by == "tier"
                             else None,
                             hovertemplate="%{x}: %{y:,} open tickets<extra>%{fullData.name}"
                                           "</extra>"))
    fig.update_layout(barmode="group", yaxis={"title": "Open tickets"},
                      xaxis={"title": "Tier", "categoryorder": "array",
                             "categoryarray": list(TIER_COLORS)})
    return _style(fig, title, height=300)


def workload(df: pd.DataFrame, title: str = "Agent workload: open tickets vs capacity",
             top: int = 25) -> go.Figure:
    """Assigned open tickets per agent against capacity: the ``top`` agents with the highest
    load (a note says so when there are more), agents over capacity in red. Columns agent_id,
    team, capacity, assigned and optionally agent (the name shown; the id is in the hover)
    and assigned_preview (a second bar)."""
    if df.empty:
        return empty(title)
    d = df.assign(load=df["assigned"] / df["capacity"].where(df["capacity"] > 0))
    if "assigned_preview" in d.columns:
        d["load"] = d[["assigned", "assigned_preview"]].max(axis=1) / d["capacity"].where(
            d["capacity"] > 0)
    d = d.sort_values(["load", "assigned"], ascending=False, na_position="last")
    note = None
    if len(d) > top:
        note = f"The {top} agents with the highest load of {len(d)}"
        d = d.head(top)
    names = (d["agent"] if "agent" in d.columns else d["agent_id"]).astype(str).tolist()
    # the whole name (the axis shortens a long one), the id and the team
    hover = [f"{n} · {a} · {t}" if n != a else f"{a} · {t}"
             for n, a, t in zip(names, d["agent_id"].astype(str), d["team"].astype(str),
                                strict=True)]
    fig = go.Figure()
    fig.add_bar(x=names, y=d["capacity"], name="Capacity", marker_color="#d7dce5",
                hovertext=hover)
    over = (d["assigned"] > d["capacity"]).to_numpy()
    fig.add_bar(x=names, y=d["assigned"], name="Assigned now",
                marker_color=[TIER_COLORS["P1"] if o else ACCENT for o in over], hovertext=hover)
    if "assigned_preview" in d.columns:
        fig.add_bar(x=names, y=d["assigned_preview"], name="Assigned (candidate)",
                    marker_color="#ef6c00", hovertext=hover)
    if over.any():
        note = (note + "; " if note else "") + "red: over capacity"
    fig.update_layout(barmode="group", xaxis={"title": None, "tickangle": -45,
                                              "tickfont": {"size": 10}},
                      yaxis={"title": "Open tickets"})
    return _style(fig, title, height=420, note=note)


def team_load(df: pd.DataFrame, title: str = "Open work per team: now vs candidate"
              ) -> go.Figure:
    """Per team: capacity, tickets with an agent and tickets waiting without one, now and
    under a candidate profile (columns team, capacity, assigned, assigned_preview, waiting,
    waiting_preview)."""
    if df.empty:
        return empty(title)
    d = df.sort_values("team")
    teams = d["team"].astype(str).tolist()
    fig = go.Figure()
    fig.add_bar(x=teams, y=d["capacity"], name="Capacity", marker_color="#d7dce5")
    fig.add_bar(x=teams, y=d["assigned"], name="Agent now", marker_color=ACCENT)
    fig.add_bar(x=teams, y=d["assigned_preview"], name="Agent (candidate)",
                marker_color="#7d95f0")
    fig.add_bar(x=teams, y=d["waiting"], name="Waiting now", marker_color="#ef6c00")
    fig.add_bar(x=teams, y=d["waiting_preview"], name="Waiting (candidate)",
                marker_color="#f6b26b")
    fig.update_layout(barmode="group", xaxis={"title": None},
                      yaxis={"title": "Open tickets"})
    return _style(fig, title, height=400)


def campaign_bars(df: pd.DataFrame, metric: str, label: str, model: str,
                  compare: pd.DataFrame | None = None, compare_model: str | None = None,
                  percent: bool = False, unit: str = "") -> go.Figure:
    """One metric per campaign (e.g. tickets, ROI after support), optionally two models.
    ``percent``: the metric is a share or ratio, drawn as a percentage."""
    title = f"{label} per campaign ({model.replace('_', ' ')} attribution)"
    if compare is not None and compare_model:
        title = f"{label} per campaign: {model} vs {compare_model}"
    if df.empty:
        return empty(title)
    d = df.dropna(subset=["campaign_id"]).sort_values(metric, ascending=False)
    scale = 100.0 if percent else 1.0
    fig = go.Figure()
    fig.add_bar(x=d["name"], y=d[metric] * scale, name=model, marker_color=ACCENT)
    if compare is not None and compare_model:
        c = compare.dropna(subset=["campaign_id"]).set_index("campaign_id").reindex(
            d["campaign_id"])
        fig.add_bar(x=d["name"], y=c[metric].to_numpy() * scale, name=compare_model,
                    marker_color="#ef6c00")
    axis_title = f"{label} (%)" if percent else (f"{label} ({unit})" if unit else label)
    fig.update_layout(barmode="group", xaxis={"tickangle": -40, "title": None},
                      yaxis={"title": axis_title, "ticksuffix": " %" if percent else "",
                             "tickprefix": unit if unit and not percent else ""})
    return _style(fig, title, height=440)


def roi_scatter(df: pd.DataFrame, model: str, label_top: int = 6) -> go.Figure:
    """ROI before vs after support cost, in percent; bubble size = attributed tickets; the
    ``label_top`` largest campaigns and every campaign losing money after support are
    labelled with their name (every bubble names its campaign on hover). Below the dotted
    diagonal, support cost ate into ROI."""
    title = f"ROI before and after support cost ({model.replace('_', ' ')})"
    d = df.dropna(subset=["campaign_id", "roi_after_support"])
    if d.empty:
        return empty(title)
    d = d.assign(roi_before=(d["revenue"] - d["spend"]) / d["spend"] * 100,
                 roi_after=d["roi_after_support"] * 100)
    # labels where they can be read: the largest campaigns and every one losing money
    big = set(d.nlargest(label_top, "tickets").index) | set(d.index[d["roi_after"] < 0])
    d = d.assign(label=[n if i in big else "" for i, n in zip(d.index, d["name"], strict=True)])
    # bubble areas proportional to tickets, the largest 40 px across (plotly express's size_max)
    sizeref = 2.0 * float(max(d["tickets"].max(), 1)) / 40 ** 2
    fig = go.Figure()
    for channel, part in d.groupby(d["channel"].fillna("–"), sort=False):
        fig.add_trace(go.Scatter(
            x=part["roi_before"], y=part["roi_after"], mode="markers+text", name=str(channel),
            text=part["label"], hovertext=part["name"], textposition="top center",
            textfont={"size": 10},
            marker={"size": part["tickets"], "sizemode": "area", "sizeref": sizeref},
            customdata=part[["tickets"]].to_numpy(),
            hovertemplate="<b>%{hovertext}</b><br>ROI before support %{x:,.1f} %<br>"
                          "ROI after support %{y:,.1f} %<br>Tickets %{customdata[0]:,}"
                          "<extra>%{fullData.name}</extra>"))
    fig.update_layout(xaxis={"title": "ROI before support cost (%)"},
                      yaxis={"title": "ROI after support cost (%)"})
    lo = float(min(d["roi_before"].min(), d["roi_after"].min()))
    hi = float(max(d["roi_before"].max(), d["roi_after"].max()))
    fig.add_shape(type="line", x0=lo, y0=lo, x1=hi, y1=hi, line={"dash": "dot", "color": "#999"})
    fig.add_hline(y=0, line_color="#c62828", line_width=1)
    fig.update_xaxes(ticksuffix=" %")
    fig.update_yaxes(ticksuffix=" %")
    return _style(fig, title, height=520,
                  note="Labelled: the largest campaigns and those losing money (hover for the "
                       "others). On the dotted line support costs nothing; below the red line "
                       "a campaign loses money once support is paid")


def daily_series(df: pd.DataFrame, title: str, y: str = "tickets", label: str = "Tickets",
                 marker: object = None) -> go.Figure:
    """A daily line, with an optional vertical marker (e.g. launch date)."""
    if df.empty:
        return empty(title)
    fig = go.Figure(go.Scatter(x=df["day"], y=df[y], mode="lines+markers", name=label,
                               line={"color": ACCENT}, hovertemplate=f"%{{x}}<br>{_label(label)}"
                               ": %{y:,.2f}<extra></extra>"))
    fig.update_layout(xaxis_title="", yaxis_title=label)
    _date_axis(fig, df["day"], "day")
    if marker is not None:
        fig.add_vline(x=pd.Timestamp(marker).timestamp() * 1000, line_dash="dash",
                      line_color="#c62828", annotation_text="launch")
    return _style(fig, title, height=300)


def category_mix(df: pd.DataFrame, title: str) -> go.Figure:
    """Share per category (column category, value)."""
    if df.empty:
        return empty(title)
    fig = go.Figure(go.Pie(labels=df["category"], values=df["value"], hole=0.5,
                           textinfo="percent+label", showlegend=False))
    return _style(fig, title, height=320)


def confusion(labels: list[str], matrix: list[list[int]], title: str) -> go.Figure:
    """Confusion matrix heatmap, rows = true label, columns = predicted."""
    if not labels:
        return empty(title)
    fig = go.Figure(go.Heatmap(
        z=matrix, x=labels, y=labels, colorscale="Blues", texttemplate="%{z}",
        colorbar={"title": {"text": "Tickets"}},
        hovertemplate="True %{y}<br>Predicted %{x}<br>%{z} tickets<extra></extra>"))
    fig.update_layout(xaxis={"title": "Predicted", "type": "category"},
                      yaxis={"title": "True", "type": "category", "autorange": "reversed"})
    return _style(fig, title, height=max(360, 30 * len(labels) + 120))


def per_class_f1(df: pd.DataFrame, title: str) -> go.Figure:
    """F1 per class (columns label, f1, support)."""
    if df.empty:
        return empty(title)
    d = df.sort_values("f1")
    fig = go.Figure(go.Bar(x=d["f1"], y=d["label"], orientation="h", marker_color=ACCENT,
                           customdata=d[["support"]].to_numpy(),
                           hovertemplate="%{y}<br>F1 %{x:.3f}<br>Support %{customdata[0]:,}"
                                         "<extra></extra>"))
    fig.update_layout(xaxis={"title": "F1 (0–1)", "range": [0, 1]},
                      yaxis={"title": None, "type": "category"})
    return _style(fig, title, height=max(260, 24 * len(d) + 80))


def histogram(counts: pd.DataFrame, title: str, x_label: str) -> go.Figure:
    """Counts already binned (``low``, ``high``, ``tickets``) as touching bars: the browser
    gets one number per bin, not every value (50,000 values took it seconds to bin)."""
    if counts.empty or not counts["tickets"].sum():
        return empty(title)
    width = (counts["high"] - counts["low"]).to_numpy()
    ranges = [f"{lo:.2f}–{hi:.2f}" for lo, hi in zip(counts["low"], counts["high"], strict=True)]
    fig = go.Figure(go.Bar(x=(counts["low"] + width / 2).to_numpy(), y=counts["tickets"],
                           width=width, marker_color=ACCENT, customdata=ranges,
                           hovertemplate="%{customdata}: %{y:,} tickets<extra></extra>"))
    fig.update_layout(xaxis={"title": x_label}, yaxis={"title": "Tickets"}, bargap=0.02)
    return _style(fig, title, height=300)


def model_history(df: pd.DataFrame, title: str = "Model quality per version") -> go.Figure:
    """Accuracy and macro-F1 per version, with the corrections behind each version."""
    if df.empty:
        return empty(title)
    d = df.sort_values("version")
    fig = go.Figure()
    x = "v" + d["version"].astype(str)
    # (a fixed width: one version's bar took the whole plot and hid its points behind it)
    # (the bars on the first axis, at the right, so that the scores' axis, drawn over it, keeps
    # the points in front: drawn behind the bars they were faded out)
    fig.add_bar(x=x, y=d["n_corrections"], name="Corrections used",
                marker_color="#d7dce5", opacity=0.7, width=0.4)
    # each version's higher score labeled above its point, the lower one below (labels crossed
    # their points when macro-F1 was the higher)
    acc_on_top = (d["accuracy"].fillna(0) >= d["macro_f1"].fillna(0)).tolist()
    for col, name, color, symbol in (("accuracy", "Accuracy", ACCENT, "circle"),
                                     ("macro_f1", "Macro-F1", "#2e9d6a", "diamond")):
        fig.add_scatter(x=x, y=d[col], name=name, mode="lines+markers+text", yaxis="y2",
                        line={"color": color}, marker={"symbol": symbol, "size": 10},
                        text=[f"{v:.3f}" if v == v else "" for v in d[col]],
                        textposition=["top center" if top == (col == "accuracy")
                                      else "bottom center" for top in acc_on_top])
    fig.update_layout(xaxis={"title": "Model version", "type": "category"},
                      yaxis2={"title": "Holdout score (0–1)", "range": [0, 1.02],
                              "overlaying": "y", "side": "left", "showgrid": True,
                              "tickmode": "linear", "tick0": 0, "dtick": 0.2},
                      yaxis={"title": "Corrections", "side": "right", "showgrid": False,
                             "rangemode": "tozero", "tickformat": "d",
                             "dtick": max(1, int(d["n_corrections"].max() or 0) // 5 or 1)})
    return _style(fig, title)


def weekly_bars(df: pd.DataFrame, title: str, x: str = "week", y: str = "n",
                color: str | None = None, empty_message: str = "Nothing recorded yet"
                ) -> go.Figure:
    if df.empty:
        return empty(title, empty_message)
    fig = go.Figure()
    for name, part in (df.groupby(color, sort=False) if color else [(None, df)]):
        fig.add_trace(go.Bar(x=part[x], y=part[y], name=None if name is None else str(name),
                             hovertemplate="%{x|%d %b %Y}: %{y:,}<extra>%{fullData.name}"
                                           "</extra>"))
    fig.update_layout(barmode="relative", yaxis={"title": "Count"})
    _date_axis(fig, df[x], "week")
    fig.update_yaxes(tickformat="d", rangemode="tozero")
    return _style(fig, title, height=300)


def csat_sentiment(df: pd.DataFrame, title: str = "CSAT (1–5) against mean sentiment per week"
                   ) -> go.Figure:
    if df.empty or df["csat"].dropna().empty:
        return empty(title, "No CSAT answers yet")
    fig = go.Figure()
    fig.add_scatter(x=df["period"], y=df["csat"], name="CSAT", mode="lines+markers",
                    line={"color": "#2e9d6a"})
    fig.add_scatter(x=df["period"], y=df["mean_sentiment"], name="Mean sentiment", yaxis="y2",
                    mode="lines+markers", line={"color": ACCENT})
    fig.update_layout(yaxis={"title": "CSAT (1–5)", "range": [1, 5]},
                      yaxis2={"title": "Sentiment (−1..+1)", "overlaying": "y", "side": "right",
                              "range": [-1, 1], "showgrid": False})
    _date_axis(fig, df["period"], "week")
    return _style(fig, title)


def forecast_band(daily: pd.DataFrame, title: str, interval: float) -> go.Figure:
    """Forecast tickets per day (columns date, tickets, low, high) with its interval band."""
    if daily.empty:
        return empty(title)
    band = f"{interval:.0%} interval"
    fig = go.Figure()
    fig.add_scatter(x=daily["date"], y=daily["high"], mode="lines", line={"width": 0},
                    showlegend=False, hoverinfo="skip")
    fig.add_scatter(x=daily["date"], y=daily["low"], mode="lines", line={"width": 0},
                    fill="tonexty", fillcolor="rgba(53, 87, 214, 0.18)", name=band)
    fig.add_scatter(x=daily["date"], y=daily["tickets"], mode="lines+markers", name="forecast",
                    line={"color": ACCENT})
    fig.update_layout(yaxis={"title": "Tickets per day"})
    _date_axis(fig, daily["date"], "day")
    return _style(fig, title, height=340)


def lift_bars(df: pd.DataFrame, model: str, title: str) -> go.Figure:
    """Incremental tickets per campaign with their interval, beside the attributed credit
    (columns name, incremental_tickets, ci_low, ci_high, attributed_tickets)."""
    d = df.dropna(subset=["incremental_tickets"])
    if d.empty:
        return empty(title)
    names = d["name"].astype(str).tolist()  # escaped by _style
    fig = go.Figure()
    fig.add_bar(x=names, y=d["attributed_tickets"], name=f"attributed ({model.replace('_', ' ')})",
                marker_color="#9aa5b1")
    fig.add_bar(x=names, y=d["incremental_tickets"], name="incremental (caused)",
                marker_color=ACCENT, error_y={
                    "type": "data", "symmetric": False,
                    "array": (d["ci_high"] - d["incremental_tickets"]).to_numpy(),
                    "arrayminus": (d["incremental_tickets"] - d["ci_low"]).to_numpy()})
    fig.update_layout(barmode="group", xaxis={"tickangle": -40, "title": None},
                      yaxis={"title": "Tickets"})
    return _style(fig, title, height=400)
