"""The REST API under ``/api/v1`` (Starlette routes; ``triage serve`` mounts them next to the
dashboard). The OpenAPI document is :mod:`triage_core.server.openapi`.

Every route except ``/api/v1/health`` needs ``Authorization: Bearer TOKEN``; a missing or wrong
token gets 401 and nothing else. Errors are JSON ``{"error": "one line"}`` (an import error also
names the file, row and column) and never show server paths or tracebacks: 400 unreadable body,
401 token, 403 not allowed for this token, 404 unknown, 413 too large, 422 refused data, 503 the
same rows kept changing (retry), 500 a bug (the server log has the traceback).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import logging
import math
import re
import shutil
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route

from triage_core.errors import (
    ImportValidationError,
    TriageError,
    UnknownTicketError,
    short_label,
)
from triage_core.server import openapi, webhooks
from triage_core.server.intake import Request as Intake
from triage_core.server.tokens import Caller
from triage_core.store.retry import WriteConflict

if TYPE_CHECKING:
    from triage_core.server.app import Server

log = logging.getLogger("triage.server")
Handler = Callable[[Request], Awaitable[Response]]
# POST /api/v1/jobs/{kind}: the JSON options each job takes, as the verb's command-line options.
JOB_OPTIONS: dict[str, dict[str, tuple[str, type]]] = {
    "score": {"profile": ("--profile", str), "as_of": ("--as-of", str),
              "full": ("--full", bool), "refresh_campaigns": ("--refresh-campaigns", bool)},
    "train": {"note": ("--note", str), "no_activate": ("--no-activate", bool),
              "force": ("--force", bool), "no_score": ("--no-score", bool)},
    "retrain": {"force": ("--force", bool), "tolerance": ("--tolerance", float)},
}
OWNER = "triage"  # who submitted the jobs of the triage command (the owner token)
MAX_WAIT = 10.0  # seconds a GET /api/v1/jobs/{id}?wait=S may be held open
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # may be one, or an escaped backslash
_YES_NO = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False,
           "": False}
_LONG = re.compile(r"[^\s'\"]{120,}")  # a value an error message quotes, shown shortened
# a quoted value (with blanks), its quotes paired from the left: an opening quote after no
# letter, a closing one before none ("can't" opens nothing); only the long ones are cut
_QUOTED = re.compile(r"(?<!\w)'[^'\n]*'(?!\w)|(?<!\w)\"[^\"\n]*\"(?!\w)")
MAX_ERROR_CHARS = 2000
WEBHOOK_ORDER_SECONDS = 30.0  # longest wait of an update for its ticket's creation
FEEDBACK_KEYS = ("ticket_id", "category", "tier", "sentiment", "flag", "new_category", "by",
                 "comment")


def _plain(value: Any) -> Any:
    """JSON for what query results hold: times as ISO text, numpy scalars as numbers."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return str(value)


class JSON(JSONResponse):
    """A JSON response that also writes times and numpy values."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=_plain, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")).encode()


class Problem(Exception):
    """An HTTP error with a one-line message."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.extra = extra


def error(status: int, message: str, headers: dict[str, str] | None = None,
          **extra: Any) -> JSON:
    return JSON({"error": shorten(message), **extra}, status_code=status, headers=headers)


def shorten(message: str) -> str:
    """``message`` with each run of 120 or more characters without a space or quote (a value
    sent, such as a customer id of megabytes that an import message quotes) cut to 40, each
    quoted value longer than 120 characters cut to 40, and the whole at most
    ``MAX_ERROR_CHARS``: an error stays one short line whatever a request sent."""
    message = _LONG.sub(lambda m: f"{m[0][:40]}…", message)
    message = _QUOTED.sub(lambda m: f"{m[0][:41]}…{m[0][0]}" if len(m[0]) > 121 else m[0],
                          message)
    message = " ".join(message.splitlines())
    return message if len(message) <= MAX_ERROR_CHARS else message[:MAX_ERROR_CHARS - 1] + "…"


