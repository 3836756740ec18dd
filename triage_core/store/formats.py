"""File formats of imports: which reader to use, UTF-8 checks, and read errors in words."""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage_core.errors import ImportValidationError
from triage_core.store.identifiers import quote_ident

if TYPE_CHECKING:
    import pandas as pd

FORMATS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".json": "json", ".jsonl": "json", ".ndjson": "json",
}

def check_readable(path: Path) -> str:
    """The format of ``path``, after refusing what cannot be imported: an unknown type, a
    missing file, a folder, an unreadable or empty file, bytes that are not UTF-8."""
    name = path.name or str(path)
    fmt = detect_format(path)
    if not path.exists():
        raise ImportValidationError(name, "file not found")
    if path.is_dir():
        raise ImportValidationError(name, "is a folder, not a file")
    try:
        with path.open("rb") as fh:
            first = fh.read(4)
    except OSError as exc:
        raise ImportValidationError(name, f"cannot read the file ({exc.strerror or exc})"
                                    ) from None
    if not first:
        raise ImportValidationError(name, "file is empty")
    if fmt in ("csv", "json"):
        kind = packed_kind(first)
        if kind:
            raise ImportValidationError(name, f"{kind}, not {fmt.upper()} text: {UNPACK}")
        encoding = wide_encoding(first)
        if encoding is not None:
            raise ImportValidationError(name, f"the file is {encoding} text (as Excel's "
                                        "'Unicode Text' saves it); save it as UTF-8 (in "
                                        "Excel: 'CSV UTF-8')")
        check_utf8(path, fmt)
    return fmt


def wide_encoding(first: bytes) -> str | None:
    """"UTF-16" or "UTF-32" when a file's first bytes are that encoding's byte-order mark."""
    return next((encoding for bom, encoding in _WIDE_BOMS if first.startswith(bom)), None)


