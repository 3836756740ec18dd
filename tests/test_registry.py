"""Model registry: numbered versions in DuckDB, activation history, trusted-type loading."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

from triage_core.errors import ModelError
from triage_core.models import registry
from triage_core.models.classifier import TicketClassifier
from triage_core.store import Store

TEXTS = [
    *(f"I was charged twice on invoice {i}, please fix the billing" for i in range(8)),
    *(f"my parcel {i} never arrived, where is the delivery" for i in range(8)),
    *(f"cannot log in, password reset email {i} never comes" for i in range(8)),
]
LABELS = ["billing"] * 8 + ["shipping_delivery"] * 8 + ["account_access"] * 8

# Objects a hostile model file might smuggle in: loading must refuse them before building them.
BUILT: list[str] = []


class Gadget:
    """A class from this test module: not on the trusted list."""

    def __init__(self) -> None:
        self.payload = "rm -rf /"

    def __setstate__(self, state: dict) -> None:
        BUILT.append("Gadget")
        self.__dict__.update(state)


@pytest.fixture(scope="module")
def model() -> TicketClassifier:
    return TicketClassifier().fit(TEXTS, LABELS)


def save(store: Store, model: object, acc: float, *, activate: bool = True,
         n_train: int = 24, n_corrections: int = 0, kind: str = "category") -> int:
    return registry.save(store, kind, model, metrics={"accuracy": acc, "macro_f1": acc - 0.1},
                         train_summary={"n_train": n_train, "labels": {"billing": 8}},
                         n_train=n_train, n_corrections=n_corrections, activate=activate,
                         note=f"acc {acc}", by="tester")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def test_save_numbers_versions_and_keeps_bookkeeping(store: Store,
                                                     model: TicketClassifier) -> None:
    before = utc_now() - dt.timedelta(seconds=1)
    v1 = save(store, model, 0.9, n_train=24)
    v2 = save(store, model, 0.8, activate=False, n_train=20, n_corrections=3)
    after = utc_now() + dt.timedelta(seconds=1)
    assert (v1, v2) == (1, 2)

    first, second = registry.get_version(store, 1), registry.get_version(store, 2)
    assert first.kind == "category" and first.active and not second.active
    assert first.metrics == {"accuracy": 0.9, "macro_f1": pytest.approx(0.8)}
    assert first.train_summary == {"n_train": 24, "labels": {"billing": 8}}
    assert (first.n_train, first.n_corrections) == (24, 0)
    assert (second.n_train, second.n_corrections) == (20, 3)
    assert before <= first.created_at <= second.created_at <= after

    listed = registry.list_versions(store)
    assert listed["version"].tolist() == [2, 1]  # newest first
    assert listed["accuracy"].tolist() == [0.8, 0.9]
    assert listed["macro_f1"].tolist() == pytest.approx([0.7, 0.8])
    assert listed["estimator"].tolist() == ["TicketClassifier"] * 2
    assert listed["active"].tolist() == [False, True]
    assert "model" not in listed.columns  # the blob stays in the database
    assert registry.list_versions(store, "sentiment").empty

    events = store.query("SELECT version, event, actor FROM model_events ORDER BY rowid")
    assert events.values.tolist() == [[1, "trained", "tester"], [1, "activated", "tester"],
                                      [2, "trained", "tester"]]
    assert registry.active_version(store, "category") == 1
    assert registry.active_version(store, "sentiment") is None


def test_loaded_model_predicts_like_the_saved_one(store: Store, model: TicketClassifier) -> None:
    save(store, model, 0.9)
    loaded = registry.load(store)  # the active category model
    probe = ["refund my double charge on the invoice", "package lost in delivery", "login fails"]
    assert type(loaded) is TicketClassifier
    assert loaded.predict(probe).tolist() == model.predict(probe).tolist()
    np.testing.assert_allclose(loaded.predict_proba(probe), model.predict_proba(probe))


def test_activate_and_rollback_follow_the_history(store: Store, model: TicketClassifier) -> None:
    save(store, model, 0.7)
    save(store, model, 0.8)
    save(store, model, 0.9, activate=False)
    assert registry.active_version(store) == 2

    assert registry.activate_version(store, 3, by="lead") == "category"
    assert registry.active_version(store) == 3
    assert store.scalar("SELECT count(*) FROM model_versions WHERE active") == 1

    # rollback re-activates the version that was active before the current one ...
    assert registry.rollback(store, "category", by="lead") == 2
    assert registry.active_version(store) == 2
    # ... and rolling back again walks further back through the history, not back and forth
    assert registry.rollback(store, "category") == 1
    with pytest.raises(ModelError, match="no earlier category model"):
        registry.rollback(store)
    registry.activate_version(store, 3)
    assert registry.activation_stack(store, "category") == [1, 3]
    assert registry.rollback(store) == 1
    assert registry.get_version(store, 1).active
    assert not registry.get_version(store, 3).active
    events = store.query("SELECT version, event FROM model_events WHERE event <> 'trained'"
                         " ORDER BY event_at, rowid")
    assert list(events.itertuples(index=False, name=None)) == [
        (1, "activated"), (2, "activated"), (3, "activated"), (2, "rolled_back"),
        (1, "rolled_back"), (3, "activated"), (1, "rolled_back")]


def test_a_version_that_cannot_be_used_is_never_activated(store: Store,
                                                          model: TicketClassifier) -> None:
    """promote loads and checks first: a blob with an untrusted type, or a scikit-learn model
    that is not ours, or ours untrained, is refused and the active model stays."""
    from sklearn.linear_model import LogisticRegression

    save(store, model, 0.8)
    foreign = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    for blob in (sio.dumps(Gadget()), registry.dumps(foreign),
                 registry.dumps(TicketClassifier())):
        version = _smuggle(store, blob)
        with pytest.raises(ModelError):
            registry.activate_version(store, version)
        assert registry.active_version(store) == 1
    # a broken active model can still be replaced by promoting a good one
    store.execute("UPDATE model_versions SET active = (version = ?)", [version])
    good = save(store, model, 0.9, activate=False)
    registry.activate_version(store, good)
    assert registry.active_version(store) == good


def test_rollback_without_an_earlier_version(store: Store, model: TicketClassifier) -> None:
    with pytest.raises(ModelError, match="no earlier category model"):
        registry.rollback(store)
    save(store, model, 0.9)
    with pytest.raises(ModelError, match="no earlier category model"):
        registry.rollback(store)
    with pytest.raises(ModelError, match="no earlier sentiment model"):
        registry.rollback(store, "sentiment")
    assert registry.active_version(store) == 1


def test_unknown_version_kind_or_no_model(store: Store, model: TicketClassifier) -> None:
    with pytest.raises(ModelError, match="no active category model"):
        registry.load(store)
    save(store, model, 0.9)
    with pytest.raises(ModelError, match="no model version 42"):
        registry.get_version(store, 42)
    with pytest.raises(ModelError, match="no model version 42"):
        registry.activate_version(store, 42)
    with pytest.raises(ModelError, match="no category model version 42"):
        registry.load(store, "category", 42)
    with pytest.raises(ModelError, match="no sentiment model version 1"):
        registry.load(store, "sentiment", 1)  # version 1 exists, but is a category model
    with pytest.raises(ModelError, match="unknown model kind 'topic'"):
        save(store, model, 0.5, kind="topic")
    assert store.scalar("SELECT count(*) FROM model_versions") == 1
    assert registry.active_version(store) == 1


def _smuggle(store: Store, blob: bytes) -> int:
    """Put a hostile blob into the registry the way a tampered database file would."""
    version = int(store.scalar("SELECT coalesce(max(version), 0) + 1 FROM model_versions"))
    store.execute("INSERT INTO model_versions (version, kind, created_at, active, model)"
                  " VALUES (?, 'category', now()::TIMESTAMP, false, ?)", [version, blob])
    return version


def test_loading_refuses_an_object_of_an_untrusted_class(store: Store) -> None:
    BUILT.clear()
    blob = sio.dumps(Gadget())
    with pytest.raises(ModelError, match=r"not on the trusted list.*Gadget"):
        registry.loads(blob)
    version = _smuggle(store, blob)
    with pytest.raises(ModelError, match="Gadget"):
        registry.load(store, "category", version)
    assert BUILT == []  # refused before anything was instantiated


def test_loading_refuses_a_python_function(store: Store) -> None:
    blob = sio.dumps(os.system)
    with pytest.raises(ModelError, match=r"refusing to load: (posix|nt)\.system"):
        registry.loads(blob)
    with pytest.raises(ModelError, match="system"):
        registry.load(store, "category", _smuggle(store, blob))


def test_loading_refuses_a_real_model_with_a_smuggled_attribute(
        store: Store, model: TicketClassifier) -> None:
    BUILT.clear()
    tampered = TicketClassifier().fit(TEXTS, LABELS)
    tampered.extra_ = Gadget()
    with pytest.raises(ModelError, match=r"cannot save a model holding a .*Gadget"):
        registry.dumps(tampered)  # our own format holds only our classes
    with pytest.raises(ModelError, match="Gadget"):  # a skops file, as saved before
        registry.load(store, "category", _smuggle(store, sio.dumps(tampered)))
    # our own format, edited by hand to hold one
    gadget = {"t": "object", "class": f"{__name__}.Gadget", "state": {"t": "dict", "k": [],
                                                                         "v": []}}
    blob = _edit_native(registry.dumps(model), lambda m: m["root"]["state"]["v"].append(
        gadget) or m["root"]["state"]["k"].append("extra_"))
    with pytest.raises(ModelError, match=r"Gadget, which is not a model type"):
        registry.load(store, "category", _smuggle(store, blob))
    assert BUILT == []
    # the same model without the extra attribute loads fine
    assert registry.loads(registry.dumps(model)).predict(["parcel lost"]).tolist() == \
        model.predict(["parcel lost"]).tolist()


def _edit_native(blob: bytes, edit: object, arrays: dict[str, bytes] | None = None) -> bytes:
    """``blob`` (our own format) with its manifest changed by ``edit`` and arrays replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as src, zipfile.ZipFile(out, "w") as zf:
        manifest = json.loads(src.read("triage-model.json"))
        edit(manifest)  # type: ignore[operator]
        zf.writestr("triage-model.json", json.dumps(manifest))
        for name in src.namelist():
            if name != "triage-model.json":
                zf.writestr(name, (arrays or {}).get(name, src.read(name)))
    return out.getvalue()


