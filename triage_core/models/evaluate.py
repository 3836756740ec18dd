"""Honest accuracy figures: ``triage evaluate`` on any labeled CSV, and the holdout metrics of
every trained model.

``evaluate_category`` trains a fresh classifier on TRAIN and scores TEST; ``evaluate_sentiment``
scores TEST with the zero-shot default, or with a model trained on TRAIN when one is given.
Rows with an empty label are skipped and counted. Several text columns are joined as one text.
"""

from __future__ import annotations

import csv
import re
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from triage_core.errors import ModelError, TriageError, short_label
from triage_core.models.sentiment_labels import check_sentiment_labels, files_reading
from triage_core.paths import TEMP_PREFIX, check_output_file
from triage_core.schema import BIDI, SENTIMENT_LABELS


def metrics(y_true: Sequence[Any], y_pred: Sequence[Any]) -> dict[str, Any]:
    """accuracy, macro_f1, per_class {label: precision, recall, f1, support}, confusion.

    Computed from one confusion matrix over integer codes (fast on millions of string labels,
    and defined for a single class too). Macro-F1 averages over the labels present in the
    truth; a label only ever predicted adds no zero to it."""
    if len(y_true) == 0:
        raise TriageError("nothing to evaluate: no rows with a label")
    if len(y_true) != len(y_pred):
        raise TriageError(f"{len(y_true)} labels but {len(y_pred)} predictions")
    truth = pd.Series(list(y_true), dtype=object).astype(str)
    pred = pd.Series(list(y_pred), dtype=object).astype(str)
    labels = sorted(set(truth.unique()) | set(pred.unique()))
    k = len(labels)
    t_codes = pd.Categorical(truth, categories=labels).codes.astype(np.int64)
    p_codes = pd.Categorical(pred, categories=labels).codes.astype(np.int64)
    matrix = np.bincount(t_codes * k + p_codes, minlength=k * k).reshape(k, k)
    hits = np.diag(matrix).astype(float)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    precision = np.divide(hits, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(hits, support, out=np.zeros(k), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(k), where=denom > 0)
    present = support > 0
    return {
        "accuracy": float(hits.sum() / len(truth)),
        "macro_f1": float(f1[present].mean()),
        "per_class": {
            lab: {"precision": float(precision[i]), "recall": float(recall[i]),
                  "f1": float(f1[i]), "support": int(support[i])}
            for i, lab in enumerate(labels) if present[i]
        },
        "confusion": {"labels": labels, "matrix": matrix.tolist()},
    }


def read_labeled(path: str | Path, text_cols: Sequence[str], label_col: str,
                 readable: bool = False) -> tuple[pd.Series, pd.Series, int]:
    """(texts, labels, n_skipped) from a labeled file (see ``read_table``, ``frame_texts``)."""
    return frame_texts(read_table(path), text_cols, label_col, Path(path).name, readable)


def read_table(path: str | Path) -> pd.DataFrame:
    """A labeled file's columns as text: CSV (comma, semicolon, tab or pipe, as its header
    line shows), Parquet, or JSON (an array of records, or one record per line in
    .jsonl/.ndjson), by the file's suffix; any other suffix is read as CSV."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        _refuse_packed(path, suffix)
        if suffix in (".parquet", ".pq"):
            from triage_core.store.formats import read_parquet_frame

            df = _as_text(read_parquet_frame(path))  # struct fields by dotted name too
        elif suffix in (".json", ".jsonl", ".ndjson"):
            df = _as_text(_read_json(path, lines=suffix != ".json"))
        else:
            df = _read_csv(path)
    except FileNotFoundError:
        raise TriageError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise TriageError(f"{path}: is a folder, not a file") from None
    except UnicodeDecodeError:
        from triage_core.store.formats import check_utf8

        check_utf8(path, "csv" if suffix not in (".json", ".jsonl", ".ndjson") else "json")
        raise TriageError(f"{path}: not UTF-8 text") from None
    except pd.errors.EmptyDataError:
        raise TriageError(f"{path.name}: empty: no header line and no rows") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        # the import's words for it: the data row (1 = the first under the header), not
        # pandas' line of the file, and what is wrong (a quote never closed, a field too many)
        from triage_core.store.formats import csv_problem

        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            found = csv_problem(path, fh.readline())
        where = (f"row {found[0]}: {found[1]}" if found else
                 "rows have more fields than the header"
                 if isinstance(exc, pd.errors.ParserWarning) else str(exc).splitlines()[0])
        raise TriageError(f"{path.name}: cannot read as CSV ({where})") from None
    except OSError as exc:  # no permission
        raise TriageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except TriageError:  # the JSON reader's own message (the import's): file and row
        raise
    except (ValueError, ImportError) as exc:  # not Parquet / not JSON records
        kind = ("Parquet" if suffix in (".parquet", ".pq") else
                "JSON" if suffix in (".json", ".jsonl", ".ndjson") else "CSV")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TriageError(f"{path.name}: cannot read as {kind} ({first[:200]})") from None
    df.attrs["duplicates"] = _duplicate_columns(path, suffix)
    return df


def _duplicate_columns(path: Path, suffix: str) -> dict[str, tuple[int, int]]:
    """Column names the file has twice, each with its first two places (1 = the first
    column): the readers rename the second (``text.1``, ``text_1``), so asking for the name
    would read the first without a word."""
    if suffix in (".json", ".jsonl", ".ndjson"):
        return {}  # a JSON record's keys are one each
    try:
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            names = [str(n) for n in pq.read_schema(path).names]
        else:
            from triage_core.store.formats import header_delimiter

            with path.open(encoding="utf-8-sig", newline="") as fh:
                header = fh.readline()
            names = next(csv.reader([header], delimiter=header_delimiter(header)), [])
    except (OSError, ValueError, csv.Error):
        return {}
    seen: dict[str, int] = {}
    out: dict[str, tuple[int, int]] = {}
    for i, name in enumerate(names, 1):
        name = name.strip()
        if name in seen and name not in out:
            out[name] = (seen[name], i)
        seen.setdefault(name, i)
    return out


_WORKBOOKS = (".xlsx", ".xlsm", ".xls", ".ods", ".numbers")


def _refuse_packed(path: Path, suffix: str) -> None:
    """A spreadsheet workbook or a compressed file is refused with what to do instead (read as
    CSV, it was one column named after its first bytes)."""
    from triage_core.store.formats import UNPACK, packed_kind

    if suffix in (".parquet", ".pq") or not path.is_file():
        return
    if suffix in _WORKBOOKS:
        raise TriageError(f"{path.name}: a spreadsheet workbook, not a CSV: save it as 'CSV "
                          "UTF-8' (Excel: File > Save As) or export CSV from the helpdesk")
    with path.open("rb") as fh:
        first = fh.read(4)
    from triage_core.store.formats import wide_encoding

    wide = wide_encoding(first)
    if wide is not None:  # as the import says it
        raise TriageError(f"{path.name}: the file is {wide} text (as Excel's 'Unicode Text'"
                          " saves it); save it as UTF-8 (in Excel: 'CSV UTF-8')")
    if first == b"PAR1":  # read as CSV, its bytes were one column "PAR1\x15..."
        raise TriageError(f"{path.name}: a Parquet file under a {suffix or 'suffixless'} name:"
                          " name it .parquet")
    kind = packed_kind(first)
    if kind is not None:
        raise TriageError(f"{path.name}: {kind}, not a CSV, Parquet or JSON file: {UNPACK}")


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV of text columns, with the delimiter its header line shows."""
    from triage_core.store.formats import header_delimiter

    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = fh.readline()
    # Excel's "sep=;" first line names the delimiter; the header is the line after it
    named = re.fullmatch(r"(?i)sep=(.)", header.rstrip("\r\n"))
    with warnings.catch_warnings():
        # every row one field longer than the header: pandas took the first field as the
        # index (index_col=False: it drops the last one) and only warns
        warnings.simplefilter("error", pd.errors.ParserWarning)
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                           index_col=False, skiprows=1 if named else 0,
                           sep=named.group(1) if named else header_delimiter(header))


