"""Hostile and odd input to the REST API over a real DuckDB file: each is refused at once with a
one-line 4xx error that names what is wrong, nothing is written, and the server goes on
answering."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from _served import Api, new_ticket

ZENDESK_SECRET = "hostile-zendesk-signing-secret"
FRESHDESK_SECRET = "hostile-freshdesk-secret"
HOOKS = {"webhooks": {"zendesk_signing_secret": ZENDESK_SECRET,
                      "freshdesk_secret": FRESHDESK_SECRET}}


def count(api: Api, sql: str = "SELECT count(*) FROM tickets") -> int:
    return int(api.query(sql).iloc[0, 0])


def one_line(r: object, status: int) -> str:
    """The error of a response that must have ``status``: one line of JSON, no traceback."""
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    message = r.json()["error"]  # type: ignore[attr-defined]
    assert "\n" not in message and "Traceback" not in message, message
    return message


def healthy(api: Api) -> None:
    assert api.client.get("/api/v1/health").status_code == 200


def test_an_empty_ticket_object_is_refused_at_once_not_retried_as_a_conflict(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    # An empty object made a DataFrame without columns; the import's error inside the
    # transaction was taken for a write conflict and retried until conflict_wait_seconds
    # (30 s by default, the intake blocked for everyone), then answered 503 "try again".
    api = serve_api(conflict_wait_seconds=3)
    before = count(api)
    for body in ({}, [{}], [{}, {}], {"tickets": [{}]}):
        start = time.monotonic()
        r = api.post("/api/v1/tickets", body)
        assert "has no fields" in one_line(r, 422), body
        assert time.monotonic() - start < 2, body
    r = api.post("/api/v1/tickets", [new_ticket("HOST-E1", customers[0]), {}])
    assert "ticket 2 has no fields" in one_line(r, 422)
    assert count(api) == before
    assert api.post("/api/v1/tickets", new_ticket("HOST-E2", customers[0])).status_code == 200
    assert count(api) == before + 1


def test_json_numbers_are_stored_as_written_and_what_is_no_number_is_refused(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    api = serve_api()
    before = count(api)
    # a number with an exponent is a ticket id as written (a CSV cell "1e5" stays "1e5")
    r = api.client.post("/api/v1/tickets", headers=api.auth(), content=json.dumps(
        new_ticket("X", customers[0])).replace('"X"', "1e5").encode())
    assert r.status_code == 200, r.text
    assert r.json()["tickets"][0]["ticket_id"] == "1e5"
    assert count(api, "SELECT count(*) FROM tickets WHERE ticket_id = '1e5'") == 1
    # 1e309 became float('inf'), stored as the ticket id 'inf'; NaN and Infinity are no JSON
    for raw in ("1e309", "-1e309", "NaN", "Infinity", "-Infinity"):
        body = json.dumps(new_ticket("X", customers[0])).replace('"X"', raw).encode()
        r = api.client.post("/api/v1/tickets", headers=api.auth(), content=body)
        assert "not valid JSON" in one_line(r, 400), raw
    r = api.client.post("/api/v1/feedback", headers=api.auth(),
                        content=b'{"ticket_id": "1e5", "tier": NaN}')
    assert "NaN" in one_line(r, 400)
    # an integer of more digits than Python converts: no advice on sys.set_int_max_str_digits
    r = api.client.post("/api/v1/feedback", headers=api.auth(),
                        content=b'{"ticket_id": ' + b"9" * 5000 + b', "tier": "P1"}')
    message = one_line(r, 400)
    assert "5,000 digits" in message and "sys." not in message
    assert count(api) == before + 1
    assert count(api, "SELECT count(*) FROM tickets WHERE ticket_id IN ('inf', '-inf', 'nan')"
                 ) == 0
    healthy(api)


def test_a_field_given_twice_in_one_object_is_refused(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    """{"ticket_id": "A", ..., "ticket_id": "B"} stored ticket B, silently (JSON leaves open
    which one counts); refused now, naming the field, on every route that reads JSON."""
    api = serve_api()
    before = count(api)
    body = json.dumps(new_ticket("HOST-D1", customers[0]))[:-1] + ', "ticket_id": "HOST-D2"}'
    r = api.client.post("/api/v1/tickets", headers=api.auth(), content=body.encode())
    assert one_line(r, 400) == ("the body is not valid JSON for this API (the field"
                                " 'ticket_id' appears twice in one object)")
    nested = json.dumps({"tickets": [new_ticket("HOST-D3", customers[0])]})
    nested = nested.replace('"status": ', '"status": "open", "status": ', 1)
    r = api.client.post("/api/v1/tickets", headers=api.auth(), content=nested.encode())
    assert "'status' appears twice" in one_line(r, 400)
    r = api.client.post("/api/v1/feedback", headers=api.auth(),
                        content=b'{"ticket_id": "X", "tier": "P1", "tier": "P4"}')
    assert "'tier' appears twice" in one_line(r, 400)
    assert count(api) == before
    # the same names in two objects are no repeat
    r = api.post("/api/v1/tickets", [new_ticket("HOST-D4", customers[0]),
                                     new_ticket("HOST-D5", customers[0])])
    assert r.status_code == 200, r.text
    assert count(api) == before + 2
    healthy(api)


def test_values_of_megabytes_are_not_echoed_back_in_errors(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    api = serve_api()
    before = count(api)
    huge = "C" * 1_000_000
    r = api.post("/api/v1/tickets", new_ticket("HOST-L1", customers[0], customer_id=huge))
    message = one_line(r, 422)
    assert len(r.content) < 1000 and "an id is at most 200" in message
    assert r.json()["row"] == 1 and r.json()["column"] == "customer_id"
    r = api.post("/api/v1/tickets", [new_ticket(huge, customers[0]),
                                     new_ticket(huge, customers[0])])
    assert len(r.content) < 1000 and "1,000,000 characters long" in one_line(r, 422)
    long_missing = "C" * 200  # as long as an id may be, and no customer
    r = api.post("/api/v1/tickets", new_ticket("HOST-L3", customers[0], customer_id=long_missing))
    assert len(r.content) < 1000 and "does not exist in customers" in one_line(r, 422)
    r = api.post("/api/v1/tickets", new_ticket("HOST-L2", customers[0], **{huge: {"a": 1}}))
    assert len(r.content) < 1000 and "must be a text" in one_line(r, 422)
    assert count(api) == before
    healthy(api)


def test_a_compressed_body_is_refused_naming_the_encoding(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    api = serve_api()
    before = count(api)
    body = gzip.compress(json.dumps(new_ticket("HOST-GZ", customers[0])).encode())
    for path in ("/api/v1/tickets", "/api/v1/feedback"):
        r = api.client.post(path, content=body, headers={
            **api.auth(), "Content-Type": "application/json", "Content-Encoding": "gzip"})
        message = one_line(r, 415)
        assert "Content-Encoding 'gzip'" in message and "uncompressed" in message
    # a gzipped upload too (it was "Invalid multipart data (Expected boundary character...)")
    boundary = "b0undary"
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\";"
            f" filename=\"t.csv\"\r\nContent-Type: text/csv\r\n\r\n"
            f"ticket_id,customer_id,created_at,status\r\nHOST-GZ,{customers[0]},"
            f"2026-07-01 10:00,new\r\n--{boundary}--\r\n").encode()
    r = api.client.post("/api/v1/import/tickets", content=gzip.compress(form), headers={
        **api.auth(), "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Encoding": "gzip"})
    assert "Content-Encoding 'gzip'" in one_line(r, 415)
    assert count(api) == before
    openapi = api.get("/api/v1/openapi.json").json()
    assert "415" in openapi["paths"]["/api/v1/tickets"]["post"]["responses"]
    assert "415" in openapi["paths"]["/api/v1/import/{table}"]["post"]["responses"]


def test_feedback_reads_ticket_ids_as_the_intake_stores_them(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    api = serve_api()
    ticket = new_ticket("X", customers[0])
    ticket["ticket_id"] = 0  # stored as "0"
    assert api.post("/api/v1/tickets", ticket).status_code == 200
    # 0 was taken for a missing ticket_id
    r = api.post("/api/v1/feedback", {"ticket_id": 0, "tier": "P1"})
    assert r.status_code == 201, r.text
    # true was looked up as 'True' (the intake stores it as 'true'): no ticket id
    before = count(api, "SELECT count(*) FROM feedback")
    r = api.post("/api/v1/feedback", {"ticket_id": True, "tier": "P2"})
    assert one_line(r, 422) == "ticket_id must be a text"
    assert count(api, "SELECT count(*) FROM feedback") == before


def test_free_text_of_megabytes_is_refused_and_not_kept(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    """A feedback comment or flag, or a training job's note, of megabytes: 422 naming the
    limit (not echoed back), nothing recorded."""
    api = serve_api()
    assert api.post("/api/v1/tickets", new_ticket("HOST-N1", customers[0])).status_code == 200
    before = count(api, "SELECT count(*) FROM feedback")
    huge = "n" * 1_000_000
    for body in ({"ticket_id": "HOST-N1", "flag": huge},
                 {"ticket_id": "HOST-N1", "flag": "wrong", "comment": huge}):
        r = api.post("/api/v1/feedback", body)
        assert len(r.content) < 1000 and "1,000,000 characters long; at most 5,000" in one_line(
            r, 422)
    assert count(api, "SELECT count(*) FROM feedback") == before
    r = api.post("/api/v1/jobs/train", {"note": huge})
    assert len(r.content) < 1000
    assert one_line(r, 422) == "note is 1,000,000 characters long; at most 5,000"


def test_unknown_routes_answer_401_without_a_token(serve_api: Callable[..., Api]) -> None:
    api = serve_api()
    for method, path in (("GET", "/api/v1/nonexistent"), ("GET", "/api/v1/feedback"),
                         ("DELETE", "/api/v1/tickets/T1"), ("POST", "/api/v1/health"),
                         ("TRACE", "/api/v1/whatever"), ("PROPFIND", "/api/v1/tickets")):
        for headers in ({}, {"Authorization": "Bearer nope"}):
            r = api.client.request(method, path, headers=headers)
            assert one_line(r, 401) == "unauthorized", (method, path)
            assert "allow" not in r.headers
        assert api.client.request(method, path, headers=api.auth()).status_code in (404, 405)


def _signed(body: bytes) -> dict[str, str]:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    mac = hmac.new(ZENDESK_SECRET.encode(), when.encode() + body, hashlib.sha256).digest()
    return {"X-Zendesk-Webhook-Signature": base64.b64encode(mac).decode(),
            "X-Zendesk-Webhook-Signature-Timestamp": when}


def test_webhooks_refuse_odd_signatures_and_bodies_in_one_line(
        serve_api: Callable[..., Api]) -> None:
    api = serve_api(**HOOKS)
    before = count(api)
    body = b'{"ticket_id": "ZD-H1", "customer_id": "ZD-HC", "status": "open"}'
    # a signature with non-ASCII characters made hmac.compare_digest raise: a 500
    for signature in ("\u00e9t\u00e9".encode(), b"\xff\xfe"):  # UTF-8, and no UTF-8 at all
        r = api.client.post("/api/v1/webhooks/zendesk", content=body, headers={
            **api.auth(), **_signed(body), "X-Zendesk-Webhook-Signature": signature})
        assert "does not match" in one_line(r, 401), signature
    for sent, status, words in ((b"", 400, "send a ticket object"),
                                (b'{"ticket": {}}', 422, "has no fields"),
                                (b"[{}]", 422, "has no fields")):
        r = api.client.post("/api/v1/webhooks/zendesk", content=sent,
                            headers={**api.auth(), **_signed(sent)})
        assert words in one_line(r, status), sent
        r = api.client.post("/api/v1/webhooks/freshdesk", content=sent, headers={
            **api.auth(), "X-Triage-Webhook-Secret": FRESHDESK_SECRET})
        assert words in one_line(r, status), sent
    assert count(api) == before
    healthy(api)


def test_errors_stay_one_short_line_whatever_the_request_sent(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    """Values with blanks, megabytes long, or with line breaks, that an error quotes: the
    answer stays one line of at most MAX_ERROR_CHARS, and nothing is written."""
    from triage_core.server.api import MAX_ERROR_CHARS

    api = serve_api()
    before = count(api)
    long = "no such ticket " * 50_000
    known = str(api.query("SELECT min(ticket_id) AS t FROM tickets")["t"].iloc[0])
    cases = [
        ("/api/v1/feedback", {"ticket_id": long, "category": "billing"}, 404),
        ("/api/v1/feedback", {"ticket_id": known, "category": long}, 422),
        ("/api/v1/feedback", {"x " * 50_000: 1, "ticket_id": "x"}, 422),
        ("/api/v1/jobs/score", {"no such " * 50_000: 1}, 422),
        ("/api/v1/tickets", new_ticket("LONG-1", customers[0], **{"f " * 100_000: {"a": 1}}),
         422),
        ("/api/v1/tickets", new_ticket("LONG-2", customers[0], status="bad\nvalue\r\nx"), 422),
    ]
    for path, body, status in cases:
        r = api.post(path, body)
        assert r.status_code in (400, status), (path, r.status_code, r.text[:300])
        error = one_line(r, r.status_code)
        assert len(error) <= MAX_ERROR_CHARS, (path, len(error))
        assert "\r" not in error
    assert count(api) == before
    healthy(api)


def test_times_that_an_offset_carries_past_any_year_are_refused_not_a_500(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    """9999-12-31T23:59:59-05:00 is past what a datetime holds once the offset is applied:
    the fast path raised OverflowError (a 500 and a logged traceback). Now the import's
    message, for the API and for a signed webhook alike."""
    api = serve_api(**HOOKS)
    before = count(api)
    for when in ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"):
        for field in ("created_at", "first_response_at"):
            r = api.post("/api/v1/tickets", new_ticket("HOST-Y1", customers[0], **{field: when}))
            assert "is outside the years" in one_line(r, 422), (field, when)
            assert r.json()["column"] == field
        body = json.dumps({"ticket_id": "ZD-Y1", "customer_id": "ZD-YC", "status": "open",
                           "created_at": when, "subject": "x"}).encode()
        r = api.client.post("/api/v1/webhooks/zendesk", content=body,
                            headers={**api.auth(), **_signed(body)})
        assert "is outside the years" in one_line(r, 422), when
    assert count(api) == before
    healthy(api)


def test_ids_and_categories_are_one_line_of_limited_length(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    """A category of any length or with line breaks became a "known" category (feedback then
    took it without new_category); ids of megabytes, with NUL, escape sequences or a
    right-to-left override were stored (and some could not be fetched again)."""
    api = serve_api()
    before = count(api)
    refused = [
        (new_ticket("HOST-C1", customers[0], category="evil\ncategory"), "category"),
        (new_ticket("HOST-C2", customers[0], category="x" * 101), "category"),
        (new_ticket("HOST-I1\u202e", customers[0]), "ticket_id"),
        (new_ticket("HOST-I2\x1b[31m", customers[0]), "ticket_id"),
        (new_ticket("I" * 201, customers[0]), "ticket_id"),
        (new_ticket("HOST-I3", "\x00"), "customer_id"),
        # looks like another id: a zero-width space, a word joiner, a byte-order mark
        (new_ticket("HOST\u200b-I4", customers[0]), "ticket_id"),
        (new_ticket("HOST-I5\u2060", customers[0]), "ticket_id"),
        (new_ticket("HOST-C3", customers[0], category="\ufeffbilling"), "category"),
    ]
    for ticket, column in refused:
        for create in ("false", "true"):
            r = api.post(f"/api/v1/tickets?create_missing={create}", ticket)
            message = one_line(r, 422)
            assert r.json()["column"] == column, (ticket, message)
            assert "at most" in message or "control or invisible character" in message, message
    assert count(api) == before
    assert count(api, "SELECT count(*) FROM customers WHERE customer_id = chr(0)") == 0
    # at the limits, and with the characters of real ids and labels, they are stored
    fine = [new_ticket("I" * 200, customers[0], category="x" * 100),
            new_ticket("ZD-4711 / näh", customers[0], category="Billing > Refunds (EU)"),
            # the joiners that emoji and Persian words need are no invisible id characters
            new_ticket("HOST-J1", customers[0], category="\U0001F469\u200d\U0001F4BB dev"),
            new_ticket("HOST-J2", customers[0],
                       category="\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645")]
    assert api.post("/api/v1/tickets", fine).status_code == 200
    assert count(api) == before + 4
    r = api.post("/api/v1/feedback", {"ticket_id": "ZD-4711 / näh", "category": "x" * 100})
    assert r.status_code == 201, r.text
    healthy(api)


def test_a_jobs_wait_must_be_a_number(serve_api: Callable[..., Api]) -> None:
    """?wait=nan passed min and max as NaN (no wait at all, answered 200); a wait that is no
    number was refused only while the job ran."""
    api = serve_api()
    job = api.run_job(api.post("/api/v1/jobs/score", {}).json()["job"])
    for wait in ("nan", "NaN", "abc", "1e"):
        r = api.get(f"/api/v1/jobs/{job['job_id']}?wait={wait}")
        assert "wait must be a number" in one_line(r, 400), wait
    for wait in ("0", "1.5", "inf", "-3"):
        assert api.get(f"/api/v1/jobs/{job['job_id']}?wait={wait}").status_code == 200, wait


def test_a_ticket_without_words_gets_no_category_and_goes_to_the_triage_queue(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    """An empty body, an HTML body without text, or only "Re: Fwd:" over a quoted thread got
    the model's favourite category at a confidence that looked real, and was routed by it."""
    from triage_core.config import default_config

    queue = default_config()["routing"]["triage_queue"]
    api = serve_api()
    tickets = [new_ticket("HOST-W1", customers[0], subject="", body=""),
               new_ticket("HOST-W2", customers[1], subject=" ", body="<p>&nbsp;</p><br>"),
               new_ticket("HOST-W3", customers[2], subject="Re: Fwd:",
                          body="> On Monday you wrote:\n> my parcel never came"),
               new_ticket("HOST-W4", customers[3], subject="Refund",
                          body="I was charged twice, please refund me")]
    r = api.post("/api/v1/tickets", tickets)
    assert r.status_code == 200, r.text
    got = {t["ticket_id"]: t for t in r.json()["tickets"]}
    for ticket_id in ("HOST-W1", "HOST-W2", "HOST-W3"):
        assert got[ticket_id]["category"] is None, got[ticket_id]
        assert got[ticket_id]["category_confidence"] is None
        assert got[ticket_id]["team"] == queue
        assert "no category" in got[ticket_id]["routing_reason"]
    assert got["HOST-W4"]["category"] is not None
    # looked up with its explanation: no category and no words behind one, not an error
    r = api.get("/api/v1/tickets/HOST-W2")
    assert r.status_code == 200, r.text
    assert r.json()["triage"]["category"] is None, r.json()


def test_a_valid_token_is_checked_once_and_a_revoked_one_at_once(
        store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The verifier keeps the tokens it found valid (no HMAC per request of a client that
    keeps posting): a wrong secret for the same id is still refused, and a revocation, which
    bumps the data version at once, empties what it kept."""
    from triage_core.server import tokens, version

    good = tokens.create(store, "kept")
    verifier = tokens.Verifier(store, *tokens.owner_token()[1:])
    checks: list[str] = []
    real = tokens.digest
    monkeypatch.setattr(tokens, "digest", lambda salt, secret: (checks.append(secret),
                                                                 real(salt, secret))[1])
    header = f"Bearer {good}"
    assert verifier.caller(header) == tokens.Caller("kept")
    assert verifier.caller(header) == tokens.Caller("kept")
    assert len(checks) == 1
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    assert verifier.caller(f"Bearer {forged}") is None
    assert verifier.caller(f"Bearer {forged}") is None
    assert len(checks) == 3  # refused tokens are checked every time, never kept
    seen = version.structure()
    tokens.revoke(store, "kept")  # bumps the version itself, before any job reports it done
    assert version.structure() > seen
    assert verifier.caller(header) is None
