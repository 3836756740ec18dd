"""The REST API on Starlette's TestClient over a real DuckDB file: tokens, tickets triaged at once,
validation like an import, caps, ticket details, feedback, imports, jobs, OpenAPI."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from _served import Api, new_ticket
from _world import WORLD_TICKETS

from triage_core.server.quick import FIELDS

# Every route but health, with a body that would be accepted with a valid token.
PROTECTED = [("GET", "/api/v1/openapi.json"), ("POST", "/api/v1/tickets"),
             ("GET", "/api/v1/tickets/T1"), ("POST", "/api/v1/feedback"),
             ("POST", "/api/v1/import/tickets"), ("POST", "/api/v1/jobs/score"),
             ("GET", "/api/v1/jobs/abc"), ("POST", "/api/v1/webhooks/zendesk"),
             ("POST", "/api/v1/webhooks/freshdesk"), ("POST", "/api/v1/cli")]
BAD_TOKENS = [None, "Bearer", "Bearer nope", "Basic dXNlcjpwYXNz",
              "Bearer tt_000000000000_" + "x" * 43, "Bearer tto_" + "y" * 43]


def count(api: Api, sql: str, params: object = None) -> int:
    return int(api.query(sql, params).iloc[0, 0])


def test_health_is_open_and_every_other_route_needs_a_token(serve_api: Callable[..., Api],
                                                            customers: list[str]) -> None:
    api = serve_api()
    health = api.client.get("/api/v1/health")
    assert health.status_code == 200 and health.json()["instance"] == api.server.instance
    before = count(api, "SELECT count(*) FROM tickets")
    for header in BAD_TOKENS:
        headers = {} if header is None else {"Authorization": header}
        for method, path in PROTECTED:
            r = api.client.request(method, path, headers=headers,
                                   json=new_ticket("NOAUTH", customers[0]))
            assert r.status_code == 401, (method, path, header)
            assert r.json() == {"error": "unauthorized"}
            assert r.headers["www-authenticate"] == "Bearer"
    assert count(api, "SELECT count(*) FROM tickets") == before


def test_revoked_token_stops_working_and_owner_routes_refuse_api_tokens(
        serve_api: Callable[..., Api]) -> None:
    api = serve_api()
    assert api.get("/api/v1/openapi.json").status_code == 200
    assert api.post("/api/v1/cli", {"argv": ["info"]}).status_code == 403
    owner = api.server.owner_token
    info = api.post("/api/v1/cli", {"argv": ["info", "--json"]}, headers=api.auth(owner))
    info_job = api.run_job(info.json()["job"], owner)
    assert info_job["state"] == "done" and f'"tickets": {WORLD_TICKETS}' in info_job["stdout"]
    assert api.get(f"/api/v1/jobs/{info_job['job_id']}").status_code == 404  # the owner's
    job = api.post("/api/v1/cli", {"argv": ["tokens", "revoke", "test"]},
                   headers=api.auth(owner)).json()["job"]
    assert api.run_job(job, owner)["state"] == "done"
    assert api.get("/api/v1/openapi.json").status_code == 401


def test_one_ticket_is_upserted_triaged_and_answered_after_commit(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    api = serve_api()
    r = api.post("/api/v1/tickets", new_ticket("API-1", customers[0]))
    assert r.status_code == 200, r.text
    [answer] = r.json()["tickets"]
    assert list(answer) == list(FIELDS)
    row = api.query("SELECT * FROM triaged_tickets WHERE ticket_id = 'API-1'")
    assert len(row) == 1
    for field in ("category", "priority_tier", "team", "routing_reason", "agent_id"):
        assert answer[field] == (None if row[field].isna().iloc[0] else row[field].iloc[0])
    assert answer["priority_score"] == pytest.approx(float(row["priority_score"].iloc[0]))
    assert answer["category"] in ("billing", "refund")  # the trained model read the text
    assert answer["priority_tier"] in ("P1", "P2", "P3", "P4") and answer["team"]
    assert count(api, "SELECT count(*) FROM triage_results WHERE ticket_id = 'API-1'") == 1


def test_known_channels_are_stored_in_lower_case_as_an_import_stores_them(
        serve_api: Callable[..., Api], customers: list[str], tmp_path: Path) -> None:
    """"WEB" and "Social" are the channels web and social (they were kept as written, while
    "EMAIL" became email); a channel of its own is kept as written."""
    api = serve_api()
    sent = [{**new_ticket(f"API-C{i}", customers[0]), "channel": c}
            for i, c in enumerate(["WEB", "Social", "EMAIL", "Carrier pigeon"])]
    assert api.post("/api/v1/tickets", sent).status_code == 200
    got = api.query("SELECT channel FROM tickets WHERE ticket_id LIKE 'API-C%'"
                    " ORDER BY ticket_id")["channel"].tolist()
    assert got == ["web", "social", "email", "Carrier pigeon"]


def test_a_list_is_idempotent_by_ticket_id(serve_api: Callable[..., Api],
                                           customers: list[str]) -> None:
    api = serve_api()
    tickets = [new_ticket(f"API-L{i}", customers[i]) for i in range(5)]
    first = api.post("/api/v1/tickets", {"tickets": tickets}).json()["tickets"]
    n = count(api, "SELECT count(*) FROM tickets")
    second = api.post("/api/v1/tickets", tickets).json()["tickets"]
    assert [a["ticket_id"] for a in second] == [t["ticket_id"] for t in tickets]
    assert [a["category"] for a in first] == [a["category"] for a in second]
    assert count(api, "SELECT count(*) FROM tickets") == n
    assert count(api, "SELECT count(*) FROM triaged_tickets WHERE ticket_id LIKE 'API-L%'") == 5
    assert count(api, "SELECT count(*) - count(DISTINCT ticket_id) FROM triaged_tickets") == 0
    assert "ignored_fields" not in api.post("/api/v1/tickets", tickets).json()


def test_fields_that_are_no_column_are_named_in_the_answer(serve_api: Callable[..., Api],
                                                            customers: list[str]) -> None:
    api = serve_api()
    r = api.post("/api/v1/tickets", [new_ticket("API-X1", customers[0], priority="urgent"),
                                     new_ticket("API-X2", customers[1], Tags="vip")])
    assert r.status_code == 200, r.text
    assert r.json()["ignored_fields"] == ["Tags", "priority"]
    assert [t["ticket_id"] for t in r.json()["tickets"]] == ["API-X1", "API-X2"]
    assert count(api, "SELECT count(*) FROM triaged_tickets WHERE ticket_id LIKE 'API-X%'") == 2
    # names the import reads whatever their case are not listed as ignored (they were)
    shouted = {k.title(): v for k, v in new_ticket("API-X3", customers[2]).items()}
    r = api.post("/api/v1/tickets", {**shouted, "Subject": "Shouted subject", "CSAT": "4",
                                     "Mood": "x"})
    assert r.status_code == 200, r.text
    assert r.json()["ignored_fields"] == ["Mood"]
    # a long name is cut as errors cut the values they quote
    r = api.post("/api/v1/tickets", {**shouted, "Subject": "Shouted subject", "CSAT": "4",
                                     "x" * 5_000: "y"})
    assert r.status_code == 200 and r.json()["ignored_fields"] == ["x" * 39 + "…"]
    stored = api.query("SELECT subject, csat FROM tickets WHERE ticket_id = 'API-X3'")
    assert stored.to_dict("records") == [{"subject": "Shouted subject", "csat": 4}]
    # two fields for one column: refused, naming both as sent
    r = api.post("/api/v1/tickets", new_ticket("API-X4", customers[0], Subject="other"))
    assert r.status_code == 422 and r.json()["error"] == (
        "fields 'subject' and 'Subject' both name the column subject; send one of them"), r.text
    assert count(api, "SELECT count(*) FROM tickets WHERE ticket_id = 'API-X4'") == 0


def test_times_that_look_wrong_are_named_in_the_answer(serve_api: Callable[..., Api],
                                                      customers: list[str]) -> None:
    """A resolution before the ticket was created, or a ticket dated a year ahead, was stored
    without a word: only a later score job's data-health check named it."""
    api = serve_api()
    good = new_ticket("API-W0", customers[0])
    r = api.post("/api/v1/tickets", good)
    assert r.status_code == 200 and "warnings" not in r.json()
    r = api.post("/api/v1/tickets", [
        new_ticket("API-W1", customers[0], status="solved", resolved_at="2026-06-30T09:00:00Z"),
        new_ticket("API-W2", customers[1], **{"First Response At": "2026-07-01T11:30:00+03:00"}),
        new_ticket("API-W3", customers[2], created_at="2100-01-01T00:00:00Z"),
        new_ticket("API-W4", customers[0], resolved_at="2026-07-01 10:00:00")])
    assert r.status_code == 200, r.text
    assert r.json()["warnings"] == [
        "1 ticket has resolved_at before created_at (a negative duration): 'API-W1'",
        "1 ticket has first_response_at before created_at (a negative duration): 'API-W2'",
        "1 ticket has created_at more than a day after the server's clock (the SLA clock"
        " passes over it): 'API-W3'"]
    assert count(api, "SELECT count(*) FROM tickets WHERE ticket_id LIKE 'API-W%'") == 5


