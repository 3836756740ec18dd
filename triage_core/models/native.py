"""Model files of our own: a category model saved and loaded without skops or scikit-learn.

A category model holds only our own classes (``TicketClassifier``, ``TicketFeatures``), NumPy
arrays, one SciPy CSR matrix and plain values. skops would store that safely too, but importing
skops imports scikit-learn and SciPy's statistics, and walks every loaded module once per NumPy
ufunc: about 2.4 s of every ``triage score``, ``serve`` or ``explain`` that loads a model. This
format keeps skops' guarantee with NumPy's own safe array format:

- a zip file holding ``triage-model.json`` (the object tree) and ``arrays/N.npy``;
- arrays are written and read by NumPy with ``allow_pickle=False``, so an array cannot carry
  code; object arrays are refused when saving;
- objects are rebuilt only from the classes the caller allows, looked up in that mapping by
  name (nothing is imported by name), with ``__new__`` and ``__setstate__``;
- anything else (an unknown tag or class, a damaged array, a tree deeper than any model) is
  refused with a one-line :class:`~triage_core.errors.ModelError`.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from triage_core.errors import ModelError

MANIFEST = "triage-model.json"
FORMAT = "triage-model"
VERSION = 1
MAX_DEPTH = 64  # far deeper than any model's tree; a deeper file is refused, not recursed
MAX_BYTES = 4 << 30  # unpacked, far larger than any model (1M tickets' model: 12 MB)
_CSR = "scipy.sparse._csr.csr_matrix"


def is_native(data: bytes) -> bool:
    """Whether ``data`` is a model file of this format (else: a skops file, or garbage)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return MANIFEST in zf.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False


def class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def dumps(model: Any, classes: Mapping[str, type]) -> bytes:
    """``model`` as a file of this format; every object in it must be of one of ``classes``
    (name -> class), a NumPy array or scalar, a SciPy CSR matrix or a plain value."""
    allowed = set(classes.values())
    arrays: list[np.ndarray] = []

    def array(value: np.ndarray) -> dict[str, Any]:
        if value.dtype.hasobject:
            raise ModelError("cannot save a model holding an object array")
        arrays.append(value)
        return {"t": "array", "i": len(arrays) - 1}

    def node(value: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise ModelError("cannot save a model nested this deeply")
        if value is None or isinstance(value, bool | str):
            return value
        if isinstance(value, int | float) and type(value) in (int, float):
            return value
        if isinstance(value, np.ndarray):
            return array(value)
        if isinstance(value, np.generic):
            return {"t": "scalar", "i": array(np.asarray(value))["i"]}
        if isinstance(value, tuple | list):
            return {"t": type(value).__name__, "v": [node(v, depth + 1) for v in value]}
        if type(value) is dict:
            return {"t": "dict", "k": [node(k, depth + 1) for k in value],
                    "v": [node(v, depth + 1) for v in value.values()]}
        if class_name(type(value)) == _CSR:
            return {"t": "csr", "shape": list(value.shape), "data": array(value.data),
                    "indices": array(value.indices), "indptr": array(value.indptr)}
        if type(value) in allowed:
            state = value.__getstate__()
            return {"t": "object", "class": class_name(type(value)),
                    "state": node(state, depth + 1)}
        raise ModelError(f"cannot save a model holding a {class_name(type(value))}")

    root = node(model, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, json.dumps({"format": FORMAT, "version": VERSION, "root": root}))
        for i, value in enumerate(arrays):
            buf = io.BytesIO()
            np.save(buf, value, allow_pickle=False)
            zf.writestr(f"arrays/{i}.npy", buf.getvalue())
    return out.getvalue()


def loads(data: bytes, classes: Mapping[str, type]) -> Any:
    """The model in ``data``, rebuilt from ``classes`` (name -> class) only."""
    by_name = {name.rpartition(".")[2]: cls for name, cls in classes.items()}
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ModelError(f"not a readable model file ({exc})") from None
    with zf:
        if sum(info.file_size for info in zf.infolist()) > MAX_BYTES:
            raise ModelError("not a readable model file (it unpacks to more than"
                             f" {MAX_BYTES >> 30} GiB)")
        try:
            manifest = json.loads(zf.read(MANIFEST))
        except (KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise ModelError(f"not a readable model file ({exc})") from None
        if (not isinstance(manifest, dict) or manifest.get("format") != FORMAT
                or not isinstance(manifest.get("version"), int)):
            raise ModelError("not a readable model file (no triage-model manifest)")
        if manifest["version"] > VERSION:
            raise ModelError(f"the model file is of format version {manifest['version']},"
                             f" newer than this program reads ({VERSION}); upgrade triage")
        cache: dict[int, np.ndarray] = {}

        def array(ref: Any) -> np.ndarray:
            if not isinstance(ref, dict) or ref.get("t") != "array" \
                    or type(ref.get("i")) is not int:
                raise ModelError("a damaged model file (bad array reference)")
            i = ref["i"]
            if i not in cache:
                try:
                    cache[i] = np.load(io.BytesIO(zf.read(f"arrays/{i}.npy")),
                                       allow_pickle=False)
                except (KeyError, ValueError, OSError, zipfile.BadZipFile) as exc:
                    raise ModelError(f"a damaged model file (array {i}: {exc})") from None
            return cache[i]

        def node(value: Any, depth: int) -> Any:
            if depth > MAX_DEPTH:
                raise ModelError("a damaged model file (nested too deeply)")
            if value is None or isinstance(value, bool | str | int | float):
                return value
            if not isinstance(value, dict):
                raise ModelError("a damaged model file (a bare list in the tree)")
            tag = value.get("t")
            if tag == "array":
                return array(value)
            if tag == "scalar":
                return array({"t": "array", "i": value.get("i")})[()]
            if tag in ("list", "tuple") and isinstance(value.get("v"), list):
                items = [node(v, depth + 1) for v in value["v"]]
                return items if tag == "list" else tuple(items)
            if tag == "dict" and isinstance(value.get("k"), list) \
                    and isinstance(value.get("v"), list) and len(value["k"]) == len(value["v"]):
                try:
                    return {node(k, depth + 1): node(v, depth + 1)
                            for k, v in zip(value["k"], value["v"], strict=True)}
                except TypeError:
                    raise ModelError("a damaged model file (an unhashable key)") from None
            if tag == "csr":
                return _csr(value, array)
            if tag == "object" and isinstance(value.get("class"), str):
                name = value["class"]
                cls = classes.get(name) or by_name.get(name.rpartition(".")[2])
                if cls is None:
                    raise ModelError(f"model file holds a {name}, which is not a model type of"
                                     " this program; refusing to load it")
                state = node(value.get("state"), depth + 1)
                if not isinstance(state, dict):
                    raise ModelError(f"a damaged model file (the state of a {name})")
                obj = cls.__new__(cls)
                obj.__setstate__(state)
                return obj
            raise ModelError(f"a damaged model file (unknown entry {str(tag)[:40]!r})")

        return node(manifest.get("root"), 0)


def _csr(value: Mapping[str, Any], array: Any) -> Any:
    from scipy import sparse

    shape = value.get("shape")
    if not (isinstance(shape, list) and len(shape) == 2
            and all(type(s) is int and s >= 0 for s in shape)):
        raise ModelError("a damaged model file (a sparse matrix's shape)")
    try:
        return sparse.csr_matrix((array(value.get("data")), array(value.get("indices")),
                                  array(value.get("indptr"))), shape=tuple(shape))
    except (ValueError, TypeError) as exc:
        raise ModelError(f"a damaged model file (a sparse matrix: {exc})") from None
