"""Column and value mapping of imports: mapping files, shipped presets, ``--map``, guessing.

A mapping says how a file's columns and values become ours, as TOML::

    table = "tickets"                       # optional: refuse it for another table
    [columns]                               # our column = the file's column (or a list of
    ticket_id = "Ticket ID"                 #   alternatives, the first one present wins)
    customer_id = ["Customer Email", "Requester id"]
    [values.status]                         # the file's value = ours (case and blanks ignored;
    "Pending Customer Response" = "pending" #   "" maps a value to empty)
    [defaults]                              # a constant for a column the file does not have
    channel = "email"
    [formats]                               # how a time column that is not ISO 8601 reads
    created_at = "%m/%d/%Y %I:%M %p"        #   (strptime codes; %z: an offset, made UTC;
                                            #   "epoch" or "epoch_ms": a number since 1970;
                                            #   "minutes": minutes after created_at)

The presets (``--preset zendesk``) are such files shipped in ``store/presets/``; saved mappings
live in the database (``import_mappings``). Pure helpers: :mod:`triage_core.store.importing`
runs the SQL, with every value from a mapping bound as a parameter.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from triage_core.config.validate import Checker
from triage_core.errors import ConfigError, ImportValidationError, TriageError
from triage_core.schema import IMPORT_TABLES, Column, Table

PRESETS_DIR = Path(__file__).parent / "presets"
PRESETS = tuple(sorted(p.stem for p in PRESETS_DIR.glob("*.toml")))

# Values helpdesks use for our columns (matched after lower-casing and trimming); a mapping's
# own [values] win over these.
BUILTIN_VALUES: dict[str, dict[str, str]] = {
    "status": {
        "hold": "on_hold", "on-hold": "on_hold", "on hold": "on_hold", "resolved": "solved",
        "waiting on customer": "pending", "waiting on third party": "pending",
        "deleted": "closed",  # Zendesk's incremental export lists deleted tickets: not work
        # German, French, Spanish, Portuguese, Italian and Dutch interfaces' exports
        "neu": "new", "offen": "open", "wartend": "pending", "angehalten": "on_hold",
        "gelöst": "solved", "geschlossen": "closed", "nouveau": "new", "ouvert": "open",
        "en attente": "pending", "en pause": "on_hold", "résolu": "solved", "clos": "closed",
        "fermé": "closed", "nuevo": "new", "abierto": "open", "pendiente": "pending",
        "en espera": "on_hold", "resuelto": "solved", "cerrado": "closed", "novo": "new",
        "aberto": "open", "pendente": "pending", "em espera": "on_hold", "resolvido": "solved",
        "fechado": "closed", "nuovo": "new", "aperto": "open", "in attesa": "pending",
        "in pausa": "on_hold", "risolto": "solved", "chiuso": "closed", "nieuw": "new",
        "open": "open", "in afwachting": "pending", "opgelost": "solved", "gesloten": "closed",
        # Jira Service Management, ServiceNow, Help Scout and Intercom
        "to do": "new", "in progress": "open", "work in progress": "open", "escalated": "open",
        "waiting for support": "open", "waiting for customer": "pending",
        "awaiting customer": "pending", "done": "solved", "canceled": "closed",
        "cancelled": "closed", "active": "open", "snoozed": "on_hold", "spam": "closed",
        # Salesforce, HubSpot, and Kaggle's customer support tickets
        "working": "open", "waiting on contact": "pending", "waiting on us": "open",
        "pending customer response": "pending",
    },
    "channel": {
        "web form": "web", "web_form": "web", "portal": "web", "feedback widget": "web",
        "api": "web", "web widget": "web", "mail": "email", "outbound email": "email",
        "e-mail": "email", "phone call (incoming)": "phone", "phone call (outgoing)": "phone",
        "voice": "phone", "twitter": "social", "facebook": "social", "instagram": "social",
        "social media": "social", "whatsapp": "chat", "messaging": "chat", "chat": "chat",
        "email": "email", "phone": "phone", "web": "web", "social": "social", "forum": "web",
        "community": "web", "mobihelp": "web", "mobile_sdk": "web", "web_service": "web",
        "native_messaging": "chat",
        "telefon": "phone", "téléphone": "phone", "teléfono": "phone", "telefone": "phone",
        "telefono": "phone", "webformular": "web", "web-formular": "web", "formulaire web": "web",
        "formulario web": "web", "correo electrónico": "email", "courriel": "email",
        "self-service": "web", "self service": "web",
    },
}

# Other names a helpdesk export uses for our columns (normalized: see normalize_name), for
# guessing; after the English ones, those of Zendesk's and others' German, French, Spanish,
# Portuguese, Italian and Dutch interfaces, and of Jira, ServiceNow, Intercom and Help Scout.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "ticket_id": ("id", "ticket", "ticket_number", "case_id", "case_number", "number", "key",
                  "issue_key", "conversation_id", "incident_number", "nummer", "numero",
                  "ticketnummer", "numero_de_ticket", "issue_id"),
    "customer_id": ("requester_id", "requester", "contact_id", "customer", "customer_email",
                    "requester_email", "email", "contact", "user_id", "client_id", "user_email",
                    "contact_email", "supplied_email", "primary_customer",
                    "associated_contact_ids",
                    "anfragender_e_mail", "e_mail_des_anfragenden", "e_mail_du_demandeur",
                    "correo_electronico_del_solicitante", "e_mail_do_solicitante",
                    "email_del_richiedente", "e_mail_aanvrager", "caller_id", "caller",
                    "reporter", "anfragender", "demandeur", "solicitante", "richiedente",
                    "aanvrager"),
    "created_at": ("created", "created_time", "creation_date", "date_created", "opened_at",
                   "opened", "submitted_at", "date", "timestamp", "created_on", "created_date",
                   "createdate", "create_date", "created_datetime",
                   "created_timestamp", "erstellt", "erstellt_am", "date_de_creation",
                   "cree_le", "creado", "fecha_de_creacion", "criado", "creato", "aangemaakt"),
    "channel": ("via", "source", "medium", "origin", "contact_type", "kanal", "canal",
                "canale", "kanaal"),
    "subject": ("title", "summary", "short_description", "topic", "betreff", "sujet", "objet",
                "asunto", "assunto", "oggetto", "onderwerp"),
    # an export's plain-text copy before its HTML one (Freshdesk: description_text, description)
    "body": ("description_text", "plain_body", "body_text", "text_body", "description_plain",
             "description", "text", "message", "content", "details", "comment", "question",
             "long_description", "first_message", "beschreibung", "descripcion", "descricao",
             "descrizione", "beschrijving"),
    "status": ("state", "stage", "statut", "estado", "stato"),
    # (not Zendesk's "Initially assigned at": a trigger assigns a ticket before anyone replies)
    "first_response_at": ("first_response_time", "first_reply_at", "first_response",
                          "first_reply_time", "initial_response_time"),
    # the time it was resolved before the time it was closed (ServiceNow has both, days apart)
    "resolved_at": ("solved_at", "resolved_time", "resolution_date", "resolved",
                    "solved_timestamp", "gelost", "geloest", "resolu_le", "resolu", "resuelto",
                    "resolvido", "risolto", "opgelost", "closed_at", "closed", "closed_date",
                    "close_date", "closed_datetime",
                    "time_to_resolution"),
    "agent_id": ("assignee", "assignee_id", "agent", "owner", "assigned_to", "responder",
                 "assignee_name", "teammate_assigned", "zugewiesen", "bearbeiter", "assigne",
                 "asignado", "atribuido", "assegnatario", "toegewezen"),
    "csat": ("satisfaction", "satisfaction_score", "customer_satisfaction_rating", "rating",
             "survey_results", "satisfaction_rating", "conversation_rating",
             "custom_field_satisfaction_rating"),
    # (a Jira Service Management request type before the issue type)
    "category": ("custom_field_request_type", "request_type", "type", "issue_type", "topic",
                 "category", "reason", "kategorie", "categorie", "categoria"),
    "language": ("locale", "lang", "requester_locale", "sprache", "langue", "idioma",
                 "lingua", "taal"),
    "source_priority": ("priority", "urgency", "severity", "prioritat", "priorite",
                        "prioridad", "prioridade", "priorita", "prioriteit"),
    "lifetime_value": ("ltv", "clv", "customer_lifetime_value", "lifetime_value"),
    "name": ("campaign_name", "agent_name", "full_name", "title"),
    "score": ("csat", "rating", "satisfaction"),
    # a survey's own time (a satisfaction rating's created_at is when it was given)
    "answered_at": ("responded_at", "submitted_at", "completed_at", "rated_at", "created_at",
                    "created", "date", "timestamp"),
    "touched_at": ("timestamp", "time", "event_time", "date"),
    "kind": ("event", "event_type", "type", "action"),
}
# Words that only say which table a column belongs to ("Ticket Subject" -> subject).
_TABLE_WORDS = ("ticket", "tickets", "case", "customer", "campaign", "agent", "contact",
                # objects that only hold a record's fields: Jira's fields.summary, HubSpot's
                # properties.subject, JSON:API's attributes.subject
                "fields", "properties", "attributes")


# Words that say what a row is, before a column's name: the row's own id and time ("tweet_id",
# "tweet_created", "review_date", "message_timestamp") when nothing else names them. Not
# "email": an "email_id" is an address in many exports.
_RECORD_WORDS = ("tweet", "message", "msg", "post", "review", "comment", "chat", "request",
                 "incident", "thread", "item", "record", "row", "event", "complaint",
                 "inquiry", "enquiry", "feedback", "submission", "query", "question", "call",
                 "interaction", "survey", "response", "entry")


DUPLICATES = ("refuse", "last")


def name_keys(name: str) -> tuple[str, ...]:
    """The names ``name`` is matched by: :func:`normalize_name`, and without splitting camel
    case (a mapping's "caseref" names the file's "CaseRef", its "CaseRef" a "CASEREF")."""
    split, whole = normalize_name(name), normalize_name(name, camel=False)
    return (split,) if split == whole else (split, whole)


def normalize_name(name: str, camel: bool = True) -> str:
    """'Requester id' -> 'requester_id', ' Created Time ' -> 'created_time', 'Gelöst' ->
    'gelost', 'Priorité' -> 'priorite' (accents dropped: localized exports' headers),
    'createdAt' -> 'created_at', 'TicketID' -> 'ticket_id' (APIs' camel case; not with
    ``camel=False``)."""
    text = _CAMEL.sub("_", str(name).strip()) if camel else str(name).strip()
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


# where a camel-case name's words meet: createdAt, TicketID, HTMLBody (not IDs, URLs)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z]{2,})")


def _value_key(value: str) -> str:
    """How file values are compared with a mapping's keys: trimmed, lower case."""
    return str(value).strip().lower()


@dataclass(frozen=True)
class ImportMapping:
    """How one file's columns and values become ours (see the module docstring)."""

    name: str = ""
    table: str | None = None
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)
    defaults: Mapping[str, str] = field(default_factory=dict)
    formats: Mapping[str, str] = field(default_factory=dict)  # time column -> strptime format
    # rows with the same key in one file: "refuse" the file, or keep the "last" of them (an
    # incremental export lists a ticket again after each change, the latest last)
    duplicates: str = "refuse"
    # our columns given on the command line (--map): the file must have them, preset or not
    overrides: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], name: str = "") -> ImportMapping:
        check = Checker(f"mapping {name}" if name else "mapping")
        check.keys(data, ("table", "columns", "values", "defaults", "formats", "duplicates"))
        table = data.get("table")
        if table is not None:
            table = check.choice(table, "table", IMPORT_TABLES)
        known = _known_columns(table)
        columns: dict[str, tuple[str, ...]] = {}
        for ours, theirs in check.table(data.get("columns", {}), "columns", known).items():
            sources = [theirs] if isinstance(theirs, str) else theirs
            columns[ours] = check.texts(sources, f"columns.{ours}")
        values: dict[str, dict[str, str | None]] = {}
        for ours, table_ in check.table(data.get("values", {}), "values", known).items():
            pairs = check.table(table_, f"values.{ours}")
            values[ours] = {_value_key(k): _mapped_value(check, v, f"values.{ours}.{k}")
                            for k, v in pairs.items()}
        defaults = {ours: _default_value(check, v, f"defaults.{ours}")
                    for ours, v in check.table(data.get("defaults", {}), "defaults",
                                               known).items()}
        times, numbers = _time_columns(table), _number_columns(table)
        formats = {ours: (_number_format(check, v, f"formats.{ours}") if ours in numbers
                          else _time_format(check, v, f"formats.{ours}"))
                   for ours, v in check.table(data.get("formats", {}), "formats",
                                              (*times, *numbers)).items()}
        duplicates = check.choice(data.get("duplicates", "refuse"), "duplicates", DUPLICATES)
        return cls(name, table, columns, values, defaults, formats, duplicates)

    @classmethod
    def from_toml(cls, text: str, name: str = "") -> ImportMapping:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            where = f"mapping {name}" if name else "mapping"
            raise ConfigError(f"{where}: not valid TOML ({exc})") from None
        return cls.from_mapping(data, name)

    def to_toml(self) -> str:
        """The mapping as a TOML file that :meth:`from_toml` reads back."""
        lines = [f"table = {_toml_str(self.table)}"] if self.table else []
        if self.duplicates != "refuse":
            lines.append(f"duplicates = {_toml_str(self.duplicates)}")
        lines.append("\n[columns]")
        for ours, theirs in self.columns.items():
            shown = (_toml_str(theirs[0]) if len(theirs) == 1
                     else "[" + ", ".join(_toml_str(t) for t in theirs) + "]")
            lines.append(f"{ours} = {shown}")
        for ours, pairs in self.values.items():
            lines.append(f"\n[values.{ours}]")
            lines += [f"{_toml_str(k)} = {_toml_str('' if v is None else v)}"
                      for k, v in pairs.items()]
        if self.defaults:
            lines.append("\n[defaults]")
            lines += [f"{ours} = {_toml_str(v)}" for ours, v in self.defaults.items()]
        if self.formats:
            lines.append("\n[formats]")
            lines += [f"{ours} = {_toml_str(v)}" for ours, v in self.formats.items()]
        return "\n".join(lines).lstrip("\n") + "\n"

    def with_overrides(self, columns: Mapping[str, str]) -> ImportMapping:
        """This mapping with ``--map SOURCE=TARGET`` pairs on top (they win)."""
        merged = dict(self.columns)
        for source, ours in columns.items():
            merged[ours] = (source,)
        return replace(self, columns=merged,
                       overrides=tuple(dict.fromkeys((*self.overrides, *columns.values()))))