def test_a_bad_ticket_refuses_its_request_with_the_import_message(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    api = serve_api()
    tickets = [new_ticket("API-B1", customers[0]),
               new_ticket("API-B2", customers[1], created_at="next tuesday"),
               new_ticket("API-B3", customers[2])]
    r = api.post("/api/v1/tickets", tickets)
    assert r.status_code == 422
    body = r.json()
    assert body["row"] == 2 and body["column"] == "created_at"
    assert "cannot read 'next tuesday' as a timestamp" in body["error"]
    assert count(api, "SELECT count(*) FROM tickets WHERE ticket_id LIKE 'API-B%'") == 0
    bad = api.post("/api/v1/tickets", new_ticket("API-B4", customers[0], status="asleep"))
    assert bad.status_code == 422 and bad.json()["column"] == "status"
    # in the words of this route: it takes no mapping file and no command-line option
    assert bad.json()["error"] == (
        "request body, row 1, column 'status': a value is not one of new, open, pending,"
        " on_hold, solved, closed: 'asleep' (1 row)")
    for when in ("1719826200", "07/03/2026 10:00", "next tuesday"):
        r = api.post("/api/v1/tickets", new_ticket("API-B5", customers[0], created_at=when))
        assert r.status_code == 422 and r.json()["error"] == (
            f"request body, row 1, column 'created_at': cannot read '{when}' as a timestamp"
            " (expected ISO 8601, e.g. 2026-03-01 14:30:00 or 2026-03-01T14:30:00Z)")


def test_unknown_customers_are_created_only_when_asked(serve_api: Callable[..., Api]) -> None:
    api = serve_api()
    r = api.post("/api/v1/tickets", new_ticket("API-N1", "NEW-CUSTOMER"))
    assert r.status_code == 422 and "NEW-CUSTOMER" in r.json()["error"]
    assert count(api, "SELECT count(*) FROM customers WHERE customer_id = 'NEW-CUSTOMER'") == 0
    # a misspelt key beside "tickets" is named, not ignored (the request then failed on the
    # unknown customer, with no word about the key)
    r = api.post("/api/v1/tickets", {"tickets": [new_ticket("API-N1", "NEW-CUSTOMER")],
                                     "create_mising": True})
    assert r.status_code == 422 and "unknown key 'create_mising'" in r.json()["error"], r.text
    assert count(api, "SELECT count(*) FROM customers WHERE customer_id = 'NEW-CUSTOMER'") == 0
    r = api.post("/api/v1/tickets?create_missing=true", new_ticket("API-N1", "NEW-CUSTOMER"))
    assert r.status_code == 200
    assert count(api, "SELECT count(*) FROM customers WHERE customer_id = 'NEW-CUSTOMER'") == 1
    r = api.post("/api/v1/tickets", {"tickets": [new_ticket("API-N2", "NEW-2")],
                                     "create_missing": True})
    assert r.status_code == 200, r.text


def test_an_address_in_another_case_is_the_customer_already_known(
        serve_api: Callable[..., Api]) -> None:
    """Through the API's fast path too: "mixed@case.IO" is the customer created as
    "Mixed@Case.io", asked to create missing customers or not."""
    api = serve_api()
    sql = "SELECT count(*) FROM customers WHERE lower(customer_id) = 'mixed@case.io'"
    r = api.post("/api/v1/tickets?create_missing=true", new_ticket("API-M1", "Mixed@Case.io"))
    assert r.status_code == 200, r.text
    r = api.post("/api/v1/tickets?create_missing=true", new_ticket("API-M2", "mixed@case.IO"))
    assert r.status_code == 200, r.text
    r = api.post("/api/v1/tickets", new_ticket("API-M3", "MIXED@CASE.IO"))
    assert r.status_code == 200, r.text
    assert count(api, sql) == 1
    got = api.query("SELECT DISTINCT customer_id FROM tickets WHERE ticket_id LIKE 'API-M%'")
    assert got["customer_id"].tolist() == ["Mixed@Case.io"]


def test_caps_and_unreadable_bodies(serve_api: Callable[..., Api], customers: list[str]) -> None:
    api = serve_api(max_request_mb=0.01, max_tickets_per_request=3)
    big = new_ticket("API-BIG", customers[0], body="x" * 20_000)
    r = api.post("/api/v1/tickets", big)
    assert r.status_code == 413 and "max_request_mb" in r.json()["error"]
    r = api.post("/api/v1/tickets", [new_ticket(f"API-M{i}", customers[0]) for i in range(4)])
    assert r.status_code == 413 and "at most 3" in r.json()["error"]
    r = api.client.post("/api/v1/tickets", content=b"{not json", headers=api.auth())
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]
    deep = b"[" * 5000 + b"]" * 5000  # deeper than Python's JSON parser recurses
    for path in ("/api/v1/tickets", "/api/v1/feedback"):
        r = api.client.post(path, content=deep, headers=api.auth())
        assert r.status_code == 400 and "nested too deeply" in r.json()["error"], r.text
    r = api.post("/api/v1/tickets", new_ticket("API-D", customers[0], subject={"a": 1}))
    assert r.status_code == 422 and "'subject'" in r.json()["error"]
    assert count(api, "SELECT count(*) FROM tickets WHERE ticket_id LIKE 'API-%'") == 0


