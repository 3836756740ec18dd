"""Cold start by topic discovery, and the emerging-topic alert (the database side of
:mod:`triage_core.models.topics`).

A helpdesk without category labels runs ``triage topics``: the newest tickets without a
category (no label, no correction) are clustered into topics, and the *proposal* is saved in
the database (table ``settings``, key ``topics_proposal``, as JSON) so that a support lead can
rename, merge, split and drop topics over several commands or on the Topics page. Accepting
topics labels their tickets: one category **correction** per ticket (``feedback`` rows with
``author = 'topics'``), so they feed ``triage train`` like an agent's corrections, stay in the
audit trail, survive a re-import of the tickets and can be undone
(:func:`undo_accepted`). Accepted topics leave the proposal.

:func:`emerging_alerts` finds clusters of recent tickets unlike every known category.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from triage_core.errors import TriageError
from triage_core.models.topics import Topic, TopicSettings
from triage_core.ops.health import newest_created
from triage_core.schema import CONTROL_CHARACTERS
from triage_core.store import Store
from triage_core.triage.batch import ticket_texts, wordless

__all__ = ["AUTHOR", "Accepted", "accept", "drop", "emerging_alerts", "load_proposal", "merge",
           "propose", "rename", "split", "topic_frame", "undo_accepted", "unlabeled_count"]

KEY = "topics_proposal"
AUTHOR = "topics"  # the author of the corrections written by accepting topics
MAX_NAME = 80
_CONTROL = re.compile(CONTROL_CHARACTERS)  # as the import refuses them in a category
_UNLABELED_SQL = """
SELECT k.ticket_id, k.subject, k.body FROM tickets k
LEFT JOIN ticket_corrections c USING (ticket_id)
WHERE k.category IS NULL AND c.category IS NULL
  AND length(trim(coalesce(k.subject, '') || coalesce(k.body, ''))) > 0
ORDER BY k.created_at DESC, k.ticket_id LIMIT ?
"""


def unlabeled_count(store: Store) -> int:
    """Tickets with text but neither a label nor a category correction (what topics group)."""
    sql = _UNLABELED_SQL.replace("k.ticket_id, k.subject, k.body", "count(*)")
    return int(store.scalar(sql.split("ORDER BY")[0]))


def _settings(config: Mapping[str, Any] | None) -> TopicSettings:
    return TopicSettings.from_config((config or {}).get("topics"))


def _texts(frame: pd.DataFrame) -> list[str]:
    return ticket_texts(frame).tolist() if len(frame) else []


def _record(topic: Topic, ids: Sequence[str], number: int) -> dict[str, Any]:
    return {"id": number, "name": topic.name, "terms": list(topic.terms),
            "ticket_ids": [ids[i] for i in topic.members],
            "examples": [ids[i] for i in topic.examples]}


def propose(store: Store, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Cluster the newest unlabeled tickets and save the proposal (replacing an older one)."""
    from triage_core.models import topics

    settings = _settings(config)
    frame = store.query(_UNLABELED_SQL, [settings.max_rows])
    if frame.empty:
        textless = store.scalar(
            "SELECT count(*) FROM tickets k LEFT JOIN ticket_corrections c USING (ticket_id)"
            " WHERE k.category IS NULL AND c.category IS NULL")
        if textless:  # none with text: not "every ticket has a label"
            raise TriageError(f"the {textless:,} tickets without a category have no text"
                              " (subject or body) to find topics in; import them with their"
                              " text")
        raise TriageError("no tickets without a category to find topics in (every ticket "
                          "has a label or a correction)")
    texts = ticket_texts(frame)
    # a ticket with no letter or digit (markup, punctuation or emoji only) gets no category
    # from the pipeline, and no topic here: accepting one would label it
    readable = ~wordless(texts)
    if not readable.any():
        raise TriageError(f"the {len(frame):,} newest tickets without a category that have a"
                          " text hold no letter or digit in it (markup, punctuation or emoji"
                          " only) to find topics in")
    ids = frame["ticket_id"].astype(str)[readable].tolist()
    found = topics.discover(texts[readable].tolist(), settings)
    proposal = {"created_at": pd.Timestamp.now(tz="UTC").isoformat(), "n_tickets": len(ids),
                "topics": [_record(t, ids, i + 1) for i, t in enumerate(found)],
                "next_id": len(found) + 1}
    # topics accepted from the proposal this one replaces: 'triage topics undo' still puts
    # them back (under new ids if this proposal uses theirs)
    earlier = (load_proposal(store) or {}).get("accepted_topics") or []
    if earlier:
        proposal["accepted_topics"] = earlier
    _save(store, proposal)
    return proposal