def _known_columns(table: str | None) -> tuple[str, ...]:
    if table is not None:
        return tuple(IMPORT_TABLES[table].column_names)
    return tuple(dict.fromkeys(c for t in IMPORT_TABLES.values() for c in t.column_names))


def _time_columns(table: str | None) -> tuple[str, ...]:
    tables = [IMPORT_TABLES[table]] if table is not None else IMPORT_TABLES.values()
    return tuple(dict.fromkeys(c.name for t in tables for c in t.columns
                               if c.type == "TIMESTAMP"))


def _number_columns(table: str | None) -> tuple[str, ...]:
    tables = [IMPORT_TABLES[table]] if table is not None else IMPORT_TABLES.values()
    return tuple(dict.fromkeys(c.name for t in tables for c in t.columns if c.type == "DOUBLE"))


# A number column's format: "decimal_comma" reads 1234,56 and 1.234,56 (European exports);
# "thousands_comma" reads 1,234.56 and 1234.56 (US exports). Under either, a value of the other
# form (980.50 with a decimal comma, 12,5 with thousands commas) is refused with its row.
DECIMAL_COMMA = "decimal_comma"
THOUSANDS_COMMA = "thousands_comma"
_DECIMAL_COMMA_RE = r"-?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,[0-9]+)?"
# 1,250 or 1,234.56: a thousands separator (1,250 alone may also be a decimal comma)
THOUSANDS_RE = r"-?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?"
_THOUSANDS_COMMA_RE = r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"
# format -> (the form it reads, the separator it drops, the decimal mark it makes a point)
NUMBER_FORMATS = {DECIMAL_COMMA: (_DECIMAL_COMMA_RE, ".", ","),
                  THOUSANDS_COMMA: (_THOUSANDS_COMMA_RE, ",", ".")}