def test_ticket_details_with_explanation(serve_api: Callable[..., Api],
                                         customers: list[str]) -> None:
    api = serve_api()
    api.post("/api/v1/tickets", new_ticket("API/G 1", customers[3]))
    r = api.get("/api/v1/tickets/API/G 1")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ticket"]["ticket_id"] == "API/G 1" and body["triage"]["priority_tier"]
    words = [w for w, *_ in body["explanation"]["category_words"]]
    assert {"charged", "refund"} & set(words)
    assert api.get("/api/v1/tickets/NOPE").status_code == 404
    # spaces around an id, as POST and feedback trim them (it was a 404)
    r = api.get("/api/v1/tickets/%20%20API/G 1%20")
    assert r.status_code == 200 and r.json()["ticket"]["ticket_id"] == "API/G 1", r.text


def test_feedback_is_recorded_and_applied(serve_api: Callable[..., Api],
                                          customers: list[str]) -> None:
    api = serve_api()
    api.post("/api/v1/tickets", new_ticket("API-F1", customers[0]))
    r = api.post("/api/v1/feedback", {"ticket_id": "API-F1", "category": "shipping_delivery",
                                      "tier": "P1", "comment": "wrong"})
    assert r.status_code == 201, r.text
    ids = r.json()["feedback_ids"]
    assert len(ids) == 2
    row = api.query("SELECT category, priority_tier FROM triaged_tickets"
                    " WHERE ticket_id = 'API-F1'").iloc[0]
    assert (row["category"], row["priority_tier"]) == ("shipping_delivery", "P1")
    authors = api.query("SELECT DISTINCT author FROM feedback WHERE ticket_id = 'API-F1'")
    assert authors["author"].tolist() == ["test"]  # the token's name
    assert api.post("/api/v1/feedback", {"ticket_id": "API-F1", "mood": "x"}).status_code == 422
    r = api.post("/api/v1/feedback", {"ticket_id": "NOPE", "tier": "P2"})
    assert r.status_code == 404 and r.json()["error"] == "no ticket 'NOPE'"
    r = api.post("/api/v1/feedback", {"ticket_id": "API-F1", "flag": "no"})
    assert r.status_code == 422 and r.json()["error"] == (
        "nothing to record: give a category, tier, sentiment or flag")  # no CLI options
    r = api.post("/api/v1/feedback", {"ticket_id": "API-F1", "category": {"a": 1}})
    assert r.status_code == 422 and r.json()["error"] == "category must be a text"
    r = api.post("/api/v1/feedback", {"ticket_id": "API-F1", "flag": 3})
    assert r.status_code == 422 and r.json()["error"] == "flag must be a text or true/false"
    assert len(api.query("SELECT * FROM feedback WHERE ticket_id = 'API-F1'")) == 2


