"""The schema of the database: forward-only migrations (tables and views) and SQL macros.

Never edit a released migration; append a new one. The views hold business rules that several
readers share (a correction beats a known label, which beats the model), so they are written once.
"""

from __future__ import annotations

from triage_core.schema import IMPORT_TABLES, create_table_sql

# Blanks around a value are what Python's str.strip() removes: every Unicode white space
# (tabs, line breaks, form feeds, no-break and typographic spaces, ...), not only " ".
_WHITESPACE = " || ".join(f"chr({ord(c)})" for c in map(chr, range(0x3001))
                          if c.isspace())
# DuckDB's trim with a set of characters costs about 0.4 µs a value (5,000,000 ids: 2.1 s), so
# it runs only on values whose first or last character is one of them (the same result: 0.13 s).
_TEXT = "CAST(v AS VARCHAR)"
TRIM_MACRO = ("CREATE OR REPLACE TEMP MACRO triage_trim(v) AS"
              f" CASE WHEN contains({_WHITESPACE}, left({_TEXT}, 1))"
              f" OR contains({_WHITESPACE}, right({_TEXT}, 1))"
              f" THEN trim({_TEXT}, {_WHITESPACE}) ELSE {_TEXT} END")

# Timestamps: ISO 8601 with or without offset (converted to UTC), also with a space before the
# offset or a one-digit hour in it ("2026-03-01 14:30:00 +0200", "... -3:00": helpdesk exports),
# which DuckDB's TIMESTAMPTZ cast refuses and its TIMESTAMP cast reads but drops the offset of,
# so they are rewritten ("...14:30:00+0200", "...-03:00") when the cast fails. Only texts that
# start with a four-digit year: the casts also read "epoch", "infinity" and "03-12-26" (as the
# year 3).
TS_MACRO = r"""
CREATE OR REPLACE TEMP MACRO triage_ts(v) AS CASE
    WHEN ascii(ltrim(CAST(v AS VARCHAR))) BETWEEN 48 AND 57
        AND substr(ltrim(CAST(v AS VARCHAR)), 5, 1) = '-'
    THEN coalesce(TRY_CAST(TRY_CAST(v AS TIMESTAMPTZ) AS TIMESTAMP),
        TRY_CAST(TRY_CAST(regexp_replace(regexp_replace(trim(CAST(v AS VARCHAR)),
        '([0-9])\s*([+-])([0-9])(:?[0-9][0-9])?$', '\1\20\3\4'),
        '([0-9])\s+([+-][0-9][0-9](:?[0-9][0-9])?|Z)$', '\1\2') AS TIMESTAMPTZ) AS TIMESTAMP))
END
"""

