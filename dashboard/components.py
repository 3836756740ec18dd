"""Small reusable widgets: global filters, KPI cards, ticket cards, empty states.

Ticket text is untrusted: it is shown with ``st.text`` / ``st.code`` / dataframes, never as
Markdown or HTML.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.format import BIDI as _BIDI


def sidebar_filters() -> data.Filters:
    """Global filters in the sidebar; the result is kept in ``st.session_state['filters']``."""
    opts = data.filter_options()
    with st.sidebar:
        st.caption(f"Database: {plain(data.db_name())}")
        lo, hi = opts["min_date"], opts["max_date"]
        start = end = None
        if lo is not None and hi is not None:
            # ends before tickets dated far ahead of the clock (a typo in the year): the
            # picker still reaches them
            default_end = opts.get("default_end") or hi
            picked = st.date_input("Date range", value=(lo, default_end), min_value=lo,
                                   max_value=hi, key="f_dates",
                                   help="Ticket creation date" + (
                                       "; the default range leaves out tickets dated more"
                                       " than a day ahead of this machine's clock"
                                       if default_end < hi else ""))
            if isinstance(picked, Sequence) and len(picked) == 2:
                start, end = picked
            elif isinstance(picked, Sequence) and len(picked) == 1:
                start = picked[0]
        lookback = data.attribution_settings().lookback_days
        campaigns = opts["campaigns"]
        names = dict(zip(campaigns["campaign_id"], campaigns["name"], strict=True))
        chosen_campaigns = st.multiselect(
            "Campaign", list(names), format_func=lambda c: data.display(names.get(c, c)),
            key="f_campaigns",
            help=f"Tickets from customers the campaign touched in the {lookback:g} days before",
        )
        campaign_channels = st.multiselect(
            "Campaign channel", opts["campaign_channels"], key="f_campaign_channels",
            format_func=data.display,
            help=f"Where marketing reached the customer: tickets from customers a campaign of "
                 f"these channels touched in the {lookback:g} days before; on the campaign "
                 f"page, the campaigns of these channels")
        ticket_channels = st.multiselect("Ticket channel", opts["ticket_channels"],
                                         key="f_ticket_channels", format_func=data.display,
                                         help="Where the customer contacted support")
        segments = st.multiselect("Segment", opts["segments"], key="f_segments",
                                  format_func=data.display)
        categories = st.multiselect("Category", opts["categories"], key="f_categories",
                                    format_func=data.display)
        st.toggle("Mask e-mails, phones and cards", value=True, key="mask_pii",
                  help="Applies to every view and export")
    filters = data.Filters(start=start, end=end, campaigns=tuple(chosen_campaigns),
                      campaign_channels=tuple(campaign_channels),
                      ticket_channels=tuple(ticket_channels), segments=tuple(segments),
                      categories=tuple(categories), lookback_days=lookback)
    st.session_state["filters"] = filters
    return filters


def filters() -> data.Filters:
    return st.session_state.get("filters") or data.Filters()


def mask() -> bool:
    return bool(st.session_state.get("mask_pii", True))


def database_ready() -> bool:
    """Open the database, or say in words why it cannot be opened (another program holding
    its lock, a file that is not a database) instead of Streamlit's generic error."""
    try:
        data.counts()
    except data.TriageError as exc:
        busy = isinstance(exc, data.DatabaseBusyError)
        st.title("Ticket triage")
        st.error(f"The database {plain(data.db_name())} cannot be opened"
                 + (": another program holds it (a `triage` command such as import, train or"
                    " score). Reload this page when it has finished, or run `triage serve`,"
                    " which lets the dashboard and the commands share the database."
                    if busy else "; it may not be a triage database. Check `triage info`."))
        return False
    return True