def test_our_format_refuses_what_a_model_file_cannot_hold(model: TicketClassifier) -> None:
    """A category model is saved in our own format: NumPy arrays without pickles and a JSON
    tree of our classes. A file edited to hold anything else is refused with one line."""
    from triage_core.models import native

    blob = registry.dumps(model)
    assert native.is_native(blob) and not native.is_native(sio.dumps(model))
    pickled = io.BytesIO()
    np.save(pickled, np.array([Gadget()], dtype=object), allow_pickle=True)
    BUILT.clear()

    def first_array(m: dict) -> str:
        return f"arrays/{_find(m['root'], 'array')['i']}.npy"

    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        path = first_array(json.loads(zf.read("triage-model.json")))
    cases = {
        "array": _edit_native(blob, lambda m: None, {path: pickled.getvalue()}),
        "unknown entry": _edit_native(blob, lambda m: m["root"].update(t="pickle")),
        "newer than this program": _edit_native(blob, lambda m: m.update(version=99)),
        "nested too deeply": _edit_native(blob, lambda m: m.update(root=_deep(100))),
        "sparse matrix": _edit_native(blob, lambda m: _find(m["root"], "csr").update(
            shape=[1, 1])),
        "no triage-model manifest": _edit_native(blob, lambda m: m.update(format="x")),
    }
    for message, bad in cases.items():
        with pytest.raises(ModelError, match=message):
            registry.loads(bad)
    assert BUILT == []
    with pytest.raises(ModelError, match="object array"):
        native.dumps({"a": np.array([None], dtype=object)}, {})


