"""The category model's text features: tokens of many texts at once, and vocabulary lookups by
token hash, give exactly what one text at a time by regular expression and dictionary gives."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_classifier import make_tickets
from triage_core.models.features import TicketFeatures
from triage_core.models.tokens import (
    _OTHER,
    _SPACE,
    _WORD,
    HashTable,
    _normalized_classes,
    span_hashes,
    token_spans,
    tokenize,
    tokenize_many,
)

# texts that exercise every branch of the regular expression and the normalization
ODD_TEXTS = [
    "", " ", "\n\n", "a", "!", "A!b?C", "Refund #12345 for ORDER-77, please!!",
    "İstanbul ß straße ﬁle ① ٣٤ Ⅻ", "e\u0301te\u0301", "tab\tnew\nline\rcr\x0bvt\x0cff",
    "\x1c\x1d\x1e\x1f unit separators", "no\u00a0break\u2028line\u3000ideographic",
    "emoji 😀👍🏽 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟘𝟙", "lone \ud800 surrogate", "\x00nul\x00", "under_score __x__",
    "Ünïcödé ÀÉÎÕÜ ÇA VA?", "中文字符，标点。", "العربية ١٢٣", "हिन्दी पाठ", "a" * 50_000,
    "x " * 5_000,
]


def _reference(texts: list[str], max_chars: int, keep_digits: bool = False
               ) -> tuple[list[str], list[int]]:
    per_text = [tokenize(t, max_chars, keep_digits) for t in texts]
    return [tok for toks in per_text for tok in toks], [len(toks) for toks in per_text]


@pytest.mark.parametrize("keep_digits", [False, True])
@pytest.mark.parametrize("max_chars", [20_000, 100, 7])
def test_many_texts_give_the_tokens_of_each_text(max_chars: int, keep_digits: bool) -> None:
    texts, _ = make_tickets(5, seed=3)
    texts = texts + ODD_TEXTS
    flat, counts = tokenize_many(texts, max_chars, keep_digits)
    expected, expected_counts = _reference(texts, max_chars, keep_digits)
    assert flat == expected
    assert counts.tolist() == expected_counts


def test_digits_are_kept_when_asked() -> None:
    """Every digit became 0, so "error 404" and "error 500" were one word to the model (a
    set told apart by its codes scored 0.35 where the plain baseline scored 1.0)."""
    texts = ["Error 404 on page", "error 500, ٣٤ ①"]
    assert tokenize_many(texts, 100)[0] == ["error", "000", "on", "page", "error", "000", ",",
                                            "00", "0"]  # NFKC: "①" is "1"
    kept = tokenize_many(texts, 100, keep_digits=True)[0]
    assert kept == ["error", "404", "on", "page", "error", "500", ",", "٣٤", "1"]
    features = TicketFeatures(semantic_weight=0.0, semantic_max_weight=0.0, keep_digits=True)
    X = features.fit_transform(texts)
    assert {"404", "500"} <= set(features.vocabulary_)
    assert (X[0] != X[1]).nnz and np.allclose(features.transform(texts).toarray(), X.toarray())
    old = TicketFeatures(semantic_weight=0.0, semantic_max_weight=0.0).fit(texts)
    state = old.__getstate__()
    state.pop("keep_digits")  # a model saved before the key existed reads digits as 0
    again = TicketFeatures.__new__(TicketFeatures)
    again.__setstate__(state)
    assert again.keep_digits is False and "404" not in again.vocabulary_


def test_character_classes_are_the_regular_expressions_for_every_code_point() -> None:
    every = "".join(chr(c) for c in range(0x110000))
    expected = np.full(len(every), _OTHER, np.uint8)
    for pattern, cls in ((r"\w+", _WORD), (r"\s+", _SPACE)):
        for m in re.finditer(pattern, every):
            expected[m.start():m.end()] = cls
    mapped, classes = _normalized_classes(np.arange(0x110000, dtype=np.uint32))
    assert np.array_equal(classes, expected)
    # only ASCII upper case and digits change
    changed = np.flatnonzero(mapped != np.arange(0x110000))
    assert "".join(chr(c) for c in changed) == "123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert "".join(chr(c) for c in mapped[changed]) == "0" * 9 + "abcdefghijklmnopqrstuvwxyz"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=12))
def test_any_texts_give_the_tokens_of_each_text(texts: list[str]) -> None:
    flat, counts = tokenize_many(texts, 30)
    expected, expected_counts = _reference(texts, 30)
    assert flat == expected
    assert counts.tolist() == expected_counts


def test_equal_spans_hash_alike_and_different_ones_apart() -> None:
    words = ["card", "cards", "drac", "a", "aa", "ab", "ba", "card", "é", "😀", "0", "00"]
    lengths = np.array([len(w) for w in words])
    cp = np.frombuffer("".join(words).encode("utf-32-le"), np.uint32)
    h = span_hashes(cp, np.cumsum(lengths) - lengths, lengths)
    by_word: dict[str, int] = {}
    for w, value in zip(words, h.tolist(), strict=True):
        assert by_word.setdefault(w, value) == value
    assert len(set(by_word.values())) == len(by_word)
    # the same word between blanks, as a token, hashes as it does laid end to end
    spans = token_spans(["  card  drac "], 100)
    assert span_hashes(spans.cp, spans.starts, spans.lengths).tolist() == \
        [by_word["card"], by_word["drac"]]


def test_hash_table_finds_every_key_past_shared_home_slots() -> None:
    # ten hashes with the same top bits share one home slot and must be probed past
    top = np.uint64(7) << np.uint64(60)
    keys = top + np.arange(1, 11, dtype=np.uint64)
    lengths = np.arange(10, dtype=np.int64) + 1
    table = HashTable.build(keys, lengths)
    assert table is not None
    assert table.find(keys, lengths).tolist() == list(range(10))
    # a hash not in the table, or one of its hashes with another length, is not found
    probes = np.array([top + np.uint64(11), keys[3], np.uint64(1)], np.uint64)
    assert table.find(probes, np.array([1, 99, 1])).tolist() == [-1, -1, -1]
    assert HashTable.build(np.array([5, 5], np.uint64), np.array([1, 1])) is None


def test_features_of_texts_are_those_of_their_tokens() -> None:
    texts, _ = make_tickets(20, seed=4)
    features = TicketFeatures(skip_weight=0.5, semantic_weight=0.0).fit(texts)
    new_texts = make_tickets(3, seed=9)[0] + ODD_TEXTS + ["unseen words zebra quokka card"]
    by_name = features._parse(features._tokenize(new_texts))
    by_hash = features._parse_texts(new_texts)
    assert np.array_equal(by_hash.ids, by_name.ids)
    assert np.array_equal(by_hash.doc, by_name.doc)
    assert by_hash.unknown == by_name.unknown and "zebra" in by_hash.unknown


def test_refitting_forgets_the_old_vocabulary() -> None:
    features = TicketFeatures(semantic_weight=0.0).fit(["alpha beta", "gamma"])
    assert features._parse_texts(["gamma"]).ids.tolist() == [features.vocabulary_["gamma"]]
    features.fit(["delta epsilon", "zeta"])  # as many words, none the same
    assert features._parse_texts(["zeta delta"]).ids.tolist() == \
        [features.vocabulary_["zeta"], features.vocabulary_["delta"]]