def need_triage() -> bool:
    """Show an empty state and return True when there is nothing triaged to show."""
    if data.has_triage():
        return False
    counts = data.counts()
    if not counts.get("tickets"):
        st.info("No tickets yet. Load the demo world with `triage demo`, or import your own "
                "files on the **Data** page.", icon=":material/info:")
    else:
        st.info("Tickets are loaded but not triaged yet. Press **Triage all tickets** on the "
                "**Data** page (or run `triage score`).", icon=":material/info:")
    return True


def error(exc: Exception | str) -> None:
    """A one-line error for the user: masked like every value, shown as plain text."""
    st.error(plain(data.display(str(exc))))


def warn(message: str) -> None:
    st.warning(plain(data.display(message)))


def health_notes(notes: list[str]) -> None:
    """What is missing or doubtful in the data: one warning each, never silent."""
    for note in notes:  # written to follow "warning: " in the CLI; a sentence of its own here
        st.warning(plain(note[:1].upper() + note[1:]), icon=":material/warning:")


def fmt_number(value: Any, fmt: str = "{:,.0f}", none: str = "–") -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return none
    return fmt.format(value)


def kpi_row(items: Sequence[tuple[Any, ...]]) -> None:
    """A row of metrics: (label, value, help[, delta[, delta_color]]); the delta is the change
    against the previous period (``"inverse"`` colour when up is bad)."""
    cols = st.columns(len(items))
    for col, item in zip(cols, items, strict=True):
        label, value, help_text, *rest = item
        delta = rest[0] if rest else None
        color = rest[1] if len(rest) > 1 else "normal"
        col.metric(label, value, delta=delta, delta_color=color, help=help_text, border=True)


def partial_periods(periods: pd.Series, freq: str, start: Any, end: Any) -> list[bool]:
    """For each period start (day, week or month), whether the date range ``start``..``end``
    covers it only in part (the first and last weeks or months of a range usually)."""
    if start is None or end is None:
        return [False] * len(periods)
    lo, hi = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    step = {"day": pd.DateOffset(days=1), "week": pd.DateOffset(weeks=1),
            "month": pd.DateOffset(months=1)}[freq]
    out = []
    for p in pd.to_datetime(periods):
        last = (p + step).normalize() - pd.Timedelta(days=1)
        out.append(bool(p.normalize() < lo or last > hi))
    return out


class PageProgress:
    """A ``progress=`` callback for triage_core's long work (``progress(desc, total=, unit=)``
    returning a bar with ``update(n)`` and ``close()``) that draws ``st.progress`` bars inside
    ``container`` (e.g. an ``st.status``), one per stage."""

    def __init__(self, container: Any) -> None:
        self.container = container
        self.stages: list[str] = []

    def __call__(self, desc: str, total: int | None = None, unit: str = "it") -> _PageBar:
        self.stages.append(desc)
        return _PageBar(self.container, desc, total, unit)


class _PageBar:
    def __init__(self, container: Any, desc: str, total: int | None, unit: str) -> None:
        self.desc, self.total, self.unit, self.n = desc, total, unit, 0
        self.widget = container.progress(0.0, text=self._text())

    def _text(self) -> str:
        if self.total:
            return f"{self.desc}: {self.n:,} of {self.total:,} {self.unit}"
        return f"{self.desc}: {self.n:,} {self.unit}"

    def update(self, n: int = 1) -> None:
        self.n += int(n)
        share = min(1.0, self.n / self.total) if self.total else 0.0
        self.widget.progress(share, text=self._text())

    def close(self) -> None:
        self.widget.progress(1.0, text=f"{self.desc}: done")


def ticket_text(subject: str | None, body: str | None) -> None:
    """Show ticket text safely (never interpreted as Markdown or HTML)."""
    st.caption("Subject")
    st.text(subject or "(no subject)")
    shown = data.readable(body) if body else body
    st.caption("Message" if shown == body else "Message (its HTML shown as text)")
    st.code(shown or "(empty)", language=None, wrap_lines=True)