def _for_callers(detail: str, helpdesk: str | None) -> str:
    """An import's refusal in the words of the API's callers: what a webhook's body or an API
    request sends, and where a webhook's mapping goes, instead of the CLI's options."""
    from triage_core.store.mapping import MAP_COLUMNS
    from triage_core.store.validation import USE_MAPPING

    if helpdesk:
        columns = ("; add them to the webhook's body (the README's template) or name a mapping"
                   f" that finds them as [server.webhooks] {helpdesk}_mapping")
        detail = detail.replace(USE_MAPPING, f"name it as [server.webhooks] {helpdesk}_mapping"
                                f" (start from 'triage mapping show {helpdesk}') and restart"
                                " the server")
    else:  # POST /tickets takes no mapping: the values and times it accepts are the advice
        columns = "; send them in every ticket (the schema: GET /api/v1/openapi.json)"
        cut = detail.find(_MAP_VALUES)
        if cut >= 0 and detail.endswith(USE_MAPPING):
            detail = detail[:cut]
        detail = _FORMAT_ADVICE.sub(")", detail)
    return detail.replace(MAP_COLUMNS, columns)


_MAP_VALUES = "; map them in a mapping file ("  # ... and import with --mapping FILE
# "(expected ISO 8601, ...; its values fit the format: add to the mapping [formats] ...)"
_FORMAT_ADVICE = re.compile(r"; (?:its values fit|no usual form fits) .*? to the mapping"
                            r" \[formats\] .*\)$")


def for_uploads(detail: str) -> str:
    """An import's refusal in the words of ``POST /import/{table}``: its form fields
    (``mapping``: a saved mapping's name, ``map``: SOURCE=TARGET), not the CLI's options."""
    from triage_core.store.mapping import MAP_COLUMNS
    from triage_core.store.validation import USE_MAPPING

    return (detail
            .replace(MAP_COLUMNS, "; map them with the form field map (SOURCE=TARGET, once per"
                     " column) or mapping (a saved mapping's name: 'triage mapping suggest'"
                     " writes one, 'triage mapping save' keeps it)")
            .replace(USE_MAPPING, "save it with 'triage mapping save NAME FILE'; send NAME as"
                     " the form field mapping")
            .replace("--map ", "map ").replace("--preset ", "preset "))


def endpoint(auth: bool = True, owner: bool = False) -> Callable[..., Handler]:
    """A route handler ``fn(api, request, caller)`` with token check and error mapping."""
    def wrap(fn: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
        @functools.wraps(fn)
        async def handler(api: Api, request: Request) -> Response:
            caller = None
            if auth:
                caller = api.server.verifier.caller(request.headers.get("authorization"))
                if caller is None:
                    return error(401, "unauthorized", {"WWW-Authenticate": "Bearer"})
                if owner and not caller.owner:
                    return error(403, "this route is for the triage command on the server's "
                                 "machine")
            try:
                return await fn(api, request, caller)
            except Problem as p:
                return error(p.status, api.server.scrub(str(p)), **p.extra)
            except ImportValidationError as exc:
                return error(422, api.server.scrub(str(exc)), file=exc.file, row=exc.row,
                             column=exc.column)
            except WriteConflict as exc:
                return error(503, str(exc), {"Retry-After": "1"})
            except UnknownTicketError as exc:
                return error(404, api.server.scrub(str(exc)))
            except TriageError as exc:
                return error(422, api.server.scrub(str(exc)))
            except Exception:
                log.exception("%s %s failed", request.method, request.url.path)
                return error(500, "internal error; the server log has the details")
        return handler
    return wrap


def refuse_compressed(request: Request) -> None:
    """415 for a compressed body (Content-Encoding): none is read compressed."""
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        raise Problem(415, f"Content-Encoding {encoding[:40]!r} is not supported; send the "
                      "body uncompressed")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) beyond ``limit`` bytes and (415) when compressed."""
    refuse_compressed(request)

    def too_big() -> Problem:  # built when needed: this runs for every request
        return Problem(413, f"the body is larger than {limit / 2**20:g} MB (the server's "
                       "[server] max_request_mb / max_upload_mb)")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_big()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big()
        chunks.append(chunk)
    return b"".join(chunks)


class Number(float):
    """A JSON number with a fraction or an exponent, keeping the text it was sent as: a
    ticket's values are read like a CSV file's cells (``1e5`` stays ``1e5``, not
    ``100000.0``)."""

    text: str

    def __new__(cls, text: str) -> Number:
        value = super().__new__(cls, text)
        if not math.isfinite(value):  # 1e309: no number; the text would become "inf"
            raise Problem(400, f"the body is not valid JSON for this API (the number "
                          f"{text[:40]} is too large)")
        value.text = text
        return value


def _whole(text: str) -> int:
    """A JSON integer; 400 (not Python's advice on its own limits) beyond Python's digits."""
    limit = sys.get_int_max_str_digits()
    if limit and len(text.lstrip("-")) > limit:
        raise Problem(400, f"the body is not valid JSON for this API (a number of "
                      f"{len(text):,} digits)")
    return int(text)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object; 400 for a field given twice in it (JSON leaves open which one counts:
    the last one was kept, silently)."""
    value = dict(pairs)
    if len(value) < len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _v in pairs if k in seen or seen.add(k))
        raise Problem(400, f"the body is not valid JSON for this API (the field "
                      f"{short_label(twice)!r} appears twice in one object)")
    return value