NUMBER_WRITTEN = {DECIMAL_COMMA: "with a decimal comma (1.234,56)",
                  THOUSANDS_COMMA: "with thousands commas (1,234.56)"}
# Put before a value its column's number format does not read: no longer a number, so the
# import's check refuses it, and shows it without this mark.
NOT_IN_FORMAT = "\u2063"


def _number_format(check: Checker, value: Any, key: str) -> str:
    if not isinstance(value, str) or value.strip() not in NUMBER_FORMATS:
        check.fail(f"{key} must be \"{DECIMAL_COMMA}\" (1.234,56 for 1234.56) or "
                   f"\"{THOUSANDS_COMMA}\" (1,234.56), got {value!r}")
    return value.strip()


# strptime codes DuckDB reads (its own and Python's share these)
_CODE = r"%-?[aAbBcdfgGHIjmMpSuUVwWxXyYzZ%]"
_FORMAT_CODE = re.compile(_CODE)


EPOCHS = {"epoch": 1, "epoch_ms": 1000}  # seconds or milliseconds since 1970 (UTC)
_EPOCH_END = 4102444799  # 2099-12-31 23:59:59 UTC
# A duration in minutes after the ticket's created_at (Zendesk's export has "First reply time
# in minutes", no time of the first reply)
MINUTES = "minutes"
# the columns it may be the format of: a ticket's times after its creation
_AFTER_CREATED = ("first_response_at", "resolved_at")
_CENTURY_MINUTES = 100 * 365 * 24 * 60  # more is no duration of a ticket: refused


