"""Data health: the gaps in a helpdesk's own data that would make results hollow or misleading.

Each finding says what is missing, what it does to the results, and how to fill it. The CLI
prints them on stderr after ``import``, ``train`` and ``score``; the Data and Overview pages show
them. Nothing here changes data.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from triage_core.errors import short_label

if TYPE_CHECKING:
    from triage_core.store import Store

# A ticket created more than this after the machine's clock has a wrong date (a year typed
# 2100; a local time read as UTC is within it): the SLA clock does not run to it.
FUTURE_SLACK = dt.timedelta(days=1)
ABSURD_FIRST_RESPONSE_DAYS = 90  # a median first response slower than this is a mapping problem


@dataclass(frozen=True)
class Finding:
    code: str
    message: str


def check(store: Store, config: Mapping[str, Any] | None = None,
          profile: str | None = None) -> list[Finding]:
    """What is missing or doubtful in the database now (empty when nothing is); with
    ``config``, also the categories its routing rules do not name and the helpdesk priorities
    that the priority profile (``profile``, else the active one) does not know. Plain rows, no
    DataFrames: it runs after every import, whose process needs no pandas otherwise."""
    tickets = int(store.scalar("SELECT count(*) FROM tickets") or 0)
    if not tickets:
        return []
    out: list[Finding] = []
    out += _text(tickets, int(store.scalar(_EMPTY) or 0))
    out += _unscored(store)
    out += _labels(store)
    out += _label_variants(store)
    out += _placeholder_labels(store)
    out += _values(store)
    out += _campaigns(store)
    out += _durations(store.rows(_DURATIONS, [future_limit()] * 2)[0])
    out += _agents(store)
    if config is not None:
        out += _unrouted(store, config)
        out += _source_levels(store, config, profile)
    return out


# Tickets without text, as a WHERE of its own: DuckDB then trims the bodies only of the
# tickets whose subject is empty (as a FILTER in _DURATIONS' pass it trimmed every body:
# 1.0 s instead of 0.15 s at 1,000,000 tickets).
# A body of markup only ("<p>&nbsp;</p>", an HTML export's empty description) has no text
# either: no letter or digit outside tags and entities.
_EMPTY = ("SELECT count(*) FROM tickets WHERE coalesce(trim(subject), '') = ''"
          " AND NOT regexp_matches(regexp_replace(regexp_replace(coalesce(body, ''),"
          " '<[^<>]*>', ' ', 'g'), '&[#0-9A-Za-z]+;', ' ', 'g'), '[\\pL\\pN]')")
_DURATIONS = """
SELECT count(*) FILTER (WHERE first_response_at < created_at) AS early_reply,
       count(*) FILTER (WHERE created_at > ?) AS future,
       count(*) FILTER (WHERE created_at <= ?) AS present,
       count(*) FILTER (WHERE created_at = TIMESTAMP '1970-01-01 00:00:00') AS epoch,
       count(*) FILTER (WHERE resolved_at < created_at) AS early_solve,
       median(date_diff('minute', created_at, first_response_at)) / 1440.0 AS days
FROM tickets
"""


def future_limit() -> dt.datetime:
    """The latest creation time the SLA clock runs to (UTC, naive like the stored times)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None) + FUTURE_SLACK


def newest_sql(column: str = "created_at", limit: str = "?") -> str:
    """SQL for the newest ``column`` the data's clock runs to, bound to :func:`future_limit`
    at ``limit``: times after it are passed over (one ticket dated 2100, a typo in the year,
    was "now" for the SLA clock, the emerging topics, the forecasts' recent load and
    history), unless every one is after it (a world dated ahead of this machine)."""
    return f"coalesce(max({column}) FILTER (WHERE {column} <= {limit}), max({column}))"


def newest_created(store: Store) -> dt.datetime | None:
    """The newest ticket's creation time the data's clock runs to (see :func:`newest_sql`);
    None without tickets."""
    return store.scalar(f"SELECT {newest_sql()} FROM tickets", [future_limit()])


def _have(n: int) -> str:
    return "ticket has" if n == 1 else "tickets have"


def messages(findings: list[Finding]) -> list[str]:
    return [f.message for f in findings]


def _text(tickets: int, empty: int) -> list[Finding]:
    if empty * 2 < tickets:
        return []
    return [Finding("no_text", f"{empty:,} of {tickets:,} tickets have no text (no words in subject"
                    " or body): categories, sentiment and severity need text; map the file's"
                    " subject and description columns when importing (--mapping)")]