def _read_json(path: Path, lines: bool) -> pd.DataFrame:
    """JSON records as a table of text columns, read exactly as the import reads them
    (:func:`triage_core.store.json_files.load`): nested objects also as dotted fields
    (``via.channel``), a Zendesk custom field by its id (``custom_fields.360001``), a list
    wrapped under ``results``, ``data``... unwrapped; one record per line too (``lines``: by
    the suffix, the same reader takes both)."""
    from triage_core.store import json_files

    return json_files.read_frame(path)


def _as_text(df: pd.DataFrame) -> pd.DataFrame:
    """Parquet or JSON columns as text: missing values empty, whole numbers without ".0"."""
    out = {}
    for name, col in df.items():
        values = col.astype(object).where(col.notna(), "")
        out[str(name)] = [str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
                          for v in values]
    return pd.DataFrame(out, index=df.index)


# label values that stand for "no label" (a spreadsheet's or a database export's empty cell):
# skipped like an empty label. Case-insensitive; "none" is left alone (a category name too)
NO_LABEL = frozenset({"nan", "null", "n/a", "#n/a", "-"})


def frame_texts(df: pd.DataFrame, text_cols: Sequence[str], label_col: str, name: str = "file",
                readable: bool = False) -> tuple[pd.Series, pd.Series, int]:
    """(texts, labels, n_skipped); several text columns are joined one per line, as the
    pipeline joins subject and body (so the first column is the text's first line). Rows
    whose label is empty or a placeholder (:data:`NO_LABEL`) are skipped and counted.
    ``readable``: rows whose text has no letter or digit (only markup, punctuation or emoji),
    which the pipeline gives no category, are left out too; their number is the texts'
    ``attrs["unreadable"]``."""
    missing = [c for c in [*text_cols, label_col] if c not in df.columns]
    if missing:
        if (len(df) == 1 and len(df.columns) > 2 + len(text_cols)
                and name.lower().endswith(".json")):
            # {"text": "label", ...}: one record whose fields are the tickets
            raise TriageError(f"{name}: no column {missing[0]!r}, and the file is one record"
                              f" of {len(df.columns):,} fields, not one record per ticket (a"
                              " JSON object of text: label pairs?); write a list of records"
                              ' such as [{"text": "...", "category": "..."}]')
        more = f" and {len(df.columns) - 15:,} more" if len(df.columns) > 15 else ""
        shown = ", ".join(repr(short_label(str(c))) for c in df.columns[:15])
        raise TriageError(f"{name}: no column {missing[0]!r} (columns: {shown}{more})")
    twice = df.attrs.get("duplicates") or {}
    for col in [*text_cols, label_col]:
        if col in twice:
            first, second = twice[col]
            raise TriageError(f"{name}: two columns are named {col!r} (columns {first} and"
                              f" {second}); rename one so it is clear which to read")
    repeated = next((c for i, c in enumerate(text_cols) if c in text_cols[:i]), None)
    if repeated is not None:  # its text would count twice, unlike the pipeline's
        raise TriageError(f"--text-col {repeated!r} is given twice; give each text column once")
    if label_col in text_cols:
        raise TriageError(f"{name}: column {label_col!r} is both a text column and the label"
                          " column: the label would be read as text; choose another column")
    labels = df[label_col].fillna("").astype(str).str.strip()
    keep = (labels != "") & ~labels.str.lower().isin(NO_LABEL)
    _refuse_nested(labels[keep], label_col, name)
    texts = df.loc[keep, list(text_cols)].fillna("").astype(str)
    # each kept text's data row (1 = the first row under the header), for --predictions
    rows = np.flatnonzero(keep.to_numpy()) + 1
    joined = texts.iloc[:, 0] if len(text_cols) == 1 else texts.agg(
        lambda r: "\n".join(v for v in r if v), axis=1)
    joined = joined.reset_index(drop=True)
    labels = labels[keep].reset_index(drop=True)
    unreadable = 0
    if readable and len(joined):
        from triage_core.text import ticket_text_series
        from triage_core.triage.batch import wordless

        # as the pipeline reads a ticket: markup, quoted replies and signatures taken out
        gone = wordless(ticket_text_series([""] * len(joined), joined))
        unreadable = int(gone.sum())
        if unreadable:
            joined = joined[~gone].reset_index(drop=True)
            labels = labels[~gone].reset_index(drop=True)
            rows = rows[~gone]
    joined.attrs["rows"] = rows.tolist()
    joined.attrs["unreadable"] = unreadable
    return joined, labels, int((~keep).sum())