def test_our_format_refuses_a_file_that_unpacks_to_more_than_any_model(
        model: TicketClassifier, monkeypatch: pytest.MonkeyPatch) -> None:
    from triage_core.models import native

    blob = registry.dumps(model)
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        size = sum(i.file_size for i in zf.infolist())
    monkeypatch.setattr(native, "MAX_BYTES", size - 1)
    with pytest.raises(ModelError, match="unpacks to more than"):
        registry.loads(blob)
    monkeypatch.setattr(native, "MAX_BYTES", size)
    assert registry.loads(blob).predict(["parcel lost"]).tolist() == \
        model.predict(["parcel lost"]).tolist()


def _find(node: object, tag: str) -> dict:
    """The first entry tagged ``tag`` in a manifest tree (depth first)."""
    if isinstance(node, dict):
        if node.get("t") == tag:
            return node
        for value in node.values():
            try:
                return _find(value, tag)
            except LookupError:
                pass
    elif isinstance(node, list):
        for value in node:
            try:
                return _find(value, tag)
            except LookupError:
                pass
    raise LookupError(tag)


def _deep(n: int) -> dict:
    node: dict = {"t": "list", "v": []}
    for _ in range(n):
        node = {"t": "list", "v": [node]}
    return node


def test_loading_checks_against_the_given_list_and_rejects_garbage(
        model: TicketClassifier) -> None:
    blob = registry.dumps(model)
    with pytest.raises(ModelError, match="TicketClassifier"):
        registry.loads(blob, trusted=[])
    assert "triage_core.models.classifier.TicketClassifier" in registry.trusted_types()
    with pytest.raises(ModelError, match="not a readable skops model file"):
        registry.loads(b"this is not a zip file")


FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("legacy_category.skops", "charged twice on my card", "billing"),
    ("legacy_sentiment.skops", "great help thanks", "positive"),
])
def test_models_saved_before_the_package_layout_load(name: str, text: str,
                                                     expected: str) -> None:
    """Blobs written when the classes lived in triage_core.classifier / .sentiment still load
    (the registry points our own types at their current modules) and predict the same."""
    blob = (FIXTURES / name).read_bytes()
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        schema = zf.read("schema.json").decode()
    assert '"triage_core.classifier"' in schema or '"triage_core.sentiment"' in schema
    model = registry.loads(blob)
    assert type(model).__module__.startswith("triage_core.models.")
    assert model.predict([text]).tolist() == [expected]


def _schema_nodes(blob: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        return zf.read("schema.json").decode().count('"__class__"')


ODD_TEXTS = [*TEXTS, "naïve café ß İstanbul 😀 \x00 a\ud800b “quoted” keys values"
             " packed_vocabulary_"]
ODD_LABELS = [*LABELS, "billing"]


def test_a_saved_vocabulary_is_packed_and_reads_back_whole(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """A skops file holds a dict as one node per entry (a 40,000-word model took seconds to
    load); the vocabularies are saved packed, and come back with the same words, columns and
    order, from our own format and from skops files. Files saved with the dicts (before
    packing) still load to the same model."""
    from triage_core.models.estimator import Estimator
    from triage_core.models.features import TicketFeatures

    fitted = TicketClassifier().fit(ODD_TEXTS, ODD_LABELS)
    feats = fitted.features_
    assert len(feats.vocabulary_) > 40 and len(feats.ngram_vocabulary_) > 300
    assert {"\ud800", "\x00", "😀", "packed_vocabulary_"} <= set(feats.vocabulary_)
    packed = sio.dumps(fitted)
    monkeypatch.setattr(TicketFeatures, "__getstate__", Estimator.__getstate__)
    unpacked = sio.dumps(fitted)  # as saved before packing
    monkeypatch.undo()
    assert _schema_nodes(unpacked) > len(feats.ngram_vocabulary_)
    assert _schema_nodes(packed) < 200  # the same few nodes whatever the vocabulary size
    ours = registry.dumps(fitted)
    with zipfile.ZipFile(io.BytesIO(ours)) as zf:
        assert len(zf.read("triage-model.json")) < 10_000  # the words are one text each
    probe = [*ODD_TEXTS[-2:], "refund the double charge", "😀 İstanbul café"]
    for blob in (ours, packed, unpacked):
        loaded = registry.loads(blob)
        for name in ("vocabulary_", "ngram_vocabulary_"):
            assert list(getattr(loaded.features_, name).items()) == list(
                getattr(feats, name).items())
        assert not any(k.startswith("packed_") for k in vars(loaded.features_))
        np.testing.assert_array_equal(loaded.decision_function(probe),
                                      fitted.decision_function(probe))
    # the fitted object itself is left as it was by saving
    assert isinstance(fitted.features_.vocabulary_, dict)


def test_a_damaged_packed_vocabulary_is_refused() -> None:
    from triage_core.models.packing import unpack_vocabulary

    assert unpack_vocabulary(('["a", "\\ud800"]', np.array([1, 0]))) == {"a": 1, "\ud800": 0}
    for bad in (('["a", "b"]', np.array([0])), ('{"a": 0}', np.array([0])),
                ('[1]', np.array([0]))):
        with pytest.raises(ModelError, match="packed vocabulary"):
            unpack_vocabulary(bad)


LOADS_IN_A_CLI_PROCESS = """
import json, sys
from pathlib import Path
from triage_core.models import registry
registry._import_skops()  # as a triage process imports skops (when a file needs it)
from skops.io import _trusted_types
from sklearn.tree import DecisionTreeClassifier
from triage_core.errors import ModelError
from triage_core.models.classifier import TicketClassifier
from triage_core.models.sentiment import SentimentModel

texts = ["I love this great help", "terrible awful service", "ok fine, whatever it is",
         "thanks so much", "worst ever, I am angry", "it is a thing"] * 4
labels = ["positive", "negative", "neutral"] * 8
blobs = {p.name: p.read_bytes() for p in Path(sys.argv[1]).glob("legacy_*.skops")}
blobs["category"] = registry.dumps(TicketClassifier().fit(texts, labels))
blobs["sentiment"] = registry.dumps(SentimentModel(cv=2).fit(texts, labels))
out = {"estimator_defaults": len(_trusted_types.SKLEARN_ESTIMATOR_TYPE_NAMES)}
for name, blob in blobs.items():
    out[name] = str(registry.loads(blob).predict(["great help, thanks"])[0])
try:
    registry.loads(registry.dumps(DecisionTreeClassifier().fit([[0], [1]], [0, 1])))
except ModelError as exc:
    out["tree"] = str(exc)
print(json.dumps(out))
"""


def test_a_triage_process_trusts_only_the_listed_estimators() -> None:
    """skops is imported without its list of every scikit-learn estimator (which imports all
    of scikit-learn, 1-2 s a process): our models still load, old files too, and an estimator
    that none of our models holds is refused."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", LOADS_IN_A_CLI_PROCESS, str(FIXTURES)],
                          capture_output=True, text=True, timeout=300, check=True)
    out = json.loads(done.stdout)
    assert out["estimator_defaults"] == 0
    assert out["legacy_category.skops"] in {"billing", "account_access", "shipping_delivery"}
    assert out["legacy_sentiment.skops"] == "positive"
    assert out["sentiment"] == "positive"
    assert out["category"] in {"positive", "negative", "neutral"}
    assert "not on the trusted list" in out["tree"] and "DecisionTreeClassifier" in out["tree"]


def test_a_category_model_saved_as_skops_is_saved_again_in_our_format(store: Store) -> None:
    """A database written before our own format holds skops files: loading the category
    model once rewrites it in our format (same predictions); inside a transaction, or on a
    read-only database, it is left as it was."""
    from triage_core.models import native

    blob = (FIXTURES / "legacy_category.skops").read_bytes()
    texts = ["charged twice on my card", "where is my parcel", "cannot log in"]
    expected = registry.loads(blob).predict(texts).tolist()
    version = _smuggle(store, blob)
    with store.transaction():
        registry.load(store, "category", version)
    assert not native.is_native(bytes(store.scalar(
        "SELECT model FROM model_versions WHERE version = ?", [version])))
    assert registry.load(store, "category", version).predict(texts).tolist() == expected
    stored = bytes(store.scalar("SELECT model FROM model_versions WHERE version = ?",
                                [version]))
    assert native.is_native(stored)
    assert registry.loads(stored).predict(texts).tolist() == expected


SCORES_WITHOUT_SKLEARN = """
import json, sys
from triage_core.config import default_config
from triage_core.store import Store
from triage_core.triage import pipeline

with Store(sys.argv[1]) as store:
    result = pipeline.triage(store, default_config(), full=True)
    labels = store.query("SELECT category FROM triage_results ORDER BY ticket_id")
print(json.dumps({"predicted": result["predicted"], "categories": labels["category"].tolist(),
                  "modules": sorted({m.split(".")[0] for m in sys.modules}
                                    & {"sklearn", "skops"})}))
"""


def test_scoring_with_a_category_model_imports_neither_scikit_learn_nor_skops(
        tmp_path: Path, model: TicketClassifier) -> None:
    """Importing scikit-learn and skops cost a process that only predicts about 2.4 s: a
    category model in our own format, with the zero-shot sentiment, needs neither, and a
    fresh process predicts what this one does."""
    import subprocess
    import sys

    import pandas as pd

    path = tmp_path / "t.duckdb"
    with Store(path) as store:
        store.import_frame("tickets", pd.DataFrame({
            "ticket_id": ["T1", "T2", "T3"], "customer_id": ["C1"] * 3, "status": ["new"] * 3,
            "created_at": ["2026-11-01T10:00:00Z"] * 3,
            "subject": ["Charged twice", "Parcel", "Login"],
            "body": ["invoice 4 billing", "my parcel never arrived", "password reset"]}),
            create_missing=True)
        save(store, model, 0.9)
    done = subprocess.run([sys.executable, "-c", SCORES_WITHOUT_SKLEARN, str(path)],
                          capture_output=True, text=True, timeout=300, check=True)
    out = json.loads(done.stdout)
    assert out["modules"] == []
    assert out["predicted"] == 3
    texts = ["Charged twice\ninvoice 4 billing", "Parcel\nmy parcel never arrived",
             "Login\npassword reset"]
    assert out["categories"] == model.predict(texts).tolist()
