"""Vocabularies (token -> column) packed for a saved model's state.

A skops file stores a dict as one node per entry: a model with tens of thousands of vocabulary
words was that many nodes, and loading it took seconds. Packed, a vocabulary is two values, its
words as one JSON text and its columns as one array, in order (:func:`pack_state` before
saving, :func:`unpack_state` when loading; files saved with the dicts load unchanged).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from triage_core.errors import ModelError

PREFIX = "packed_"  # state key of a packed vocabulary: PREFIX + the attribute's name


def pack_vocabulary(vocabulary: Mapping[str, int]) -> tuple[str, np.ndarray]:
    """A vocabulary as its keys in one JSON text and its values in one array, in order."""
    return (json.dumps(list(vocabulary)),
            np.fromiter(vocabulary.values(), dtype=np.int64, count=len(vocabulary)))


def unpack_vocabulary(packed: Sequence[Any]) -> dict[str, int]:
    """The vocabulary :func:`pack_vocabulary` packed: the same keys, values and order."""
    keys, values = packed
    words = json.loads(keys)
    values = np.asarray(values)
    if (not isinstance(words, list) or values.ndim != 1 or len(words) != len(values)
            or not all(isinstance(w, str) for w in words)):
        raise ModelError("a packed vocabulary in the model file is damaged")
    return dict(zip(words, values.tolist(), strict=True))


def pack_state(state: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """A copy of ``state`` with the vocabularies ``names`` packed."""
    out = dict(state)
    for name in names:
        if isinstance(out.get(name), dict):
            out[PREFIX + name] = pack_vocabulary(out.pop(name))
    return out


def unpack_state(state: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """``state`` with the packed vocabularies ``names`` unpacked, in place."""
    for name in names:
        packed = state.pop(PREFIX + name, None)
        if packed is not None:
            state[name] = unpack_vocabulary(packed)
    return state