def _refuse_nested(labels: pd.Series, label_col: str, name: str) -> None:
    """A JSON list or object as a label (tags, a multi-select field, a nested record) is no
    one category: refused with its row. ``[Billing]`` in a CSV is a label like any other."""
    import ast
    import json

    nested = labels[(labels.str.startswith("[") & labels.str.endswith("]"))
                    | (labels.str.startswith("{") & labels.str.endswith("}"))]
    for at, value in nested.items():
        if len(value) > 100_000:  # not parsed: a label that long is refused as too long anyway
            continue
        try:
            parsed = json.loads(value)
        except ValueError:
            try:  # a Parquet list as Python writes it: ['a', 'b']
                parsed = ast.literal_eval(value)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
        if not isinstance(parsed, list | tuple | dict):
            continue
        row = int(at) + 1 if isinstance(at, int | np.integer) else 1
        where = f"{name}, row {row}, column {label_col!r}: {short_label(value)!r}"
        if isinstance(parsed, dict):
            field = next(iter(parsed), "FIELD")
            raise TriageError(f"{where} is an object, not one label; choose one of its fields"
                              f" by its dotted name (such as {label_col}.{field})")
        raise TriageError(f"{where} is a list, not one label; choose a column with one category"
                          " per row (a Zendesk custom field by its id: custom_fields.ID)")