def words_table(words: Any, label: str, columns: tuple[str, str] = ("word", "weight"),
                percent: bool = False) -> None:
    """Explanation words [(word, weight), ...] as a short list in plain text (words come from
    the ticket, so never Markdown): a list reads faster than a table and draws no grid."""
    import json

    if isinstance(words, str):
        try:
            words = json.loads(words)
        except ValueError:
            words = []
    if not words:
        st.caption(f"{plain(label)}: no strong words")
        return
    lines = []
    for item in words:
        word, weight = item[0], item[1]
        value = (f"{float(weight) * 100:.1f} %" if percent else
                 f"{float(weight):+.2f}".replace("-", "−"))
        lines.append(f"• {word} ({value})")
    st.text("\n".join(lines))


def score_breakdown(contrib: dict[str, Any]) -> None:
    """A ticket's priority points per part, as bars in a small table (no chart library: the
    explorer then loads no plotting code in the browser)."""
    rows = pd.DataFrame([(k, float(v)) for k, v in contrib.items()
                         if v is not None and not pd.isna(v)], columns=["part", "points"])
    st.markdown("**Priority score breakdown**")
    if rows.empty:
        st.caption("Not scored yet.")
        return
    st.dataframe(rows, hide_index=True, placeholder="–", width="stretch", column_config={
        "part": st.column_config.TextColumn("Part"),
        "points": st.column_config.ProgressColumn(
            "Points", help="Points of the priority score (of 100)", min_value=0.0,
            format="%.1f", width="small",  # the value stays visible in a third of 1280 px
            max_value=float(max(rows["points"].max(), 1.0)))})


def feedback_form(detail: dict[str, Any], key_prefix: str = "explorer") -> None:
    """One-click corrections of category, tier and sentiment for one ticket. The form is keyed
    on the ticket and names it, so it can never record on another ticket than the one shown;
    a value equal to the current one is refused (nothing is recorded)."""
    tid = detail.get("_ticket", detail["ticket_id"])
    current = {"category": detail.get("category"), "tier": detail.get("priority_tier"),
               "sentiment": detail.get("sentiment_label")}
    with st.form(f"{key_prefix}_feedback_{tid}"):
        st.markdown(f"**Correct ticket {plain(detail['ticket_id'])}**: is a prediction wrong? "
                    "Record the right value.")
        cats = data.known_categories()
        c1, c2, c3 = st.columns(3)
        keep = "(keep)"

        def kept(field: str) -> Any:
            now = current[field]
            return (lambda v: f"(keep: {data.display(now)})" if v == keep else data.display(v)) \
                if now is not None and not (isinstance(now, float) and pd.isna(now)) \
                else (lambda v: data.display(v))

        category = c1.selectbox("Category", [keep, *cats], key=f"{key_prefix}_fb_cat_{tid}",
                                format_func=kept("category"))
        tier = c2.selectbox("Priority tier", [keep, "P1", "P2", "P3", "P4"],
                            key=f"{key_prefix}_fb_tier_{tid}", format_func=kept("tier"))
        sentiment = c3.selectbox("Sentiment", [keep, "negative", "neutral", "positive"],
                                 key=f"{key_prefix}_fb_sent_{tid}", format_func=kept("sentiment"))
        c4, c5 = st.columns([1, 2])
        by = c4.text_input("Your name", key=f"{key_prefix}_fb_by_{tid}")
        comment = c5.text_input("Comment (optional)", key=f"{key_prefix}_fb_comment_{tid}")
        flag = st.checkbox("Flag as wrong without a corrected value",
                           key=f"{key_prefix}_fb_flag_{tid}")
        if st.form_submit_button(f"Record feedback on {plain(brief(detail['ticket_id']))}"):
            changes = {"category": None if category == keep else category,
                       "tier": None if tier == keep else tier,
                       "sentiment": None if sentiment == keep else sentiment,
                       "flag": "wrong prediction" if flag else None}
            same = [f"{k} is already {v}" for k, v in changes.items()
                    if k != "flag" and v is not None and v == current.get(k)]
            if same:
                error(f"Nothing recorded: the ticket's {'; '.join(same)}. Choose a different "
                      "value, or flag the prediction as wrong.")
                return
            try:
                data.add_feedback(tid, changes, by, comment)
            except data.TriageError as exc:
                error(exc)
            else:
                st.success(f"Recorded on ticket {plain(detail['ticket_id'])}. It overrides the "
                           "prediction now and feeds retraining.")


