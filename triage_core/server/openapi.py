"""The OpenAPI 3.1 document of the REST API (served at ``/api/v1/openapi.json``).

Written out by hand from the routes in :mod:`triage_core.server.api`; a test checks that every
route is in it and that it names every field the ticket answer has.
"""

from __future__ import annotations

from typing import Any

from triage_core.schema import IMPORT_TABLES
from triage_core.server.quick import FIELDS

_STR = {"type": "string"}
_NUM = {"type": "number"}
_BOOL = {"type": "boolean"}
_NULLABLE = {"type": ["string", "number", "boolean", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _answers(*codes: int) -> dict[str, Any]:
    text = {200: "done", 201: "recorded", 202: "accepted; follow the job",
            400: "the body cannot be read", 401: "missing or wrong token (nothing else)",
            403: "this token may not use this route", 404: "unknown ticket, job or table",
            411: "no Content-Length", 413: "too large",
            415: "a compressed body (Content-Encoding); send it uncompressed",
            422: "refused data, nothing written",
            503: "the same rows kept changing; retry"}
    return {str(c): {"description": text[c], **({} if c < 400 else _json(_ref("Error")))}
            for c in codes}


def _ticket_columns() -> dict[str, Any]:
    spec = IMPORT_TABLES["tickets"]
    return {c.name: {**_NULLABLE, "description": c.meaning} for c in spec.columns}


def _schemas() -> dict[str, Any]:
    types = {"category_confidence": _NUM, "sentiment": _NUM, "severity": {"type": "integer"},
             "priority_score": _NUM, "escalated": _BOOL}
    return {
        "Ticket": {"type": "object", "properties": _ticket_columns(),
                   "required": [c.name for c in IMPORT_TABLES["tickets"].columns if c.required],
                   "description": "A ticket in the data format of the README (tickets table); "
                                  "values are read like a CSV file's cells."},
        "Triage": {"type": "object", "properties": {
            f: {"type": [types.get(f, _STR)["type"], "null"]} for f in FIELDS}},
        "Feedback": {"type": "object", "required": ["ticket_id"], "properties": {
            "ticket_id": _STR, "category": _STR, "tier": {"enum": ["P1", "P2", "P3", "P4"]},
            "sentiment": {"enum": ["negative", "neutral", "positive"]},
            "flag": {"type": ["boolean", "string"], "description": "true, or the reason as a "
                     "text; \"true\"/\"yes\"/\"1\" and \"false\"/\"no\"/\"0\" read as "
                     "true and false"},
            "new_category": _BOOL, "by": _STR, "comment": _STR}},
        "Job": {"type": "object", "properties": {
            "job_id": _STR, "kind": _STR,
            "state": {"enum": ["queued", "running", "done", "failed", "interrupted"]},
            "progress": {"type": ["object", "null"]}, "result": {},
            "error": {"type": ["string", "null"]}, "exit_code": {"type": ["integer", "null"]}}},
        "Error": {"type": "object", "required": ["error"], "properties": {
            "error": _STR, "file": _STR, "row": {"type": "integer"}, "column": _STR}},
    }


def _paths() -> dict[str, Any]:
    tickets_in = {"oneOf": [_ref("Ticket"), {"type": "array", "items": _ref("Ticket")},
                            {"type": "object", "properties": {
                                "tickets": {"type": "array", "items": _ref("Ticket")},
                                "create_missing": _BOOL}}]}
    tickets_out = _json({"type": "object", "properties": {
        "tickets": {"type": "array", "items": _ref("Triage")},
        "ignored_fields": {"type": "array", "items": _STR, "description":
                           "fields of the tickets that are no column of ours (not stored); "
                           "only when there are any"},
        "warnings": {"type": "array", "items": _STR, "description":
                     "times that look wrong (a reply or resolution before creation, a"
                     " creation more than a day ahead of the server's clock); stored as"
                     " sent; only when there are any"}}})
    job = _json({"type": "object", "properties": {"job": _ref("Job")}})
    webhook = {"requestBody": _json({"type": "object"}),
               "responses": {"200": {"description": "triaged", **tickets_out},
                             **_answers(400, 401, 404, 413, 415, 422, 503)}}
    return {
        "/api/v1/health": {"get": {
            "summary": "Is the server up (no token needed); ready: models loaded and the "
                       "first background run of the emerging-topic alerts done",
            "security": [], "responses": {"200": {"description": "up", **_json({
                "type": "object", "properties": {
                    "status": {"type": "string"}, "version": {"type": "string"},
                    "instance": {"type": "string"}, "ready": {"type": "boolean"}}})}}}},
        "/api/v1/openapi.json": {"get": {"summary": "This document",
                                         "responses": _answers(200, 401)}},
        "/api/v1/tickets": {"post": {
            "summary": "Upsert tickets and triage them at once (idempotent by ticket_id)",
            "parameters": [{"name": "create_missing", "in": "query", "schema": _BOOL,
                            "description": "create customers the tickets refer to"}],
            "requestBody": _json(tickets_in),
            "responses": {"200": {"description": "triaged", **tickets_out},
                          **_answers(400, 401, 413, 415, 422, 503)}}},
        "/api/v1/tickets/{ticket_id}": {"get": {
            "summary": "A ticket, its triage and the words behind its category and sentiment",
            "parameters": [{"name": "ticket_id", "in": "path", "required": True,
                            "schema": _STR}],
            "responses": _answers(200, 401, 404)}},
        "/api/v1/feedback": {"post": {
            "summary": "Record a correction (like triage feedback add)",
            "requestBody": _json(_ref("Feedback")),
            "responses": _answers(201, 400, 401, 415, 422, 503)}},
        "/api/v1/import/{table}": {"post": {
            "summary": "Import a file (like triage import): multipart field 'file', optional "
                       "preset, mapping (a saved mapping or preset name), map (SOURCE=TARGET, "
                       "repeatable), create_missing",
            "parameters": [{"name": "table", "in": "path", "required": True,
                            "schema": {"enum": list(IMPORT_TABLES)}}],
            "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object"}}}},
            "responses": {**_answers(200, 202, 400, 401, 404, 411, 413, 415, 422)}}},
        "/api/v1/jobs/{kind}": {"post": {
            "summary": "Start score, train or retrain (options: the verb's, as JSON, e.g. "
                       "{\"full\": true})",
            "parameters": [{"name": "kind", "in": "path", "required": True,
                            "schema": {"enum": ["score", "train", "retrain"]}}],
            "requestBody": _json({"type": "object"}),
            "responses": {"202": {"description": "started", **job},
                          **_answers(401, 404, 422)}}},
        "/api/v1/jobs/{job_id}": {"get": {
            "summary": "A job's state, progress, result or error",
            "parameters": [{"name": "job_id", "in": "path", "required": True, "schema": _STR}],
            "responses": {"200": {"description": "the job", **job}, **_answers(401, 404)}}},
        "/api/v1/webhooks/zendesk": {"post": {
            "summary": "A Zendesk trigger's webhook (signed; README has the body template), or "
                       "a Zendesk webhook subscribed to ticket events (their own JSON)",
            **webhook}},
        "/api/v1/webhooks/freshdesk": {"post": {
            "summary": "A Freshdesk automation's webhook (shared-secret header; README has the "
                       "body template)", **webhook}},
        "/api/v1/cli": {"post": {
            "summary": "Run a triage verb in the server (the owner token of the triage command "
                       "only)", "requestBody": _json({"type": "object", "properties": {
                "argv": {"type": "array", "items": _STR}}}),
            "responses": {"202": {"description": "started", **job}, **_answers(400, 401, 403)}}},
    }


def document() -> dict[str, Any]:
    from triage_core import __version__

    return {
        "openapi": "3.1.0",
        "info": {"title": "ticket-triage API", "version": __version__,
                 "description": "Tickets triaged as they arrive; jobs; helpdesk webhooks."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": _schemas()},
        "paths": _paths(),
    }
