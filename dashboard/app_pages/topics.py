"""Topics: find topics in tickets without a category, edit them, accept them as labels."""

from __future__ import annotations

import streamlit as st

from dashboard import components, data

st.title("Topics")
st.caption("No categories yet? Tickets without a category are grouped into topics named by "
           "their most telling words. Rename, merge, split or drop topics, then accept them: "
           "every ticket of an accepted topic gets the topic's name as its category (a "
           "correction by 'topics', undoable with `triage topics undo`), and the next "
           "training learns from them.")

done = st.session_state.pop("topics_accepted", None)
if done is not None:
    st.success(components.plain(f"{sum(done.values()):,} tickets labeled in {len(done)} "
                                "categories.")
               + " Train a model on them with `triage train` (or Retrain on the Review & "
               "feedback page).")
    if getattr(done, "skipped", 0):
        st.info(components.plain(f"{done.skipped:,} of their tickets got a label or a "
                                 "correction after the topics were found, and keep it."))

proposal = data.topic_proposal()
if not proposal and not data.unlabeled_count():
    st.info("Every ticket already has a category (a helpdesk label or a correction), so there "
            "is nothing to group into topics: train a model on them with `triage train`. "
            "Emerging topics among new tickets still show on the Overview.",
            icon=":material/info:")
    st.stop()
found = st.button("Find topics again" if proposal else "Find topics", key="topics_find",
                  type="secondary" if proposal else "primary")
if found:
    try:
        with st.spinner("Clustering tickets…"):
            proposal = data.propose_topics()
    except data.TriageError as exc:
        components.error(exc)

topics = (proposal or {}).get("topics", [])
if not topics:
    st.info("No topics proposed. Press **Find topics** to group the tickets that have no "
            "category yet.")
    st.stop()

st.caption(components.plain(f"{len(topics)} topics among {proposal['n_tickets']:,} tickets "
                            "without a category."))
st.dataframe(data.topic_table(proposal), hide_index=True, placeholder="–", width="stretch")

by_id = {t["id"]: t for t in topics}
chosen = st.selectbox("Topic", list(by_id), key="topics_chosen",
                      format_func=lambda i: components.option(f"{i}: {by_id[i]['name']}"))
topic = by_id[chosen]
st.subheader(f"Topic {chosen}: {components.plain(components.brief(topic['name']))}")
st.caption(components.plain(f"{len(topic['ticket_ids']):,} tickets; typical examples, nearest "
                            "to the topic's centre first."))
st.dataframe(data.topic_tickets(topic["examples"], components.mask()), hide_index=True,
             placeholder="–", width="stretch")


def _apply(action: str, *args: object) -> None:
    try:
        data.edit_topics(action, *args)
    except data.TriageError as exc:
        components.error(exc)
    else:
        st.rerun()


left, right = st.columns(2)
name = left.text_input("New name", value=components.option(topic["name"]),
                       key=f"topics_name_{chosen}")
if left.button("Rename", key="topics_rename"):
    _apply("rename", chosen, name)
parts = right.number_input("Split into", min_value=2, max_value=10, value=2, step=1,
                           key="topics_parts")
if right.button("Split", key="topics_split"):
    _apply("split", chosen, int(parts))
others = left.multiselect("Merge with", [i for i in by_id if i != chosen],
                          key="topics_merge_with",
                          format_func=lambda i: components.option(f"{i}: {by_id[i]['name']}"))
if left.button("Merge", key="topics_merge", disabled=not others):
    _apply("merge", [chosen, *others], None)
if right.button("Drop this topic", key="topics_drop"):
    _apply("drop", [chosen])

st.subheader("Accept")
c1, c2 = st.columns(2)
accept = ([chosen] if c1.button("Accept this topic", key="topics_accept_one") else
          [] if c2.button("Accept all topics", key="topics_accept_all", type="primary")
          else None)
if accept is not None:
    st.session_state["topics_accepted"] = data.accept_topics(accept or None)
    st.rerun()