UNSCORED_SHARE = 0.05  # tickets without a sentiment score worth a finding, at least this share


def _unscored(store: Store) -> list[Finding]:
    """Tickets predicted without a sentiment score: their language is one the sentiment model
    does not cover."""
    if not store.table_exists("triage_results"):
        return []
    rows = store.rows(
        "SELECT coalesce(language, '?') AS language, count(*) AS n,"
        " count(*) FILTER (WHERE sentiment IS NULL) AS unscored"
        " FROM triage_results GROUP BY 1")
    total, unscored = sum(r["n"] for r in rows), sum(r["unscored"] for r in rows)
    if not total or unscored < UNSCORED_SHARE * total:
        return []
    langs = sorted((r for r in rows if r["unscored"] > 0),
                   key=lambda r: (-r["unscored"], r["language"]))
    which = ", ".join(f"{r['language']} {r['unscored']:,}" for r in langs)
    return [Finding("no_sentiment", f"{unscored:,} of {total:,} tickets ({unscored / total:.0%})"
                    f" have no sentiment score: the sentiment model does not cover their"
                    f" language ({which}). They count as neutral for priority (no sentiment"
                    " points, so anger in those languages never raises a ticket), and negative"
                    " shares count scored tickets only; set one by hand with a sentiment"
                    " correction")]


def _labels(store: Store) -> list[Finding]:
    labeled = int(store.scalar(
        "SELECT count(*) FROM tickets k LEFT JOIN ticket_corrections c USING (ticket_id)"
        " WHERE coalesce(c.category, k.category) IS NOT NULL") or 0)
    if labeled:
        return []
    return [Finding("no_labels", "no ticket has a category label, so no category model can be"
                    " trained: import a category column, correct tickets in the explorer"
                    " (triage feedback add), or find categories with 'triage topics' and accept"
                    " them")]


_VARIANTS = r"""
SELECT key, label, n FROM (
    SELECT key, label, n, count(*) OVER (PARTITION BY key) AS spellings,
           sum(n) OVER (PARTITION BY key) AS total
    FROM (SELECT lower(regexp_replace(label, '\s+', ' ', 'g')) AS key, label, count(*) AS n
          FROM (SELECT coalesce(c.category, k.category) AS label FROM tickets k
                LEFT JOIN ticket_corrections c USING (ticket_id))
          WHERE label IS NOT NULL GROUP BY 1, 2))
WHERE spellings > 1
ORDER BY total DESC, key, n DESC, label
"""
_VARIANT_GROUPS_SHOWN = 3


def _label_variants(store: Store) -> list[Finding]:
    """Category labels that differ only in case or spacing ("Billing", "BILLING", "billing"
    in a helpdesk's free-text field): the model learns them as different categories, which it
    cannot tell apart, and the pages count them apart."""
    groups: dict[str, list[tuple[str, int]]] = {}
    for row in store.rows(_VARIANTS):
        groups.setdefault(row["key"], []).append((row["label"], int(row["n"])))
    if not groups:
        return []
    shown = "; ".join(", ".join(f"{short_label(label)!r} ({n:,})" for label, n in variants)
                      for variants in list(groups.values())[:_VARIANT_GROUPS_SHOWN])
    more = (f" and {len(groups) - _VARIANT_GROUPS_SHOWN:,} more"
            if len(groups) > _VARIANT_GROUPS_SHOWN else "")
    first = short_label(next(iter(groups.values()))[0][0]).replace('"', "'")
    are = "category is" if len(groups) == 1 else "categories are"
    return [Finding("label_variants", f"{len(groups):,} {are}"
                    f" spelled in several ways (case or spacing) and count as separate"
                    f" categories: {shown}{more}; the category model learns them apart and"
                    " cannot tell them apart. Import the tickets again with a mapping that makes"
                    f" each one: [values.category] \"{first}\" = \"{first}\" (case and blanks"
                    " are ignored, so it maps every spelling)")]


# category values that are how exports write an empty cell (the import's placeholders for
# optional columns, and a spreadsheet's or pandas' "no value")
_NO_LABEL = ("-", "--", "n/a", "#n/a", "null", "nan")
_PLACEHOLDER_LABELS = """
SELECT category, count(*) AS n FROM tickets
WHERE category IS NOT NULL AND list_contains(?::VARCHAR[], lower(trim(category)))
GROUP BY 1 ORDER BY n DESC, category
"""