_MD_SPECIAL = "\\`*_{}[]()#+-.!|<>~$:&@="
# Bidirectional controls (e.g. U+202E RIGHT-TO-LEFT OVERRIDE) make "gpj.exe" read "exe.jpg".
_ZWSP = "\u200b"
# a colon before a letter (:material/home:, :red[...]) or starting an emoji code (:+1:, :100:)
_SHORTCODE = re.compile(r":(?=[^\W\d_])|:(?=[\w+-]+:)")
_LINE_BREAK = re.compile(r"[ \t]*[\r\n\x0b\x0c\x85\u2028\u2029]+[ \t]*")


def brief(text: Any, limit: int = 120) -> str:
    """A value from the data cut to ``limit`` characters (with "…") for a heading or a label:
    a 5,000-character name would otherwise fill the screen. Escape it afterwards."""
    s = str(text)
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"


def option(text: Any) -> str:
    """A value from the data as a widget option (selectbox, multiselect, a text box's value)
    shows it: text without bidirectional controls (options never render Markdown or HTML)."""
    return str(text).translate(_BIDI)


def plain(text: Any) -> str:
    """A value from the data, safe to put into Markdown (headings, captions, messages).

    Markdown and Streamlit's own syntax (``:red[...]``, ``:material/...:``, ``:streamlit:``)
    are escaped, line breaks become spaces (one line: a heading, a label), HTML cannot form
    (``<`` and ``&`` are escaped), links written as URLs, ``www.`` or e-mail addresses are
    not turned into links (a zero-width space breaks them), and bidirectional control
    characters are removed."""
    s = str(text).translate(_BIDI)
    s = (s.replace("://", ":" + _ZWSP + "//").replace("www.", "www" + _ZWSP + ".")
         .replace("@", _ZWSP + "@"))
    # Streamlit draws :material/home:, :streamlit: and :+1: even with the colons escaped: a
    # zero-width space after the colon breaks every such code (not a time's 10:30)
    s = _SHORTCODE.sub(":" + _ZWSP, s)
    # a line break would end a heading, start a paragraph or a list, or break a label
    s = _LINE_BREAK.sub(" ", s)
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in s)


TICKET_COLUMNS = {
    "ticket_id": st.column_config.TextColumn("Ticket"),
    "created_at": st.column_config.DatetimeColumn("Created", format="YYYY-MM-DD HH:mm"),
    "priority_score": st.column_config.ProgressColumn("Priority", min_value=0, max_value=100,
                                                      format="%.0f"),
    "priority_tier": st.column_config.TextColumn("Tier"),
    "sentiment": st.column_config.NumberColumn("Sentiment", format="%+.2f"),
    "sla_due_at": st.column_config.DatetimeColumn("SLA due", format="YYYY-MM-DD HH:mm"),
    "sla_status": st.column_config.TextColumn("SLA"),
    "category_confidence": st.column_config.NumberColumn("Confidence", format="%.2f"),
    "agent_id": st.column_config.TextColumn("Agent"),
    "subject": st.column_config.TextColumn("Subject", width="large"),
    "escalation_reason": st.column_config.TextColumn("Escalation"),
    "lifetime_value": st.column_config.NumberColumn("LTV", format="localized"),
}

SPIKE_COLUMNS = {
    "start_at": st.column_config.DateColumn("Launch"),
    "first_spike_day": st.column_config.DateColumn("First spike day"),
    "spike_days": st.column_config.NumberColumn("Spike days"),
    "peak_tickets": st.column_config.NumberColumn("Peak tickets/day", format="%.1f"),
    "expected_per_day": st.column_config.NumberColumn("Expected/day", format="%.1f"),
}
