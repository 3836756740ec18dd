"""The only package that talks to DuckDB.

- :mod:`~triage_core.store.connection`: :class:`Store`, the connection every query goes through
  (parameters always bound; one cursor per thread);
- :mod:`~triage_core.store.migrations`: the schema, tables and views, forward-only;
- :mod:`~triage_core.store.importing`: read -> stage -> validate -> one transaction -> upsert;
- :mod:`~triage_core.store.formats` and :mod:`~triage_core.store.mapping`: readers per file type,
  helpdesk presets and column mapping.
"""

from __future__ import annotations

from triage_core.store.connection import DEFAULT_DB, ENV_DB, Store, default_db_path
from triage_core.store.importing import ImportResult
from triage_core.store.migrations import MIGRATIONS, SCHEMA_VERSION

__all__ = ["DEFAULT_DB", "ENV_DB", "MIGRATIONS", "SCHEMA_VERSION", "ImportResult", "Store",
           "default_db_path"]