def _placeholder_labels(store: Store) -> list[Finding]:
    """Category labels that stand for no value ("N/A", "NULL", "-" in an export's empty
    field): the model learns "N/A" as a category, and the pages count it as one. ("none" is
    left alone: it is a category name too.)"""
    rows = store.rows(_PLACEHOLDER_LABELS, [list(_NO_LABEL)])
    if not rows:
        return []
    total = sum(int(r["n"]) for r in rows)
    shown = ", ".join(f"{short_label(r['category'])!r} ({int(r['n']):,})" for r in rows[:5])
    first = json.dumps(str(rows[0]["category"]), ensure_ascii=False)
    return [Finding("placeholder_categories", f"{total:,} {_have(total)} a category that is how"
                    f" exports write an empty field ({shown}): the category model learns it as a"
                    " category of its own. Import the tickets again with a mapping that reads it"
                    f" as no category: [values.category] {first} = \"\"")]


def _values(store: Store) -> list[Finding]:
    row = store.rows("SELECT count(*) AS n, count(lifetime_value) AS ltv, count(segment) AS seg"
                     " FROM customers")[0]
    out = []
    if int(row["n"]) and not int(row["ltv"]):
        out.append(Finding("no_ltv", "no customer has a lifetime value: the customer-value part"
                           " of priority is neutral (the same for everyone) and nobody counts as"
                           " VIP by value; import customers with a lifetime_value column"))
    if int(row["n"]) and not int(row["seg"]):
        out.append(Finding("no_segment", "no customer has a segment: no segment boost and no VIP"
                           " desk; import customers with a segment column"))
    return out


def _campaigns(store: Store) -> list[Finding]:
    campaigns = int(store.scalar("SELECT count(*) FROM campaigns") or 0)
    touches = int(store.scalar("SELECT count(*) FROM touchpoints") or 0)
    if campaigns and touches:
        return []
    missing = "campaigns" if not campaigns else "touchpoints"
    return [Finding("no_campaigns", f"no {missing}: campaign attribution, impact, spikes and"
                    " lift have nothing to show; import campaigns and the touchpoints that link"
                    " customers to them")]


def _durations(row: dict[str, Any]) -> list[Finding]:
    out = []
    if int(row["future"]) and int(row["present"]):  # not a whole world dated ahead
        n = int(row["future"])
        them = "it" if n == 1 else "them"
        out.append(Finding("future_created_at", f"{n:,} {_have(n)}"
                           " created_at more than a day after this machine's clock: the SLA clock"
                           f" and the default date range do not run to {them}; check the year"
                           " and time zone of the file's created_at"))
    if int(row["epoch"]):
        n = int(row["epoch"])
        out.append(Finding("epoch_created_at", f"{n:,} {_have(n)} created_at 1970-01-01 00:00:00,"
                           " Unix time 0: often an empty date exported as zero; check the"
                           " file's created_at (the dashboard's date range starts there)"))
    for column, n in (("first_response_at", row["early_reply"]),
                      ("resolved_at", row["early_solve"])):
        if int(n):
            its = "its duration is" if int(n) == 1 else "their durations are"
            out.append(Finding(f"negative_{column}", f"{int(n):,} {_have(int(n))} {column}"
                               f" before created_at, so {its} negative: check which file"
                               " column is mapped to created_at"))
    days = row["days"]
    if days is not None and days == days and float(days) > ABSURD_FIRST_RESPONSE_DAYS:
        out.append(Finding("absurd_first_response", f"the median first response takes"
                           f" {float(days):,.0f} days: created_at may not be when the tickets"
                           " were opened (a purchase date?); SLA figures will be meaningless"))
    return out


def _agents(store: Store) -> list[Finding]:
    if int(store.scalar("SELECT count(*) FROM agents") or 0):
        return []
    return [Finding("no_agents", "no agents: tickets are routed to team queues only; import"
                    " agents (agent_id, name, team, capacity) to assign them")]


# The categories tickets have (labels, corrections, predictions), most tickets first.
_CATEGORIES = """
SELECT category, count(*) AS n FROM (
    SELECT coalesce(c.category, k.category) AS category FROM tickets k
    LEFT JOIN ticket_corrections c USING (ticket_id)
    UNION ALL BY NAME SELECT category FROM ({predicted}))
WHERE category IS NOT NULL GROUP BY 1 ORDER BY n DESC, category
"""
_UNROUTED_SHOWN = 5


