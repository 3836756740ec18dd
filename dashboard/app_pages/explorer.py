"""Ticket explorer: search and filter; one ticket's text, explanation and a correction form."""

from __future__ import annotations

import streamlit as st

from dashboard import components, data
from dashboard import format as fmt

st.title("Ticket explorer")

if not components.need_triage():
    f = components.filters()
    c1, c2, c3 = st.columns([3, 1, 1])
    search = c1.text_input("Search subject, message or ticket id", key="explorer_search",
                           placeholder="e.g. refund, charged twice, TK0001792")
    order = c2.selectbox("Order", ["priority", "newest", "sentiment", "due"],
                         key="explorer_order")
    open_only = c3.toggle("Open only", key="explorer_open")
    total = data.count_tickets(f, search=search, open_only=open_only)
    page_size = 100
    pages = max(1, -(-total // page_size))
    page = st.number_input(f"Page (of {pages:,}; {total:,} tickets)", min_value=1,
                           max_value=pages, value=1, key="explorer_page")
    rows = data.tickets(f, search=search, open_only=open_only, order=order,
                        limit=page_size, offset=(int(page) - 1) * page_size)
    rows = data.with_agent_names(rows)
    event = fmt.dataframe(
        rows, ["ticket_id", "created_at", "status", "priority_tier", "category", "sentiment",
               "severity", "team", "agent", "subject"],
        on_select="rerun", selection_mode="single-row", key="explorer_table",
        overrides={"agent": st.column_config.TextColumn("Agent")})
    selected = event.selection.rows if event is not None else []
    # The ticket shown (and corrected) changes only when another row is ticked: clearing the
    # selection (Esc) keeps the last ticket; the first row is shown until one is ticked.
    if selected and selected[0] < len(rows):
        st.session_state["explorer_ticket"] = str(rows.index[selected[0]])
    ticket_id = st.session_state.get("explorer_ticket") or (
        str(rows.index[0]) if not rows.empty else "")
    # always one caption here: a page whose elements keep their places redraws the ticket in
    # place (with a caption that comes and goes, the old ticket lingered below the new one
    # while the page reran)
    if selected:
        st.caption("Showing the ticked ticket.")
    elif st.session_state.get("explorer_ticket"):
        st.caption("Showing the ticket ticked last; tick another row to change it.")
    elif ticket_id:
        st.caption("Showing the first ticket; tick a row to see another.")
    detail = data.ticket_detail(ticket_id) if ticket_id else None
    if ticket_id and detail is None:
        st.warning("That ticket no longer exists.")
    elif detail:
        st.divider()
        st.subheader(components.plain(f"Ticket {components.brief(detail['ticket_id'])}"))
        left, right = st.columns([3, 2])
        with left:
            components.ticket_text(detail.get("subject"), detail.get("body"))
            meta = (f"Created {detail['created_at']} · {detail.get('channel') or '–'} · "
                    f"status {detail.get('status')} · customer {detail.get('customer_id')} "
                    f"({detail.get('segment') or '–'}, lifetime value "
                    f"{fmt.money(detail.get('lifetime_value'))})")
            st.caption(components.plain(meta))
        with right:
            source = {"correction": "an agent's correction", "label": "the helpdesk's label",
                      "model": "the model"}.get(detail.get("category_source") or "", "nowhere")
            st.caption("Category")
            st.text(f"{detail.get('category') or '–'} (from {source})")
            if detail.get("predicted_category") is not None:
                st.caption(f"The model says {components.plain(detail['predicted_category'])} "
                           f"with confidence "
                           f"{fmt.pct(detail.get('model_confidence'))}")
            components.kpi_row([
                ("Sentiment", components.fmt_number(detail.get("sentiment"), "{:+.2f}",
                                                    none="–"),
                 detail.get("sentiment_label") or "Not scored: the sentiment lexicon does not "
                 f"cover the language ({components.plain(detail.get('language') or 'unknown')})"),
                ("Severity", components.fmt_number(detail.get("severity")), None),
            ])
            components.kpi_row([
                ("Priority", f"{components.fmt_number(detail.get('priority_score'))} "
                             f"{detail.get('priority_tier') or ''}", None),
                ("Helpdesk priority",  # the helpdesk's own value: any text
                 components.plain(components.brief(detail.get("source_priority") or "–", 40)),
                 "The priority the helpdesk itself set (source_priority)"),
            ])
        e1, e2, e3 = st.columns(3)
        with e1:
            st.markdown("**Words behind the category**")
            if detail.get("predicted_category") is None:
                st.caption("No model prediction for this ticket (no active category model, "
                           "it was not predicted yet, or it has no letter or digit to read): "
                           f"its category comes from {source}.")
            else:
                components.words_table(detail.get("category_words"), "Category")
                st.caption("Top alternatives")
                components.words_table(detail.get("category_top"), "Alternatives",
                                       columns=("category", "probability"), percent=True)
        with e2:
            st.markdown("**Words carrying the sentiment**")
            if detail.get("sentiment") is None:
                st.caption("Not scored: the sentiment model does not cover this ticket's "
                           f"language ({components.plain(detail.get('language') or 'unknown')}).")
            else:
                components.words_table(detail.get("sentiment_words"), "Sentiment")
            st.caption("Severity rules that fired")
            st.text(detail.get("severity_reasons") or "category default")
        with e3:
            parts = {"sentiment": "Negative sentiment", "value": "Customer value",
                     "severity": "Severity", "wait": "Time waited vs SLA",
                     "boost": "Segment boost", "source": "Helpdesk priority"}
            contrib = {parts.get(k.removeprefix("contrib_"), k.removeprefix("contrib_")):
                       detail.get(k) for k in detail if k.startswith("contrib_")}
            if detail.get("status") not in ("new", "open", "pending", "on_hold"):
                st.caption("Closed ticket: nobody waits on it, so it has no wait points.")
            components.score_breakdown(contrib)
            st.caption("Routing")
            agent = detail.get("assigned_agent")
            agent_name = data.agent_names().get(str(agent), agent)
            st.text(f"{detail.get('team') or '–'} / "
                    f"{f'{agent_name} ({agent})' if agent else 'no agent'}\n"
                    f"{detail.get('routing_reason') or ''}")
        components.feedback_form(detail)
        history = data.ticket_feedback(detail["_ticket"])
        if not history.empty:
            st.caption("Corrections on this ticket")
            fmt.dataframe(history, key="explorer_history")
    elif rows.empty:
        st.info("No tickets match. Clear the search or widen the sidebar filters.")