def _constant(name: str) -> Any:
    raise Problem(400, f"the body is not valid JSON ({name} is not a JSON value)")


POLL_SECONDS = 0.05  # how often a held request looks whether its job has ended


async def until_set(event: threading.Event, seconds: float) -> bool:
    """Wait on the event loop until ``event`` is set or ``seconds`` have passed; whether it
    is set. (A thread per wait, as ``asyncio.to_thread`` gives, queued long polls behind the
    loop's few executor threads: 14 waits of 10 s took up to 30 s.)"""
    deadline = time.monotonic() + seconds
    while not event.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        await asyncio.sleep(min(POLL_SECONDS, left))
    return True


def parse_json(body: bytes) -> Any:
    """The JSON value of a body (None for an empty one); 400 for one that is not JSON (also
    NaN, Infinity and numbers beyond a float) or that holds text that is not Unicode."""
    if not body.strip():
        return None
    try:
        value = json.loads(body, parse_float=Number, parse_int=_whole,
                           parse_constant=_constant, object_pairs_hook=_object)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, f"the body is not valid JSON ({str(exc).splitlines()[0]})") from None
    except RecursionError:  # arrays or objects nested thousands deep
        raise Problem(400, "the body is not valid JSON for this API (nested too deeply)"
                      ) from None
    # a lone surrogate comes escaped ("\ud800") or encoded (UTF-8's ED A0 80, which the JSON
    # decoder lets through): an ASCII body without the escape cannot carry one; a UTF-16 or
    # UTF-32 body (the decoder reads them too) has NUL bytes, and its escape is spread out
    if _SURROGATE_ESCAPE.search(body) or not body.isascii() or b"\x00" in body:
        _check_unicode(value)
    return value


def _check_unicode(value: Any) -> None:
    """Refuse (400) a lone UTF-16 surrogate (``"\\ud800"`` in JSON) in any text or field name
    of ``value``, naming where it is: no database, file or answer can encode it."""
    stack: list[tuple[Any, _At]] = [(value, None)]
    while stack:  # no recursion: json.loads nests deeper than Python recurses
        item, at = stack.pop()
        if isinstance(item, str):
            _refuse_surrogate(item, at)
        elif isinstance(item, dict):
            for key, inner in item.items():
                _refuse_surrogate(key, at, name=True)
                stack.append((inner, (at, key)))
        elif isinstance(item, list):
            stack.extend((inner, (at, i)) for i, inner in enumerate(item))


_At = tuple[Any, str | int] | None  # (where the parent is, key or index); None: the body