def test_import_upload_validates_like_the_cli(serve_api: Callable[..., Api],
                                              customers: list[str], tmp_path: Path) -> None:
    api = serve_api(max_upload_mb=0.05)
    good = (f"ticket_id,created_at,customer_id,subject,status\n"
            f"UP-1,2026-07-01 10:00:00,{customers[0]},Login fails,open\n"
            f"UP-2,2026-07-01 11:00:00,{customers[1]},App crashes,hold\n")
    r = api.client.post("/api/v1/import/tickets", headers=api.auth(),
                        files={"file": ("mine.csv", good.encode())})
    assert r.status_code == 200, r.text
    assert r.json()["new_rows"] == 2 and r.json()["source"] == "mine.csv"
    assert count(api, "SELECT count(*) FROM tickets WHERE ticket_id LIKE 'UP-%'") == 2
    bad = good.replace("2026-07-01 11:00:00", "31/02/2026")
    r = api.client.post("/api/v1/import/tickets", headers=api.auth(),
                        files={"file": ("bad.csv", bad.encode())})
    body = r.json()
    assert r.status_code == 422 and body["error"].startswith("bad.csv, row 2, column 'created_at'")
    # its parts too, as POST /tickets gives them (the README's "file, row and column")
    assert (body["file"], body["row"], body["column"]) == ("bad.csv", 2, "created_at")
    assert str(tmp_path) not in r.text and "triage-uploads" not in r.text
    r = api.client.post("/api/v1/import/tickets", headers=api.auth(),
                        files={"file": ("big.csv", good.encode() * 2000)})
    assert r.status_code == 413 and "max_upload_mb" in r.json()["error"]
    r = api.client.post("/api/v1/import/nope", headers=api.auth(),
                        files={"file": ("x.csv", good.encode())})
    assert r.status_code == 404
    r = api.client.post("/api/v1/import/tickets", headers=api.auth(), data={"mapping": "/etc/x"},
                        files={"file": ("x.csv", good.encode())})
    assert r.status_code == 422 and "not a file" in r.json()["error"]
    # the advice names the form fields, not the CLI's options
    r = api.client.post("/api/v1/import/tickets", headers=api.auth(), data={"map": "nonsense"},
                        files={"file": ("x.csv", good.encode())})
    assert r.status_code == 422 and r.json()["error"].startswith("map 'nonsense': expected")
    unmapped = good.replace("customer_id", "Requester")
    r = api.client.post("/api/v1/import/tickets", headers=api.auth(),
                        files={"file": ("x.csv", unmapped.encode())})
    assert r.status_code == 422 and r.json()["error"].endswith(
        "; map them with the form field map (SOURCE=TARGET, once per column) or mapping (a"
        " saved mapping's name: 'triage mapping suggest' writes one, 'triage mapping save'"
        " keeps it)")
    asleep = good.replace(",hold", ",asleep")
    r = api.client.post("/api/v1/import/tickets", headers=api.auth(),
                        files={"file": ("x.csv", asleep.encode())})
    assert r.status_code == 422 and r.json()["error"].endswith(
        " and save it with 'triage mapping save NAME FILE'; send NAME as the form field mapping")
    assert "--" not in r.json()["error"]