MIGRATIONS: list[tuple[int, list[str]]] = [
    (
        1,
        [create_table_sql(IMPORT_TABLES[t])
         for t in ("customers", "campaigns", "agents", "tickets", "touchpoints")],
    ),
    (
        2,
        [
            # model registry (models/registry.py): model files, metrics, activation history
            """CREATE TABLE model_versions (
                version INTEGER PRIMARY KEY, kind VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
                active BOOLEAN NOT NULL DEFAULT false, estimator VARCHAR, train_summary VARCHAR,
                metrics VARCHAR, n_train INTEGER, n_corrections INTEGER DEFAULT 0, note VARCHAR,
                model BLOB NOT NULL)""",
            """CREATE TABLE model_events (
                event_at TIMESTAMP NOT NULL, kind VARCHAR, version INTEGER, event VARCHAR,
                actor VARCHAR)""",
            # per-ticket model output (triage/pipeline.py); text_hash finds new or changed tickets
            """CREATE TABLE triage_results (
                ticket_id VARCHAR PRIMARY KEY, text_hash UBIGINT, category VARCHAR,
                category_confidence DOUBLE, category_top VARCHAR, category_words VARCHAR,
                sentiment DOUBLE, sentiment_label VARCHAR, sentiment_words VARCHAR,
                severity INTEGER, severity_reasons VARCHAR, model_version INTEGER,
                scored_at TIMESTAMP)""",
            # named priority weight profiles (ops/scoring.py); the TOML defaults seed it
            """CREATE TABLE priority_profiles (
                name VARCHAR PRIMARY KEY, settings VARCHAR NOT NULL, updated_at TIMESTAMP)""",
            # feedback loop (ops/feedback.py): corrections with audit trail and undo
            """CREATE TABLE feedback (
                feedback_id INTEGER PRIMARY KEY, ticket_id VARCHAR NOT NULL, field VARCHAR NOT NULL,
                old_value VARCHAR, new_value VARCHAR NOT NULL, comment VARCHAR, author VARCHAR,
                created_at TIMESTAMP NOT NULL, undone_at TIMESTAMP, undone_by VARCHAR)""",
            """CREATE TABLE settings (key VARCHAR PRIMARY KEY, value VARCHAR)""",
            create_table_sql(IMPORT_TABLES["csat_surveys"]),
        ],
    ),
    (
        3,
        [
            # The business rule "a correction beats a known label, which beats the model", in
            # one place. ticket_corrections: per ticket, the newest correction of each field
            # that is not undone (NULL where there is none).
            """CREATE OR REPLACE VIEW ticket_corrections AS
               SELECT ticket_id,
                      arg_max(new_value, feedback_id) FILTER (WHERE field = 'category')
                          AS category,
                      arg_max(new_value, feedback_id) FILTER (WHERE field = 'tier') AS tier,
                      arg_max(new_value, feedback_id) FILTER (WHERE field = 'sentiment')
                          AS sentiment,
                      bool_or(field = 'flag') AS flagged,
                      bool_or(field IN ('category', 'sentiment')) AS corrected
               FROM feedback WHERE undone_at IS NULL GROUP BY ticket_id""",
            # ticket_categories: every ticket's effective category and where it came from.
            """CREATE OR REPLACE VIEW ticket_categories AS
               SELECT k.ticket_id,
                      coalesce(c.category, k.category, r.category) AS category,
                      CASE WHEN c.category IS NOT NULL THEN 'correction'
                           WHEN k.category IS NOT NULL THEN 'label'
                           WHEN r.category IS NOT NULL THEN 'model' END AS category_source,
                      r.category AS predicted_category,
                      r.category_confidence AS model_confidence
               FROM tickets k
               LEFT JOIN ticket_corrections c USING (ticket_id)
               LEFT JOIN triage_results r USING (ticket_id)""",
        ],
    ),
    (
        4,
        [
            # the helpdesk's own priority (mapped to a 0..1 level by [priority] source_levels)
            "ALTER TABLE tickets ADD COLUMN IF NOT EXISTS source_priority VARCHAR",
            # the language detected from the text, for tickets that came without one
            "ALTER TABLE triage_results ADD COLUMN IF NOT EXISTS language VARCHAR",
            # never written: explanations are computed on demand
            "ALTER TABLE triage_results DROP COLUMN IF EXISTS category_words",
            "ALTER TABLE triage_results DROP COLUMN IF EXISTS sentiment_words",
            # named import mappings saved from the Data page or `triage mapping save`
            """CREATE TABLE IF NOT EXISTS import_mappings (
                name VARCHAR PRIMARY KEY, table_name VARCHAR, body VARCHAR NOT NULL,
                updated_at TIMESTAMP)""",
        ],
    ),
    (
        5,
        [
            # manual reassignments and confirmed rebalancing moves (ops/rebalance.py)
            """CREATE TABLE IF NOT EXISTS reassignments (
                ticket_id VARCHAR NOT NULL, from_agent VARCHAR, to_agent VARCHAR NOT NULL,
                reason VARCHAR, author VARCHAR, created_at TIMESTAMP NOT NULL)""",
        ],
    ),
    (
        6,
        [
            # feedback ids from a sequence (concurrent writers never compute the same id),
            # started after the ids already used
            "CREATE SEQUENCE IF NOT EXISTS feedback_ids START 1",
            "SELECT count(nextval('feedback_ids')) FROM"
            " (SELECT unnest(range(coalesce(max(feedback_id), 0))) FROM feedback)",
            # API tokens of `triage serve` (server/tokens.py): only a salted digest is kept
            """CREATE TABLE IF NOT EXISTS api_tokens (
                token_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, salt VARCHAR NOT NULL,
                digest VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, revoked_at TIMESTAMP)""",
            # background work of the server (server/jobs.py): score, train, retrain, CLI verbs
            """CREATE TABLE IF NOT EXISTS jobs (
                job_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, state VARCHAR NOT NULL,
                submitted_by VARCHAR, created_at TIMESTAMP NOT NULL, started_at TIMESTAMP,
                finished_at TIMESTAMP, exit_code INTEGER, error VARCHAR)""",
        ],
    ),
    (
        7,
        # a finished job's --json output, so GET /api/v1/jobs/{id} still answers with it after
        # a restart (a retrain's new version and whether it was promoted)
        ["ALTER TABLE jobs ADD COLUMN IF NOT EXISTS result VARCHAR"],
    ),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]