def _save(store: Store, proposal: Mapping[str, Any]) -> None:
    store.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", [KEY, json.dumps(proposal)])


def load_proposal(store: Store) -> dict[str, Any] | None:
    """The saved proposal, or None when there is none."""
    raw = store.scalar("SELECT value FROM settings WHERE key = ?", [KEY])
    return json.loads(raw) if raw else None


def _require(store: Store) -> dict[str, Any]:
    proposal = load_proposal(store)
    if not proposal or not proposal["topics"]:
        raise TriageError("no topic proposal: run 'triage topics' first")
    return proposal


def _find(proposal: Mapping[str, Any], topic_id: int) -> dict[str, Any]:
    for topic in proposal["topics"]:
        if topic["id"] == topic_id:
            return topic
    accepted = (proposal.get("accepted") or {}).get(str(topic_id))
    if accepted is not None:
        raise TriageError(f"topic {topic_id} ({accepted!r}) was accepted: its tickets are"
                          " labeled and it left the proposal ('triage topics undo' takes the"
                          " labels back)")
    known = ", ".join(str(t["id"]) for t in proposal["topics"])
    raise TriageError(f"no topic {topic_id} in the proposal (topics: {known})")


def _clean_name(name: str) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise TriageError("a topic name must not be empty")
    if len(name) > MAX_NAME:
        raise TriageError(f"a topic name must be at most {MAX_NAME} characters")
    if _CONTROL.search(name):  # a bidirectional override shows the name as another
        raise TriageError(f"a topic name is one line without control characters, not {name!r}"
                          " (it becomes a category, which the import refuses with them)")
    return name


def _same_category(known: Sequence[str], name: str) -> str | None:
    """The known category that ``name`` differs from only in case or spacing ("Billing" for
    "billing"), or None: accepting it would start a second category no model tells apart."""
    key = " ".join(name.casefold().split())
    return next((c for c in known if c != name and " ".join(c.casefold().split()) == key),
                None)


def _known(store: Store) -> list[str]:
    from triage_core.ops.feedback import known_categories

    return known_categories(store)


def _checked_name(store: Store, proposal: Mapping[str, Any], name: str, topic_id: int) -> str:
    name = _not_taken(proposal, _clean_name(name), topic_id)
    existing = _same_category(_known(store), name)
    if existing is not None:
        raise TriageError(f"the category {existing!r} exists: name the topic {existing!r} to add"
                          " its tickets to it, or choose another name")
    return name


def _not_taken(proposal: Mapping[str, Any], name: str, topic_id: int) -> str:
    """``name``, unless another topic than ``topic_id`` has it (in any case): accepting two
    topics of one name would label both sets of tickets as one category, which ``merge`` says."""
    for topic in proposal["topics"]:
        if topic["id"] != topic_id and topic["name"].casefold() == name.casefold():
            raise TriageError(f"topic {topic['id']} is already called {topic['name']!r}: merge "
                              f"them (triage topics merge {topic['id']} {topic_id}) or choose "
                              "another name")
    return name


def rename(store: Store, topic_id: int, name: str) -> dict[str, Any]:
    proposal = _require(store)
    topic = _find(proposal, topic_id)
    topic["name"] = _checked_name(store, proposal, name, topic_id)
    _save(store, proposal)
    return proposal