def _time_format(check: Checker, value: Any, key: str) -> str:
    if isinstance(value, str) and value.strip() == MINUTES:
        if key.rsplit(".", 1)[-1] not in _AFTER_CREATED:
            check.fail(f"{key}: \"minutes\" (after created_at) is a format of"
                       f" {' or '.join(_AFTER_CREATED)} only")
        return MINUTES
    if isinstance(value, str) and value.strip() in EPOCHS:
        return value.strip()
    if not isinstance(value, str) or not value.strip():
        check.fail(f"{key} must be a strptime format such as \"%m/%d/%Y %H:%M\", got {value!r}")
    if not _FORMAT_CODE.search(value) or "%" in _FORMAT_CODE.sub("", value):
        check.fail(f"{key}: {value!r} is not a strptime format (codes such as %Y %m %d %H %M"
                   " %S %p %z), \"epoch\", \"epoch_ms\" or \"minutes\"")
    return value


def _mapped_value(check: Checker, value: Any, key: str) -> str | None:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        check.fail(f"{key} must be a text (\"\" for empty), got {value!r}")
    text = str(value).strip()
    return text or None


def _default_value(check: Checker, value: Any, key: str) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        check.fail(f"{key} must be a text or a number, got {value!r}")
    return str(value)


def _toml_str(value: str) -> str:
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\t", "\\t"))
    escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'


def preset(name: str) -> ImportMapping:
    """A shipped mapping (``store/presets/NAME.toml``)."""
    if name not in PRESETS:
        raise TriageError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    text = (PRESETS_DIR / f"{name}.toml").read_text(encoding="utf-8")
    return ImportMapping.from_toml(text, name)