def _refuse_surrogate(text: str, at: _At, name: bool = False) -> None:
    """400 when ``text`` (the value at ``at``, or a field name there) has a surrogate."""
    found = _SURROGATE.search(text)
    if not found:
        return
    parts: list[str | int] = []
    while at is not None:
        at, part = at
        parts.append(part)
    path = ""
    for part in reversed(parts):
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else part
    shown = json.dumps(path if len(path) <= 100 else f"{path[:48]}…{path[-48:]}",
                       ensure_ascii=False)  # quoted, and on one line
    where = ((f"a field name in {shown}" if path else "a field name") if name
             else f"field {shown}" if path else "the body")
    raise Problem(400, f"{where}: text with an unpaired surrogate (\\u{ord(found[0]):04x}) is "
                  "not valid Unicode")


def ticket_rows(rows: Any, limit: int) -> list[dict[str, str | None]]:
    """Tickets (JSON objects) as rows of texts, like a CSV file gives them to the import."""
    if isinstance(rows, dict):
        rows = [rows]
    if not isinstance(rows, list) or not rows:
        raise Problem(400, "send a ticket object, a list of them, or {\"tickets\": [...]}")
    if len(rows) > limit:
        raise Problem(413, f"{len(rows):,} tickets in one request; at most {limit:,} (the "
                      "server's [server] max_tickets_per_request)")
    clean = []
    for i, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise Problem(400, f"ticket {i} is not a JSON object")
        if not row:  # a frame without columns: the import cannot even start
            raise Problem(422, f"ticket {i} has no fields (an empty object)")
        for key, value in row.items():
            if isinstance(value, dict | list):
                raise Problem(422, f"ticket {i}: {key!r} must be a text, a number or null")
        clean.append({str(k): _cell(v) for k, v in row.items()})
    return clean