def _unrouted(store: Store, config: Mapping[str, Any]) -> list[Finding]:
    """Categories (a helpdesk's own: "Billing", "Hardware") that no ``[routing.categories]``
    rule names: every ticket of theirs goes to the triage queue, however sure the model is."""
    from triage_core.config import section  # not the routing package: it imports pandas

    routing = section("routing", config.get("routing"))  # validated when the config loaded
    rules = routing.get("categories") or {}
    predicted = ("SELECT category FROM triage_results" if store.table_exists("triage_results")
                 else "SELECT NULL::VARCHAR AS category WHERE false")
    rows = store.rows(_CATEGORIES.format(predicted=predicted))
    if not rows:
        return []
    missing = [(r["category"], int(r["n"])) for r in rows if r["category"] not in rules]
    if not missing:
        return []
    shown = ", ".join(f"{short_label(c)!r}" for c, _ in missing[:_UNROUTED_SHOWN])
    more = (f" and {len(missing) - _UNROUTED_SHOWN:,} more" if len(missing) > _UNROUTED_SHOWN
            else "")
    # the whole name as a TOML key (a cut one would match no category when pasted)
    first = json.dumps(str(missing[0][0]), ensure_ascii=False)
    queue = str(routing.get("triage_queue"))
    share = "every category has" if len(missing) == len(rows) else (
        f"{len(missing):,} of {len(rows):,} categories have")
    return [Finding("unrouted_categories", f"{share} no routing rule ({shown}{more}): their"
                    f" tickets all go to the triage queue {queue!r}, however sure"
                    " the model is; name a team for each in your config file:"
                    f" [routing.categories.{first}] team = \"...\"")]


_SOURCE_SHOWN = 5


def _source_levels(store: Store, config: Mapping[str, Any],
                   name: str | None) -> list[Finding]:
    """Helpdesk priorities ("Hoch", "Sev 1") that the priority profile's ``source_levels`` do
    not name, when its ``source`` weight counts: they count 0, like low, without a word."""
    import json

    from triage_core.config import section  # not ops.priority: its scoring imports pandas

    data = section("priority", config.get("priority"))  # validated when the config loaded
    profiles = data.get("profiles") or {}
    name = name or str(store.scalar("SELECT value FROM settings WHERE key = 'active_profile'")
                       or data.get("active_profile") or "default")
    saved = store.scalar("SELECT settings FROM priority_profiles WHERE name = ?", [name])
    try:
        body = json.loads(saved) if saved is not None else profiles.get(name)
    except ValueError:
        return []
    if not isinstance(body, Mapping):
        return []  # scoring says what is wrong with the profile
    default = profiles.get("default") or {}
    # a profile's weights it leaves out are the default profile's; its source levels are
    # added to the default profile's (as PriorityProfile reads them)
    weights = body.get("weights", default.get("weights")) or {}
    levels = [str(k).strip().lower() for k in
              {**(default.get("source_levels") or {}), **(body.get("source_levels") or {})}]
    if not isinstance(weights.get("source", 0), int | float) or weights.get("source", 0) <= 0:
        return []
    rows = store.rows("SELECT source_priority AS value, count(*) AS n FROM tickets"
                      " WHERE nullif(trim(source_priority), '') IS NOT NULL"
                      " AND NOT list_contains(?::VARCHAR[], lower(trim(source_priority)))"
                      " GROUP BY 1 ORDER BY n DESC, value", [levels])
    if not rows:
        return []
    n = sum(int(r["n"]) for r in rows)
    shown = ", ".join(f"{short_label(r['value'])!r} ({int(r['n']):,})"
                      for r in rows[:_SOURCE_SHOWN])
    more = f" and {len(rows) - _SOURCE_SHOWN:,} more" if len(rows) > _SOURCE_SHOWN else ""
    first = short_label(str(rows[0]["value"]).strip().lower()).replace('"', "'")
    return [Finding("unknown_source_priority",
                    f"{n:,} {_have(n)} a helpdesk priority that priority profile {name!r}"
                    f" does not know ({shown}{more}): they count 0 for its source weight,"
                    " like low; name them in your config file: [priority.profiles."
                    f"{name}.source_levels] \"{first}\" = 0.0 to 1.0")]