def parse_mapping(items: Sequence[str]) -> dict[str, str]:
    """['Ticket #=ticket_id', ...] -> {'Ticket #': 'ticket_id'}."""
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise TriageError(f"--map {item!r}: expected SOURCE=TARGET, e.g. 'Ticket ID=ticket_id'")
        src, dst = (part.strip() for part in item.rsplit("=", 1))
        if not src:
            raise TriageError(f"--map {item!r}: no column of the file before '=' (expected"
                              " SOURCE=TARGET, e.g. 'Ticket ID=ticket_id')")
        twin = next((f"{s}={d}" for s, d in out.items() if d == dst and s != src), None)
        if twin is not None:  # the later one won, and the other was dropped without a word
            raise TriageError(f"--map {twin!r} and --map {item!r} both fill {dst}: keep one")
        out[src] = dst
    return out


@dataclass
class ColumnPlan:
    """Which source column feeds each target column, constants, values, what is ignored."""

    targets: dict[str, str]  # target -> source column name in the file
    ignored: list[str]
    values: Mapping[str, Mapping[str, str | None]]
    defaults: Mapping[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    formats: Mapping[str, str] = field(default_factory=dict)  # time column -> strptime format
    # required columns the file lacks while it has the key: it can only update rows that exist
    # (a spreadsheet of ticket_id and category labeling tickets; customer_id and
    # lifetime_value from a CRM); see plan_columns' ``updates``
    update_only: tuple[str, ...] = ()

    def label(self, target: str) -> str:
        return self.targets.get(target, target)

    @property
    def present(self) -> set[str]:
        """Our columns the import fills: from the file or from a default."""
        return set(self.targets) | set(self.defaults)


def plan_columns(spec: Table, source_columns: Sequence[str],
                 mapping: ImportMapping | None, file: str, require: bool = True,
                 hint: bool = True, updates: bool = False) -> ColumnPlan:
    """Match the file's columns to ours: the mapping first, then the same (normalized) name.
    ``hint=False``: no hint that an ignored column may be the category (see
    :func:`importing.not_categories`). ``updates``: a file with the table's key that lacks
    other required columns is planned as an update of existing rows (``update_only`` names
    what it lacks; the importer refuses a row whose key is new) instead of refused."""
    mapping = mapping or ImportMapping()
    if mapping.table is not None and mapping.table != spec.name:
        raise TriageError(f"mapping {mapping.name or '(file)'} is for table {mapping.table},"
                          f" not {spec.name}")
    by_norm: dict[str, str] = {}
    for src in source_columns:
        by_norm.setdefault(normalize_name(src), src)
    for src in source_columns:  # then the names without camel case split ("caseref")
        by_norm.setdefault(normalize_name(src, camel=False), src)
    targets: dict[str, str] = {}
    absent: list[tuple[str, str]] = []  # (ours, what the mapping names for it)
    explicit: set[str] = set()  # our columns the mapping names a file column for
    for ours, theirs in mapping.columns.items():
        if ours not in spec.column_names:
            continue  # a mapping may cover several tables
        found = [by_norm[k] for k in (next((k for k in name_keys(t) if k in by_norm), None)
                                      for t in theirs) if k is not None]
        if found:
            targets[ours] = found[0]
            explicit.add(ours)
        elif ours not in mapping.defaults and (mapping.name not in PRESETS
                                                or ours in mapping.overrides):
            absent.append((ours, f"{' or '.join(map(repr, theirs))} for {ours}"))
    for norm, src in by_norm.items():
        if norm in spec.column_names and norm not in targets and src not in targets.values():
            targets[norm] = src
    defaults = {k: v for k, v in mapping.defaults.items()
                if k in spec.column_names and k not in targets}
    _refuse_twins(source_columns, targets, explicit, file)
    lacking = tuple(c.name for c in spec.columns
                    if c.required and c.name not in targets and c.name not in defaults)
    update_only = lacking if updates and not set(spec.key) & set(lacking) else ()
    if update_only:  # a file that seems to have them under other names is no update
        unused = [c for c in source_columns if c not in targets.values()]
        # (not by a word for the row: a labeling sheet's "review_date" is no created_at)
        if set(guess_columns(spec, unused, record_words=False)) & set(lacking):
            update_only = ()
    if require and not update_only:
        _require(spec, source_columns, targets, defaults, file)
    used = set(targets.values())
    # an object whose field is read (via, for via.channel) is not listed as ignored
    parents = {u.rsplit(".", k)[0] for u in used for k in range(1, u.count(".") + 1)}
    ignored = [c for c in source_columns if c not in used and c not in parents]
    values = {c: {**BUILTIN_VALUES.get(c, {}), **mapping.values.get(c, {})}
              for c in spec.column_names}
    plan = ColumnPlan(targets, ignored, {c: v for c, v in values.items() if v}, defaults,
                      # a format reads the column the mapping names for it: not another
                      # one of our name found instead (the Zendesk preset's "minutes" are
                      # its "First reply time in minutes", not a webhook's first_response_at)
                      formats={c: f for c, f in mapping.formats.items() if c in targets
                               and (c in explicit or c not in mapping.columns)},
                      update_only=update_only)
    # a preset lists every column an export may have: only --map's are named. A column of
    # ours that the file's own column of its name fills after all does not stay empty
    empty = [text for ours, text in absent if ours not in targets]
    if empty:
        plan.warnings.append(f"{file}: the mapping names {'; '.join(empty)}, which the file"
                             " does not have; those columns stay empty")
    filled = [f"{text} (read from its column {targets[ours]!r} instead)"
              for ours, text in absent if ours in targets]
    if filled:
        plan.warnings.append(f"{file}: the mapping names {'; '.join(filled)}, which the file"
                             " does not have")
    plan.warnings.extend(_hollow_warnings(spec, plan, file, hint))
    return plan


def _refuse_twins(source_columns: Sequence[str], targets: Mapping[str, str],
                  explicit: set[str], file: str) -> None:
    """Refuse a file with two columns that could be the one a column of ours is read from
    by name: the same name twice in a CSV header (DuckDB calls the second ``name_1``, also
    when the two differ in case), or names that differ only in case and punctuation. Taking
    the first would drop the other's values without a word. A mapping that names the column
    decides between names that differ in case, not between two of the same name: naming
    "Subject" does not say which of two "Subject" columns (a preset names it for every
    export); it decides when it names the repeated one (``Subject_1``) too."""
    used = set(targets.values())
    for ours, src in targets.items():
        norm = normalize_name(src)
        second = re.compile(re.escape(norm) + r"_\d+")  # DuckDB's name for a repeated one
        if ours in explicit:
            repeated = re.compile(re.escape(src) + r"_\d+")
            twins = [c for c in source_columns if repeated.fullmatch(c) and c not in used]
        else:
            twins = [c for c in source_columns if c != src
                     and (normalize_name(c) == norm or second.fullmatch(normalize_name(c)))]
        if twins:
            if ours in explicit:  # naming src again would not decide
                how = f"rename or drop one, or take the second with --map {twins[0]}={ours}"
            else:
                how = (f"rename or drop one, or choose it with --map {twins[0]}={ours} (or --map"
                       f" {src}={ours})")
            raise ImportValidationError(
                file, f"two columns could be {ours}: {src!r} and {twins[0]!r} (the same name"
                      f" twice in the header?); {how}", column=ours)


# How a file's missing columns are mapped (the API words it for its callers instead).
MAP_COLUMNS = ("; map them with --mapping FILE.toml ([columns] our_column = \"Their column\";"
               " 'triage mapping suggest' writes one) or --map SOURCE=TARGET")


def require_columns(spec: Table, source_columns: Sequence[str], plan: ColumnPlan,
                    file: str) -> None:
    """Refuse, as :func:`plan_columns` does, a plan that lacks required columns."""
    _require(spec, source_columns, plan.targets, plan.defaults, file)


def _require(spec: Table, source_columns: Sequence[str], targets: Mapping[str, str],
             defaults: Mapping[str, str], file: str) -> None:
    missing = [c.name for c in spec.columns
               if c.required and c.name not in targets and c.name not in defaults]
    if not missing:
        return
    guesses = guess_columns(spec, source_columns)
    hint = "; ".join(f"{m} = {guesses[m]!r}?" for m in missing if m in guesses)
    raise ImportValidationError(
        file,
        f"missing required column{'s' if len(missing) > 1 else ''} for {spec.name}:"
        f" {', '.join(missing)} (found: {', '.join(map(str, source_columns))})"
        + (f"; perhaps {hint}" if hint else "") + MAP_COLUMNS, column=missing[0])


def _hollow_warnings(spec: Table, plan: ColumnPlan, file: str, category: bool = True
                     ) -> list[str]:
    """Columns a user would expect to land that will not: said, never silent (``category``
    False: not the category)."""
    out = []
    likely = {c: s for c, s in guess_columns(spec, plan.ignored).items()
              if c not in plan.present and (category or c != "category")}
    # (an update of existing tickets keeps their text)
    if spec.name == "tickets" and not {"subject", "body"} & plan.present \
            and not plan.update_only:
        hint = [f"{c} = {likely.pop(c)!r}" for c in ("subject", "body") if c in likely]
        out.append(f"{file}: no text column is mapped (subject, body), so the tickets have no"
                   " text to categorize or score" + (f"; perhaps {', '.join(hint)}" if hint
                                                     else ""))
    if likely:
        shown = ", ".join(f"{s!r} (-> {c}?)" for c, s in likely.items())
        out.append(f"{file}: ignored columns that look like ours: {shown}; map them with"
                   " --mapping if they are")
    return out


def guess_columns(spec: Table, source_columns: Sequence[str],
                  record_words: bool = True) -> dict[str, str]:
    """Our column -> the file column that most likely holds it (exact names, names without a
    table word such as 'Ticket Subject', then known synonyms, then, with ``record_words``,
    the key, times, subject and body after a word for the row such as 'tweet_id'); each file
    column used once."""
    by_norm: dict[str, str] = {}
    for src in source_columns:
        by_norm.setdefault(normalize_name(src), src)
    for src in source_columns:  # then the names without camel case split ("EMail": email)
        by_norm.setdefault(normalize_name(src, camel=False), src)
    stripped: dict[str, str] = {}
    for norm, src in by_norm.items():
        parts = norm.split("_")
        while len(parts) > 1 and parts[0] in _TABLE_WORDS:
            parts = parts[1:]
        stripped.setdefault("_".join(parts), src)
    out: dict[str, str] = {}
    used: set[str] = set()
    for lookup in (by_norm, stripped):
        for col in spec.column_names:
            src = lookup.get(col)
            if col not in out and src is not None and src not in used:
                out[col] = src
                used.add(src)
    # a file's bare "Id" is its rows' own id: the table's key (a Zendesk users export's Id is
    # what its tickets' "Requester id" names, not its Email)
    if len(spec.key) == 1 and spec.key[0] not in out:
        src = by_norm.get("id")
        if src is not None and src not in used:
            out[spec.key[0]] = src
            used.add(src)
    for col in spec.column_names:
        for alias in SYNONYMS.get(col, ()):
            # (a bare "id" left of "Contact Id" is the contact's, not this table's)
            src = by_norm.get(alias) or (stripped.get(alias) if alias != "id" else None)
            if col not in out and src is not None and src not in used:
                out[col] = src
                used.add(src)
    # last, a name after a word for the row ("tweet_id": the key; "tweet_created": created_at)
    record: dict[str, str] = {}
    for norm, src in by_norm.items():
        first, _, rest = norm.partition("_")
        if first in _RECORD_WORDS and rest:
            record.setdefault(rest, src)
    for col in spec.column_names if record_words else ():
        if col not in (*spec.key, "subject", "body") and not col.endswith("_at"):
            continue  # ("call_type" is no category, "review_rating" maybe no CSAT)
        keys = [col, *SYNONYMS.get(col, ())]
        if len(spec.key) != 1 or col != spec.key[0]:
            keys = [k for k in keys if k != "id"]
        else:
            keys.append("id")
        src = next((record[k] for k in keys if k in record and record[k] not in used), None)
        if col not in out and src is not None:
            out[col] = src
            used.add(src)
    for col, src in list(out.items()):  # an object (JSON): the field of it that holds ours
        child = _object_field(col, src, source_columns)
        if child is not None and child not in used:
            out[col] = child
            used.add(child)
    return out


# Fields of a JSON object that hold its value, in order of preference (after our column's name
# and synonyms): Zendesk's satisfaction_rating.score, custom fields' value...
_VALUE_FIELDS = ("score", "value", "name", "id")
_OBJECT_LEAVES = {"channel": ("type",),
                  # a person as an object (Jira's reporter: accountId, emailAddress)
                  "customer_id": ("email", "email_address", "account_id"),
                  "agent_id": ("email", "email_address", "account_id")}


def _object_field(col: str, src: str, source_columns: Sequence[str]) -> str | None:
    """The column of the nested field of ``src`` that holds ``col`` (``via`` ->
    ``via.channel``), when ``src`` is an object read with dotted fields; else None."""
    children = {normalize_name(c[len(src) + 1:]): c for c in source_columns
                if c.startswith(src + ".") and "." not in c[len(src) + 1:]}
    # an object's id is an id of ours only (Intercom's source.id is a message, no channel);
    # a source's type is its channel (Help Scout, Intercom: source.type = "email")
    values = [v for v in _VALUE_FIELDS if v != "id" or col.endswith("_id")]
    # (an object's own leaves first: Help Scout's source.via says who wrote, not the channel)
    for leaf in (col, *_OBJECT_LEAVES.get(col, ()), *SYNONYMS.get(col, ()), *values):
        if leaf in children:
            return children[leaf]
    return None


def suggest(spec: Table, source_columns: Sequence[str],
            unmapped_values: Mapping[str, Sequence[str]] | None = None,
            guesses: Mapping[str, str] | None = None) -> ImportMapping:
    """A mapping to start from: guessed columns (``guesses``, else :func:`guess_columns`), and
    every value that does not fit listed (mapped to itself, to be edited)."""
    if guesses is None:
        guesses = guess_columns(spec, source_columns)
    columns = {c: (s,) for c, s in guesses.items()}
    values = {c: {v: _LIKELY.get(c, {}).get(v.strip().lower(), v) for v in vals}
              for c, vals in (unmapped_values or {}).items() if vals}
    return ImportMapping("", spec.name, columns, values, {})


# Satisfaction words of helpdesk exports (Zendesk's good/bad, Freshdesk's scale), proposed by
# suggest for the user to check; "" = no rating.
_LIKELY: dict[str, dict[str, str]] = {"csat": {
    "good": "5", "bad": "1", "offered": "", "unoffered": "", "-": "", "awesome": "5",
    "extremely happy": "5", "very happy": "4", "happy": "4", "just okay": "3", "neutral": "3",
    "not good": "1", "unhappy": "2", "very unhappy": "1", "extremely unhappy": "1"}}
_LIKELY["score"] = _LIKELY["csat"]  # a survey's own table (Zendesk's satisfaction ratings)


def _created_time(plan: ColumnPlan) -> tuple[str, list[Any]]:
    """SQL of the ticket's created_at that the format "minutes" counts from: the file's (as
    the import reads it), else, in a file that only updates tickets ("Id,First reply time in
    minutes"), the stored ticket's. The file's id column is named as _raw's ("ticket_id" alone
    would be the stored ticket's own column in the subquery); a new ticket has no stored time
    (empty: the import refuses it for what the file lacks, naming its row)."""
    tickets = IMPORT_TABLES["tickets"]
    if "created_at" in plan.present:
        created, params = value_cases(plan, tickets.column("created_at"))
        return f"triage_ts(CAST({created} AS VARCHAR))", params
    key, params = value_cases(plan, tickets.column("ticket_id"), qualify="_raw.")
    return ("(SELECT max(_stored.created_at) FROM tickets AS _stored WHERE"
            f" _stored.ticket_id = triage_trim(CAST({key} AS VARCHAR)))"), params


def value_cases(plan: ColumnPlan, col: Column, qualify: str = "") -> tuple[str, list[Any]]:
    """SQL reading the file's column for ``col`` with value mappings applied, and its bound
    parameters (every value of a mapping is a parameter, never SQL text). ``qualify``: the
    staged table's name, before the column's (in a subquery over another table)."""
    if col.name in plan.defaults and col.name not in plan.targets:
        return "CAST(? AS VARCHAR)", [plan.defaults[col.name]]
    src = qualify + '"' + plan.targets[col.name].replace('"', '""') + '"'
    pairs = plan.values.get(col.name, {})
    sql, params = src, []
    if pairs:
        key = f"lower(triage_trim({src}))"
        whens = " ".join("WHEN ? THEN CAST(? AS VARCHAR)" for _ in pairs)
        params = [p for k, v in pairs.items() for p in (k, v)]
        sql = f"(CASE {key} {whens} ELSE CAST({src} AS VARCHAR) END)"
    if plan.formats.get(col.name) in NUMBER_FORMATS:
        # 1.234,56 -> 1234.56 (or 1,234.56); a value of another form is marked, for the check
        # to refuse and name (980.50 with a decimal comma was read as 980.5); empty stays
        # empty; a column the file already types as numbers (Parquet, JSON) is read as is
        form, drop, mark = NUMBER_FORMATS[plan.formats[col.name]]
        text = f"triage_trim(CAST({sql} AS VARCHAR))"
        sql, params = (f"CASE WHEN typeof({src}) <> 'VARCHAR' THEN CAST({sql} AS VARCHAR)"
                       f" WHEN regexp_full_match({text}, '{form}') THEN"
                       f" replace(replace({text}, '{drop}', ''), '{mark}', '.')"
                       f" WHEN {text} = '' THEN ''"
                       f" ELSE '{NOT_IN_FORMAT}' || CAST({sql} AS VARCHAR) END"),\
            [*params] * 5  # the column's SQL is in it 5 times
    elif col.name in plan.formats:
        # read by the mapping's format and written as ISO 8601 (an offset made UTC: the
        # connection's time zone); a value that does not fit stays as it is, and the
        # timestamp check names it
        text = f"triage_trim(CAST({sql} AS VARCHAR))"
        fmt = plan.formats[col.name]
        if fmt == MINUTES and ("created_at" in plan.present or "ticket_id" in plan.present):
            # minutes after the ticket's created_at; a value that is no number of minutes
            # from 0 up stays as written, for the check to name
            base, base_params = _created_time(plan)
            minutes = f"TRY_CAST({text} AS DOUBLE)"
            after = f"{base} + to_microseconds(CAST(round({minutes} * 60000000) AS BIGINT))"
            return (f"CASE WHEN {minutes} >= 0 AND {minutes} < {_CENTURY_MINUTES} THEN"
                    f" CAST(CAST({after} AS TIMESTAMP) AS VARCHAR)"
                    f" ELSE CAST({sql} AS VARCHAR) END",
                    [*params, *params, *base_params, *params, *params])
        if fmt in EPOCHS:  # a number of seconds or milliseconds since 1970
            seconds = f"TRY_CAST({text} AS DOUBLE) / {EPOCHS[fmt]}"
            # only 1970-2099: another number stays as written, for the check to name
            parsed = (f"CASE WHEN {seconds} BETWEEN 0 AND {_EPOCH_END}"
                      f" THEN to_timestamp({seconds}) END")
            parsed_params = [*params, *params]  # the column's SQL is in it twice
        else:
            parsed = f"try_strptime({text}, ?)"
            parsed_params = [*params, fmt]
        sql, params = (f"coalesce(CAST(CAST({parsed} AS TIMESTAMP) AS VARCHAR),"
                       f" CAST({sql} AS VARCHAR))"), [*parsed_params, *params]
    return sql, params
