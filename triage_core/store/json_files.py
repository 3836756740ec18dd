"""JSON and JSON Lines files as rows of text, the way a CSV file's cells are read.

DuckDB's ``read_json`` guesses a type per field: it reads "03-12-2026" as a date (day or month
first depending on the other rows), keeps a field that holds numbers in some records and texts
in others as JSON (ids stored with their quotes), and turns integers beyond 64 bits into
floats. Here every record is read as a JSON object and each field taken as its text instead
(``json_extract_string``: a string without quotes, a number as written, true/false, an object
or a list as its JSON), so the import's own checks decide, with the same messages as for CSV.

Helpdesk API exports wrap their records: ``{"tickets": [...], "next_page": ..., "count": ...}``.
A file holding one object with one such list (under the table's name, e.g. ``tickets``, or a
usual wrapper name such as ``results`` or ``data``) is read as that list. Fields holding
objects are also offered flattened with dotted names (``via.channel``,
``satisfaction_rating.score``), so a mapping can name them; so are the elements of Zendesk's
``custom_fields`` list, by their id (``custom_fields.360001``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from triage_core.errors import ImportValidationError
from triage_core.store.identifiers import quote_ident

# Keys under which exports put their records, besides the table's own name (ServiceNow's
# Table API: result; OData: value; Salesforce: records).
WRAPPERS = ("results", "result", "data", "items", "records", "rows", "value", "entries")
TABLE_WRAPPERS = {"customers": ("users", "contacts", "requesters", "people"),
                  "agents": ("users", "agents", "admins", "teammates"),
                  # Intercom and Help Scout: conversations; Jira: issues; Salesforce: cases
                  "tickets": ("requests", "conversations", "issues", "cases", "incidents"),
                  # Zendesk's satisfaction ratings API
                  "csat_surveys": ("satisfaction_ratings", "surveys", "ratings", "responses")}
# HAL APIs (Help Scout) put the list one level down: {"_embedded": {"conversations": [...]}}
EMBEDDED = "_embedded"
# Keys under which an API's single-record answer puts its one record (Zendesk's
# ``GET /api/v2/tickets/{id}.json`` is ``{"ticket": {...}}``).
SINGLE_WRAPPERS = {"customers": ("customer", "user", "contact", "requester"),
                   "agents": ("agent", "user"), "tickets": ("ticket", "request"),
                   "campaigns": ("campaign",), "touchpoints": ("touchpoint",),
                   "csat_surveys": ("csat_survey", "survey", "satisfaction_rating")}
MAX_FIELDS = 1_000  # distinct fields (flattened ones included); more is no table
FLATTEN_DEPTH = 3  # via.source.from: levels of nested objects offered as dotted fields
# one object of a JSON Lines file, or the one wrapping object, may be this large
MAX_OBJECT_BYTES = 1 << 30
DEFAULT_OBJECT_BYTES = 1 << 24


# json_type's answers, in words
_KINDS = {"ARRAY": "list", "VARCHAR": "text", "BOOLEAN": "true/false", "NULL": "null",
          "BIGINT": "number", "UBIGINT": "number", "DOUBLE": "number"}


def _pointer(path: tuple[str, ...]) -> str:
    """The JSON pointer of a field (RFC 6901: ``~`` and ``/`` escaped)."""
    return "".join("/" + k.replace("~", "~0").replace("/", "~1") for k in path)


LOCATE_BYTES = 512 * 1024 * 1024  # unreadable files up to this size are read again to say where


def locate_error(path: Path) -> str | None:
    """Where the JSON file ``path`` (a document or JSON Lines) stops being JSON, as Python's
    reader sees it: "line 121: ..." (DuckDB names the line where it noticed, which for a
    record cut short is the next one). None when it cannot say."""
    import json

    try:
        if path.stat().st_size > LOCATE_BYTES:
            return None
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    try:
        json.loads(text)
        return None  # one document Python reads: DuckDB's reason stands
    except json.JSONDecodeError as whole:
        lines = text.splitlines()
        if len([ln for ln in lines if ln.strip()]) < 2:
            return f"line {whole.lineno}, column {whole.colno}: {whole.msg}"
        for number, line in enumerate(lines, 1):  # JSON Lines: the first line that is not
            if not line.strip():
                continue
            try:
                json.loads(line)
            except json.JSONDecodeError as exc:
                if number == 1 and line.lstrip()[:1] == "[":  # a document over many lines
                    return f"line {whole.lineno}, column {whole.colno}: {whole.msg}"
                return f"line {number} is not one complete JSON record ({exc.msg})"
    return None


class EmptyPage(ImportValidationError):
    """A page of an API export whose list of records is empty (``{"tickets": [], ...}``: an
    incremental export with nothing new since the last page). An import takes it as nothing
    to import; whatever needs rows (a preview, a mapping) refuses it like an empty file."""

    def __init__(self, file: str, key: str) -> None:
        self.key = key
        super().__init__(file, f"the file's {key!r} list is empty: no records")


def load(con: Any, path: Path, table: str | None = None) -> None:
    """The records of the JSON file ``path`` in the temp table ``_raw``: ``_row`` (the
    record's number, from 1) and one text column per field. Raises
    :class:`ImportValidationError` for a file that holds no records or something other than
    objects; DuckDB's errors (unparsable JSON) go to the caller."""
    name = path.name
    read = ("CREATE OR REPLACE TEMP TABLE _json AS SELECT row_number() OVER () AS _row,"
            " json AS j FROM read_json_objects(?, format = 'auto', maximum_object_size = ?)")
    try:  # DuckDB's default object size: its buffers grow with it
        con.execute(read, [str(path), DEFAULT_OBJECT_BYTES])
    except duckdb.InvalidInputException as exc:
        if "maximum_object_size" not in str(exc):
            raise
        # one large object: the list an API export wraps
        size = min(MAX_OBJECT_BYTES, path.stat().st_size + 1024)
        con.execute(read, [str(path), size])
    try:
        _join_lists(con)
        key = _unwrap(con, table)
        n = con.execute("SELECT count(*) FROM _json").fetchall()[0][0]
        if not n and key is not None:
            raise EmptyPage(name, key)
        if not n:
            raise ImportValidationError(name, "the file holds no records (an empty list)")
        bad = con.execute("SELECT _row, json_type(j) FROM _json WHERE json_type(j) <> 'OBJECT'"
                          " ORDER BY _row LIMIT 1").fetchall()
        if bad:
            kind = _KINDS.get(str(bad[0][1]), "value")
            raise ImportValidationError(name, f"a JSON {kind}, not an object with one field per"
                                        " column", bad[0][0])
        fields = _fields(con, name)
        if not fields:
            raise ImportValidationError(name, "the records have no fields (empty objects)")
        by_id = _fields_by_id(con, fields, {label.lower() for label, _ in fields})
        columns = ", ".join(f"v[{i + 1}] AS {quote_ident(label)}"
                            for i, (label, _) in enumerate(fields))
        params: list[Any] = []
        for label, key, ident in by_id:  # the value of the list's element with this id
            # Help Scout's dropdowns hold the option's id in value and its name in text
            columns += (f", list_transform(list_filter(CAST(json_extract(j, ?) AS JSON[]),"
                        f" lambda e: json_extract_string(e, '$.id') = ?), lambda e: coalesce("
                        f"json_extract_string(e, '$.text'), json_extract_string(e, '$.value'))"
                        f")[1] AS {quote_ident(label)}")
            params += [_pointer((key,)), ident]
        con.execute(f"CREATE OR REPLACE TEMP TABLE _raw AS SELECT _row, {columns} FROM"
                    " (SELECT _row, j, json_extract_string(j, ?::VARCHAR[]) AS v FROM _json)"
                    " ORDER BY _row", [*params, [_pointer(p) for _, p in fields]])
        _documents_as_text(con, [label for label, _ in fields])
    finally:
        con.execute("DROP TABLE IF EXISTS _json")


def read_frame(path: Path, table: str | None = "tickets") -> Any:
    """The records of a JSON file as a DataFrame of text columns, read as :func:`load` reads
    them for an import of ``table`` (``triage evaluate``'s labeled tickets: a helpdesk's
    ``{"tickets": [...]}`` page is unwrapped as the import unwraps it). Raises
    :class:`ImportValidationError` for records that are no objects, ``ValueError`` for a file
    that is no JSON."""
    con = duckdb.connect()
    try:
        load(con, Path(path), table)
        return con.execute("SELECT * EXCLUDE (_row) FROM _raw ORDER BY _row").df()
    except duckdb.Error as exc:
        # where Python's reader sees it, as the import says it (DuckDB names the line after
        # a record cut short)
        where = locate_error(Path(path))
        raise ValueError(where or (str(exc).strip().splitlines()[0] if str(exc).strip() else
                                   type(exc).__name__)) from None
    finally:
        con.close()


def _join_lists(con: Any) -> None:
    """Records that are all lists (an API's pages that are bare lists, as Freshdesk's are,
    saved one after another): their elements, in order, become the records."""
    every = con.execute("SELECT count(*), bool_and(json_type(j) = 'ARRAY') FROM _json"
                        ).fetchall()[0]
    if not every[0] or not every[1]:
        return
    con.execute("CREATE OR REPLACE TEMP TABLE _json AS SELECT row_number() OVER (ORDER BY page,"
                " i) AS _row, e AS j FROM (SELECT _row AS page, unnest(CAST(j AS JSON[])) AS e,"
                " generate_subscripts(CAST(j AS JSON[]), 1) AS i FROM _json)")


# A rich-text document as JSON (Atlassian's document format: Jira Cloud's description and
# comments, {"type": "doc", "content": [...]}): read as its text, a line per block
_IS_DOCUMENT = ("(CASE WHEN {c} LIKE '{{%' AND json_valid({c}) THEN json_type({c}) = 'OBJECT'"
                " AND coalesce(json_extract_string({c}, '$.type') = 'doc', false)"
                " AND coalesce(json_type({c}, '$.content') = 'ARRAY', false) ELSE false END)")
def document_text(doc: Any) -> str:
    """A rich-text document's text (Atlassian's format): a line per paragraph, heading, code
    block or list item, in reading order (nested lists under their item); a mention's or an
    emoji's text in its place; a hard break as a line break."""
    lines: list[str] = []

    def inline(nodes: Any) -> str:
        out = []
        for n in nodes if isinstance(nodes, list) else []:
            if not isinstance(n, dict):
                continue
            if n.get("type") == "hardBreak":
                out.append("\n")
            elif isinstance(n.get("text"), str):
                out.append(n["text"])
            elif isinstance(n.get("attrs"), dict):
                shown = n["attrs"].get("text") or n["attrs"].get("shortName") or n[
                    "attrs"].get("url")
                out.append(shown if isinstance(shown, str) else "")
            elif isinstance(n.get("content"), list):
                out.append(inline(n["content"]))
        return "".join(out)

    stack: list[Any] = list(reversed(doc.get("content") or [])) if isinstance(doc, dict) else []
    while stack:  # no recursion: a document nests as deep as its author indents
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        if node.get("type") in ("paragraph", "heading", "codeBlock"):
            lines.append(inline(node.get("content")))
        elif isinstance(node.get("content"), list):
            stack.extend(reversed(node["content"]))
        elif isinstance(node.get("text"), str):
            lines.append(node["text"])
    return "\n".join(lines)


def _documents_as_text(con: Any, labels: list[str]) -> None:
    """Columns of ``_raw`` holding rich-text documents (:data:`_IS_DOCUMENT`) get their text
    (:func:`document_text`) instead of the document's JSON (the models would read "type",
    "doc", "paragraph"), and the document's flattened fields are dropped."""
    import json

    import pyarrow as pa

    if not labels:
        return
    found = con.execute("SELECT " + ", ".join(
        f"bool_or({_IS_DOCUMENT.format(c=quote_ident(label))})" for label in labels)
        + " FROM _raw").fetchall()[0]
    for label, hit in zip(labels, found, strict=True):
        if not hit:
            continue
        c = quote_ident(label)
        docs = con.execute(f"SELECT _row, {c} FROM _raw WHERE {_IS_DOCUMENT.format(c=c)}"
                           ).fetchall()
        _doc_text = pa.table({"r": [r for r, _ in docs],  # read by name below
                              "t": [document_text(json.loads(d)) for _, d in docs]})
        con.execute(f"UPDATE _raw SET {c} = _doc_text.t FROM _doc_text"
                    " WHERE _raw._row = _doc_text.r")
        # the document's own fields (type, version, content) are no columns of the export
        for inner in [x for x in labels if x.startswith(label + ".")]:
            con.execute(f"ALTER TABLE _raw DROP COLUMN {quote_ident(inner)}")


def _unwrap(con: Any, table: str | None) -> str | None:
    """One object holding the records in a list under a known key: the list's elements
    become the records (also a list under ``_embedded``, and pages of an export written one
    after another, each such an object); or one object holding one record under the table's
    singular key (``{"ticket": {...}}``, an API's answer for one ticket): that object becomes
    the record. Returns that key (None: the file is not such an object)."""
    n = con.execute("SELECT count(*) FROM _json").fetchall()[0][0]
    keys = con.execute("SELECT json_keys(j) FROM _json WHERE json_type(j) = 'OBJECT' LIMIT 1"
                       ).fetchall()
    if not n or not keys or not keys[0][0]:
        return None
    own = {*((table, *TABLE_WRAPPERS.get(table, ())) if table else ())}
    # a file of pages: only under the table's own names (a ticket may hold a "data" list)
    names = {*WRAPPERS, *own} if n == 1 else own
    first = [str(k) for k in keys[0][0]]
    if not _a_page(con, first):  # a record of ours that holds a list ("cases": [...])
        return None
    paths = [path for path in [(k,) for k in first if k.lower() in names] + [
             (EMBEDDED, k) for k in _embedded_keys(con) if k.lower() in names]
             # every record (one, or each page of a file of pages) holds a list there
             if con.execute("SELECT bool_and(coalesce(json_type(j, ?) = 'ARRAY', false))"
                            " FROM _json", [_pointer(path)]).fetchall()[0][0]]
    if len(paths) != 1:
        return _unwrap_single(con, first, table) if n == 1 else None
    path, pointer = paths[0], _pointer(paths[0])
    con.execute("CREATE OR REPLACE TEMP TABLE _json AS SELECT row_number() OVER () AS _row,"
                " e AS j FROM (SELECT _row AS page, unnest(CAST(json_extract(j, ?) AS JSON[]))"
                " AS e FROM _json ORDER BY page)", [pointer])
    return ".".join(path)


# Fields of an API's page beside its list of records: paging, counts, links.
PAGE_FIELDS = frozenset({
    "next_page", "previous_page", "prev_page", "count", "total", "total_count", "end_of_stream",
    "end_time", "after_cursor", "before_cursor", "after_url", "before_url", "cursor",
    "next_cursor", "has_more", "more", "offset", "limit", "page", "per_page", "page_size",
    "pages", "next", "previous", "prev", "type", "object", "url", "meta", "links", "_links",
    "status", "success", "start", "size",
    # Jira's search (startAt, maxResults, expand, isLast, nextPageToken), Salesforce's query
    # (totalSize, done, nextRecordsUrl), Gorgias' and Stripe-like lists (uri), Zoho's and
    # others' page counts; compared in lower case
    "startat", "maxresults", "expand", "islast", "nextpagetoken", "next_page_token",
    "totalsize", "done", "nextrecordsurl", "uri", "total_pages", "totalpages", "page_number",
    "pagenumber", "has_next", "hasmore", "hasnext", "total_results", "totalresults",
    "totalcount", "pagesize", "perpage"})


def _a_page(con: Any, keys: list[str]) -> bool:
    """Whether the first record is an API's page rather than a record of ours: each field
    beside its lists and objects (the records, side-loaded users, links) is a paging field,
    or empty. A ticket has fields of its own (a subject, a status text...)."""
    if len(keys) > 50:
        return False
    for k in keys:
        kind = con.execute("SELECT json_type(j, ?) FROM _json ORDER BY _row LIMIT 1",
                           [_pointer((k,))]).fetchall()[0][0]
        if kind not in ("ARRAY", "OBJECT", "NULL") and k.lower() not in PAGE_FIELDS:
            return False
    return True


def _embedded_keys(con: Any) -> list[str]:
    """The keys of the first record's ``_embedded`` object (HAL), if it has one."""
    found = con.execute("SELECT json_keys(j, ?) FROM _json WHERE json_type(j, ?) = 'OBJECT'"
                        " LIMIT 1", [_pointer((EMBEDDED,)), _pointer((EMBEDDED,))]).fetchall()
    return [str(k) for k in found[0][0]] if found and found[0][0] else []


def _unwrap_single(con: Any, keys: list[str], table: str | None) -> str | None:
    """``{"ticket": {...}}`` (side-loaded lists beside it allowed): the one object under the
    table's singular key becomes the record. None when there is no such key, or more than
    one, or it holds no object."""
    names = SINGLE_WRAPPERS.get(table or "", ())
    found = [k for k in keys if k.lower() in names and con.execute(
        "SELECT json_type(j, ?) = 'OBJECT' FROM _json", [_pointer((k,))]).fetchall()[0][0]]
    if len(found) != 1:
        return None
    con.execute("CREATE OR REPLACE TEMP TABLE _json AS SELECT 1 AS _row,"
                " json_extract(j, ?) AS j FROM _json", [_pointer((found[0],))])
    return found[0]


def _fields(con: Any, name: str) -> list[tuple[str, tuple[str, ...]]]:
    """(column name, path) of every field, in the order of first appearance; the fields of
    nested objects follow, named with dots. A name that differs from an earlier one only in
    case is left out (DuckDB's column names ignore case; CSV headers are treated alike)."""
    out: list[tuple[str, tuple[str, ...]]] = []
    taken: set[str] = set()
    parents: list[tuple[str, ...]] = [()]
    for _depth in range(FLATTEN_DEPTH + 1):
        nested: list[tuple[str, ...]] = []
        for parent in parents:
            at = _pointer(parent)
            keys = con.execute(
                "SELECT k FROM (SELECT _row, unnest(json_keys(j, ?)) AS k,"
                " unnest(range(len(json_keys(j, ?)))) AS i FROM _json"
                " WHERE json_type(j, ?) = 'OBJECT')"
                " GROUP BY k ORDER BY min(_row), min(i) LIMIT ?",
                [at, at, at, MAX_FIELDS + 1]).fetchall()
            for (key,) in keys:
                path = (*parent, key)
                label = ".".join(path) or "column"
                if label.lower() in taken:
                    continue
                if len(out) >= MAX_FIELDS:
                    raise ImportValidationError(name, f"the records have more than {MAX_FIELDS:,}"
                                                " different fields; is this a table?")
                taken.add(label.lower())
                out.append((label, path))
                nested.append(path)
        parents = _objects(con, nested)
        if not parents:
            break
    return out


MAX_FIELDS_BY_ID = 200  # custom fields offered per list


def _fields_by_id(con: Any, fields: list[tuple[str, tuple[str, ...]]], taken: set[str]
                  ) -> list[tuple[str, str, str]]:
    """Zendesk keeps its custom fields as a list, ``"custom_fields": [{"id": 360001,
    "value": "billing"}, ...]``: each id is offered as a field of its own,
    ``custom_fields.360001`` (label, list key, id), so a mapping can name the one that holds
    the category. Top-level lists whose elements are objects with ``id`` and ``value``."""
    out: list[tuple[str, str, str]] = []
    top = [(label, path) for label, path in fields if len(path) == 1]
    if not top:
        return out
    lists = {int(r[0]) for r in con.execute(  # one pass: which fields hold a list somewhere
        "SELECT DISTINCT unnest(list_filter(range(len(t)), lambda i: t[i + 1] = 'ARRAY')) FROM"
        " (SELECT json_type(j, ?::VARCHAR[]) AS t FROM _json)",
        [[_pointer(p) for _, p in top]]).fetchall()}
    for label, path in (top[i] for i in sorted(lists)):
        at = _pointer(path)
        ids = con.execute(
            "SELECT i FROM (SELECT _row, json_extract_string(e, '$.id') AS i,"
            " json_exists(e, '$.value') AS v FROM (SELECT _row, unnest(CAST(json_extract(j, ?)"
            " AS JSON[])) AS e FROM _json WHERE json_type(j, ?) = 'ARRAY')"
            " WHERE json_type(e) = 'OBJECT') WHERE i IS NOT NULL AND v"
            " GROUP BY i ORDER BY min(_row), i LIMIT ?", [at, at, MAX_FIELDS_BY_ID]).fetchall()
        for (ident,) in ids:
            name = f"{label}.{ident}"
            if name.lower() not in taken:
                taken.add(name.lower())
                out.append((name, path[0], str(ident)))
    return out


def _objects(con: Any, paths: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The ``paths`` that hold an object in some record (one pass over the records)."""
    if not paths:
        return []
    found = con.execute(
        "SELECT DISTINCT unnest(list_filter(range(len(t)), lambda i: t[i + 1] = 'OBJECT')) FROM"
        " (SELECT json_type(j, ?::VARCHAR[]) AS t FROM _json)",
        [[_pointer(p) for p in paths]]).fetchall()
    return [paths[i] for i in sorted(int(r[0]) for r in found)]