# Byte-order marks of the encodings that UTF-8 checks would report as garbage column names
# (UTF-32 first: its little-endian mark starts with UTF-16's).
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
              (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


# What a file that is no text starts with, and what it then is
_PACKED = ((b"PK\x03\x04", "a ZIP archive or a spreadsheet workbook"),
           (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook"),
           (b"\x1f\x8b", "a gzip-compressed file"))
UNPACK = "unpack it, or save the workbook as 'CSV UTF-8' (Excel: File > Save As)"


def packed_kind(first: bytes) -> str | None:
    """What a file is when its first bytes say it is a workbook or compressed, else None (read
    as text, such a file was one column named after its first bytes, or "not UTF-8")."""
    return next((kind for magic, kind in _PACKED if first.startswith(magic)), None)


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if path.is_dir():  # a folder without a suffix was an "unknown file type '(none)'"
        raise ImportValidationError(path.name, "is a folder, not a file")
    if suffix not in FORMATS:
        packed = _PACKED_SUFFIXES.get(suffix)
        if packed is not None:  # export.csv.gz: say what to do
            raise ImportValidationError(
                path.name, f"a {packed} file; unpack it first and import the file inside"
                " (.csv, .parquet, .json or .jsonl)")
        raise ImportValidationError(
            path.name, f"unknown file type {suffix or '(none)'!r}; use .csv, .parquet, .json "
            "or .jsonl"
        )
    return FORMATS[suffix]


_PACKED_SUFFIXES = {".gz": "gzip-compressed", ".zip": "ZIP", ".bz2": "bzip2-compressed",
                    ".xz": "xz-compressed", ".zst": "zstd-compressed", ".tgz": "compressed tar",
                    ".tar": "tar", ".7z": "7-Zip"}


def check_utf8(path: Path, fmt: str) -> None:
    """Refuse non-UTF-8 bytes, naming the row and column where they are."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                _raise_encoding_error(path, fmt, offset + exc.start)
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        _raise_encoding_error(path, fmt, offset + exc.start)


def _raise_encoding_error(path: Path, fmt: str, byte_offset: int) -> None:
    message = (f"bytes that are not UTF-8 at byte {byte_offset}; save the file as UTF-8"
               " (in Excel: 'CSV UTF-8')")
    if fmt == "csv":
        text = path.read_bytes().decode("utf-8", errors="surrogateescape")
        first = text.lstrip("\ufeff").split("\n", 1)[0]
        reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""),
                            delimiter=header_delimiter(first))
        header = next(reader, [])
        if any(re.search("[\udc80-\udcff]", name) for name in header):  # (a binary file)
            raise ImportValidationError(path.name, f"bytes that are not UTF-8 in the header line"
                                        f" (byte {byte_offset}); save the file as UTF-8 (in"
                                        " Excel: 'CSV UTF-8')")
        for row_no, row in enumerate(reader, start=1):
            for i, cell in enumerate(row):
                if re.search("[\udc80-\udcff]", cell):
                    column = header[i] if i < len(header) else f"#{i + 1}"
                    raise ImportValidationError(path.name, "bytes that are not UTF-8; save the"
                                                " file as UTF-8 (in Excel: 'CSV UTF-8')",
                                                row_no, column)
    line = path.read_bytes()[:byte_offset].count(b"\n") + 1
    raise ImportValidationError(path.name, message + f" (line {line})")


def describe_read_error(exc: Exception, fmt: str, path: Path | None = None) -> str:
    """DuckDB's reason in one line, without the file's folder (no server paths in errors)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    first = re.sub(r"^[A-Za-z ]*Error: ", "", first)
    if path is not None:
        for shown in {str(path), str(path.resolve()), path.as_posix()}:
            first = first.replace(shown, path.name)
    return f"cannot read the file as {fmt.upper()}: {first}"


# The longest line (one row, its quoted line breaks included) a CSV file may have: a pasted
# log or an e-mail with an inline image makes a ticket of megabytes (DuckDB's default is 2 MB,
# Python's csv module's 128 KB), and the JSON reader takes such records too.
MAX_CSV_LINE_BYTES = 64 << 20
csv.field_size_limit(MAX_CSV_LINE_BYTES)

# The reader of each format, as a SELECT over one bound parameter (the path); JSON files are
# read by json_files.
READERS = {
    "csv": "SELECT * FROM read_csv(?, header = true, all_varchar = true,"
           f" strict_mode = true, null_padding = false, max_line_size = {MAX_CSV_LINE_BYTES})",
    "parquet": "SELECT * FROM read_parquet(?)",
}


# Levels of a Parquet file's struct columns offered as dotted columns (as for JSON objects),
# and how many such columns at most.
STRUCT_DEPTH = 3
MAX_STRUCT_FIELDS = 1_000
MAX_FIELDS_BY_ID = 200  # ids of a custom-field list offered as columns (as json_files')


def parquet_reader(con: Any, path: Path) -> tuple[str, list[Any]]:
    """``READERS["parquet"]`` with the fields of the file's struct columns added as dotted
    columns (``via`` -> ``via.channel``, ``via.source.from.address``), the way nested JSON
    objects are read, so a mapping or preset finds them (a warehouse's copy of a Zendesk export
    keeps ``via`` as a struct; read whole it became the text ``{'channel': web}``), and each
    id of a list of ``{id, value}`` structs (Zendesk's ``custom_fields``) as a column of its
    own, ``custom_fields.360001``, as in JSON. The struct column itself stays; a dotted name
    that a column already has is left out. Returns the SELECT and its bound parameters."""
    rel = con.from_parquet(str(path))
    taken = {c.lower() for c in rel.columns}
    extra: list[str] = []
    params: list[Any] = []
    queue = [((c,), t) for c, t in zip(rel.columns, rel.dtypes, strict=True)]
    while queue:
        parent, kind = queue.pop(0)
        if kind.id != "struct" or len(parent) > STRUCT_DEPTH:
            continue
        for name, child in kind.children:
            if not str(name):  # no name to give it a dotted column
                continue
            field = (*parent, str(name))
            label = ".".join(field)
            if label.lower() in taken or len(extra) >= MAX_STRUCT_FIELDS:
                continue
            taken.add(label.lower())
            extra.append(f"{'.'.join(map(quote_ident, field))} AS {quote_ident(label)}")
            queue.append((field, child))
    for column, kind in zip(rel.columns, rel.dtypes, strict=True):
        if kind.id != "list" or kind.child.id != "struct" or not {"id", "value"} <= {
                str(n) for n, _ in kind.child.children}:
            continue
        q = quote_ident(column)
        # a dropdown's option name where the struct has one (as JSON's text), else its value
        shown = ("coalesce(CAST(e.\"text\" AS VARCHAR), CAST(e.\"value\" AS VARCHAR))"
                 if "text" in {str(n) for n, _ in kind.child.children}
                 else "CAST(e.\"value\" AS VARCHAR)")
        ids = con.execute(
            f"SELECT i FROM (SELECT CAST(e.id AS VARCHAR) AS i, min(r) AS first FROM (SELECT r,"
            f" unnest(l) AS e FROM (SELECT row_number() OVER () AS r, {q} AS l FROM"
            " read_parquet(?))) WHERE e.id IS NOT NULL GROUP BY 1) ORDER BY first, i LIMIT ?",
            [str(path), MAX_FIELDS_BY_ID]).fetchall()
        for (ident,) in ids:
            label = f"{column}.{ident}"
            if label.lower() in taken or len(extra) >= MAX_STRUCT_FIELDS:
                continue
            taken.add(label.lower())
            extra.append(f"list_transform(list_filter({q}, lambda e: CAST(e.id AS VARCHAR)"
                         f" = ?), lambda e: {shown})[1] AS {quote_ident(label)}")
            params.append(str(ident))
    if not extra:
        return READERS["parquet"], [str(path)]
    return f"SELECT *, {', '.join(extra)} FROM read_parquet(?)", [*params, str(path)]


def read_parquet_frame(path: Path) -> Any:
    """A Parquet file as a DataFrame, read as an import reads it (:func:`parquet_reader`:
    struct fields also as dotted columns), for ``triage evaluate``. Raises ``ValueError`` for
    a file that is no Parquet."""
    import duckdb

    con = duckdb.connect()
    try:
        sql, params = parquet_reader(con, path)
        return con.execute(sql, params).df()
    except duckdb.Error as exc:
        raise ValueError(str(exc).strip().splitlines()[0] if str(exc).strip() else
                         type(exc).__name__) from None
    finally:
        con.close()


# Delimiters a CSV file's header is checked for (the most frequent one in it is taken).
_DELIMITERS = (",", ";", "\t", "|")


def header_delimiter(header: str) -> str:
    """The delimiter a CSV header line holds most of (a comma when it holds none)."""
    delimiter = max(_DELIMITERS, key=header.count)
    return delimiter if header.count(delimiter) else ","


def check_csv_shape(con: Any, path: Path) -> None:
    """Refuse a CSV file whose rows do not fit its header, naming the first such row.

    DuckDB's sniffer, when rows disagree with the header (a row with a field too many or too
    few, a file cut off inside a quoted value), falls back to another reading of the file:
    the header taken as data, the whole line as one column, or quotes kept as text. The
    import would then fail on "missing columns" found in the data, or store ``"unclosed`` as
    a subject. When the sniffer's reading looks like one of those, the file is walked with
    the standard CSV rules to find the row (only then: the walk costs seconds on a large
    file); if none is wrong, DuckDB's reading stands."""
    import duckdb

    try:
        found = con.execute("SELECT Quote, HasHeader, len(Columns), Delimiter FROM"
                            " sniff_csv(?, strict_mode = true, null_padding = false,"
                            " all_varchar = true, max_line_size = ?)",
                            [str(path), MAX_CSV_LINE_BYTES]).fetchall()
    except duckdb.Error:  # the sniffer gave up: the walk below names the row, if it can
        found = []
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    header = head.split(b"\n", 1)[0]
    if found:
        quote, has_header, columns, delimiter = found[0]
        suspicious = (not has_header
                      or (quote in ("", "(empty)") and b'"' in head)
                      or (columns == 1 and any(d.encode() in header for d in _DELIMITERS))
                      # the first line skipped: a row below has more fields than the header
                      or columns != _header_fields(head, delimiter))
        if not suspicious:
            return
    problem = csv_problem(path, header.decode("utf-8", errors="replace"))
    if problem is not None:
        raise ImportValidationError(path.name, problem[1], problem[0])


def _header_fields(head: bytes, delimiter: str) -> int:
    """How many fields the header line holds (the first line, or the second after Excel's
    "sep=;" line), read with the standard CSV rules and the sniffer's ``delimiter`` (0 when it
    cannot be read alone: a quoted value over several lines)."""
    lines = head.decode("utf-8", errors="replace").lstrip("\ufeff").split("\n", 2)
    text = lines[0].rstrip("\r")
    if re.fullmatch(r"(?i)sep=.", text) and len(lines) > 1:
        text = lines[1].rstrip("\r")
    try:
        return len(next(csv.reader([text], delimiter=delimiter if len(delimiter) == 1
                                   else header_delimiter(text), strict=True), []))
    except csv.Error:
        return 0


def csv_problem(path: Path, header: str) -> tuple[int, str] | None:
    """(row, what is wrong) of the first row that the standard CSV rules cannot read or
    that has another number of fields than the header; None when every row fits."""
    delimiter = header_delimiter(header)
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh, delimiter=delimiter, quotechar='"', doublequote=True,
                            strict=True)
        row = 0
        try:
            names = next(reader, None)
            if names is None:
                return None
            for row, record in enumerate(reader, start=1):
                if record and len(record) != len(names):
                    hint = ("a value with the delimiter in it needs quotes"
                            if len(record) > len(names) else "is a value missing?")
                    return row, f"{len(record)} fields where the header has {len(names)}; {hint}"
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                return row + 1, ("a quoted value that starts here is never closed (is the"
                                 " file cut off?)")
            if "field larger than field limit" in str(exc):
                return row + 1, (f"a value longer than {MAX_CSV_LINE_BYTES >> 20} MB, the most a"
                                 " CSV value may hold (is a quote never closed?)")
            return row + 1, f"not valid CSV ({exc}, line {reader.line_num})"
    return None


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell that a spreadsheet would run as a formula (one starting
    with = + - @, a tab or a carriage return: ``=HYPERLINK(...)`` in a ticket) prefixed with
    an apostrophe, which spreadsheets show as text (OWASP's advice for CSV files)."""
    from pandas.api.types import is_string_dtype

    out = frame.copy()
    for name, col in out.items():
        if col.dtype == object or is_string_dtype(col.dtype):
            out[name] = [f"'{v}" if isinstance(v, str) and v.startswith(_FORMULA) else v
                         for v in col.tolist()]
    return out
