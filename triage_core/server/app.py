"""The server: one process, one read-write connection, the API, the intake, the jobs.

:class:`Server` opens the database (refusing a file another process holds), and while running
(:meth:`Server.lifespan`) registers itself for the dashboard of the same process (which then
uses its connection, :mod:`~triage_core.server.context`), runs the ticket intake and the job
runner, and writes the owner record next to the database so that ``triage`` verbs send their
work here. :func:`api_app` is the API alone as a Starlette app; ``triage serve`` serves the
dashboard's ``st.App`` with the same routes and lifespan.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from triage_core.errors import DatabaseBusyError, TriageError
from triage_core.server import capture, context, owner, tokens, version
from triage_core.server.background import Emerging, EmergingWatch
from triage_core.server.intake import Intake
from triage_core.server.jobs import JobRunner, RunVerb
from triage_core.server.settings import ServerSettings
from triage_core.server.uploads import Uploads
from triage_core.store import Store, saved_mappings
from triage_core.store.mapping import ImportMapping

log = logging.getLogger("triage.server")


class Verbs(Protocol):
    """The ``triage`` command as the server runs it (given by the CLI: no import cycle)."""

    def run(self, argv: list[str]) -> int: ...

    def classify(self, argv: list[str]) -> tuple[str, bool]:
        """(verb name, whether it writes); raises TriageError for what cannot be forwarded."""

    def on_db(self, argv: list[str], db: str) -> list[str]: ...

    def refusal(self, argv: list[str]) -> tuple[str | None, str] | None:
        """(the option, why) when the verb's command line refuses a value; None when not."""


