"""``[server]`` settings: address, request caps, intake batching, jobs and webhook secrets.

Defaults live in ``config/defaults/server.toml``; webhook secrets may also come from the
environment (``$TRIAGE_ZENDESK_SECRET``, ``$TRIAGE_FRESHDESK_SECRET``), which wins over the file,
so they need not be written into a config file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from triage_core.config import Checker, section

ENV_ZENDESK = "TRIAGE_ZENDESK_SECRET"
ENV_FRESHDESK = "TRIAGE_FRESHDESK_SECRET"
_KEYS = ("host", "port", "max_request_mb", "max_upload_mb", "max_tickets_per_request",
         "intake_batch_tickets", "intake_wait_ms", "intake_quiet_ms", "intake_helper",
         "duckdb_threads", "conflict_wait_seconds",
         "import_wait_seconds", "job_history", "emerging_refresh_minutes", "warm_pages",
         "webhooks")
_WEBHOOK_KEYS = ("zendesk_signing_secret", "max_age_seconds", "freshdesk_secret",
                 "freshdesk_header", "zendesk_mapping", "freshdesk_mapping")
_MB = 1024 * 1024


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    max_request_bytes: int
    max_upload_bytes: int
    max_tickets_per_request: int
    intake_batch_tickets: int
    intake_wait_seconds: float
    intake_quiet_seconds: float
    conflict_wait_seconds: float
    import_wait_seconds: float
    job_history: int
    emerging_refresh_seconds: float
    zendesk_secret: str
    webhook_max_age_seconds: float
    freshdesk_secret: str
    freshdesk_header: str
    warm_pages: bool = True
    intake_helper: bool = True
    duckdb_threads: int = 0  # DuckDB's threads in the server (0: one per core but one)
    # how each helpdesk's webhook values become ours: a preset, a saved mapping or a TOML file
    zendesk_mapping: str = "zendesk"
    freshdesk_mapping: str = "freshdesk"

    def threads(self) -> int:
        """DuckDB's threads in the server: ``duckdb_threads``, or one per core but one, which
        is left to the server's Python (the event loop and the intake share one interpreter):
        on 2 cores, DuckDB's second thread only competed with them (20 clients posting single
        tickets: p50 15.9 ms with one DuckDB thread against 18.6 ms with two, six runs each,
        alternated; `triage score --full` of 1,000,000 tickets through the server 39.3 s
        against 34.3 s; the pages' first loads at 1,000,000 tickets alike, 0.9-1.4 s)."""
        if self.duckdb_threads:
            return self.duckdb_threads
        cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                 else os.cpu_count() or 1)
        return max(1, cores - 1)

    @classmethod
    def from_mapping(cls, over: Mapping[str, Any] | None = None,
                     env: Mapping[str, str] | None = None) -> ServerSettings:
        """The packaged ``[server]`` section with ``over`` on top, validated; secrets from
        ``env`` (default: the process environment) win over the file."""
        env = os.environ if env is None else env
        check = Checker("server")
        d = section("server", over)
        check.keys(d, _KEYS)
        hooks = check.table(d["webhooks"], "webhooks", _WEBHOOK_KEYS)

        def secret(key: str, var: str) -> str:
            value = env.get(var) or hooks[key]
            if not isinstance(value, str):
                check.fail(f"webhooks.{key} must be a text, got {value!r}")
            return value.strip()

        return cls(
            host=check.text(d["host"], "host"),
            port=check.integer(d["port"], "port", lo=0, hi=65535),
            max_request_bytes=int(check.number(d["max_request_mb"], "max_request_mb",
                                               positive=True) * _MB),
            max_upload_bytes=int(check.number(d["max_upload_mb"], "max_upload_mb",
                                              positive=True) * _MB),
            max_tickets_per_request=check.integer(d["max_tickets_per_request"],
                                                  "max_tickets_per_request", lo=1),
            intake_batch_tickets=check.integer(d["intake_batch_tickets"],
                                               "intake_batch_tickets", lo=1),
            intake_wait_seconds=check.number(d["intake_wait_ms"], "intake_wait_ms", lo=0) / 1000,
            intake_quiet_seconds=check.number(d["intake_quiet_ms"], "intake_quiet_ms",
                                              lo=0) / 1000,
            conflict_wait_seconds=check.number(d["conflict_wait_seconds"],
                                               "conflict_wait_seconds", positive=True),
            import_wait_seconds=check.number(d["import_wait_seconds"], "import_wait_seconds",
                                             lo=0),
            job_history=check.integer(d["job_history"], "job_history", lo=1),
            emerging_refresh_seconds=check.number(d["emerging_refresh_minutes"],
                                                  "emerging_refresh_minutes",
                                                  positive=True) * 60,
            zendesk_secret=secret("zendesk_signing_secret", ENV_ZENDESK),
            webhook_max_age_seconds=check.number(hooks["max_age_seconds"],
                                                 "webhooks.max_age_seconds", positive=True),
            freshdesk_secret=secret("freshdesk_secret", ENV_FRESHDESK),
            freshdesk_header=check.text(hooks["freshdesk_header"], "webhooks.freshdesk_header"),
            warm_pages=check.flag(d["warm_pages"], "warm_pages"),
            intake_helper=check.flag(d["intake_helper"], "intake_helper"),
            duckdb_threads=check.integer(d["duckdb_threads"], "duckdb_threads", lo=0, hi=1024),
            zendesk_mapping=check.text(hooks["zendesk_mapping"], "webhooks.zendesk_mapping"),
            freshdesk_mapping=check.text(hooks["freshdesk_mapping"],
                                         "webhooks.freshdesk_mapping"),
        )