def _cell(value: Any) -> str | None:
    """A JSON value as the text of a CSV cell: true/false, a number as it was written."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    return value.text if isinstance(value, Number) else str(value)


def ignored_fields(rows: list[dict[str, str | None]]) -> list[str]:
    """The fields of ``rows`` that the import reads into no column of tickets, sorted. Matched
    as the import matches names (``Subject`` and ``Created At`` are read; they were listed);
    422 for two fields of one column (``subject`` and ``Subject``)."""
    return list(_ignored(tuple(dict.fromkeys(k for row in rows for k in row))))


def time_warnings(rows: list[dict[str, str | None]]) -> list[str]:
    """What the data-health check would say of the times of the tickets in ``rows``, at once:
    a reply or resolution before the ticket was created (a negative duration), a ticket
    created more than a day after the server's clock (the SLA clock passes over it). Times in
    forms other than ISO 8601 are not checked here."""
    from triage_core.ops.health import future_limit
    from triage_core.store.quick_import import plain_time

    found: dict[str, list[str]] = {}
    limit = future_limit()
    names = _columns_of(tuple(dict.fromkeys(k for row in rows for k in row)))
    for row in rows:
        fields = {names[k]: v for k, v in row.items() if k in names}
        created = plain_time(fields.get("created_at"))
        if created is None:
            continue
        wrong = [f"{column} before created_at (a negative duration)"
                 for column in ("first_response_at", "resolved_at")
                 if (when := plain_time(fields.get(column))) is not None and when < created]
        if created > limit:
            wrong.append("created_at more than a day after the server's clock (the SLA clock"
                         " passes over it)")
        for what in wrong:
            found.setdefault(what, []).append(short_label(str(fields.get("ticket_id") or "")))
    out = []
    for what, ids in found.items():
        shown = ", ".join(repr(i) for i in ids[:3]) + (f" and {len(ids) - 3:,} more"
                                                        if len(ids) > 3 else "")
        out.append(f"{len(ids):,} {'ticket has' if len(ids) == 1 else 'tickets have'} {what}:"
                   f" {shown}")
    return out


@functools.lru_cache(maxsize=256)
def _columns_of(fields: tuple[str, ...]) -> dict[str, str]:
    """The fields among ``fields`` that name the ticket id or one of its times (matched as
    the import matches names: ``Created At`` is created_at) -> that column; normalized once
    per set of names, not once per ticket (0.5 s for 5,000 tickets)."""
    from triage_core.store.mapping import normalize_name

    wanted = ("ticket_id", "created_at", "first_response_at", "resolved_at")
    return {k: normalize_name(k) for k in fields if normalize_name(k) in wanted}


@functools.lru_cache(maxsize=256)
def _ignored(fields: tuple[str, ...]) -> tuple[str, ...]:
    """:func:`ignored_fields` of one set of field names (a helpdesk sends the same few again
    and again; planning them takes a millisecond, more than the rest of the request)."""
    from triage_core.schema import TICKETS
    from triage_core.store.mapping import normalize_name, plan_columns

    seen: dict[str, str] = {}
    for name in fields:  # Subject and subject: the import would see "Subject_1"
        twin = seen.setdefault(normalize_name(name), name)
        if twin != name and normalize_name(name) in TICKETS.column_names:
            raise Problem(422, f"fields {twin!r} and {name!r} both name the column "
                          f"{normalize_name(name)}; send one of them")
    plan = plan_columns(TICKETS, list(fields), None, "request body", require=False)
    return tuple(sorted(plan.ignored))


def yes_no(value: Any) -> bool | None:
    """A text the API reads as true or false (``true``/``yes``/``1``, ``false``/``no``/``0``
    and the empty text, any case), or None for any other value."""
    if isinstance(value, str):
        return _YES_NO.get(value.strip().lower())
    return None


def flag(value: Any, name: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    read = yes_no(value)
    if read is None:
        raise Problem(422, f"{name} must be true or false")
    return read


class Api:
    """The route handlers; ``server`` is the running :class:`~triage_core.server.app.Server`."""

    def __init__(self, server: Server) -> None:
        self.server = server
        # ticket id -> the webhook requests writing it now (done when answered): an update
        # that names no requester waits for an earlier request creating its ticket
        self._writing: dict[str, list[asyncio.Future[None]]] = {}

    @endpoint(auth=False)
    async def health(self, request: Request, caller: Caller | None) -> Response:
        from triage_core import __version__

        return JSON({"status": "ok", "version": __version__,
                     "instance": self.server.instance, "ready": self.server.ready()})

    @endpoint()
    async def openapi(self, request: Request, caller: Caller | None) -> Response:
        return JSON(openapi.document())

    async def _intake(self, rows: list[dict[str, str | None]], source: str, create_missing: bool,
                      helpdesk: str | None = None, **extra: Any) -> Response:
        # a helpdesk's webhook: its mapping (one object each, so its requests batch together)
        mapping = self.server.webhook_mappings[helpdesk] if helpdesk else None
        request = Intake(rows, source, create_missing, mapping, loop=asyncio.get_running_loop())
        self.server.intake.submit(request)
        assert request.waiter is not None
        try:
            return JSON({"tickets": await request.waiter, **extra})
        except ImportValidationError as exc:
            detail = _for_callers(exc.detail, helpdesk)
            if detail == exc.detail:
                raise
            raise ImportValidationError(exc.file, detail, exc.row, exc.column) from None

    @endpoint()
    async def post_tickets(self, request: Request, caller: Caller | None) -> Response:
        s = self.server.settings
        payload = parse_json(await read_body(request, s.max_request_bytes))
        create = flag(request.query_params.get("create_missing"), "create_missing")
        if isinstance(payload, dict) and "tickets" in payload:
            unknown = [k for k in payload if k not in ("tickets", "create_missing")]
            if unknown:  # "create_mising": true was ignored, and the request refused later
                raise Problem(422, f"unknown key {unknown[0]!r} beside \"tickets\"; the "
                              "keys are tickets and create_missing")
            create = create or flag(payload.get("create_missing"), "create_missing")
            payload = payload["tickets"]
        rows = ticket_rows(payload, s.max_tickets_per_request)
        # named like the import's "ignored columns", a long name cut as errors cut values
        ignored = [short_label(name) for name in ignored_fields(rows)]
        warnings = time_warnings(rows)
        return await self._intake(rows, "request body", create,
                                  **({"ignored_fields": ignored} if ignored else {}),
                                  **({"warnings": warnings} if warnings else {}))

    @endpoint()
    async def get_ticket(self, request: Request, caller: Caller | None) -> Response:
        # (ids are stored trimmed, as POST and feedback trim them)
        found = await run_in_threadpool(self.server.ticket,
                                        request.path_params["ticket_id"].strip())
        if found is None:
            raise Problem(404, "no such ticket")
        return JSON(found)

    @endpoint()
    async def post_feedback(self, request: Request, caller: Caller | None) -> Response:
        body = parse_json(await read_body(request, self.server.settings.max_request_bytes))
        if not isinstance(body, dict) or body.get("ticket_id") in (None, ""):
            raise Problem(422, "send {\"ticket_id\": ..., and category, tier, sentiment or "
                          "flag}")
        unknown = sorted(set(body) - set(FEEDBACK_KEYS))
        if unknown:
            raise Problem(422, f"unknown field {unknown[0]!r} (fields: "
                          f"{', '.join(FEEDBACK_KEYS)})")
        for key in FEEDBACK_KEYS:
            value = body.get(key)
            allowed = ((str, bool) if key in ("flag", "new_category")
                       else (str, int) if key == "ticket_id" else (str,))
            if value is not None and (not isinstance(value, allowed) or (
                    isinstance(value, bool) and bool not in allowed)):  # true is no ticket id
                kind = {(str, bool): "a text or true/false", (bool,): "true or false",
                        (str, int): "a text"}.get(allowed, "a text")
                raise Problem(422, f"{key} must be {kind}")
        if yes_no(body.get("flag")) is not None:  # "false" is false, as everywhere in the API
            body = {**body, "flag": yes_no(body["flag"])}
        if body.get("new_category") is not None:  # "yes" as create_missing reads it
            body = {**body, "new_category": flag(body["new_category"], "new_category")}
        if isinstance(body.get("ticket_id"), str):  # " TR1 " was stored as TR1 by the intake
            body = {**body, "ticket_id": body["ticket_id"].strip()}
        from triage_core.ops.feedback import OPTIONS

        try:
            ids = await run_in_threadpool(self.server.feedback, body,
                                          caller.name if caller else "")
        except TriageError as exc:  # the fields of this route, not the CLI's options
            if OPTIONS not in str(exc):
                raise
            raise Problem(422, str(exc).replace(OPTIONS, "")) from None
        return JSON({"feedback_ids": ids}, status_code=201)

    @endpoint()
    async def post_import(self, request: Request, caller: Caller | None) -> Response:
        from triage_core.schema import IMPORT_TABLES

        table = request.path_params["table"]
        if table not in IMPORT_TABLES:
            raise Problem(404, f"unknown table {table!r}; choose one of "
                          f"{', '.join(IMPORT_TABLES)}")
        refuse_compressed(request)  # (a gzipped upload was "Invalid multipart data")
        argv, folder = await self.server.uploads.import_argv(request, table)
        job = self.server.jobs.submit("import", argv, caller.name if caller else "", True,
                                      after=lambda: shutil.rmtree(folder, ignore_errors=True))
        finished = await until_set(job.done, self.server.settings.import_wait_seconds)
        if not finished:
            return JSON({"job": job.to_dict()}, status_code=202,
                                headers={"Location": f"/api/v1/jobs/{job.job_id}"})
        if job.state != "done":
            where: dict[str, Any] = {}
            if isinstance(job.failure, ImportValidationError):  # as POST /tickets says it
                where = {"file": Path(job.failure.file).name, "row": job.failure.row,
                         "column": job.failure.column}
            raise Problem(422, for_uploads(job.error or "the import failed"), **where,
                          job=job.to_dict())
        return JSON(job.result() or {})

    @endpoint()
    async def post_job(self, request: Request, caller: Caller | None) -> Response:
        kind = request.path_params["kind"]
        if kind not in JOB_OPTIONS:
            raise Problem(404, f"unknown job {kind!r}; POST to score, train or retrain")
        options = parse_json(await read_body(request, self.server.settings.max_request_bytes))
        job = self.server.jobs.submit(kind, self.server.job_argv(
                                          kind, {} if options is None else options),
                                      caller.name if caller else "", True)
        return JSON({"job": job.to_dict()}, status_code=202,
                            headers={"Location": f"/api/v1/jobs/{job.job_id}"})

    @endpoint()
    async def get_job(self, request: Request, caller: Caller | None) -> Response:
        owner = bool(caller and caller.owner)
        job = await run_in_threadpool(self.server.jobs.get, request.path_params["job_id"])
        by = job.get("submitted_by") if isinstance(job, dict) else job and job.submitted_by
        if job is None or (by == OWNER and not owner):  # verbs of the triage command: theirs
            raise Problem(404, "no such job")
        if isinstance(job, dict):  # stored: a job of an earlier run of the server
            shown = {k: v for k, v in job.items() if k != "submitted_by"}
            if not owner and shown["error"]:
                shown["error"] = self.server.scrub(shown["error"])
            return JSON({"job": shown})
        wait = request.query_params.get("wait", "")
        if wait:  # hold the poll until the job ends, briefly
            try:
                seconds = float(wait)
            except ValueError:
                seconds = math.nan
            if math.isnan(seconds):  # (NaN passed min and max: no wait at all)
                raise Problem(400, "wait must be a number of seconds")
            await until_set(job.done, min(max(seconds, 0.0), MAX_WAIT))
        shown = job.to_dict(output=owner)
        if not owner and shown["error"]:
            shown["error"] = self.server.scrub(shown["error"])
        return JSON({"job": shown})

    @endpoint(owner=True)
    async def post_cli(self, request: Request, caller: Caller | None) -> Response:
        body = parse_json(await read_body(request, self.server.settings.max_request_bytes))
        argv = body.get("argv") if isinstance(body, dict) else None
        if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
            raise Problem(400, "send {\"argv\": [\"verb\", \"--option\", ...]}")
        kind, writes = self.server.verbs.classify(argv)
        job = self.server.jobs.submit(kind, self.server.verbs.on_db(argv, self.server.db_path),
                                      OWNER, writes)
        return JSON({"job": job.to_dict()}, status_code=202)

    @endpoint()
    async def zendesk(self, request: Request, caller: Caller | None) -> Response:
        s = self.server.settings
        if not s.zendesk_secret:
            raise Problem(404, "the Zendesk webhook is off: set [server.webhooks] "
                          "zendesk_signing_secret or $TRIAGE_ZENDESK_SECRET")
        body = await read_body(request, s.max_request_bytes)
        refusal = webhooks.zendesk_refusal(s.zendesk_secret, request.headers, body,
                                           s.webhook_max_age_seconds)
        if refusal:
            return error(401, refusal)
        return await self._webhook(body, "zendesk")

    @endpoint()
    async def freshdesk(self, request: Request, caller: Caller | None) -> Response:
        s = self.server.settings
        if not s.freshdesk_secret:
            raise Problem(404, "the Freshdesk webhook is off: set [server.webhooks] "
                          "freshdesk_secret or $TRIAGE_FRESHDESK_SECRET")
        if not webhooks.freshdesk_genuine(s.freshdesk_secret,
                                          request.headers.get(s.freshdesk_header)):
            return error(401, f"missing or wrong {s.freshdesk_header} header")
        body = await read_body(request, s.max_request_bytes)
        return await self._webhook(body, "freshdesk", strip_html=True)

    async def _webhook(self, body: bytes, helpdesk: str, strip_html: bool = False) -> Response:
        """A helpdesk's tickets, mapped by its preset; requesters created; a new ticket without
        ``created_at`` created now, an existing one keeping its own (and its customer when the
        update names none). A Zendesk ticket event gives its ticket."""
        received = dt.datetime.now(dt.UTC)
        payload = parse_json(body)
        try:
            event = webhooks.zendesk_event_rows(payload) if helpdesk == "zendesk" else None
        except ValueError as exc:
            raise Problem(422, str(exc)) from None
        rows = ticket_rows(event if event is not None
                           else webhooks.ticket_rows(payload, strip_html),
                           self.server.settings.max_tickets_per_request)
        tickets = {str(r.get("ticket_id") or "").strip() for r in rows if isinstance(r, dict)}
        earlier = {t: list(self._writing.get(t, ())) for t in tickets}
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        for t in tickets:
            self._writing.setdefault(t, []).append(done)
        try:
            return await self._complete_and_take(rows, received, helpdesk, earlier)
        finally:
            done.set_result(None)
            for t in tickets:
                self._writing[t].remove(done)
                if not self._writing[t]:
                    del self._writing[t]

    async def _complete_and_take(self, rows: list[dict[str, Any]], received: dt.datetime,
                                 helpdesk: str,
                                 earlier: dict[str, list[asyncio.Future[None]]]) -> Response:
        """Fill what an update leaves out from its stored ticket (after the webhook requests
        for the same ticket that came earlier, such as its creation, are answered), then take
        the tickets in."""
        webhooks.ours_first(rows, self.server.webhook_mappings[helpdesk].columns)
        ids = webhooks.incomplete(rows)
        stored = await run_in_threadpool(self.server.stored_tickets, ids) if ids else {}
        waits = {f for t in ids if t not in stored for f in earlier.get(t, ())}
        if waits:
            await asyncio.wait(waits, timeout=WEBHOOK_ORDER_SECONDS)
            stored = await run_in_threadpool(self.server.stored_tickets, ids)
        webhooks.complete(rows, received, stored)
        return await self._intake(rows, f"{helpdesk} webhook", True, helpdesk)


class _AnyText(Convertor[str]):
    """A path parameter that may hold any character: Starlette's ``path`` stops at a line
    break, and a ticket id may have one (the GET of such a ticket answered 404)."""

    regex = "[\\s\\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anytext", _AnyText())


def routes(server: Server) -> list[Route]:
    api = Api(server)
    p = "/api/v1"

    def route(path: str, handler: Callable[..., Awaitable[Response]], method: str) -> Route:
        return Route(p + path, functools.partial(handler, api), methods=[method])

    known: list[Route] = []

    async def unmatched(request: Request) -> Response:
        """Anything else under /api/v1: a JSON error like every other (Starlette's own 404 and
        405 are plain text), 405 with Allow for a known path and another method; 401 without
        a valid token (which routes exist is not told to anyone)."""
        if server.verifier.caller(request.headers.get("authorization")) is None:
            return error(401, "unauthorized", {"WWW-Authenticate": "Bearer"})
        allowed = sorted({m for r in known
                          if r.matches(request.scope)[0] == Match.PARTIAL for m in r.methods or ()})
        if allowed:
            return error(405, f"{request.method} is not allowed here (allowed: "
                         f"{', '.join(allowed)})", headers={"Allow": ", ".join(allowed)})
        return error(404, "no such route; see /api/v1/openapi.json")

    known += [
        route("/health", Api.health, "GET"),
        route("/openapi.json", Api.openapi, "GET"),
        route("/tickets", Api.post_tickets, "POST"),
        route("/tickets/{ticket_id:anytext}", Api.get_ticket, "GET"),
        route("/feedback", Api.post_feedback, "POST"),
        route("/import/{table}", Api.post_import, "POST"),
        route("/jobs/{kind}", Api.post_job, "POST"),
        route("/jobs/{job_id}", Api.get_job, "GET"),
        route("/webhooks/zendesk", Api.zendesk, "POST"),
        route("/webhooks/freshdesk", Api.freshdesk, "POST"),
        route("/cli", Api.post_cli, "POST"),
    ]
    return [*known, Route(p + "/{rest:anytext}", _AnyMethod(unmatched), methods=None)]


class _AnyMethod:
    """A request handler that Starlette's Route mounts as an ASGI app, so that every method
    reaches it, TRACE and WebDAV's included (a function endpoint takes GET only unless its
    methods are listed; an unlisted one got Starlette's plain-text 405, token or not)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        response = await self.handler(Request(scope, receive))
        await response(scope, receive, send)