class Server:
    def __init__(self, db: str | Path, config: Mapping[str, Any], verbs: Verbs,
                 config_path: str | None = None) -> None:
        self.db_path = str(Path(db).resolve())
        self.config = dict(config)
        self.config_path = config_path
        self.settings = ServerSettings.from_mapping(config.get("server"))
        self.verbs = verbs
        self.instance = uuid.uuid4().hex
        self.url = ""
        running = owner.live(self.db_path)
        if running:
            raise TriageError(f"{self.db_path} is already served by process {running['pid']} "
                              f"at {running['url']}; stop that server first")
        try:
            self.store = Store(self.db_path, threads=self.settings.threads())
        except DatabaseBusyError:
            other = owner.starting(self.db_path)
            if other is None:
                raise
            raise TriageError(f"{self.db_path} is already served by process {other['pid']} "
                              "(starting up); stop that server first") from None
        token, salt, digested = tokens.owner_token()
        self.owner_token = token
        # The record at once, before the address is known: a verb that finds the file locked
        # meanwhile waits for this server instead of failing (see owner.wait_until_live).
        self._record()
        try:
            self.verifier = tokens.Verifier(self.store.cursor(), salt, digested)
            self.webhook_mappings = self._webhook_mappings()
            self.intake = Intake(self.store, self.config, self.settings)
            run: RunVerb = verbs.run
            self.jobs = JobRunner(self.store, run, self.settings.job_history, self.after_write)
            self.uploads = Uploads(self.settings.max_upload_bytes)
            self.emerging = EmergingWatch(self.store, self.config,
                                          self.settings.emerging_refresh_seconds)
        except BaseException:
            owner.remove(self.db_path, self.instance)
            self.store.close()
            raise
        # more warm-up that readiness waits for (the dashboard's pages, dashboard/warm.py)
        self.warm_checks: list[Callable[[], bool]] = []

    def _webhook_mappings(self) -> dict[str, ImportMapping]:
        """Each helpdesk webhook's mapping (``[server.webhooks] zendesk_mapping`` and
        ``freshdesk_mapping``), read once; a wrong one stops the server from starting."""
        found = {}
        for helpdesk, ref in (("zendesk", self.settings.zendesk_mapping),
                              ("freshdesk", self.settings.freshdesk_mapping)):
            key = f"[server.webhooks] {helpdesk}_mapping"
            try:
                mapping = saved_mappings.load(self.store, ref)
            except TriageError as exc:
                raise TriageError(f"{key}: {exc}") from None
            if mapping.table not in (None, "tickets"):
                raise TriageError(f"{key}: {ref!r} is a mapping for {mapping.table}, not for"
                                  " tickets")
            found[helpdesk] = mapping
        return found

    # -- life -------------------------------------------------------------------------------
    def start(self) -> None:
        _import_scikit_learn()
        capture.install()
        context.serve(self)
        os.environ["TRIAGE_DB"] = self.db_path  # the dashboard of this process
        self.intake.start()
        self.jobs.start()
        self.emerging.start()
        self._record()
        log.info("serving %s at %s", self.db_path, self.url)

    def _record(self) -> None:
        """Write the owner record (``url`` empty until the server listens)."""
        owner.write(self.db_path, {"url": self.url, "pid": os.getpid(), "instance": self.instance,
                                   "token": self.owner_token, "db": self.db_path,
                                   "started_at": time.time()})

    def stop(self) -> None:
        owner.remove(self.db_path, self.instance)
        self.emerging.stop()
        self.jobs.stop()
        chosen = sys.modules.get("triage_core.models.selection")  # (never imported: none)
        if chosen is not None:
            chosen.stop_workers()  # model selection's worker processes, if any
        self.intake.stop()
        context.serve(None)
        capture.uninstall()
        self.uploads.close()
        self.store.close(wait_seconds=60)  # a page's query may still be running

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any = None) -> AsyncIterator[None]:
        self.start()
        try:
            yield
        finally:
            self.stop()

    def routes(self) -> list[Any]:
        from triage_core.server import api

        return api.routes(self)

    # -- used by the routes, the dashboard and the in-process CLI --------------------------
    def after_write(self) -> None:
        """Something other than ticket intake committed: caches are stale, repair triage."""
        version.bump()
        self.intake.repair_later()

    def models(self, store: Store) -> Any:
        """The active models (TriageModels), loaded once at start and again when another
        version becomes active; shared with the dashboard's explanations."""
        return self.intake.quick.models(store)

    def emerging_alerts(self) -> Emerging | None:
        """The latest emerging-topic alerts (None until the first background run is done)."""
        return self.emerging.latest()

    def ready(self) -> bool:
        """Warmed up: the intake's models loaded, the first emerging-topic run done and
        whatever else registered in :attr:`warm_checks` (the dashboard's pages)."""
        return self.started() and all(check() for check in self.warm_checks)

    def started(self) -> bool:
        """The server's own warm-up is done: the intake's models loaded and the first
        emerging-topic run done."""
        return self.intake.warm and self.emerging.latest() is not None

    def reset_database(self) -> None:
        """Empty the database in place (``triage demo --force`` while served): every table,
        view and sequence of the triage schema goes, then the schema is built again. API
        tokens and the job log stay."""
        keep = ("api_tokens", "jobs")
        cur = self.store.cursor()
        try:
            objects = cur.query(
                "SELECT 'VIEW' AS kind, view_name AS name FROM duckdb_views()"
                " WHERE NOT internal AND schema_name = 'main'"
                " UNION ALL SELECT 'TABLE', table_name FROM duckdb_tables()"
                " WHERE schema_name = 'main' AND NOT temporary"
                " UNION ALL SELECT 'SEQUENCE', sequence_name FROM duckdb_sequences()"
                " WHERE schema_name = 'main'")
            with cur.transaction():
                for kind, name in objects.itertuples(index=False):
                    if name not in keep:  # names come from the catalog, quoted
                        cur.execute(f'DROP {kind} IF EXISTS "{name.replace(chr(34), 2 * chr(34))}"'
                                    " CASCADE")
            cur.migrate()
        finally:
            cur.close()
        self.after_write()

    def scrub(self, text: str) -> str:
        """``text`` without this machine's paths (error bodies of the API)."""
        for path in (str(self.uploads.folder), str(Path(self.db_path).parent)):
            text = text.replace(path + os.sep, "").replace(path, "")
        return text

    def ticket(self, ticket_id: str) -> dict[str, Any] | None:
        """A ticket with its triage and the words behind its category and sentiment (plain
        rows, no DataFrames: a one-row frame of forty columns cost more than the lookup)."""
        from triage_core.triage import pipeline

        cur = self.store.cursor()
        try:
            found = cur.rows("SELECT * FROM tickets WHERE ticket_id = ?", [ticket_id])
            if not found:
                return None
            triage = (cur.rows("SELECT * FROM triaged_tickets WHERE ticket_id = ?", [ticket_id])
                      if cur.table_exists("triaged_tickets") else [])
            models = self.intake.quick.models(cur)
            why = pipeline.explain(cur, self.config, ticket_id, models=models)
        finally:
            cur.close()
        return {"ticket": _json_row(found[0]),
                "triage": _json_row(triage[0]) if triage else None,
                "explanation": why}

    def stored_tickets(self, ticket_ids: list[str]) -> dict[str, tuple[dt.datetime, str, str]]:
        """The stored ``created_at`` (UTC), ``customer_id`` and ``status`` of those of
        ``ticket_ids`` that are tickets."""
        cur = self.store.cursor()
        try:
            found = cur.rows("SELECT ticket_id, created_at, customer_id, status FROM tickets"
                             " WHERE ticket_id IN (SELECT unnest(?::VARCHAR[]))", [ticket_ids])
        finally:
            cur.close()
        return {r["ticket_id"]: (r["created_at"], r["customer_id"], r["status"]) for r in found}

    def feedback(self, body: Mapping[str, Any], by: str) -> list[int]:
        from triage_core.ops import feedback

        cur = self.store.cursor()
        try:
            flagged = body.get("flag")
            changes = {"category": body.get("category"), "tier": body.get("tier"),
                       "sentiment": body.get("sentiment"),
                       "flag": "wrong prediction" if flagged is True else flagged or None}
            ids = feedback.add(cur, str(body["ticket_id"]), changes,
                               by=str(body.get("by") or by), comment=str(body.get("comment") or ""),
                               allow_new_category=bool(body.get("new_category")))
        finally:
            cur.close()
        self.after_write()
        return ids

    def job_argv(self, kind: str, options: Any) -> list[str]:
        """The command line of a job from its JSON options (see api.JOB_OPTIONS)."""
        from triage_core.schema import MAX_NOTE_CHARS
        from triage_core.server.api import JOB_OPTIONS, Problem

        allowed = JOB_OPTIONS[kind]
        if not isinstance(options, dict):
            raise Problem(422, "send the job's options as a JSON object (or nothing)")
        argv = [kind, "--json"] + (["--config", self.config_path] if self.config_path else [])
        for key, value in options.items():
            if key not in allowed:
                raise Problem(422, f"unknown option {key!r} for {kind} (options: "
                              f"{', '.join(allowed) or 'none'})")
            opt, kind_of = allowed[key]
            if kind_of is bool:
                if not isinstance(value, bool):
                    raise Problem(422, f"{key} must be true or false")
                argv += [opt] if value else []
            elif kind_of is float and (isinstance(value, bool)
                                       or not isinstance(value, int | float)):
                raise Problem(422, f"{key} must be a number")
            elif kind_of is str and not isinstance(value, str):
                raise Problem(422, f"{key} must be a text")
            elif kind_of is str and len(value) > MAX_NOTE_CHARS:
                raise Problem(422, f"{key} is {len(value):,} characters long; at most"
                                   f" {MAX_NOTE_CHARS:,}")
            else:
                argv += [opt, str(value)]
        _check_options(self.verbs, argv, {opt: key for key, (opt, _) in allowed.items()})
        if isinstance(options.get("profile"), str):
            self._check_profile(options["profile"])
        return argv

    def _check_profile(self, name: str) -> None:
        """422 now for a weight profile that does not exist (the job would fail after 202)."""
        from triage_core.ops import scoring
        from triage_core.server.api import Problem

        cur = self.store.cursor()
        try:
            known = scoring.profile_names(cur, self.config)
        finally:
            cur.close()
        if name not in known:
            raise Problem(422, f"profile: unknown priority profile {name!r}; known: "
                          f"{', '.join(known)}")