@pytest.mark.slow
def test_jobs_run_and_report(serve_api: Callable[..., Api]) -> None:
    api = serve_api()
    r = api.post("/api/v1/jobs/score", {"full": True})
    assert r.status_code == 202 and r.headers["location"].startswith("/api/v1/jobs/")
    job = api.run_job(r.json()["job"])
    assert job["state"] == "done" and job["exit_code"] == 0
    assert set(job["result"]["tiers"]) <= {"P1", "P2", "P3", "P4"}
    assert "stdout" not in job  # output is for the owner token only
    # an unknown profile or a time that cannot be read: refused at once, no job
    r = api.post("/api/v1/jobs/score", {"profile": "nope"})
    assert r.status_code == 422 and "unknown priority profile 'nope'" in r.json()["error"], r.text
    r = api.post("/api/v1/jobs/score", {"as_of": "05.03.2024"})
    assert r.status_code == 422 and r.json()["error"].startswith("as_of: "), r.text
    assert "YYYY-MM-DD" in r.json()["error"]
    r = api.post("/api/v1/jobs/score", {"as_of": "1900-01-01"})
    assert r.status_code == 422 and "1970-2100" in r.json()["error"], r.text
    r = api.post("/api/v1/jobs/score", {"as_of": "2026-03-05T10:00:00+01:00", "profile": "default"})
    assert api.run_job(r.json()["job"])["result"]["as_of"] == "2026-03-05 09:00:00"
    assert api.post("/api/v1/jobs/score", {"fast": True}).status_code == 422
    assert api.post("/api/v1/jobs/score", {"full": "yes"}).status_code == 422
    # values the verb refuses: at once (202, then a failed job)
    r = api.post("/api/v1/jobs/retrain", {"tolerance": 2})
    assert r.status_code == 422 and r.json()["error"].startswith("tolerance: "), r.text
    assert api.post("/api/v1/jobs/explode", {}).status_code == 404
    assert api.get("/api/v1/jobs/0000").status_code == 404
    stored = api.query("SELECT state FROM jobs WHERE job_id = ?", [job["job_id"]])
    assert stored["state"].tolist() == ["done"]
    # falsy bodies that are no object: refused like "x" (false started a job with no options)
    for body in (b"false", b"0", b'""', b"[]"):
        r = api.client.post("/api/v1/jobs/score", content=body, headers=api.auth())
        assert r.status_code == 422 and "JSON object" in r.json()["error"], body


def test_a_finished_job_answers_the_same_after_a_restart(serve_api: Callable[..., Api]) -> None:
    """The result lived in memory only: after a restart, GET lost it (a retrain's new version
    and whether it was promoted) and showed the stored row's own shape."""
    api = serve_api()
    job = api.run_job(api.post("/api/v1/jobs/score", {}).json()["job"])
    with api.server.jobs._lock:  # what a new server process knows: the stored jobs only
        api.server.jobs._jobs.clear()
    again = api.get(f"/api/v1/jobs/{job['job_id']}").json()["job"]
    assert set(again) == set(job)
    assert again["result"] == job["result"] and again["state"] == "done"


