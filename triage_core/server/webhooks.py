"""Helpdesk webhooks: Zendesk (signed with HMAC-SHA256) and Freshdesk (a shared-secret header).

Both helpdesks send the JSON body you paste into them; the templates below name our ticket
columns, so a payload becomes one row of our ticket schema, and the helpdesk's own values
(``hold``, ``Web Form``, ``Waiting on Customer``...) are mapped by the shipped presets, exactly
as in ``triage import --preset``. A new ticket without ``created_at`` was created when it
arrived; an update without one keeps the ``created_at`` it has (Freshdesk's template has none).

Zendesk signs ``base64(HMAC-SHA256(secret, timestamp + body))`` into
``X-Zendesk-Webhook-Signature`` with the timestamp in ``X-Zendesk-Webhook-Signature-Timestamp``;
old timestamps are refused (replays). A Zendesk webhook may instead be subscribed to ticket
events (``zen:event-type:ticket.created`` and the rest): their fixed JSON carries the ticket in
``detail``, read by :func:`zendesk_event_rows` into the same columns.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from triage_core.text import html_to_text

ZENDESK_SIGNATURE = "X-Zendesk-Webhook-Signature"
ZENDESK_TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"

# The JSON bodies to paste into the helpdesks (the README shows these; a test keeps them equal).
ZENDESK_TEMPLATE = {
    "ticket_id": "{{ticket.id}}",
    "customer_id": "{{ticket.requester.id}}",
    "created_at": "{{ticket.created_at_with_timestamp}}",
    "subject": "{{ticket.title}}",
    "body": "{{ticket.description}}",
    "status": "{{ticket.status}}",
    "channel": "{{ticket.via}}",
    "source_priority": "{{ticket.priority}}",
}
FRESHDESK_TEMPLATE = {
    "ticket_id": "{{ticket.id}}",
    "customer_id": "{{ticket.requester.email}}",
    "subject": "{{ticket.subject}}",
    "body": "{{ticket.description}}",
    "status": "{{ticket.status}}",
    "channel": "{{ticket.source}}",
    "source_priority": "{{ticket.priority}}",
}
# Zendesk's ticket events (a webhook subscribed to events, not a trigger's JSON): the fields of
# their ``detail`` that are columns of ours. ``via.channel`` is read too.
ZENDESK_EVENT = "zen:event-type:"
ZENDESK_TICKET_EVENT = ZENDESK_EVENT + "ticket."
_EVENT_FIELDS = {"ticket_id": "id", "customer_id": "requester_id", "created_at": "created_at",
                 "subject": "subject", "body": "description", "status": "status",
                 "source_priority": "priority"}
# Events after which a ticket is no work any more, whatever its last status was.
_GONE_EVENTS = ("soft_deleted", "permanently_deleted", "marked_as_spam", "merged")


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def zendesk_refusal(secret: str, headers: Mapping[str, str], body: bytes,
                    max_age_seconds: float, now: dt.datetime | None = None) -> str | None:
    """Why a Zendesk request is refused (bad or old signature), or None when it is genuine."""
    signature = headers.get(ZENDESK_SIGNATURE.lower()) or ""
    timestamp = headers.get(ZENDESK_TIMESTAMP.lower()) or ""
    if not signature or not timestamp:
        return f"missing {ZENDESK_SIGNATURE} or {ZENDESK_TIMESTAMP}"
    # as bytes: compare_digest refuses (TypeError, a 500) a text with non-ASCII characters
    if not hmac.compare_digest(zendesk_signature(secret, timestamp, body).encode(),
                               signature.encode()):
        return "the webhook signature does not match"
    try:
        when = dt.datetime.fromisoformat(timestamp)
    except ValueError:
        return "the signature timestamp is not a time"
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    age = ((now or dt.datetime.now(dt.UTC)) - when).total_seconds()
    if abs(age) > max_age_seconds:
        return "the signature timestamp is too old (a replayed request?)"
    return None


def freshdesk_genuine(secret: str, sent: str | None) -> bool:
    return hmac.compare_digest((sent or "").encode(), secret.encode())


def ticket_rows(payload: Any, strip_html: bool = False) -> list[dict[str, Any]]:
    """The ticket rows of a webhook body: one object, ``{"ticket": {...}}``, a list of them or
    ``{"tickets": [...]}`` (as ``POST /api/v1/tickets`` takes them); none for an empty body."""
    if payload is None:
        return []
    if isinstance(payload, dict) and isinstance(payload.get("tickets"), list):
        payload = payload["tickets"]
    items = payload if isinstance(payload, list) else [payload]
    rows = []
    for item in items:
        row = item.get("ticket", item) if isinstance(item, dict) else item
        if isinstance(row, dict):  # anything else is reported by the caller
            row = flat_fields(row)
            if strip_html and isinstance(row.get("body"), str):
                row["body"] = html_to_text(row["body"], always=True)
        rows.append(row)
    return rows


FLAT_DEPTH = 4  # levels of nested objects read as dotted fields, as an import reads JSON


def flat_fields(row: dict[str, Any]) -> dict[str, Any]:
    """A helpdesk's ticket object as the import reads a JSON record: nested objects as dotted
    fields (``via.channel``, ``via.source.from.address``), a list of ``{id, value}`` objects by
    id (Zendesk's ``custom_fields.360001``; a dropdown's ``text`` where given), any other list
    as its JSON text. A real Zendesk ticket (the API's, or a trigger's ``{{ticket}}``) was
    refused over its ``via`` and ``tags``."""
    out: dict[str, Any] = {}

    def walk(prefix: str, value: Any, depth: int) -> None:
        if isinstance(value, dict) and prefix and depth >= FLAT_DEPTH:
            out[prefix] = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner, depth + 1)
        elif isinstance(value, list):
            out[prefix] = json.dumps(value, ensure_ascii=False)
            for e in value:
                if isinstance(e, dict) and e.get("id") not in (None, "") and "value" in e:
                    shown = e["text"] if e.get("text") is not None else e["value"]
                    out.setdefault(f"{prefix}.{e['id']}",
                                   shown if not isinstance(shown, dict | list)
                                   else json.dumps(shown, ensure_ascii=False))
        else:
            out[prefix] = value

    walk("", row, 0)
    return out


def zendesk_event_rows(payload: Any) -> list[dict[str, Any]] | None:
    """The ticket row of a Zendesk event (``{"type": "zen:event-type:ticket.created", "detail":
    {...}}``): its ``detail`` read into our columns, the fields it lacks left out (an update
    keeps what the ticket has); ``closed`` for a ticket deleted, marked as spam or merged.
    None when ``payload`` is no Zendesk event; ValueError for an event that is not about a
    ticket or has no ticket in it."""
    if not (isinstance(payload, dict) and isinstance(payload.get("type"), str)
            and payload["type"].startswith(ZENDESK_EVENT)):
        return None
    kind = payload["type"]
    if not kind.startswith(ZENDESK_TICKET_EVENT):
        raise ValueError(f"a Zendesk event of type {kind[:100]!r}: only ticket events"
                         f" ({ZENDESK_TICKET_EVENT}*) are read; subscribe this webhook to"
                         " ticket events only")
    detail = payload.get("detail")
    if not isinstance(detail, dict) or detail.get("id") in (None, ""):
        raise ValueError(f"the Zendesk event {kind[:100]!r} has no ticket in 'detail'"
                         " (an object with the ticket's 'id')")
    row = {ours: detail[theirs] for ours, theirs in _EVENT_FIELDS.items() if theirs in detail}
    via = detail.get("via")
    if isinstance(via, dict) and "channel" in via:
        row["channel"] = via["channel"]
    if kind.removeprefix(ZENDESK_TICKET_EVENT) in _GONE_EVENTS:
        row["status"] = "closed"
    return [row]


def ours_first(rows: list[dict[str, Any]], columns: Mapping[str, tuple[str, ...]]) -> None:
    """A field named as our column wins over the helpdesk's field that the webhook's mapping
    reads for it (the template's ``ticket_id`` over an ``id`` added beside it): the other is
    left out, where the mapping would have taken it instead."""
    from triage_core.store.mapping import normalize_name

    names = {col: {normalize_name(src) for src in sources} - {normalize_name(col)}
             for col, sources in columns.items()}
    for row in rows:
        for col, sources in names.items():
            if sources and not _blank(row.get(col)):
                for key in [k for k in row if k != col and normalize_name(k) in sources]:
                    del row[key]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# The columns a ticket must have that an update may leave out: (column, its place in the
# stored tuple of Server.stored_tickets).
_KEPT = (("created_at", 0), ("customer_id", 1), ("status", 2))


def incomplete(rows: list[dict[str, Any]]) -> list[str]:
    """The ticket ids of the rows without a ``created_at``, ``customer_id`` or ``status``."""
    return [str(r.get("ticket_id") or "").strip() for r in rows
            if any(_blank(r.get(column)) for column, _ in _KEPT)]


def complete(rows: list[dict[str, Any]], received: dt.datetime,
             stored: Mapping[str, tuple[dt.datetime, str, str]]) -> None:
    """Give the rows without a ``created_at``, ``customer_id`` or ``status`` the ``stored``
    one of a ticket that exists (an update keeps them: an upsert would otherwise overwrite the
    time, and a helpdesk's update event need not name the requester or status again); a new
    ticket without a ``created_at`` gets ``received``, and one without a customer or status an
    empty one, which the import refuses with its row."""
    for row in rows:
        known = stored.get(str(row.get("ticket_id") or "").strip())
        for column, at in _KEPT:
            if not _blank(row.get(column)):
                continue
            if known:
                value = known[at]
                row[column] = value.isoformat() if isinstance(value, dt.datetime) else value
            else:
                row[column] = received.isoformat() if column == "created_at" else ""