def merge(store: Store, topic_ids: Sequence[int], name: str | None = None) -> dict[str, Any]:
    """Merge topics into the first one given (its name, unless ``name``)."""
    if len(set(topic_ids)) < 2:
        raise TriageError("give at least two different topics to merge")
    proposal = _require(store)
    first, *rest = merged = [_find(proposal, i) for i in dict.fromkeys(topic_ids)]
    # terms and examples: taken in turn from each topic, the largest first, as many as one
    # topic has (two topics' six terms each made twelve, and the table as wide)
    by_size = sorted(merged, key=lambda t: -len(t["ticket_ids"]))
    for key in ("terms", "examples"):
        first[key] = _in_turn([t[key] for t in by_size], max(len(t[key]) for t in merged))
    for other in rest:
        first["ticket_ids"] += other["ticket_ids"]
        proposal["topics"].remove(other)
    if name is not None:
        first["name"] = _checked_name(store, proposal, name, first["id"])
    _save(store, proposal)
    return proposal


def _in_turn(lists: Sequence[Sequence[str]], limit: int) -> list[str]:
    """The first of each list, then the second of each..., without repeats, at most limit."""
    out: list[str] = []
    for rank in range(max(map(len, lists), default=0)):
        for values in lists:
            if rank < len(values) and values[rank] not in out and len(out) < limit:
                out.append(values[rank])
    return out


