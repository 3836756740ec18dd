"""Helpdesk webhooks: Zendesk signatures (HMAC-SHA256 of timestamp + body), the Freshdesk
shared-secret header, the helpdesks' values mapped by the presets, and the templates in the
README."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from _served import Api

from triage_core.cli.server import CliVerbs
from triage_core.config import default_config, merge
from triage_core.errors import TriageError
from triage_core.server import webhooks
from triage_core.server.app import Server
from triage_core.store.mapping import preset

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


def test_a_zendesk_ticket_object_with_nested_fields_is_read_as_an_import_reads_it(
        serve_api: Callable[..., Api]) -> None:
    """The API's ticket object ({"ticket": {...}} with via, tags, custom_fields) was refused:
    "'via' must be a text"."""
    api = serve_api(**HOOKS)
    ticket = {"id": 35436, "subject": "Help, my printer is on fire!",
              "description": "The fire is very colorful.", "status": "open",
              "requester_id": 20978392, "created_at": "2026-07-02T08:15:00Z",
              "priority": "high", "tags": ["enterprise", "other_tag"],
              "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
              "custom_fields": [{"id": 27642, "value": "745"}, {"id": 27648, "value": "yes",
                                                                  "text": None}],
              "satisfaction_rating": {"score": "good"}}
    body = json.dumps({"ticket": ticket}).encode()
    r = api.client.post("/api/v1/webhooks/zendesk", content=body,
                        headers={**api.auth(), **signed(body)})
    assert r.status_code == 200, r.text
    row = api.query("SELECT status, channel, csat, subject FROM tickets"
                    " WHERE ticket_id = '35436'").iloc[0]
    assert (row["status"], row["channel"], row["csat"]) == ("open", "web", 5)
    from triage_core.server.webhooks import flat_fields

    flat = flat_fields(ticket)
    assert flat["via.channel"] == "web" and flat["custom_fields.27648"] == "yes"
    assert flat["tags"] == '["enterprise", "other_tag"]'
    assert "via.source.from" not in flat  # an empty object gives no field


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


def zendesk_event(kind: str, detail: dict[str, object]) -> bytes:
    """A Zendesk event webhook's body (a webhook subscribed to ticket events), as Zendesk's
    reference shows it: ids as texts, values in upper case."""
    return json.dumps({
        "type": kind, "account_id": 12514403, "id": "2b24ef10-19d4-4740-93cf-8f98ec4776c0",
        "time": "2026-07-04T05:33:18Z", "zendesk_event_version": "2022-11-06",
        "subject": f"zen:ticket:{detail.get('id')}", "detail": detail,
        "event": {"meta": {"sequence": {"id": "x", "position": 1}}}}).encode()


def test_zendesk_ticket_events_are_read_from_their_detail(
        serve_api: Callable[..., Api]) -> None:
    api = serve_api(**HOOKS)
    detail = {"actor_id": "8", "assignee_id": None, "brand_id": "1", "created_at":
              "2026-07-04T05:27:58Z", "custom_status": "1", "description":
              "The app crashes every time I open my orders. Please fix it.", "external_id": None,
              "form_id": "2", "group_id": "3", "id": "35436", "is_public": True,
              "organization_id": None, "priority": "HIGH", "requester_id": "20978392",
              "status": "NEW", "subject": "App keeps crashing", "submitter_id": "20978392",
              "tags": ["mobile", "ios"], "type": "INCIDENT", "updated_at": "2026-07-04T05:27:58Z",
              "via": {"channel": "web_form"}}

    def post(body: bytes) -> object:
        return api.client.post("/api/v1/webhooks/zendesk", content=body,
                               headers={**api.auth(), **signed(body)})

    r = post(zendesk_event("zen:event-type:ticket.created", detail))
    assert r.status_code == 200, r.text
    [answer] = r.json()["tickets"]
    assert answer["ticket_id"] == "35436" and answer["category"] == "app_crash"
    sql = ("SELECT customer_id, created_at, subject, status, channel, source_priority"
           " FROM tickets WHERE ticket_id = '35436'")
    row = api.query(sql).iloc[0]
    assert (row["customer_id"], str(row["created_at"]), row["status"], row["channel"],
            row["source_priority"]) == ("20978392", "2026-07-04 05:27:58", "new", "web", "HIGH")
    # a status change whose detail lacks the texts keeps them; a ticket marked as spam is closed
    changed = {k: v for k, v in detail.items() if k not in ("subject", "description")}
    r = post(zendesk_event("zen:event-type:ticket.status_changed",
                           {**changed, "status": "SOLVED"}))
    assert r.status_code == 200, r.text
    row = api.query(sql).iloc[0]
    assert (row["status"], row["subject"]) == ("solved", "App keeps crashing")
    r = post(zendesk_event("zen:event-type:ticket.marked_as_spam", {**detail, "status": "OPEN"}))
    assert r.status_code == 200, r.text
    assert api.query(sql).iloc[0]["status"] == "closed"
    # an update that names no requester keeps the ticket's customer; a new ticket needs one
    anonymous = {k: v for k, v in detail.items() if k != "requester_id"}
    r = post(zendesk_event("zen:event-type:ticket.status_changed",
                           {**anonymous, "status": "OPEN"}))
    assert r.status_code == 200, r.text
    row = api.query(sql).iloc[0]
    assert (row["customer_id"], row["status"]) == ("20978392", "open")
    for blank in ({"requester_id": " "}, {}):
        r = post(zendesk_event("zen:event-type:ticket.created",
                               {**anonymous, "id": "35437", **blank}))
        assert r.status_code == 422, r.text
        assert (r.json()["row"], r.json()["column"]) == (1, "customer_id"), r.text
    assert api.query("SELECT count(*) FROM tickets WHERE ticket_id = '35437'").iloc[0, 0] == 0
    # events about anything else, or without a ticket, are refused by name; nothing written
    for body, words in ((zendesk_event("zen:event-type:user.created", {"id": "1"}),
                         "'zen:event-type:user.created': only ticket events"),
                        (zendesk_event("zen:event-type:ticket.created", {"subject": "x"}),
                         "has no ticket in 'detail'")):
        r = post(body)
        assert r.status_code == 422 and words in r.json()["error"], r.text
    assert api.query("SELECT count(*) FROM tickets WHERE ticket_id = '1'").iloc[0, 0] == 0




FD_CUSTOM = {"ticket": freshdesk_payload("FD-10", "Awaiting Parts")}
FD_HEADERS = {"X-Triage-Webhook-Secret": FRESHDESK_SECRET}


def test_a_status_the_preset_does_not_know_is_refused_by_name(
        serve_api: Callable[..., Api]) -> None:
    api = serve_api(**HOOKS)
    r = api.client.post("/api/v1/webhooks/freshdesk", json=FD_CUSTOM,
                        headers={**api.auth(), **FD_HEADERS})
    assert r.status_code == 422 and "'Awaiting Parts'" in r.json()["error"], r.text
    assert r.json()["error"].endswith("name it as [server.webhooks] freshdesk_mapping (start"
                                      " from 'triage mapping show freshdesk') and restart the"
                                      " server")
    assert api.query("SELECT count(*) FROM tickets WHERE ticket_id = 'FD-10'").iloc[0, 0] == 0


def test_a_webhook_takes_the_mapping_the_server_is_given(serve_api: Callable[..., Api],
                                                          tmp_path: Path) -> None:
    """A Freshdesk custom status, mapped by a mapping file named in [server.webhooks]."""
    toml = preset("freshdesk").to_toml()
    assert "[values.status]\n" in toml
    mine = tmp_path / "freshdesk.toml"
    mine.write_text(toml.replace("[values.status]\n",
                                 '[values.status]\n"awaiting parts" = "open"\n', 1),
                    encoding="utf-8")
    api = serve_api(webhooks={**HOOKS["webhooks"], "freshdesk_mapping": str(mine)})
    r = api.client.post("/api/v1/webhooks/freshdesk", json=FD_CUSTOM,
                        headers={**api.auth(), **FD_HEADERS})
    assert r.status_code == 200, r.text
    row = api.query("SELECT status, channel FROM tickets WHERE ticket_id = 'FD-10'").iloc[0]
    assert (row["status"], row["channel"]) == ("open", "email")  # the preset's values still hold


@pytest.mark.parametrize("ref, words", [("nowhere.toml", "no such mapping file"),
                                        ("agents-mapping", "no mapping 'agents-mapping'"),
                                        ("agents.toml", "a mapping for agents, not for tickets")])
def test_a_wrong_webhook_mapping_stops_the_start(db: Path, tmp_path: Path, ref: str,
                                                  words: str) -> None:
    (tmp_path / "agents.toml").write_text('table = "agents"\n', encoding="utf-8")
    config = merge(default_config(), {"server": {"webhooks": {
        "zendesk_mapping": str(tmp_path / ref) if ref.endswith(".toml") else ref}}})
    with pytest.raises(TriageError, match=r"^\[server.webhooks\] zendesk_mapping: .*"
                       + re.escape(words)):
        Server(db, config, CliVerbs())


def test_a_freshdesk_description_is_read_as_html() -> None:
    """Freshdesk sends the description as HTML: a pasted e-mail's style sheet and script are
    no words of the ticket, entities are decoded, and a description without tags (Freshdesk's
    plain-text one) keeps its entities decoded too."""
    rows = webhooks.ticket_rows({"ticket": {
        "ticket_id": "FD-9", "body": "<html><head><style>p { color: red }</style></head>"
                                     "<body><p>Refund &amp; cancel</p><script>alert(1)"
                                     "</script><p>order 12</p></body></html>"}},
        strip_html=True)
    assert rows[0]["body"] == "Refund & cancel\n\norder 12"
    plain = webhooks.ticket_rows({"ticket": {"body": "Fish &amp; chips"}}, strip_html=True)
    assert plain[0]["body"] == "Fish & chips"
    kept = webhooks.ticket_rows({"ticket": {"body": "Fish &amp; chips"}})
    assert kept[0]["body"] == "Fish &amp; chips"


def test_an_update_event_keeps_what_it_does_not_name(serve_api: Callable[..., Api]) -> None:
    """A Zendesk event about one field (priority, description) or a trigger's update names
    no status, requester or time: the ticket keeps its own; a new ticket without a status
    is refused by its row, with what to add to the webhook instead of the CLI's options."""
    api = serve_api(**HOOKS)

    def post(body: bytes) -> object:
        return api.client.post("/api/v1/webhooks/zendesk", content=body,
                               headers={**api.auth(), **signed(body)})

    detail = {"id": "36001", "requester_id": "7001", "created_at": "2026-07-04T05:27:58Z",
              "subject": "Card declined", "description": "My card was declined twice.",
              "status": "OPEN"}
    assert post(zendesk_event("zen:event-type:ticket.created", detail)).status_code == 200
    sql = "SELECT status, customer_id, source_priority FROM tickets WHERE ticket_id = '36001'"
    r = post(zendesk_event("zen:event-type:ticket.priority_changed",
                           {"id": "36001", "priority": "LOW"}))
    assert r.status_code == 200, r.text
    assert api.query(sql).values.tolist() == [["open", "7001", "LOW"]]
    r = post(json.dumps({"ticket_id": "36001", "subject": "Card declined again"}).encode())
    assert r.status_code == 200, r.text
    assert api.query(sql).values.tolist() == [["open", "7001", "LOW"]]
    r = post(zendesk_event("zen:event-type:ticket.created",
                           {k: v for k, v in detail.items() if k != "status"} | {"id": "36002"}))
    assert r.status_code == 422 and (r.json()["row"], r.json()["column"]) == (1, "status")
    r = post(json.dumps({"subject": "no id"}).encode())
    error = r.json()["error"]
    assert r.status_code == 422 and "--map" not in error, error
    assert "ticket_id" in error and "add them to the webhook's body" in error, error
    # the API's own callers hear it in its words, with every missing column named whole
    r = api.post("/api/v1/tickets", {"ticket_id": "36004"})
    error = r.json()["error"]
    assert r.status_code == 422 and "--map" not in error, error
    assert "created_at, customer_id, status" in error and "send them in every ticket" in error
    assert api.query("SELECT count(*) FROM tickets WHERE ticket_id IN ('36002', '36004')"
                     ).iloc[0, 0] == 0


