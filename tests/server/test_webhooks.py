"""Helpdesk webhooks: Zendesk signatures (HMAC-SHA256 of timestamp + body), the Freshdesk
shared-secret header, the helpdesks' values mapped by the presets, and the templates in the
README."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path

from _served import Api

from triage_core.server import webhooks

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
ZENDESK_SECRET = "dGhpc19pc19hX3plbmRlc2tfc2lnbmluZ19zZWNyZXQ="
FRESHDESK_SECRET = "freshdesk-shared-secret-42"
HOOKS = {"webhooks": {"zendesk_signing_secret": ZENDESK_SECRET,
                      "freshdesk_secret": FRESHDESK_SECRET}}


def fill(template: dict[str, str], values: dict[str, str]) -> dict[str, str]:
    """A template with its placeholders replaced, as the helpdesk sends it."""
    return {k: values.get(v.strip("{} "), "") for k, v in template.items()}


def zendesk_payload(ticket_id: str, customer: str) -> bytes:
    return json.dumps(fill(webhooks.ZENDESK_TEMPLATE, {
        "ticket.id": ticket_id, "ticket.requester.id": customer,
        "ticket.created_at_with_timestamp": "2026-07-02T08:15Z",
        "ticket.title": "App keeps crashing",
        "ticket.description": "The app crashes every time I open my orders. Please fix it.",
        "ticket.status": "hold", "ticket.via": "Web Form", "ticket.priority": "High"})).encode()


def signed(body: bytes, secret: str = ZENDESK_SECRET, age_seconds: float = 0) -> dict[str, str]:
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age_seconds)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    mac = hmac.new(secret.encode(), when.encode() + body, hashlib.sha256).digest()
    return {"X-Zendesk-Webhook-Signature": base64.b64encode(mac).decode(),
            "X-Zendesk-Webhook-Signature-Timestamp": when}


def test_zendesk_signed_webhook_is_mapped_and_triaged(serve_api: Callable[..., Api]) -> None:
    api = serve_api(**HOOKS)
    body = zendesk_payload("ZD-1", "ZD-CUSTOMER-9")
    r = api.client.post("/api/v1/webhooks/zendesk", content=body,
                        headers={**api.auth(), **signed(body)})
    assert r.status_code == 200, r.text
    [answer] = r.json()["tickets"]
    assert answer["ticket_id"] == "ZD-1" and answer["category"] == "app_crash"
    row = api.query("SELECT status, channel, created_at, source_priority, customer_id"
                    " FROM tickets WHERE ticket_id = 'ZD-1'").iloc[0]
    assert (row["status"], row["channel"], row["source_priority"]) == ("on_hold", "web", "High")
    assert str(row["created_at"]) == "2026-07-02 08:15:00"
    assert row["customer_id"] == "ZD-CUSTOMER-9"  # helpdesk requesters are created on the fly
    # {"tickets": [...]}, as its own error message offers (it was refused: "'tickets' must be
    # a text")
    body = json.dumps({"tickets": [json.loads(zendesk_payload("ZD-2", "ZD-CUSTOMER-9"))]}
                      ).encode()
    r = api.client.post("/api/v1/webhooks/zendesk", content=body,
                        headers={**api.auth(), **signed(body)})
    assert r.status_code == 200, r.text
    assert [t["ticket_id"] for t in r.json()["tickets"]] == ["ZD-2"]


def test_zendesk_refuses_bad_old_missing_signatures_and_missing_tokens(
        serve_api: Callable[..., Api]) -> None:
    api = serve_api(**HOOKS)
    body = zendesk_payload("ZD-2", "ZD-CUSTOMER-9")
    cases = [signed(body, secret="another secret"), signed(body, age_seconds=3600),
             signed(body + b" "), {}, {"X-Zendesk-Webhook-Signature": "abc"}]
    for headers in cases:
        r = api.client.post("/api/v1/webhooks/zendesk", content=body,
                            headers={**api.auth(), **headers})
        assert r.status_code == 401, headers
    r = api.client.post("/api/v1/webhooks/zendesk", content=body, headers=signed(body))
    assert r.status_code == 401 and r.json() == {"error": "unauthorized"}
    assert api.query("SELECT count(*) FROM tickets WHERE ticket_id = 'ZD-2'").iloc[0, 0] == 0


def test_webhooks_are_off_without_a_secret(serve_api: Callable[..., Api]) -> None:
    api = serve_api()
    body = zendesk_payload("ZD-3", "C1")
    r = api.client.post("/api/v1/webhooks/zendesk", content=body,
                        headers={**api.auth(), **signed(body)})
    assert r.status_code == 404 and "TRIAGE_ZENDESK_SECRET" in r.json()["error"]
    r = api.post("/api/v1/webhooks/freshdesk", {})
    assert r.status_code == 404 and "TRIAGE_FRESHDESK_SECRET" in r.json()["error"]


def test_freshdesk_shared_secret_header(serve_api: Callable[..., Api]) -> None:
    api = serve_api(**HOOKS)
    payload = {"ticket": fill(webhooks.FRESHDESK_TEMPLATE, {
        "ticket.id": "FD-7", "ticket.requester.email": "ann@example.com",
        "ticket.subject": "Where is my parcel?",
        "ticket.description": "<div>My parcel never arrived.<br>It is two weeks late &amp; "
                              "tracking shows nothing.</div>",
        "ticket.status": "Waiting on Customer", "ticket.source": "Portal",
        "ticket.priority": "Medium"})}
    header = "X-Triage-Webhook-Secret"
    for wrong in ({}, {header: "guess"}):
        r = api.client.post("/api/v1/webhooks/freshdesk", json=payload,
                            headers={**api.auth(), **wrong})
        assert r.status_code == 401
    r = api.client.post("/api/v1/webhooks/freshdesk", json=payload,
                        headers={**api.auth(), header: FRESHDESK_SECRET})
    assert r.status_code == 200, r.text
    assert r.json()["tickets"][0]["category"] == "shipping_delivery"
    row = api.query("SELECT status, channel, body FROM tickets WHERE ticket_id = 'FD-7'").iloc[0]
    assert (row["status"], row["channel"]) == ("pending", "web")
    assert row["body"] == "My parcel never arrived.\nIt is two weeks late & tracking shows nothing."


def test_the_readme_shows_the_templates_to_paste() -> None:
    for template in (webhooks.ZENDESK_TEMPLATE, webhooks.FRESHDESK_TEMPLATE):
        assert json.dumps(template, indent=2) in README


def freshdesk_payload(ticket_id: str, status: str, **extra: str) -> dict[str, str]:
    return {**fill(webhooks.FRESHDESK_TEMPLATE, {
        "ticket.id": ticket_id, "ticket.requester.email": "bea@example.com",
        "ticket.subject": "Refund please", "ticket.description": "I was charged twice.",
        "ticket.status": status, "ticket.source": "Email", "ticket.priority": "Low"}), **extra}


def test_an_update_without_created_at_keeps_the_stored_one(
        serve_api: Callable[..., Api]) -> None:
    """Only a new ticket was created when its webhook arrived; an update of one that exists
    keeps its created_at (and SLA due time), unless the webhook carries one."""
    api = serve_api(**HOOKS)
    headers = {**api.auth(), "X-Triage-Webhook-Secret": FRESHDESK_SECRET}
    created = "SELECT created_at FROM tickets WHERE ticket_id = ?"
    due = "SELECT sla_due_at FROM triaged_tickets WHERE ticket_id = ?"
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    r = api.client.post("/api/v1/webhooks/freshdesk", json=freshdesk_payload("FD-8", "Open"),
                        headers=headers)
    assert r.status_code == 200, r.text
    first = api.query(created, ["FD-8"]).iloc[0, 0]
    assert before <= first <= dt.datetime.now(dt.UTC).replace(tzinfo=None)
    sla = api.query(due, ["FD-8"]).iloc[0, 0]
    r = api.client.post("/api/v1/webhooks/freshdesk", json=freshdesk_payload("FD-8", "Resolved"),
                        headers=headers)
    assert r.status_code == 200, r.text
    assert api.query("SELECT status FROM tickets WHERE ticket_id = 'FD-8'").iloc[0, 0] == "solved"
    assert api.query(created, ["FD-8"]).iloc[0, 0] == first
    assert api.query(due, ["FD-8"]).iloc[0, 0] == sla
    r = api.client.post("/api/v1/webhooks/freshdesk", headers=headers, json=freshdesk_payload(
        "FD-8", "Open", created_at="2026-07-03T10:00:00Z"))  # a webhook that carries one
    assert r.status_code == 200, r.text
    assert str(api.query(created, ["FD-8"]).iloc[0, 0]) == "2026-07-03 10:00:00"
    body = zendesk_payload("ZD-4", "ZD-CUSTOMER-9")
    api.client.post("/api/v1/webhooks/zendesk", content=body,
                    headers={**api.auth(), **signed(body)})
    update = json.dumps({**json.loads(body), "created_at": "", "status": "solved"}).encode()
    r = api.client.post("/api/v1/webhooks/zendesk", content=update,
                        headers={**api.auth(), **signed(update)})
    assert r.status_code == 200, r.text
    assert str(api.query(created, ["ZD-4"]).iloc[0, 0]) == "2026-07-02 08:15:00"


def test_webhook_text_that_is_not_unicode_is_refused(serve_api: Callable[..., Api]) -> None:
    api = serve_api(**HOOKS)
    body = zendesk_payload("ZD-5", "ZD-CUSTOMER-9").replace(b"App keeps", b"\\ud800 keeps")
    r = api.client.post("/api/v1/webhooks/zendesk", content=body,
                        headers={**api.auth(), **signed(body)})
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith('field "subject": text with an unpaired surrogate')
    r = api.client.post("/api/v1/webhooks/freshdesk", content=json.dumps(
        {"ticket": freshdesk_payload("FD-9", "Open", body="\udc00")}).encode(),
        headers={**api.auth(), "X-Triage-Webhook-Secret": FRESHDESK_SECRET})
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith('field "ticket.body": text with an unpaired surrogate')
    assert api.query("SELECT count(*) FROM tickets WHERE ticket_id IN ('ZD-5', 'FD-9')"
                     ).iloc[0, 0] == 0