def _check_options(verbs: Verbs, argv: list[str], names: dict[str, str]) -> None:
    """422 now for a value the verb refuses (``tolerance`` 2, NaN): parsed as the CLI parses it,
    without running it (the job would fail with the CLI's message after the 202)."""
    from triage_core.server.api import Problem

    refused = verbs.refusal(argv)
    if refused is not None:
        opt, why = refused
        raise Problem(422, f"{names[opt]}: {why}" if opt in names else why)


def api_app(server: Server) -> Any:
    """The API alone (no dashboard) as a Starlette app: ``triage serve --no-dashboard``."""
    from starlette.applications import Starlette

    return Starlette(routes=server.routes(), lifespan=server.lifespan)


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    """A database row for JSON: a float that is not a number (NaN, infinite) is null."""
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v
            for k, v in row.items()}


# The scikit-learn modules the server's threads import when they first need them (ticket
# explanations, topics and emerging alerts, training jobs, the plain baseline).
_SCIKIT_LEARN = ("sklearn.base", "sklearn.exceptions", "sklearn.utils", "sklearn.pipeline",
                 "sklearn.feature_extraction.text", "sklearn.cluster", "sklearn.decomposition",
                 "sklearn.metrics", "sklearn.svm", "sklearn.model_selection")


def _import_scikit_learn() -> None:
    """Import scikit-learn in this thread before the server starts any other (0.8 s). Its
    package and ``sklearn.base`` import each other: two threads importing parts of it for the
    first time at once can meet the package half-initialized, and one of them fails with
    "cannot import name 'clone' from partially initialized module 'sklearn.base'" (seen when
    a ticket's explanation and the background search for emerging topics started together)."""
    import importlib

    for name in _SCIKIT_LEARN:
        importlib.import_module(name)