def test_an_update_right_behind_its_creation_waits_for_it(
        serve_api: Callable[..., Api], monkeypatch: pytest.MonkeyPatch) -> None:
    """Helpdesks send a ticket's events one after the other without waiting: an update that
    names no requester, arriving while its ticket's creation is still being written, is
    applied after it (it was refused: no such ticket yet, no requester). The intake takes
    each request 0.2 s late here, so that the creation is surely still being written."""
    import threading

    api = serve_api(**HOOKS)
    intake = api.server.intake
    take = intake.submit
    handed: list[object] = []

    def late(request: object) -> object:
        handed.append(request)
        threading.Timer(0.2, take, [request]).start()
        return request.future  # type: ignore[attr-defined]

    monkeypatch.setattr(intake, "submit", late)

    def post(body: bytes, out: list[object]) -> None:
        out.append(api.client.post("/api/v1/webhooks/zendesk", content=body,
                                   headers={**api.auth(), **signed(body)}))

    created: list[object] = []
    updated: list[object] = []
    first = threading.Thread(target=post, args=(zendesk_event(
        "zen:event-type:ticket.created",
        {"id": "37000", "requester_id": "7001", "created_at": "2026-07-04T05:27:58Z",
         "subject": "Login fails", "description": "I cannot log in.", "status": "NEW"}),
        created))
    first.start()
    for _ in range(500):  # until the creation is on its way to the intake
        if handed:
            break
        threading.Event().wait(0.01)
    assert handed and not created  # in flight
    post(zendesk_event("zen:event-type:ticket.status_changed",
                       {"id": "37000", "status": "SOLVED"}), updated)
    first.join()
    assert created[0].status_code == 200 and updated[0].status_code == 200, \
        (created[0].text, updated[0].text)
    status = api.query("SELECT status FROM tickets WHERE ticket_id = '37000'")
    assert status.iloc[0, 0] == "solved"


def test_the_templates_own_names_win_over_the_helpdesks_fields(
        serve_api: Callable[..., Api]) -> None:
    """A template that also carries a helpdesk field the preset reads for one of our columns
    (Zendesk's "id", "requester_id") is read by our names: the ticket and customer are the
    ones the template names (the helpdesk's field won, silently)."""
    api = serve_api(**HOOKS)
    body = json.loads(zendesk_payload("ZD-70002", "C1"))
    body = json.dumps({**body, "id": "ZD-70001", "requester_id": "C2"}).encode()
    r = api.client.post("/api/v1/webhooks/zendesk", content=body,
                        headers={**api.auth(), **signed(body)})
    assert r.status_code == 200, r.text
    assert [t["ticket_id"] for t in r.json()["tickets"]] == ["ZD-70002"]
    got = api.query("SELECT ticket_id, customer_id FROM tickets WHERE ticket_id LIKE 'ZD-7000%'")
    assert got.values.tolist() == [["ZD-70002", "C1"]]
