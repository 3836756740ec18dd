"""Model registry: every trained model is a numbered version in DuckDB.

A version records its kind (``category`` or ``sentiment``), creation time, training-data summary,
metrics on the fixed holdout and the number of agent corrections behind it; the model itself is
a file kept as a BLOB in the same database (one file to back up, atomic with its record). No
file is ever unpickled:

- a category model is a file of our own format (:mod:`triage_core.models.native`): NumPy's
  safe arrays and a JSON tree rebuilt from our own classes only, loaded without skops or
  scikit-learn (their imports cost a process that only predicts about 2.4 s);
- a trained sentiment model, a scikit-learn pipeline, is a skops file: loading checks every
  type in it against a reviewed trusted list and refuses anything else. Category models saved
  as skops files before keep loading the same way.

``dumps`` / ``loads`` are the package's only model writer and loader.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import zipfile
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pandas as pd

from triage_core.errors import ModelError
from triage_core.store import Store


def _no_estimators(*args: Any, **kwargs: Any) -> list[tuple[str, type]]:
    return []


def _import_skops() -> ModuleType:
    """``skops.io``, imported without its default list of every scikit-learn estimator.

    When skops is imported it lists every estimator class as trusted by default, with
    scikit-learn's ``all_estimators``, which imports every module of scikit-learn (and Dask's
    array module when Dask is installed): 1-2 s in every process that loads a model. Our files
    hold only the types our trusted lists name (``classifier.TRUSTED_TYPES``,
    ``sentiment.TRUSTED_TYPES``), so skops is imported with that listing empty: a file may
    hold the types we list and skops' other defaults (numpy, scipy, builtins), which is
    stricter than skops' defaults, never looser. If skops was imported before (by other code
    in the process), its full defaults stay.
    """
    if "skops.io" not in sys.modules:
        import sklearn.utils

        listing = sklearn.utils.all_estimators
        sklearn.utils.all_estimators = _no_estimators
        try:
            import skops.io
        finally:
            sklearn.utils.all_estimators = listing
    import skops.io

    return skops.io


log = logging.getLogger("triage.models")
KINDS = ("category", "sentiment")


def trusted_types() -> list[str]:
    """The reviewed list of types a skops model file may contain (sklearn, numpy, scipy,
    ours)."""
    from triage_core.models import classifier, sentiment

    return sorted(set(classifier.TRUSTED_TYPES) | set(sentiment.TRUSTED_TYPES))


def native_classes() -> dict[str, type]:
    """The classes a model file of our own format may hold (name -> class)."""
    from triage_core.models import native
    from triage_core.models.classifier import TicketClassifier
    from triage_core.models.features import TicketFeatures

    return {native.class_name(c): c for c in (TicketClassifier, TicketFeatures)}


def dumps(model: Any) -> bytes:
    """A model as a file: our own format for a category model, skops for anything else."""
    from triage_core.models import native

    classes = native_classes()
    if type(model) in classes.values():
        return native.dumps(model, classes)
    return _import_skops().dumps(model, compression=zipfile.ZIP_DEFLATED)


def _current_modules(data: bytes) -> bytes:
    """The blob with our own types pointed at the modules that define them now.

    A skops file names each type by module and class. Models saved before a class moved
    (``triage_core.classifier.TicketClassifier`` before ``triage_core.models.classifier``) name
    the old module; every ``triage_core`` class on the trusted list is looked up by its class
    name instead, so old versions in a database keep loading. Other types are left alone.
    """
    ours = {}
    for name in trusted_types():
        module, _, cls = name.rpartition(".")
        if module.startswith("triage_core."):
            ours[cls] = module
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            raw = zf.read("schema.json")  # the arrays only if it changes
    except (zipfile.BadZipFile, KeyError, ValueError):
        return data  # not ours to fix: the loader reports it
    named = set(re.findall(rb'"__module__": *"(triage_core\.[A-Za-z0-9_.]+)"', raw))
    if named <= {m.encode() for m in ours.values()}:
        return data  # every type of ours is where it is now: nothing to parse
    try:
        schema = json.loads(raw)
    except ValueError:
        return data
    changed = False

    def walk(node: Any) -> None:
        nonlocal changed
        if isinstance(node, dict):
            module, cls = node.get("__module__"), node.get("__class__")
            if (isinstance(module, str) and module.startswith("triage_core.")
                    and ours.get(cls, module) != module):
                node["__module__"] = ours[cls]
                changed = True
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    if not changed:
        return data
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("schema.json", json.dumps(schema))
        for name in src.namelist():
            if name != "schema.json":
                zf.writestr(name, src.read(name))
    return out.getvalue()


def loads(data: bytes, trusted: list[str] | None = None) -> Any:
    """Load a model file: our own format (our classes only), or a skops file, refusing any
    type outside the trusted list."""
    from triage_core.models import native

    if native.is_native(data):
        classes = native_classes()
        if trusted is not None:  # our classes that the caller trusts
            classes = {k: v for k, v in classes.items() if k in trusted}
        return native.loads(data, classes)
    sio = _import_skops()
    from skops.io.exceptions import UntrustedTypesFoundException

    allowed = trusted_types() if trusted is None else trusted
    data = _current_modules(data)
    try:
        # skops checks every type against its defaults and ``allowed`` before it builds
        # anything; the list of the refused ones is only worked out for the error
        return sio.loads(data, trusted=allowed)
    except UntrustedTypesFoundException:
        refused = sorted(set(sio.get_untrusted_types(data=data)) - set(allowed),
                         key=lambda name: (not name.startswith("triage_core."), name))
        raise ModelError(
            "model file holds types that are not on the trusted list, refusing to load: "
            + ", ".join(refused[:5]) + (" ..." if len(refused) > 5 else "")
        ) from None
    except ModelError:
        raise
    except Exception as exc:  # a corrupt or foreign file
        raise ModelError(f"not a readable skops model file ({exc})") from None


@dataclass(frozen=True)
class ModelVersion:
    version: int
    kind: str
    created_at: Any
    active: bool
    metrics: dict[str, Any]
    train_summary: dict[str, Any]
    n_train: int
    n_corrections: int


def save(store: Store, kind: str, model: Any, *, metrics: dict[str, Any],
         train_summary: dict[str, Any], n_train: int, n_corrections: int = 0,
         activate: bool = True, note: str = "", by: str = "system") -> int:
    """Record a new version; with ``activate`` it becomes the active model of its kind."""
    _check_kind(kind)
    blob = dumps(model)
    with store.transaction():
        version = int(store.scalar("SELECT coalesce(max(version), 0) + 1 FROM model_versions"))
        store.execute(
            "INSERT INTO model_versions (version, kind, created_at, active, estimator,"
            " train_summary, metrics, n_train, n_corrections, note, model)"
            " VALUES (?, ?, now()::TIMESTAMP, false, ?, ?, ?, ?, ?, ?, ?)",
            [version, kind, type(model).__name__, json.dumps(train_summary, default=str),
             json.dumps(metrics, default=str), n_train, n_corrections, note, blob],
        )
        _event(store, kind, version, "trained", by)
        if activate:
            activate_version(store, version, by=by)
    return version


def _event(store: Store, kind: str, version: int, event: str, by: str) -> None:
    store.execute("INSERT INTO model_events VALUES (now()::TIMESTAMP, ?, ?, ?, ?)",
                  [kind, version, event, by])


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ModelError(f"unknown model kind {kind!r}; choose one of {', '.join(KINDS)}")


def _root_types(kind: str) -> tuple[type, ...]:
    """The estimator classes a version of ``kind`` may be (ours only; the types inside them
    are checked by the trusted list)."""
    if kind == "category":
        from triage_core.models.classifier import TicketClassifier

        return (TicketClassifier,)
    from triage_core.models.sentiment import SentimentModel

    return (SentimentModel,)


def checked(store: Store, version: int) -> tuple[str, Any]:
    """(kind, model) of ``version``, loaded and checked: trusted types only, one of our
    estimators for that kind, fitted. Raises ModelError with the reason otherwise."""
    kind = store.scalar("SELECT kind FROM model_versions WHERE version = ?", [version])
    if kind is None:
        raise ModelError(f"no model version {version}; see 'triage models'")
    model = load(store, str(kind), version)
    if not isinstance(model, _root_types(str(kind))):
        raise ModelError(f"model version {version} is a {type(model).__name__}, not a"
                         f" {kind} model of this program; refusing it")
    if not _fitted(model):
        raise ModelError(f"model version {version} was never trained; refusing it")
    return str(kind), model


def _fitted(model: Any) -> bool:
    """scikit-learn's test of a fitted estimator (``check_is_fitted``): it has an attribute
    that ends in ``_`` (and does not start with ``__``), set by ``fit``."""
    return any(k.endswith("_") and not k.startswith("__") for k in vars(model))


def activate_version(store: Store, version: int, by: str = "system",
                     event: str = "activated") -> str:
    """Make ``version`` the active model of its kind, after loading and checking it (a version
    that cannot be used is refused and the active model stays)."""
    kind, _ = checked(store, version)
    with store.transaction():
        store.execute("UPDATE model_versions SET active = false WHERE kind = ? AND active",
                      [kind])
        store.execute("UPDATE model_versions SET active = true WHERE version = ?", [version])
        _event(store, kind, version, event, by)
    return kind


def activation_stack(store: Store, kind: str) -> list[int]:
    """The activation history as a stack: an activation pushes its version, a rollback pops
    the version it left. The top is the active version; rollback goes one further down."""
    events = store.query(
        "SELECT version, event FROM model_events WHERE kind = ?"
        " AND event IN ('activated', 'rolled_back') ORDER BY event_at, rowid", [kind])
    stack: list[int] = []
    for version, event in events.itertuples(index=False):
        if event == "activated":
            stack.append(int(version))
        elif stack:
            stack.pop()
    return stack


def rollback(store: Store, kind: str = "category", by: str = "system") -> int:
    """Re-activate the version that was active before the current one; rolling back again
    walks further back through the activation history."""
    _check_kind(kind)
    stack = activation_stack(store, kind)
    if len(stack) < 2:
        raise ModelError(f"no earlier {kind} model to roll back to")
    target = stack[-2]
    activate_version(store, target, by=by, event="rolled_back")
    return target


def active_version(store: Store, kind: str = "category") -> int | None:
    v = store.scalar("SELECT version FROM model_versions WHERE kind = ? AND active", [kind])
    return None if v is None else int(v)


def load(store: Store, kind: str = "category", version: int | None = None) -> Any:
    """The active model of ``kind`` (or a given version), checked against the trusted list."""
    _check_kind(kind)
    if version is None:
        version = active_version(store, kind)
        if version is None:
            raise ModelError(f"no active {kind} model; train one with 'triage train'")
    blob = store.scalar("SELECT model FROM model_versions WHERE version = ? AND kind = ?",
                        [version, kind])
    if blob is None:
        raise ModelError(f"no {kind} model version {version}; see 'triage models'")
    data = bytes(blob)
    model = loads(data)
    _upgrade(store, version, data, model)
    return model


def _upgrade(store: Store, version: int, blob: bytes, model: Any) -> None:
    """A category model saved as a skops file (before our own format) is saved again in our
    format once it has loaded, so later processes load it without skops and scikit-learn.
    Only outside a transaction of the caller's and on a writable database; a failure leaves
    the file as it was (it keeps loading as skops)."""
    from triage_core.models import native

    if (type(model) not in native_classes().values() or native.is_native(blob)
            or store.read_only or store.in_transaction()):
        return
    try:
        upgraded = dumps(model)
        store.execute("UPDATE model_versions SET model = ? WHERE version = ? AND model = ?",
                      [upgraded, version, blob])
    except Exception as exc:  # best effort (e.g. a conflict with another writer): a database
        # error, never the caller's; the model loaded either way
        log.info("model version %s stays a skops file (%s)", version, exc)


def list_versions(store: Store, kind: str | None = None) -> pd.DataFrame:
    """Every version without its blob, newest first, metrics unpacked into columns."""
    df = store.query(
        "SELECT version, kind, created_at, active, estimator, n_train, n_corrections, metrics,"
        " train_summary, note FROM model_versions"
        " WHERE ? IS NULL OR kind = ? ORDER BY version DESC", [kind, kind]
    )
    metrics = [json.loads(m) if m else {} for m in df["metrics"]]
    df["accuracy"] = [m.get("accuracy") for m in metrics]
    df["macro_f1"] = [m.get("macro_f1") for m in metrics]
    # why it was (not) activated when trained, in words (train_summary["decision"])
    df["decision"] = [json.loads(s).get("decision") if s else None
                      for s in df["train_summary"]]
    return df


def get_version(store: Store, version: int) -> ModelVersion:
    df = store.query(
        "SELECT version, kind, created_at, active, metrics, train_summary, n_train,"
        " n_corrections FROM model_versions WHERE version = ?", [version]
    )
    if df.empty:
        raise ModelError(f"no model version {version}; see 'triage models'")
    r = df.iloc[0]
    return ModelVersion(int(r.version), str(r.kind), r.created_at, bool(r.active),
                        json.loads(r.metrics or "{}"), json.loads(r.train_summary or "{}"),
                        int(r.n_train or 0), int(r.n_corrections or 0))