def test_unknown_routes_and_methods_answer_in_json(serve_api: Callable[..., Api],
                                                   customers: list[str]) -> None:
    api = serve_api()
    r = api.get("/api/v1/nonexistent")
    assert r.status_code == 404 and "openapi.json" in r.json()["error"]
    r = api.get("/api/v1/feedback")
    assert r.status_code == 405 and r.headers["allow"] == "POST" and r.json()["error"]
    # a ticket id with a line break is refused (an id is one line), naming the column
    r = api.post("/api/v1/tickets", new_ticket("nl\nx", customers[0]))
    assert r.status_code == 422 and "line break" in r.json()["error"], r.text
    assert r.json()["column"] == "ticket_id"
    # one with a blank and a slash is stored, and found again by its escaped path
    assert api.post("/api/v1/tickets", new_ticket("sp x/1", customers[0])).status_code == 200
    r = api.get("/api/v1/tickets/sp%20x%2F1")
    assert r.status_code == 200 and r.json()["ticket"]["ticket_id"] == "sp x/1"
    # feedback reads the id as the intake stored it (trimmed)
    r = api.post("/api/v1/feedback", {"ticket_id": " sp x/1 ", "tier": "P4"})
    assert r.status_code == 201, r.text


def test_openapi_documents_every_route(serve_api: Callable[..., Api]) -> None:
    api = serve_api()
    doc = api.get("/api/v1/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    served = {(m, re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path))
              for route in api.server.routes()
              if route.path != "/api/v1/{rest:anytext}"  # JSON errors for the rest
              for m in route.methods - {"HEAD"}}
    assert served == documented
    assert list(doc["components"]["schemas"]["Triage"]["properties"]) == list(FIELDS)


