"""Column mapping of imports: helpdesk export presets, --map, and value aliases.

Pure helpers for :mod:`triage_core.store.importing` (which runs the SQL): how source columns map
to our columns, and how a preset turns a helpdesk's values into ours.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from triage_core.errors import ImportValidationError, TriageError
from triage_core.schema import Column, Table

# Values helpdesks use for our closed sets (matched after lower-casing and trimming).
STATUS_ALIASES = {
    "hold": "on_hold", "on-hold": "on_hold", "on hold": "on_hold", "resolved": "solved",
    "waiting on customer": "pending", "waiting on third party": "pending",
}
CHANNEL_ALIASES = {
    "web form": "web", "web_form": "web", "portal": "web", "feedback widget": "web", "api": "web",
    "web widget": "web", "mail": "email", "outbound email": "email", "e-mail": "email",
    "phone call (incoming)": "phone", "phone call (outgoing)": "phone", "voice": "phone",
    "twitter": "social", "facebook": "social", "instagram": "social", "whatsapp": "chat",
    "messaging": "chat", "chat": "chat", "email": "email", "phone": "phone",
}


@dataclass(frozen=True)
class Preset:
    """Column names of a helpdesk's ticket CSV export (normalized) -> our column names."""

    name: str
    columns: Mapping[str, str]
    values: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    # Zendesk Support "CSV export" of tickets.
    "zendesk": Preset(
        "zendesk",
        {
            "id": "ticket_id", "requester_id": "customer_id", "requester": "customer_id",
            "via": "channel", "subject": "subject", "description": "body", "status": "status",
            "created_at": "created_at", "solved_at": "resolved_at", "assignee_id": "agent_id",
            "assignee": "agent_id", "satisfaction_score": "csat", "requester_locale": "language",
            "initially_assigned_at": "first_response_at",
        },
        {"csat": {"good": "5", "bad": "1", "offered": None, "unoffered": None}},
    ),
    # Freshdesk "Export tickets" CSV.
    "freshdesk": Preset(
        "freshdesk",
        {
            "ticket_id": "ticket_id", "contact_id": "customer_id", "requester_email": "customer_id",
            "subject": "subject", "description": "body", "status": "status",
            "source": "channel", "created_time": "created_at", "resolved_time": "resolved_at",
            "initial_response_time": "first_response_at", "agent": "agent_id",
            "language": "language", "survey_results": "csat",
        },
        {"csat": {"awesome": "5", "extremely happy": "5", "very happy": "4", "happy": "4",
                  "just okay": "3", "neutral": "3", "not good": "1", "unhappy": "2",
                  "very unhappy": "1", "extremely unhappy": "1"}},
    ),
}


def normalize_name(name: str) -> str:
    """'Requester id' -> 'requester_id', ' Created Time ' -> 'created_time'."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


@dataclass
class ColumnPlan:
    """Which source column feeds each target column, and what is ignored."""

    targets: dict[str, str]  # target -> source column name in the file
    ignored: list[str]
    values: Mapping[str, Mapping[str, str | None]]

    def label(self, target: str) -> str:
        return self.targets.get(target, target)


def parse_mapping(items: Sequence[str]) -> dict[str, str]:
    """['Ticket #=ticket_id', ...] -> {'Ticket #': 'ticket_id'}."""
    out = {}
    for item in items:
        if "=" not in item:
            raise TriageError(f"--map {item!r}: expected SOURCE=TARGET, e.g. 'Ticket ID=ticket_id'")
        src, dst = item.rsplit("=", 1)
        out[src.strip()] = dst.strip()
    return out


def plan_columns(spec: Table, source_columns: Sequence[str], preset: str | None,
                 mapping: Mapping[str, str] | None, file: str) -> ColumnPlan:
    if preset is not None and preset not in PRESETS:
        raise TriageError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    chosen = PRESETS[preset] if preset else None
    wanted = set(spec.column_names)
    by_norm: dict[str, str] = {}
    for src in source_columns:
        by_norm.setdefault(normalize_name(src), src)
    targets: dict[str, str] = {}
    # 1. explicit --map wins
    for src, dst in (mapping or {}).items():
        if dst not in wanted:
            raise TriageError(
                f"--map {src}={dst}: {spec.name} has no column {dst!r}"
                f" (columns: {', '.join(spec.column_names)})"
            )
        actual = src if src in source_columns else by_norm.get(normalize_name(src))
        if actual is None:
            raise ImportValidationError(file, f"--map names column {src!r}, which the file"
                                        " does not have", column=src)
        targets[dst] = actual
    # 2. preset columns, in the preset's order of preference
    if chosen:
        for norm, dst in chosen.columns.items():
            if dst in wanted and dst not in targets and norm in by_norm:
                targets[dst] = by_norm[norm]
    # 3. same name as ours
    for norm, src in by_norm.items():
        if norm in wanted and norm not in targets and src not in targets.values():
            targets[norm] = src
    missing = [c.name for c in spec.columns if c.required and c.name not in targets]
    if missing:
        found = ", ".join(str(c) for c in source_columns[:12])
        raise ImportValidationError(
            file,
            f"missing required column for {spec.name} (found: {found}); "
            "rename it or use --map SOURCE=TARGET" + ("" if preset else " or --preset"),
            column=missing[0],
        )
    used = set(targets.values())
    ignored = [c for c in source_columns if c not in used]
    return ColumnPlan(targets, ignored, chosen.values if chosen else {})


def _literal(value: str | None) -> str:
    if value is None:
        return "NULL"
    return "'" + value.replace("'", "''") + "'"


def source_expr(plan: ColumnPlan, col: Column) -> str:
    """SQL expression reading the source column for ``col`` with value aliases applied."""
    src = '"' + plan.targets[col.name].replace('"', '""') + '"'
    aliases: dict[str, str | None] = {}
    if col.name == "status":
        aliases.update(STATUS_ALIASES)
    if col.name == "channel":
        aliases.update(CHANNEL_ALIASES)
    aliases.update(plan.values.get(col.name, {}))
    if not aliases:
        return src
    key = f"lower(trim(CAST({src} AS VARCHAR)))"
    whens = " ".join(f"WHEN {_literal(k)} THEN {_literal(v)}" for k, v in aliases.items())
    return f"(CASE {key} {whens} ELSE CAST({src} AS VARCHAR) END)"