def split(store: Store, topic_id: int, parts: int = 2,
          config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Cluster one topic's tickets again into ``parts`` new topics (new ids, named anew)."""
    from triage_core.models import topics

    proposal = _require(store)
    topic = _find(proposal, topic_id)
    ids = topic["ticket_ids"]
    frame = store.query("SELECT ticket_id, subject, body FROM tickets"
                        " WHERE ticket_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
    frame = frame.set_index("ticket_id").loc[[i for i in ids if i in set(frame["ticket_id"])]]
    found = topics.distinct_names(
        topics.split(_texts(frame.reset_index()), parts, _settings(config)),
        taken=[t["name"] for t in proposal["topics"] if t is not topic])
    if len(found) < 2:  # identical (or near) tickets: one "part" would only renumber it
        raise TriageError(f"topic {topic_id} cannot be split: its {len(ids):,} tickets are too"
                          " alike to form two groups")
    at = proposal["topics"].index(topic)
    new = [_record(t, frame.index.tolist(), proposal["next_id"] + i) for i, t in enumerate(found)]
    proposal["topics"][at:at + 1] = new
    proposal["next_id"] += len(new)
    _save(store, proposal)
    return proposal


def drop(store: Store, topic_ids: Sequence[int]) -> dict[str, Any]:
    """Remove topics from the proposal (their tickets stay unlabeled)."""
    proposal = _require(store)
    for topic in [_find(proposal, i) for i in dict.fromkeys(topic_ids)]:
        proposal["topics"].remove(topic)
    _save(store, proposal)
    return proposal


class Accepted(dict):
    """{category: tickets labeled} of :func:`accept`; ``skipped``: tickets of the accepted
    topics left as they were, because they got a label or a correction after the proposal
    was made (or are no longer in the database)."""

    skipped: int = 0


def accept(store: Store, topic_ids: Sequence[int] | None = None,
           by: str = AUTHOR) -> Accepted:
    """Label the tickets of the given topics (default: all) with the topic's name, as category
    corrections in one transaction; the accepted topics leave the proposal (and come back on
    :func:`undo_accepted`). A ticket that got a label or a correction after the proposal was
    made keeps it. Returns {category: tickets labeled}, with ``skipped``."""
    proposal = _require(store)
    chosen = ([_find(proposal, i) for i in dict.fromkeys(topic_ids)] if topic_ids
              else list(proposal["topics"]))
    known = _known(store)  # one query for all the topics
    for topic in chosen:  # a name from a proposal saved before the checks, or from its terms
        if _CONTROL.search(topic["name"]):
            raise TriageError(f"topic {topic['id']}'s name {topic['name']!r} holds a control"
                              " character: rename it first")
        existing = _same_category(known, topic["name"])
        if existing is not None:
            raise TriageError(f"topic {topic['id']} is called {topic['name']!r}, but the category"
                              f" {existing!r} exists: rename it first (triage topics rename"
                              f" {topic['id']} {existing!r}, to add its tickets to that"
                              " category)")
    wanted = [(tid, t["name"]) for t in chosen for tid in t["ticket_ids"]]
    with store.transaction():
        # still without a label or a correction, as when the proposal was made; the category
        # the pages showed (a prediction) is the correction's old value
        shown = ("t.category" if store.table_exists("triaged_tickets") else "NULL")
        join = (" LEFT JOIN triaged_tickets t USING (ticket_id)"
                if store.table_exists("triaged_tickets") else "")
        free = store.query(
            f"SELECT k.ticket_id, {shown} AS shown FROM tickets k"
            f" LEFT JOIN ticket_corrections c USING (ticket_id){join}"
            " WHERE k.category IS NULL AND c.category IS NULL"
            " AND k.ticket_id IN (SELECT unnest(?::VARCHAR[]))", [[r[0] for r in wanted]])
        old = dict(zip(free["ticket_id"].astype(str), free["shown"], strict=True))
        rows = [r for r in wanted if r[0] in old]
        first = int(store.scalar("SELECT coalesce(max(feedback_id), 0) + 1 FROM feedback"))
        frame = pd.DataFrame({
            "feedback_id": range(first, first + len(rows)),
            "ticket_id": [r[0] for r in rows], "field": "category",
            "old_value": [None if pd.isna(old[r[0]]) else str(old[r[0]]) for r in rows],
            "new_value": [r[1] for r in rows], "comment": "accepted topic (triage topics)",
            "author": by, "created_at": pd.Timestamp.now(tz="UTC").tz_localize(None)})
        store.write_frame("feedback", frame.astype({"old_value": "object"}), mode="append")
        if rows and store.table_exists("triaged_tickets"):  # at once, as a correction shows
            store.execute(
                "UPDATE triaged_tickets t SET category = a.category,"
                " category_source = 'correction', category_confidence = 1.0"
                " FROM (SELECT unnest(?::VARCHAR[]) AS ticket_id,"
                " unnest(?::VARCHAR[]) AS category) a WHERE t.ticket_id = a.ticket_id",
                [[r[0] for r in rows], [r[1] for r in rows]])
        for topic in chosen:
            proposal["topics"].remove(topic)
        # remembered, so a later edit of one says it was accepted (not "no topic N"), and an
        # undo puts them back
        proposal["accepted"] = {**(proposal.get("accepted") or {}),
                                **{str(t["id"]): t["name"] for t in chosen}}
        proposal["accepted_topics"] = [*(proposal.get("accepted_topics") or []), *chosen]
        _save(store, proposal)
    out = Accepted()
    for topic in chosen:
        out[topic["name"]] = sum(1 for tid in topic["ticket_ids"] if tid in old)
    out.skipped = len(wanted) - len(rows)
    return out


def undo_accepted(store: Store, by: str = "cli") -> int:
    """Undo every category correction written by accepting topics; returns how many. The
    topics accepted from the saved proposal go back into it, as they were."""
    ids = [r["ticket_id"] for r in store.rows(
        "SELECT DISTINCT ticket_id FROM feedback WHERE author = ? AND undone_at IS NULL",
        [AUTHOR])]
    with store.transaction():
        n = int(store.scalar("SELECT count(*) FROM feedback WHERE author = ?"
                             " AND undone_at IS NULL", [AUTHOR]))
        store.execute("UPDATE feedback SET undone_at = now()::TIMESTAMP, undone_by = ?"
                      " WHERE author = ? AND undone_at IS NULL", [by, AUTHOR])
        if ids and store.table_exists("triaged_tickets"):  # back to the label or prediction
            store.execute(
                "UPDATE triaged_tickets t SET category = coalesce(k.category, r.category),"
                " category_source = CASE WHEN k.category IS NOT NULL THEN 'label'"
                "  WHEN r.category IS NOT NULL THEN 'model' END,"
                " category_confidence = CASE WHEN k.category IS NOT NULL THEN 1.0"
                "  ELSE r.category_confidence END"
                " FROM tickets k LEFT JOIN triage_results r USING (ticket_id)"
                " WHERE t.ticket_id = k.ticket_id AND list_contains(?, t.ticket_id)", [ids])
        proposal = load_proposal(store)
        back = (proposal or {}).get("accepted_topics") or []
        if back:
            taken = {t["name"].casefold() for t in proposal["topics"]}
            ids = {t["id"] for t in proposal["topics"]}
            for topic in back:  # a name given to another topic since gets a number
                topic["name"] = _free_name(topic["name"], taken)
                taken.add(topic["name"].casefold())
                if topic["id"] in ids:  # a proposal made since numbered its own topics
                    topic["id"] = proposal["next_id"]
                    proposal["next_id"] += 1
                ids.add(topic["id"])
            # ids are never reused: a later split numbers its parts from next_id
            proposal["next_id"] = max(proposal["next_id"], max(ids) + 1)
            proposal["topics"] = sorted([*proposal["topics"], *back], key=lambda t: t["id"])
            proposal["accepted"] = {k: v for k, v in (proposal.get("accepted") or {}).items()
                                    if k not in {str(t["id"]) for t in back}}
            proposal["accepted_topics"] = []
            _save(store, proposal)
    return n


def _free_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)``... : the first no topic has (by case)."""
    out, k = name, 2
    while out.casefold() in taken:
        out, k = f"{name} ({k})", k + 1
    return out


def topic_frame(proposal: Mapping[str, Any] | None) -> pd.DataFrame:
    """One row per topic: id, name, tickets, terms."""
    rows = [{"id": t["id"], "name": t["name"], "tickets": len(t["ticket_ids"]),
             "terms": ", ".join(t["terms"])} for t in (proposal or {}).get("topics", [])]
    return pd.DataFrame(rows, columns=["id", "name", "tickets", "terms"])


def emerging_unavailable(store: Store, config: Mapping[str, Any] | None = None) -> str | None:
    """Why no emerging topic can be looked for (no tickets, no known categories before the
    last ``recent_days``), or None when it can."""
    settings = _settings(config)
    newest = newest_created(store)
    if newest is None:
        return "no tickets yet"
    cutoff = pd.Timestamp(newest) - pd.Timedelta(days=settings.recent_days)
    kinds = store.rows("SELECT DISTINCT c.category FROM tickets k JOIN ticket_categories c"
                       " USING (ticket_id) WHERE c.category IS NOT NULL AND k.created_at < ?"
                       " LIMIT 2", [cutoff])
    if not kinds:
        return (f"no categorized tickets older than the last {settings.recent_days} days to"
                " compare with (train a model, or label tickets with 'triage topics')")
    if len(kinds) < 2:  # what "unlike the known categories" is measured against needs two
        return (f"the tickets older than the last {settings.recent_days} days have one"
                f" category ({kinds[0]['category']!r}); the alert compares recent tickets"
                " with at least two")
    return None


def emerging_alerts(store: Store, config: Mapping[str, Any] | None = None,
                    checkpoint: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    """Clusters of the last ``recent_days`` tickets unlike every known category (labels,
    corrections and predictions of older tickets): name, terms, size, ticket ids (examples
    first, nearest to the cluster's centre). ``checkpoint`` is called between the steps (see
    :func:`triage_core.models.topics.emerging`)."""
    from triage_core.models import topics

    settings = _settings(config)
    newest = newest_created(store)
    if newest is None:
        return []
    cutoff = pd.Timestamp(newest) - pd.Timedelta(days=settings.recent_days)
    cols = "k.ticket_id, k.subject, k.body, c.category"
    known = store.query(
        f"SELECT {cols} FROM tickets k JOIN ticket_categories c USING (ticket_id)"
        " WHERE c.category IS NOT NULL AND k.created_at < ?"
        " ORDER BY k.created_at DESC, k.ticket_id LIMIT ?", [cutoff, settings.max_rows])
    recent = store.query(
        "SELECT ticket_id, subject, body FROM tickets WHERE created_at >= ?"
        " ORDER BY created_at DESC, ticket_id LIMIT ?", [cutoff, settings.max_rows])
    if known.empty or recent.empty:
        return []
    found = topics.emerging(_texts(known), known["category"].tolist(), _texts(recent),
                            settings, checkpoint)
    ids = recent["ticket_id"].astype(str).tolist()
    return [{"name": t.name, "terms": list(t.terms), "size": t.size,
             "ticket_ids": [ids[i] for i in t.examples]
             + [ids[i] for i in t.members if i not in set(t.examples)]}
            for t in found]