def check_predictions_path(path: str | Path, inputs: Sequence[Any]) -> Path:
    """``path`` as a place for ``--predictions`` (see :func:`check_output_file`)."""
    return check_output_file(path, "--predictions", inputs, via_temp=True)


def predictions_frame(texts: pd.Series, labels: pd.Series, predicted: Any,
                      extra: Mapping[str, Any]) -> pd.DataFrame:
    """Each evaluated row: ``row`` (its data row in the file, 1 = the first under the header),
    ``label``, ``predicted``, ``correct``, the ``extra`` columns and ``text``."""
    predicted = [str(p) if p is not None else "" for p in predicted]
    return pd.DataFrame({"row": texts.attrs.get("rows", range(1, len(texts) + 1)),
                         "label": labels.tolist(), "predicted": predicted,
                         "correct": [a == b for a, b in zip(labels.tolist(), predicted,
                                                            strict=True)],
                         **{k: list(v) for k, v in extra.items()}, "text": texts.tolist()})


def write_predictions(path: str | Path, texts: pd.Series, labels: pd.Series, predicted: Any,
                      extra: Mapping[str, Any], inputs: Sequence[Any]) -> int:
    """The test rows with their predictions as CSV at ``path`` (``triage evaluate
    --predictions``): ``row`` (the data row of the test file, 1 = the first under the header),
    ``label``, ``predicted``, ``correct``, the ``extra`` columns and ``text``. Written to a
    temporary file first and renamed: an error leaves no half-written file, and an input file
    is never the output. Returns the number of rows."""
    import os
    import tempfile

    from triage_core.store.formats import spreadsheet_safe

    out = check_predictions_path(path, inputs)
    frame = spreadsheet_safe(predictions_frame(texts, labels, predicted, extra))
    tmp: Path | None = None
    try:
        # a new file of its own (never an existing one, such as an input named like it)
        fd, name = tempfile.mkstemp(dir=out.parent, prefix=TEMP_PREFIX, suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
        frame.to_csv(tmp, index=False, encoding="utf-8")
        tmp.replace(out)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise TriageError(f"--predictions {out}: cannot write it "
                          f"({exc.strerror or exc})") from None
    return len(frame)


_VARIANTS_SHOWN = 3


_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
BLANK_SHARE = 0.05  # labeled rows without text worth a warning, at least this share


def blank_texts(texts: pd.Series, name: str) -> list[str]:
    """A warning (one line, in a list) when many labeled rows have no text: the model can
    only guess their label (the majority), and the figures say less than they seem to."""
    blank = int(texts.astype(str).str.strip().eq("").sum()) if len(texts) else 0
    if not blank or blank < BLANK_SHARE * len(texts):
        return []
    return [f"{name}: {blank:,} of {len(texts):,} labeled rows ({blank / len(texts):.0%}) have no"
            " text in the text column(s): they are scored as guesses (check --text-col)"]


def unreadable_texts(texts: pd.Series, name: str) -> list[str]:
    """A warning (one line, in a list) when labeled rows were left out for having nothing to
    read (:func:`frame_texts` with ``readable``)."""
    n = int(texts.attrs.get("unreadable", 0))
    if not n:
        return []
    rows = "row has" if n == 1 else "rows have"
    return [f"{name}: {n:,} labeled {rows} no letter or digit in the text column(s) (empty,"
            " markup, punctuation or emoji only): the pipeline gives such a ticket no category,"
            " so they are left out of training and the figures (check --text-col)"]


SHARED_SHARE = 0.05  # of the test texts also in the training file, from which it is said


def untrained_labels(labels: pd.Series, trained_on: set[str], train: Any) -> list[str]:
    """A warning (one line, in a list) when test rows carry a sentiment the training file has
    none of: the trained model can never predict it."""
    if train is None:
        return []
    missing = sorted(set(labels.tolist()) - trained_on)
    if not missing:
        return []
    n = int(labels.isin(missing).sum())
    rows = "test row is" if n == 1 else "test rows are"
    return [f"{n:,} {rows} {' or '.join(map(repr, missing))}, which"
            f" {Path(train).name} has no row of: the trained model cannot predict it"]


def shared_texts(train: pd.Series, test: pd.Series, train_name: str) -> list[str]:
    """A warning (one line, in a list) when at least :data:`SHARED_SHARE` of the test texts
    (blanks and case aside) are also training texts: the figures then say how well the model
    remembers, not how it does on new tickets (the same file given twice, or overlapping
    exports)."""
    def key(texts: pd.Series) -> pd.Series:
        return (texts.astype(str).str.split().str.join(" ").str.casefold()
                if len(texts) else pd.Series([], dtype=object))

    seen = set(key(train)) - {""}  # blank texts are said apart, not as shared
    n = int(key(test).isin(seen).sum()) if len(test) else 0
    if not n or n < SHARED_SHARE * len(test):
        return []
    return [f"{n:,} of the {len(test):,} test texts ({n / len(test):.0%}) are also in"
            f" {train_name}: the figures overstate how the model does on tickets it has not"
            " seen (test on rows kept out of training)"]


def label_variants(labels: Iterable[Any], where: str = "the file") -> list[str]:
    """A warning (one line, in a list) when category labels differ only in case or spacing
    ("Billing", "BILLING", "billing"): they count as separate categories, which no model can
    tell apart, and every text of the rarer spellings counts as wrong."""
    counts = pd.Series(list(labels), dtype=object).astype(str).value_counts(sort=True)
    groups: dict[str, list[tuple[str, int]]] = {}
    for label, n in counts.items():
        groups.setdefault(" ".join(str(label).lower().split()), []).append((str(label), int(n)))
    several = [g for g in groups.values() if len(g) > 1]
    if not several:
        return []
    shown = "; ".join(", ".join(f"{short_label(label)!r} ({n:,})" for label, n in g)
                      for g in several[:_VARIANTS_SHOWN])
    more = (f" and {len(several) - _VARIANTS_SHOWN:,} more"
            if len(several) > _VARIANTS_SHOWN else "")
    are = "label is" if len(several) == 1 else "labels are"
    return [f"{len(several):,} {are} spelled in several ways (case or spacing) in {where} and"
            f" count as separate categories: {shown}{more}; make each one label"]


def evaluate_model(model: Any, frame: pd.DataFrame, text_cols: Sequence[str], label_col: str,
                   keep_rows: bool = False) -> dict[str, Any]:
    """Score an already trained category model on a labeled DataFrame; ``keep_rows``: with
    each row's prediction and confidence as ``rows`` (:func:`predictions_frame`)."""
    start = time.perf_counter()
    texts, labels, skipped = frame_texts(frame, text_cols, label_col, readable=True)
    pred, confidence = _categories(model, texts.tolist(), keep_rows)
    out = metrics(labels, pred)
    out.update(n_train=0, n_test=len(labels), n_skipped=skipped,
               n_unreadable_test=texts.attrs["unreadable"],
               seconds=round(time.perf_counter() - start, 3),
               warnings=[*label_variants(labels), *unreadable_texts(texts, "the file")])
    if keep_rows:
        out["rows"] = predictions_frame(texts, labels, pred, {"confidence": confidence})
    return out


def _categories(model: Any, texts: list[str], confidence: bool) -> tuple[Any, Any]:
    """The predicted categories and, when asked, each one's calibrated probability (one
    prediction pass: the most probable category is the predicted one)."""
    if not confidence or not texts:
        return model.predict(texts), []
    proba = model.predict_proba(texts)
    return model.classes_[proba.argmax(axis=1)], proba.max(axis=1).round(4)


def evaluate_category(train: str | Path, test: str | Path, text_cols: Sequence[str],
                      label_col: str, config: Mapping[str, Any] | None = None,
                      progress: Any = None, predictions: str | Path | None = None
                      ) -> dict[str, Any]:
    """Select and train the category model on TRAIN (``config``'s [classifier] and [training]
    sections, else the defaults), score TEST, and report the plain baselines trained on the
    same TRAIN (``baseline``) and the margin over the best of them. ``predictions``: also
    write each test row's prediction and confidence there (:func:`write_predictions`)."""
    from triage_core.config import load_config
    from triage_core.models.baseline import BesideFit, margin, start_baselines
    from triage_core.models.selection import fit_selected

    if predictions is not None:
        check_predictions_path(predictions, (train, test))
    start = time.perf_counter()
    x_train, y_train, skip_train = read_labeled(train, text_cols, label_col, readable=True)
    x_test, y_test, skip_test = read_labeled(test, text_cols, label_col, readable=True)
    if y_train.nunique() < 2:
        unreadable = x_train.attrs["unreadable"]
        if unreadable and not len(y_train):
            raise TriageError(f"{Path(train).name}: the training texts have no words to learn"
                              f" from (all {unreadable:,} labeled rows have no letter or digit)"
                              "; check the text columns")
        raise TriageError(f"{Path(train).name}: need at least two labels to train")
    if not len(y_test):  # said before a training of minutes, naming the file
        unreadable = x_test.attrs["unreadable"]
        why = (f" and a text ({unreadable:,} labeled rows have no letter or digit to read)"
               if unreadable else "")
        raise TriageError(f"{Path(test).name}: nothing to evaluate: no rows with a label"
                          f" in {label_col!r}{why}")
    config = load_config() if config is None else config
    plain = BesideFit(lambda: start_baselines(x_train.tolist(), y_train.tolist(),
                                              x_test.tolist(), y_test.tolist(),
                                              config.get("training")))
    with plain:
        model, chosen = fit_selected(x_train.tolist(), y_train.tolist(), config, progress,
                                     plain.start)
        fitted = time.perf_counter()
        pred, confidence = _categories(model, x_test.tolist(), predictions is not None)
        out = metrics(y_test, pred)
        out.update(task="category", n_train=len(y_train), n_test=len(y_test),
                   n_skipped=skip_train + skip_test, n_skipped_train=skip_train,
                   n_skipped_test=skip_test,
                   n_unreadable_train=x_train.attrs["unreadable"],
                   n_unreadable_test=x_test.attrs["unreadable"],
                   train_seconds=round(fitted - start, 3),
                   seconds=round(time.perf_counter() - start, 3), selection=chosen.summary())
        known = set(y_train.tolist())
        unseen = [label for label in y_test.tolist() if label not in known]
        out["warnings"] = [*label_variants([*y_train.tolist(), *y_test.tolist()],
                                           "the training and test files"),
                           *unreadable_texts(x_train, Path(train).name),
                           *unreadable_texts(x_test, Path(test).name),
                           *shared_texts(x_train, x_test, Path(train).name)]
        out["unseen_test_labels"] = {"rows": len(unseen),
                                     "labels": list(dict.fromkeys(map(str, unseen)))[:10]}
    base = plain.wait(progress)
    out.update(baseline=base, margin=margin(out, base))
    if predictions is not None:
        out["predictions"] = {"file": str(predictions), "rows": write_predictions(
            predictions, x_test, y_test, pred, {"confidence": confidence}, (train, test))}
    return out


def evaluate_sentiment(train: str | Path | None, test: str | Path | pd.DataFrame,
                       text_cols: Sequence[str], label_col: str,
                       config: Mapping[str, Any] | None = None,
                       predictions: str | Path | None = None,
                       keep_rows: bool = False,
                       label_map: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Zero-shot default (no ``train``) or a trained model, on the labeled ``test``.

    The zero-shot scorer takes ``config``'s [sentiment] section (lexicon, rules, bands).
    ``predictions``: also write each test row's label and score (-1..+1) there;
    ``keep_rows``: return them as ``rows`` (:func:`predictions_frame`).
    Labels are negative / neutral / positive in any case; ``label_map`` ({"0": "negative",
    ...}) reads others; numbers and stars are read by
    :func:`~triage_core.models.sentiment_labels.sentiment_reading` without one.
    """
    from triage_core.config import load_config
    from triage_core.models import sentiment

    if predictions is not None:
        check_predictions_path(predictions, (train, test))
    start = time.perf_counter()
    if isinstance(test, pd.DataFrame):
        x_test, y_test, skipped = frame_texts(test, text_cols, label_col)
        name = "upload"
    else:
        x_test, y_test, skipped = read_labeled(test, text_cols, label_col)
        name = Path(test).name
    train_set = read_labeled(train, text_cols, label_col) if train is not None else None
    reading = None
    if not label_map:  # numbers or stars, read the same way in both files
        files = [(name, y_test)]
        if train is not None and train_set is not None:
            files.append((Path(train).name, train_set[1]))
        reading = files_reading(files, label_col)
        label_map = reading["map"] if reading else None
    y_test = check_sentiment_labels(y_test, name, label_col, x_test.attrs.get("rows"),
                                     label_map)
    if not len(y_test):
        raise TriageError(f"{name}: nothing to evaluate: no rows with a label in {label_col!r}")
    n_train = 0
    trained_on: set[str] = set()
    cfg = load_config() if config is None else config
    if train is None:
        settings = sentiment.SentimentSettings.from_config(cfg.get("sentiment", {}))
        scorer: Any = sentiment.LexiconSentiment(settings)
        scores = scorer.score_texts(x_test.tolist())
        pred = scorer.label(scores)
        mode = "zero-shot"
    else:
        assert train_set is not None
        x_train, y_train, skip_train = train_set
        y_train = check_sentiment_labels(y_train, Path(train).name, label_col,
                                          x_train.attrs.get("rows"), label_map)
        skipped += skip_train
        n_train = len(y_train)
        trained_on = set(y_train.tolist())
        try:
            scorer = sentiment.TrainedSentiment().fit(x_train.tolist(), y_train.tolist())
        except ModelError as exc:  # too few texts of a label: which file
            raise TriageError(f"{Path(train).name}: {exc}") from None
        scores, pred = scorer.score_and_label(x_test.tolist())
        mode = "trained"
    out = metrics(y_test, list(pred))
    out.update(task="sentiment", mode=mode, n_train=n_train, n_test=len(y_test),
               n_skipped=skipped, seconds=round(time.perf_counter() - start, 3),
               calibration=calibration(out),
               **({"label_reading": reading} if reading else {}),
               warnings=[*blank_texts(x_test, name),
                         *uncovered_languages(x_test, scorer, cfg, name),
                         *(shared_texts(train_set[0], x_test, Path(train).name)
                           if train is not None and train_set is not None else []),
                         *untrained_labels(y_test, trained_on, train)])
    extra = {"score": np.round(np.asarray(scores, dtype=float), 4)}
    if predictions is not None:
        out["predictions"] = {"file": str(predictions), "rows": write_predictions(
            predictions, x_test, y_test, list(pred), extra, (train, test))}
    if keep_rows:
        out["rows"] = predictions_frame(x_test, y_test, list(pred), extra)
    return out


def uncovered_languages(texts: pd.Series, model: Any, config: Mapping[str, Any],
                        name: str) -> list[str]:
    """A warning (one line, in a list) when test texts are detected in languages the sentiment
    model does not cover: the pipeline leaves such tickets unscored, while the figures here
    score them (mostly neutral: the lexicon knows none of their words). Not left out: the
    detector misreads some short English texts, which would move the figures."""
    from triage_core.models import sentiment
    from triage_core.models.language import LATIN_SCRIPT, LanguageSettings, detect, other_script

    covered = sentiment.covered_languages(model)
    if covered is None or not len(texts):
        return []
    found = detect(texts.tolist(), LanguageSettings.from_mapping(config.get("language")))
    if covered <= LATIN_SCRIPT:  # too short to detect, and not the default language's script
        default = str((config.get("routing") or {}).get("default_language") or "en").lower()
        foreign = other_script(texts.tolist(), default) & pd.isna(found)
        found[foreign] = "another script"
    other = pd.Series([lang for lang in found if lang is not None and lang not in covered],
                      dtype=object)
    if other.empty:
        return []
    counts = other.value_counts()
    shown = ", ".join(f"{lang} {n:,}" for lang, n in counts.head(5).items())
    return [f"{name}: {len(other):,} of {len(texts):,} texts read as languages the sentiment"
            f" model does not cover ({shown}): the pipeline leaves such tickets unscored, but"
            " they are scored (mostly neutral) in these figures"]


def calibration(report: Mapping[str, Any]) -> dict[str, Any]:
    """How often a predicted label is right: the precision of each predicted label (e.g. of
    the texts called negative, the share that is really negative), with a note in words."""
    per = report["per_class"]
    conf = report["confusion"]
    predicted = dict(zip(conf["labels"], np.asarray(conf["matrix"]).sum(axis=0).tolist(),
                         strict=True))
    out: dict[str, Any] = {
        label: {"right": round(per[label]["precision"], 4), "predicted": int(predicted[label])}
        for label in SENTIMENT_LABELS if label in per and predicted.get(label)}
    out["note"] = "; ".join(f"{v['right']:.0%} of {v['predicted']:,} called {k} are {k}"
                            for k, v in out.items())
    return out


def format_report(report: dict[str, Any]) -> str:
    """A readable table for terminals."""
    lines = [
        f"task {report.get('task', '?')}"
        + (f" ({report['mode']})" if report.get("mode") else "")
        + f": accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f}",
        f"train rows {report['n_train']:,}, test rows {report['n_test']:,}, "
        f"skipped (empty label) {report['n_skipped']:,}, {report['seconds']:.1f} s",
        *([report["label_reading"]["note"] + "; --label-map reads them otherwise"]
          if report.get("label_reading") else []),
        *(f"warning: {w}" for w in report.get("warnings") or []),
        *([f"predictions of {report['predictions']['rows']:,} rows written to "
           f"{report['predictions']['file']}"] if report.get("predictions") else []),
        *_comparison_lines(report),
        "",
    ]
    # a label with a line break keeps its row; a bidirectional control would turn the rest of
    # the row around; a long label keeps its start and its end (labels that share a long
    # prefix differ at the end)
    shown = {label: _middle_cut(_ONE_LINE.sub(" ", label).translate(BIDI), _LABEL_WIDTH)
             for label in report["per_class"]}
    width = max([len("label"), *map(len, shown.values())])
    lines.append(f"{'label':<{width}} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>8}")
    for label, m in sorted(report["per_class"].items()):
        lines.append(f"{shown[label]:<{width}} {m['precision']:>9.3f} {m['recall']:>9.3f} "
                     f"{m['f1']:>9.3f} {m['support']:>8,}")
    return "\n".join(lines)


_LABEL_WIDTH = 48  # characters of a label in format_report's table


def _middle_cut(label: str, width: int) -> str:
    """``label`` in at most ``width`` characters: its start, "…" and its end."""
    if len(label) <= width:
        return label
    head = (width - 1) // 2
    return label[:head] + "…" + label[len(label) - (width - 1 - head):]


def _comparison_lines(report: Mapping[str, Any]) -> list[str]:
    """The chosen configuration, every candidate's CV score, the baselines and the margin."""
    lines = []
    sel = report.get("selection")
    if sel:
        lines.append(f"configuration {sel['chosen']!r}: {sel['reason']} ({sel['seconds']:.1f} s)")
        for c in sel["candidates"]:
            score = "" if c["score"] is None else (
                f"accuracy {c['accuracy']:.4f}, macro-F1 {c['macro_f1']:.4f}")
            lines.append(f"  {c['name']:<14} {score or c['note']}")
    for name, m in (report.get("baseline") or {}).items():
        extra = f" (C = {m['C']:g})" if "C" in m else ""
        lines.append(f"baseline {name}{extra}: accuracy {m['accuracy']:.4f}, "
                     f"macro-F1 {m['macro_f1']:.4f}")
    if report.get("margin"):
        mg = report["margin"]
        lines.append(f"margin over the best baseline: accuracy {mg['accuracy']:+.4f}, "
                     f"macro-F1 {mg['macro_f1']:+.4f}")
    if report.get("calibration"):
        cal = report["calibration"]
        lines.append(f"calibration: {cal['note']}")
    unseen = report.get("unseen_test_labels") or {}
    if unseen.get("rows"):
        shown = ", ".join(repr(label) for label in unseen["labels"][:5])
        lines.append(f"note: {unseen['rows']:,} of {report['n_test']:,} test rows have a label"
                     f" the training file does not have ({shown}"
                     f"{', ...' if len(unseen['labels']) > 5 else ''}); no model trained on it"
                     " can predict them")
    return lines
