"""Table definitions of the DuckDB store: the one place that names tables and columns.

Every table the importer accepts is described here with its columns, DuckDB type, whether the
column is required and what it means; the README's data-format section is checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type: VARCHAR, TIMESTAMP, INTEGER, DOUBLE
    required: bool
    meaning: str
    allowed: tuple[str, ...] | None = None  # allowed values (after lower-casing), if a closed set
    min_value: float | None = None
    max_value: float | None = None
    # an id or a label: one line of at most this many characters (no control characters)
    max_chars: int | None = None

    @property
    def choices(self) -> tuple[str, ...]:
        """The values a mapping may map a file's value to: the closed set, or every whole
        number of a bounded whole-number column (csat: 1-5); empty for free columns."""
        if self.allowed:
            return self.allowed
        if self.type == "INTEGER" and self.min_value is not None and self.max_value is not None:
            return tuple(str(v) for v in range(int(self.min_value), int(self.max_value) + 1))
        return ()


@dataclass(frozen=True)
class Reference:
    column: str
    table: str
    target: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # upsert key: importing a row with the same key replaces it
    references: tuple[Reference, ...] = field(default_factory=tuple)
    importable: bool = True

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


# Ids and labels are one line of at most this many characters, without control characters
# (line breaks, Unicode's line and paragraph separators too, tabs, escape sequences, NUL) or
# the bidirectional overrides that make a text display as another, nor invisible characters
# that make two ids look the same (zero-width space, word joiner, a byte-order mark; not the
# zero-width (non-)joiners that emoji and Persian words need, nor the left-to-right and
# right-to-left marks that right-to-left labels carry): they are keys,
# shown in tables and charts, and passed in URLs. The two patterns match the same characters.
# Bidirectional controls, as a str.translate table that removes them: a value holding one is
# shown without them (an override such as U+202E would show "C7\u202egpj.exe" as "C7exe.jpg": a
# label that lies about itself) in the dashboard and the terminal's tables.
BIDI = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                              "\u2066\u2067\u2068\u2069\u061c"))
MAX_ID_CHARS = 200
MAX_LABEL_CHARS = 100  # a category (imported, or added by a correction: ops/feedback.py)
MAX_NOTE_CHARS = 5000  # free text a person adds: a correction's comment or flag, a model's note
CONTROL_CHARACTERS = (r"[\x00-\x1f\x7f-\x9f\u200b\u2028-\u202e\u2060\u2066-\u2069"
                      r"\ufeff]")  # Python's re
CONTROL_CHARACTERS_SQL = (r"[\x00-\x1f\x7f-\x9f\x{200b}\x{2028}-\x{202e}\x{2060}"
                          r"\x{2066}-\x{2069}\x{feff}]")  # RE2

TICKET_STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
OPEN_STATUSES = ("new", "open", "pending", "on_hold")
SENTIMENT_LABELS = ("negative", "neutral", "positive")


def effective_category(ticket: str = "k", correction: str = "corr", result: str = "r") -> str:
    """The ``category, category_source`` columns of the ``ticket_categories`` view
    (store/migrations.py), for a query that joins ``tickets`` (as ``ticket``),
    ``ticket_corrections`` and ``triage_results`` itself: DuckDB does not push a filter on the
    tickets into the view, which joins every ticket to its prediction (0.4 s at 1M tickets
    for a query that wants a few thousand)."""
    c, k, r = f"{correction}.category", f"{ticket}.category", f"{result}.category"
    return (f"coalesce({c}, {k}, {r}) AS category,"
            f" CASE WHEN {c} IS NOT NULL THEN 'correction' WHEN {k} IS NOT NULL THEN 'label'"
            f" WHEN {r} IS NOT NULL THEN 'model' END AS category_source")

TICKETS = Table(
    "tickets",
    (
        Column("ticket_id", "VARCHAR", True, "Unique ticket id from the helpdesk",
               max_chars=MAX_ID_CHARS),
        Column("created_at", "TIMESTAMP", True, "When the customer opened the ticket (UTC)"),
        Column("customer_id", "VARCHAR", True, "Customer who wrote it; must exist in customers",
               max_chars=MAX_ID_CHARS),
        Column("channel", "VARCHAR", False, "Where it came in: email, chat, phone, web, social"),
        Column("subject", "VARCHAR", False, "Subject line"),
        Column("body", "VARCHAR", False, "Full text the customer wrote (may hold quoted replies)"),
        Column("status", "VARCHAR", True, "new, open, pending, on_hold, solved or closed",
               allowed=TICKET_STATUSES),
        Column("first_response_at", "TIMESTAMP", False, "First agent reply (UTC)"),
        Column("resolved_at", "TIMESTAMP", False, "When it was solved (UTC)"),
        Column("agent_id", "VARCHAR", False, "Agent who handled it, if any",
               max_chars=MAX_ID_CHARS),
        Column("csat", "INTEGER", False, "Customer satisfaction 1-5", min_value=1, max_value=5),
        Column("category", "VARCHAR", False, "Known issue-type label (training data), if any",
               max_chars=MAX_LABEL_CHARS),
        Column("language", "VARCHAR", False, "ISO 639-1 language code, e.g. en, de, es"),
        Column("source_priority", "VARCHAR", False,
               "The helpdesk's own priority, e.g. Low, Medium, High, Urgent"),
    ),
    key=("ticket_id",),
    references=(Reference("customer_id", "customers", "customer_id"),),
)

CUSTOMERS = Table(
    "customers",
    (
        Column("customer_id", "VARCHAR", True, "Unique customer id",
               max_chars=MAX_ID_CHARS),
        Column("created_at", "TIMESTAMP", False, "When the customer signed up (UTC)"),
        Column("segment", "VARCHAR", False, "Segment, e.g. consumer, smb, enterprise, vip"),
        Column("plan", "VARCHAR", False, "Plan or product tier, e.g. free, basic, pro"),
        Column("lifetime_value", "DOUBLE", False, "Customer lifetime value in currency units",
               min_value=0),
    ),
    key=("customer_id",),
)

CAMPAIGNS = Table(
    "campaigns",
    (
        Column("campaign_id", "VARCHAR", True, "Unique campaign id",
               max_chars=MAX_ID_CHARS),
        Column("name", "VARCHAR", True, "Human-readable campaign name"),
        Column("channel", "VARCHAR", False,
               "email, paid_search, paid_social, display, affiliate, webinar, referral, ..."),
        Column("utm_source", "VARCHAR", False, "utm_source tag"),
        Column("utm_medium", "VARCHAR", False, "utm_medium tag"),
        Column("utm_campaign", "VARCHAR", False, "utm_campaign tag"),
        Column("start_at", "TIMESTAMP", True, "Launch time (UTC)"),
        Column("end_at", "TIMESTAMP", False, "End time (UTC); empty while running; not before"
               " `start_at` (a row ending before it starts is refused)"),
        Column("spend", "DOUBLE", False, "Money spent on the campaign", min_value=0),
        Column("revenue", "DOUBLE", False, "Revenue attributed to the campaign by marketing",
               min_value=0),
    ),
    key=("campaign_id",),
)

TOUCHPOINTS = Table(
    "touchpoints",
    (
        Column("customer_id", "VARCHAR", True, "Customer touched; must exist in customers",
               max_chars=MAX_ID_CHARS),
        Column("campaign_id", "VARCHAR", True, "Campaign that touched; must exist in campaigns",
               max_chars=MAX_ID_CHARS),
        Column("touched_at", "TIMESTAMP", True, "When the touch happened (UTC)"),
        Column("kind", "VARCHAR", True, "impression, click, open, visit, signup, purchase, ..."),
    ),
    key=("customer_id", "campaign_id", "touched_at", "kind"),
    references=(
        Reference("customer_id", "customers", "customer_id"),
        Reference("campaign_id", "campaigns", "campaign_id"),
    ),
)

AGENTS = Table(
    "agents",
    (
        Column("agent_id", "VARCHAR", True, "Unique agent id",
               max_chars=MAX_ID_CHARS),
        Column("name", "VARCHAR", True, "Agent's display name"),
        Column("team", "VARCHAR", True, "Team the agent belongs to"),
        Column("skills", "VARCHAR", False, "Skills separated by ';', e.g. billing;refunds"),
        Column("languages", "VARCHAR", False, "Languages separated by ';' (default en)"),
        Column("capacity", "INTEGER", True, "Open tickets the agent can hold at once",
               min_value=0),
        Column("senior", "INTEGER", False, "1 for senior agents (VIP work), else 0",
               min_value=0, max_value=1),
    ),
    key=("agent_id",),
)

CSAT_SURVEYS = Table(
    "csat_surveys",
    (
        Column("ticket_id", "VARCHAR", True, "Ticket the survey answers; must exist in tickets",
               max_chars=MAX_ID_CHARS),
        Column("score", "INTEGER", True, "Satisfaction 1 (very unhappy) to 5 (very happy)",
               min_value=1, max_value=5),
        Column("comment", "VARCHAR", False, "Free-text comment of the customer"),
        Column("answered_at", "TIMESTAMP", False, "When the customer answered (UTC)"),
    ),
    key=("ticket_id",),
    references=(Reference("ticket_id", "tickets", "ticket_id"),),
)

# In load order: a table comes after the tables its references point to.
IMPORT_TABLES: dict[str, Table] = {
    t.name: t for t in (CUSTOMERS, CAMPAIGNS, AGENTS, TICKETS, TOUCHPOINTS, CSAT_SURVEYS)
}


def create_table_sql(table: Table) -> str:
    cols = ",\n    ".join(
        f"{c.name} {c.type}{' NOT NULL' if c.required else ''}" for c in table.columns
    )
    return (
        f"CREATE TABLE IF NOT EXISTS {table.name} (\n    {cols},\n"
        f"    PRIMARY KEY ({', '.join(table.key)})\n)"
    )