def test_text_that_is_not_unicode_is_refused_naming_where_it_is(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    """A lone UTF-16 surrogate (the JSON escape \\ud800) is no text DuckDB can store: every JSON
    body is refused (400, naming where it is), nothing written; not a 500, nor a 503 that a
    client would retry for ever."""
    api = serve_api()
    api.post("/api/v1/tickets", new_ticket("API-U0", customers[0]))
    lone = "\ud800"
    cases = [
        ("/api/v1/tickets", new_ticket("API-U1", customers[0], subject=lone), 'field "subject"'),
        ("/api/v1/tickets", new_ticket("API-U2", customers[0], status="Hold", subject=lone),
         'field "subject"'),  # a ticket that takes the import's path
        ("/api/v1/tickets", {"tickets": [new_ticket("API-U3", customers[0]),
                                         new_ticket("API-U4", customers[0], body="a" + lone)]},
         'field "tickets[1].body"'),
        ("/api/v1/tickets", [new_ticket("API-U5", customers[0], **{"x" + lone: "1"})],
         'a field name in "[0]"'),
        ("/api/v1/feedback", {"ticket_id": "API-U0", "tier": "P1", "comment": lone},
         'field "comment"'),
        ("/api/v1/jobs/score", {"profile": "\udfff"}, 'field "profile"'),
    ]
    for path, body, where in cases:
        r = api.client.post(path, content=json.dumps(body).encode(),  # "\ud800" escaped
                            headers={**api.auth(), "Content-Type": "application/json"})
        assert r.status_code == 400, (path, r.text)
        error = r.json()["error"]
        assert error.startswith(where + ": text with an unpaired surrogate (\\u"), error
        assert error.endswith(") is not valid Unicode"), error
        # the same surrogate encoded as UTF-8 bytes (ED A0 80), not escaped: the same answer
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
        assert b"\\u" not in raw and b"\xed" in raw
        r = api.client.post(path, content=raw,
                            headers={**api.auth(), "Content-Type": "application/json"})
        assert r.status_code == 400, (path, r.text)
        assert r.json()["error"].startswith(where + ": text with an unpaired surrogate"), r.text
        # the escape in a UTF-16 or UTF-32 body (JSON's decoder reads them): was a 500
        for encoding in ("utf-16-le", "utf-32-be"):
            r = api.client.post(path, content=json.dumps(body).encode(encoding),
                                headers={**api.auth(), "Content-Type": "application/json"})
            assert r.status_code == 400, (path, encoding, r.text)
            assert r.json()["error"].startswith(where + ": text with an unpaired"), r.text
    assert count(api, "SELECT count(*) FROM tickets WHERE ticket_id LIKE 'API-U%'") == 1
    assert count(api, "SELECT count(*) FROM feedback WHERE ticket_id = 'API-U0'") == 0
    pair = api.post("/api/v1/tickets", new_ticket("API-U6", customers[0], subject="\U0001F600"))
    assert pair.status_code == 200, pair.text  # a surrogate pair in JSON is one character


def test_feedback_flag_reads_true_and_false_words_like_the_rest_of_the_api(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    api = serve_api()
    api.post("/api/v1/tickets", new_ticket("API-FL", customers[0]))
    for word in ("false", "No", "0", " FALSE "):  # like a JSON false: nothing to record
        r = api.post("/api/v1/feedback", {"ticket_id": "API-FL", "flag": word})
        assert r.status_code == 422 and "nothing to record" in r.json()["error"], (word, r.text)
    assert count(api, "SELECT count(*) FROM feedback WHERE ticket_id = 'API-FL'") == 0
    r = api.post("/api/v1/feedback", {"ticket_id": "API-FL", "tier": "P1", "flag": "no"})
    assert r.status_code == 201 and len(r.json()["feedback_ids"]) == 1
    for word in ("true", "Yes", "1"):  # like a JSON true
        assert api.post("/api/v1/feedback", {"ticket_id": "API-FL", "flag": word}
                        ).status_code == 201
    r = api.post("/api/v1/feedback", {"ticket_id": "API-FL", "flag": "spam, not billing"})
    assert r.status_code == 201  # any other text is the reason
    flags = api.query("SELECT new_value FROM feedback WHERE ticket_id = 'API-FL'"
                      " AND field = 'flag' ORDER BY feedback_id")["new_value"].tolist()
    assert flags == ["wrong prediction"] * 3 + ["spam, not billing"]
    # new_category reads the same words (it took only true and false)
    r = api.post("/api/v1/feedback", {"ticket_id": "API-FL", "category": "brand_new",
                                      "new_category": "no"})
    assert r.status_code == 422 and "unknown category" in r.json()["error"], r.text
    r = api.post("/api/v1/feedback", {"ticket_id": "API-FL", "category": "brand_new",
                                      "new_category": "yes"})
    assert r.status_code == 201, r.text
    r = api.post("/api/v1/feedback", {"ticket_id": "API-FL", "new_category": "maybe",
                                      "tier": "P2"})
    assert r.status_code == 422 and "new_category must be true or false" in r.text


def test_import_upload_refuses_malformed_forms_in_one_line(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    api = serve_api()
    good = (f"ticket_id,created_at,customer_id,subject,status\n"
            f"UP-9,2026-07-01 10:00:00,{customers[0]},Login fails,open\n").encode()
    toml = b'table = "tickets"\n[columns]\nticket_id = ["Id"]\n' + b"# x\n" * 100
    mapping_refused = "mapping must name a saved mapping or a preset"
    cases = [  # (files, form fields, status, the error's start)
        ([("file", ("x.csv", good)), ("mapping", ("map.toml", toml))], {}, 422,
         mapping_refused),
        ([("file", ("x.csv", good))], {"mapping": toml.decode()}, 422, mapping_refused),
        ([("file", ("x.csv", good))], {"mapping": "x" * 300}, 422, mapping_refused),
        ([("file", ("x.csv", good)), ("file", ("y.csv", good))], {}, 422,
         "send one file (the multipart field 'file'), not 2"),
        ([("file", ("x.csv", good)), ("preset", ("p.txt", b"zendesk"))], {}, 422,
         "preset must be a text field, not a file"),
        ([("file", ("x" * 5000 + ".csv", good))], {}, 400, "the upload cannot be read"),
    ]
    for files, data, status, start in cases:
        r = api.client.post("/api/v1/import/tickets", headers=api.auth(), files=files, data=data)
        assert r.status_code == status, (start, r.text)
        assert r.json()["error"].startswith(start) and "\n" not in r.json()["error"], r.text
    # a body cut before its closing boundary (a dropped connection, a client's bug): the
    # parser kept the parts it had read and the answer was 422 "send the file as ..."
    body = (b"--XB\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n"
            b"Content-Type: text/csv\r\n\r\n" + good)
    for sent, status in ((body, 400), (body + b"\r\n--XB--\r\n", 200)):
        r = api.client.post("/api/v1/import/tickets", content=sent, headers={
            **api.auth(), "Content-Type": "multipart/form-data; boundary=XB"})
        assert r.status_code == status, r.text
        if status == 400:
            assert r.json()["error"] == ("the upload cannot be read: it ends before the"
                                         " multipart body's closing boundary (cut short?)")
            assert count(api, "SELECT count(*) FROM tickets WHERE ticket_id = 'UP-9'") == 0
    assert count(api, "SELECT count(*) FROM tickets WHERE ticket_id = 'UP-9'") == 1
    folder = api.server.uploads.folder
    for name, source in (("..", "upload.csv"), ("../../escape.csv", "escape.csv"),
                         ("..\\..\\win.csv", "win.csv"), (".", "upload.csv"),
                         (".hidden.csv", "upload.hidden.csv"), ("a/../..", "upload.csv")):
        r = api.client.post("/api/v1/import/tickets", headers=api.auth(),
                            files={"file": (name, good)})
        assert r.status_code == 200 and r.json()["source"] == source, (name, r.text)
    for escaped in ("escape.csv", "win.csv", "upload.csv"):  # never beside the uploads' folders
        assert not (folder / escaped).exists() and not (folder.parent / escaped).exists()


def test_a_field_one_ticket_of_a_list_leaves_out_keeps_its_stored_value(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    """Sent alone, a ticket without a field keeps the stored value; in a list beside a ticket
    that has the field, the field was written empty (one statement over the union of the
    fields). Both paths: the fast one and the import's (a field it ignores, which the fast
    path leaves to it)."""
    api = serve_api()
    for extra, prefix in (({}, "KEEP"), ({"tags": "vip"}, "KEEPT")):
        first = new_ticket(f"{prefix}1", customers[0], body="original", csat=4, **extra)
        assert api.post("/api/v1/tickets", first).status_code == 200
        again = {k: v for k, v in first.items() if k not in ("body", "csat")}
        other = new_ticket(f"{prefix}2", customers[0], body="new", csat=5, **extra)
        r = api.post("/api/v1/tickets", [again, other])
        assert r.status_code == 200, r.text
        assert [t["ticket_id"] for t in r.json()["tickets"]] == [f"{prefix}1", f"{prefix}2"]
        got = api.query("SELECT ticket_id, body, csat FROM tickets WHERE ticket_id IN (?, ?)"
                        " ORDER BY ticket_id", [f"{prefix}1", f"{prefix}2"])
        assert got.values.tolist() == [[f"{prefix}1", "original", 4], [f"{prefix}2", "new", 5]]
        # an explicit null still empties it
        r = api.post("/api/v1/tickets", [{**again, "csat": None}, other])
        assert r.status_code == 200, r.text
        assert count(api, "SELECT count(csat) FROM tickets WHERE ticket_id = ?",
                     [f"{prefix}1"]) == 0
    # a refusal names the row as the request counts it, and writes nothing of the request
    bad = [new_ticket("KEEP3", customers[0], csat=3),
           {**new_ticket("KEEP4", customers[0]), "created_at": "yesterday"}]
    r = api.post("/api/v1/tickets", [bad[0], {k: v for k, v in bad[1].items() if k != "body"}])
    assert r.status_code == 422, r.text
    assert r.json()["row"] == 2 and r.json()["column"] == "created_at", r.text
    assert count(api, "SELECT count(*) FROM tickets WHERE ticket_id LIKE 'KEEP3%'") == 0


def test_a_held_job_poll_takes_no_thread_of_the_loop() -> None:
    """GET /jobs/{id}?wait=S and POST /import held a thread of the event loop's executor each
    (6 on 2 cores): 14 polls of 10 s came back after up to 30 s, and Streamlit's own calls
    to threads queued behind them. The wait is on the loop now."""
    import asyncio
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from triage_core.server.api import until_set

    class NoThreads(ThreadPoolExecutor):
        def submit(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
            raise AssertionError("a wait took a thread")

    async def main() -> None:
        asyncio.get_running_loop().set_default_executor(NoThreads(max_workers=1))
        event = threading.Event()
        assert await asyncio.gather(*(until_set(event, 0.2) for _ in range(14))) == [False] * 14
        threading.Timer(0.05, event.set).start()
        assert await until_set(event, 30) is True

    asyncio.run(main())


def test_requests_that_give_different_fields_keep_their_order(
        serve_api: Callable[..., Api], customers: list[str]) -> None:
    """The import's path imported the requests of a batch by set of fields: an earlier
    request's status could be written after a later one's. The two requests are
    batched here as the intake batches them (its thread is idle meanwhile)."""
    from triage_core.server.intake import Request

    api = serve_api()
    earlier = [new_ticket("ORD-0", customers[0], tags="a"),
               new_ticket("ORD-1", customers[0], status="open")]
    later = [new_ticket("ORD-1", customers[0], tags="b", status="solved")]
    assert api.post("/api/v1/tickets", new_ticket("ORD-9", customers[0])).status_code == 200
    batch = [Request(rows, "request body") for rows in (earlier, later)]
    api.server.intake._process(batch)  # one batch, as requests arriving together make it
    for request in batch:
        request.future.result(timeout=120)
    assert api.query("SELECT status FROM tickets WHERE ticket_id = 'ORD-1'"
                     ).iloc[0, 0] == "solved"
    # no ticket id at all: the import's own refusal, not an internal error
    r = api.post("/api/v1/tickets", [{"customer_id": customers[0], "tags": "x"},
                                     {"customer_id": customers[0]}])
    assert r.status_code == 422 and "ticket_id" in r.text, r.text


def test_duckdb_runs_one_thread_per_core_but_one_in_the_server(
        serve_api: Callable[..., Api], monkeypatch: pytest.MonkeyPatch) -> None:
    """The server leaves a core to its Python (event loop and intake): DuckDB's threads are
    one per core but one, at least one, unless [server] duckdb_threads says otherwise."""
    import os

    from triage_core.server.settings import ServerSettings

    api = serve_api()
    cores = len(os.sched_getaffinity(0))
    setting = api.query("SELECT current_setting('threads') AS n")["n"].iloc[0]
    assert int(setting) == max(1, cores - 1)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert ServerSettings.from_mapping(None).threads() == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert ServerSettings.from_mapping(None).threads() == 1
    assert ServerSettings.from_mapping({"duckdb_threads": 6}).threads() == 6
