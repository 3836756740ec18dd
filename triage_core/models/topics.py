"""Topic discovery: clusters of similar tickets, named by their top terms.

For a helpdesk without category labels (a cold start) and for tickets unlike every known
category (an emerging topic). Texts become one vector each: the TF-IDF of their words reduced
by truncated SVD (latent semantic analysis), beside the idf-weighted mean of the shipped word
vectors (:class:`triage_core.models.mean_vectors.MeanWordVectors`, weighted by
``semantic_weight``), both L2-normalized. scikit-learn's k-means groups them; with
``n_topics = 0`` the number of topics is the one with the best silhouette (cosine) among a few
candidates between ``min_topics`` and ``max_topics``. A topic is named by the terms whose
TF-IDF is highest in it compared with all texts (class-based TF-IDF), and shown with the texts
nearest its centre.

Settings: the ``[topics]`` section (``TopicSettings``; defaults in
``config/defaults/topics.toml``). Everything here is pure: texts in, topics out; the database
side (proposals, accepting them as labels, the emerging-topic alert) is
:mod:`triage_core.triage.labeling`.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from scipy import sparse

from triage_core.config import Checker, section
from triage_core.errors import ModelError

__all__ = ["Topic", "TopicSettings", "TopicSpace", "discover", "distinct_names", "emerging",
           "name_groups", "split"]


@dataclass(frozen=True)
class TopicSettings:
    """The ``[topics]`` section."""

    n_topics: int
    min_topics: int
    max_topics: int
    max_rows: int
    top_terms: int
    examples: int
    semantic_weight: float
    svd_dims: int
    stop_words: tuple[str, ...]
    recent_days: int
    novelty_quantile: float
    min_alert_size: int
    max_alerts: int
    random_state: int

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TopicSettings:
        check = Checker("topics")
        names = [f.name for f in fields(cls)]
        data = check.table(data, "", names)
        missing = [n for n in names if n not in data]
        if missing:
            check.fail(f"{missing[0]} is missing")
        ints = {n: check.integer(data[n], n, lo=lo) for n, lo in (
            ("n_topics", 0), ("min_topics", 2), ("max_topics", 2), ("max_rows", 10),
            ("top_terms", 1), ("examples", 1), ("svd_dims", 2), ("recent_days", 1),
            ("min_alert_size", 2), ("max_alerts", 1), ("random_state", 0))}
        if ints["min_topics"] > ints["max_topics"]:
            check.fail("min_topics must not exceed max_topics")
        return cls(**ints,
                   semantic_weight=check.number(data["semantic_weight"], "semantic_weight",
                                                lo=0),
                   stop_words=tuple(w.lower() for w in check.texts(data["stop_words"],
                                                                   "stop_words")),
                   novelty_quantile=check.number(data["novelty_quantile"], "novelty_quantile",
                                                 lo=0.001, hi=0.5))

    @classmethod
    def from_config(cls, over: Mapping[str, Any] | None = None) -> TopicSettings:
        return cls.from_mapping(section("topics", over))


@dataclass(frozen=True)
class Topic:
    """A group of texts: ``members`` and ``examples`` are indices into the clustered texts
    (examples: the nearest to the topic's centre first)."""

    name: str
    terms: tuple[str, ...]
    members: tuple[int, ...]
    examples: tuple[int, ...]

    @property
    def size(self) -> int:
        return len(self.members)


# Words in more than this share of the tickets name no topic (greetings, the product's name);
# a topic may still cover most tickets (at 0.5, the words of one that covered 7 of 12 tickets,
# "parcel", were dropped, and its tickets fell apart into "(no common words)" clusters).
_MAX_DF = 0.9


# Scripts written without spaces between words (Chinese, Japanese kana, Thai with its vowel and
# tone marks, which are not \w): a sentence is one run, read as character pairs (most Chinese
# words are two characters). Thai digits (U+0E50-0E59) are left out, as digits are elsewhere.
_UNSPACED_CHARS = "\u0e01-\u0e4f\u0e5a\u0e5b\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TERMS = re.compile(f"([{_UNSPACED_CHARS}]+)|([^\\W{_UNSPACED_CHARS}]+)")
_WORD = re.compile(r"[^\W\d_]{2,30}")
# a letter with the marks written over or under it (Thai vowels and tones, kana voicing): one
# character of a pair
_MARKS = "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u3099\u309a"
_LETTER = re.compile(f"[^{_MARKS}][{_MARKS}]*")


@functools.lru_cache(maxsize=8)
def _unspaced_stop(stop: frozenset[str]) -> re.Pattern[str] | None:
    """The stop words written in those scripts, as one pattern (longest first), to be cut out
    of a run before it is paired: "您好" or "よろしく" inside a sentence name no topic."""
    words = sorted((w for w in stop if re.search(f"[{_UNSPACED_CHARS}]", w)), key=len,
                   reverse=True)
    return re.compile("|".join(map(re.escape, words))) if words else None


def topic_terms(text: str, stop: frozenset[str] = frozenset()) -> list[str]:
    """The terms of a text for topics: words of 2-30 letters (longer runs are encoded
    attachments, hashes or keyboard mashing; a word run into digits is an id), lower-cased,
    without ``stop`` words; in scripts without spaces, each pair of adjacent characters
    (stop words cut out first)."""
    out: list[str] = []
    cut = _unspaced_stop(stop)
    for run, token in _TERMS.findall(text.lower()):
        if token:
            if _WORD.fullmatch(token) and token not in stop:
                out.append(token)
            continue
        for part in (cut.split(run) if cut is not None else [run]):
            letters = _LETTER.findall(part)
            if len(letters) == 1:
                out.append(letters[0])
            else:
                out.extend(a + b for a, b in itertools.pairwise(letters))
    return out


class TopicSpace:
    """Texts -> unit vectors (LSA of word TF-IDF beside the mean word vector)."""

    def __init__(self, settings: TopicSettings) -> None:
        self.settings = settings

    def fit(self, texts: Sequence[str]) -> TopicSpace:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

        from triage_core.models.mean_vectors import MeanWordVectors

        texts = list(texts)
        stop = sorted(ENGLISH_STOP_WORDS | set(self.settings.stop_words))
        words = None
        # words of 2-30 letters (topic_terms): longer runs are encoded attachments, hashes or
        # keyboard mashing ("xxxx..." of 20,000 letters named a topic and stretched the table
        # across screens); Chinese, Japanese and Thai as character pairs (a whole sentence was
        # one "word", over 30 letters and dropped: 17 topics of "(no common words)")
        for max_df in dict.fromkeys((_MAX_DF if len(texts) >= 20 else 1.0, 1.0)):
            self.tfidf = TfidfVectorizer(analyzer=functools.partial(topic_terms,
                                                                    stop=frozenset(stop)),
                                         min_df=2 if len(texts) >= 20 else 1,
                                         max_df=max_df, sublinear_tf=True)
            try:
                words = self.tfidf.fit_transform(texts)
                break
            except ValueError:  # no word left; every word in nearly every ticket: try with them
                continue
        if words is None:  # no word in any text (after stop words and document frequency)
            raise ModelError("the tickets have too few words in common to find topics; "
                             "add more tickets with text")
        dims = min(self.settings.svd_dims, words.shape[1] - 1, len(texts) - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            # identical texts: sklearn's explained-variance ratio (unused here) divides 0 by 0
            self.svd = (TruncatedSVD(dims, random_state=self.settings.random_state).fit(words)
                        if dims >= 2 else None)
        self.meaning = (MeanWordVectors().fit(texts) if self.settings.semantic_weight > 0
                        else None)
        return self

    def words(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.tfidf.transform(list(texts))

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        words = self.words(texts)
        parts = [_unit(self.svd.transform(words) if self.svd else words.toarray())]
        if self.meaning is not None:
            parts.append(self.settings.semantic_weight * self.meaning.transform(list(texts)))
        return _unit(np.hstack(parts))

    def terms(self) -> np.ndarray:
        return self.tfidf.get_feature_names_out()


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(x / norms, dtype=np.float64)


_MAX_UNLIKE = 3000
_NEIGHBOURS = 5


def _close_knit(x: np.ndarray, tight: float) -> list[np.ndarray]:
    """Groups of rows of x (unit vectors) by average-linkage clustering, merged while their
    mean pairwise cosine similarity stays at least ``tight``."""
    from sklearn.cluster import AgglomerativeClustering

    if len(x) < 2:
        return [np.arange(len(x))]
    labels = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                     distance_threshold=1 - tight).fit_predict(x)
    return [np.flatnonzero(labels == c) for c in np.unique(labels)]


def _knit(x: np.ndarray) -> float:
    """How close-knit unit vectors are: their mean pairwise cosine similarity (self pairs
    included), the squared length of their mean."""
    mean = x.mean(axis=0)
    return float(mean @ mean)


def _kmeans(x: np.ndarray, k: int, seed: int, n_init: int = 3
            ) -> tuple[np.ndarray, np.ndarray]:
    """(labels, centres) of k-means on x (mini-batches beyond 10,000 rows)."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    km = (MiniBatchKMeans(k, random_state=seed, n_init=n_init, batch_size=2048)
          if len(x) > 10_000 else KMeans(k, random_state=seed, n_init=n_init))
    return km.fit_predict(x), km.cluster_centers_


def _best_k(x: np.ndarray, settings: TopicSettings, distinct: int | None = None) -> int:
    """``n_topics``, else the candidate k with the best cosine silhouette on a sample
    (at most ``distinct``, the number of different rows of x)."""
    from sklearn.metrics import silhouette_score

    n = len(x)
    hi = min(settings.max_topics, max(2, n // 3))
    lo = min(settings.min_topics, hi)
    if settings.n_topics:
        return min(settings.n_topics, n)
    ks = sorted(set(np.linspace(lo, hi, num=min(4, hi - lo + 1)).round().astype(int)))
    rng = np.random.default_rng(settings.random_state)
    sample = x[rng.choice(n, size=min(n, 2000), replace=False)]
    if distinct is not None:  # a sample may hold fewer different rows still
        ks = [k for k in ks if k <= min(distinct, len(np.unique(np.round(sample, 6), axis=0)))]
        if not ks:
            return 1
    best_k, best = ks[0], -2.0
    for k in ks:
        labels, _ = _kmeans(sample, k, settings.random_state, n_init=1)
        if len(set(labels.tolist())) < 2:
            continue
        score = silhouette_score(sample, labels, metric="cosine",
                                 sample_size=min(len(sample), 1000),
                                 random_state=settings.random_state)
        if score > best + 1e-9:
            best_k, best = k, score
    return int(best_k)


def name_groups(space: TopicSpace, texts: Sequence[str], groups: Sequence[Sequence[int]],
                vectors: np.ndarray | None = None) -> list[Topic]:
    """Topics of the given groups of text indices: top terms, and the texts nearest its centre.

    A term's weight is sqrt(share of the group's texts that hold it) x log(that share over the
    share of all texts, at least 1): words most of the group uses and the rest rarely does. The mean
    TF-IDF over its mean in all texts, used before, named big loose groups by rare words of
    long texts (220 IT tickets "kingdom / ribbon / write", each word in 5-9 % of them)."""
    k, n_ex = space.settings.top_terms, space.settings.examples
    held = (space.words(texts) > 0).astype(np.float64).tocsr()
    overall = np.asarray(held.mean(axis=0)).ravel()
    vectors = space.transform(texts) if vectors is None else vectors
    names = space.terms()
    out = []
    for members in groups:
        rows = np.asarray(members, dtype=np.int64)
        count = np.asarray(held[rows].sum(axis=0)).ravel()
        share = count / max(len(rows), 1)
        lift = share / np.where(overall > 0, overall, 1.0)  # (a word no text holds: 0)
        # + 1e-3: a group of all the texts (or of words every text holds) is named by its
        # commonest words
        weight = np.sqrt(share) * (np.log(np.maximum(lift, 1.0)) + 1e-3)
        weight[count < min(2, len(rows))] = 0
        top = [str(names[i]) for i in np.argsort(-weight, kind="stable")[:k] if weight[i] > 0]
        centre = vectors[rows].mean(axis=0)
        near = rows[np.argsort(-(vectors[rows] @ centre), kind="stable")[:n_ex]]
        out.append(Topic(" / ".join(top[:3]) or "(no common words)", tuple(top),
                         tuple(int(i) for i in rows), tuple(int(i) for i in near)))
    return distinct_names(out)


def distinct_names(topics: Sequence[Topic], taken: Iterable[str] = ()) -> list[Topic]:
    """The topics, where one whose name (its first three terms) an earlier one or ``taken``
    already has gets the first of its own further terms that tells it apart, else a number:
    accepting topics labels tickets with their names, so two topics must never share one.
    Names are compared regardless of case, as renaming does."""
    out = list(topics)
    seen = {n.casefold() for n in taken}
    for i, topic in enumerate(out):
        if topic.name.casefold() not in seen:
            seen.add(topic.name.casefold())
            continue
        shown = set(topic.name.split(" / "))
        name = next((f"{topic.name} / {t}" for t in topic.terms
                     if t not in shown and f"{topic.name} / {t}".casefold() not in seen), None)
        n = 2
        while name is None or name.casefold() in seen:
            name, n = f"{topic.name} ({n})", n + 1
        seen.add(name.casefold())
        out[i] = replace(topic, name=name)
    return out


def discover(texts: Sequence[str], settings: TopicSettings | None = None) -> list[Topic]:
    """Topics of ``texts`` (every text in exactly one), largest first."""
    settings = settings or TopicSettings.from_config()
    texts = [str(t) for t in texts]
    if len(texts) < 4:
        raise ModelError(f"need at least 4 tickets with text to find topics, got {len(texts)}")
    space = TopicSpace(settings).fit(texts)
    x = space.transform(texts)
    # k-means cannot make more clusters than there are different points (same texts, or texts
    # with the same words): it warns and returns fewer
    distinct = len(np.unique(np.round(x, 6), axis=0))
    k = min(_best_k(x, settings, distinct), distinct)
    labels = _kmeans(x, k, settings.random_state)[0] if k > 1 else np.zeros(len(x), int)
    groups = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    groups.sort(key=lambda g: (-len(g), int(g[0])))
    return name_groups(space, texts, groups, x)


def split(texts: Sequence[str], parts: int, settings: TopicSettings | None = None
          ) -> list[Topic]:
    """The texts of one topic split into ``parts`` topics (indices into ``texts``)."""
    settings = settings or TopicSettings.from_config()
    if parts < 2 or parts > len(texts):
        raise ModelError(f"cannot split {len(texts)} tickets into {parts} topics")
    return discover(texts, replace(settings, n_topics=parts))


def _neighbour_similarity(x: np.ndarray, ref: np.ndarray, k: int,
                          skip_self: bool = False) -> np.ndarray:
    """Per row of x: the mean cosine similarity of its k nearest rows of ref (chunked)."""
    out = np.empty(len(x))
    k = min(k, len(ref) - int(skip_self))
    for at in range(0, len(x), 500):
        sims = np.asarray(x[at:at + 500] @ ref.T, dtype=np.float32)
        top = -np.sort(-np.partition(sims, -(k + skip_self), axis=1)[:, -(k + skip_self):],
                       axis=1)
        out[at:at + 500] = top[:, int(skip_self):].mean(axis=1)
    return out


def emerging(known_texts: Sequence[str], known_labels: Sequence[str],
             recent_texts: Sequence[str], settings: TopicSettings | None = None,
             checkpoint: Callable[[], None] | None = None) -> list[Topic]:
    """Topics among ``recent_texts`` that are unlike every known category.

    A recent text is *unlike* the known ones when the mean similarity of its 5 nearest known
    texts is below the ``novelty_quantile`` of the same measure among the known texts
    themselves (on a sample of 1,000): nothing known talks about it. Unlike texts are grouped
    by average-linkage clustering while a group stays close-knit (mean pairwise similarity at
    least half-way between random known texts and a typical known category), and groups of at
    least ``min_alert_size`` texts are returned, largest first (indices into
    ``recent_texts``). ``checkpoint`` is called between the steps: an exception it raises
    abandons the search (a server that stops does not wait for it)."""
    settings = settings or TopicSettings.from_config()
    check = checkpoint or (lambda: None)
    labels = np.asarray([str(v) for v in known_labels], dtype=object)
    if len(recent_texts) < settings.min_alert_size or len(set(labels.tolist())) < 2:
        return []
    space = TopicSpace(settings).fit([*known_texts, *recent_texts])
    check()
    known = space.transform(known_texts).astype(np.float32)
    check()
    rng = np.random.default_rng(settings.random_state)
    probe = rng.choice(len(known), size=min(len(known), 1000), replace=False)
    usual = _neighbour_similarity(known[probe], known, _NEIGHBOURS, skip_self=True)
    threshold = float(np.quantile(usual, settings.novelty_quantile))
    check()
    recent = space.transform(recent_texts).astype(np.float32)
    # a text without words of the space (an empty body, "Thanks!") is like nothing, and no
    # topic: left out (its zero vector also broke the cosine clustering)
    worded = np.linalg.norm(recent, axis=1) > 0
    unlike = np.flatnonzero((_neighbour_similarity(recent, known, _NEIGHBOURS) < threshold)
                            & worded)
    if len(unlike) < settings.min_alert_size:
        return []
    check()
    unlike = unlike[:_MAX_UNLIKE]  # the newest first: pairwise clustering is quadratic
    cats, idx = np.unique(labels, return_inverse=True)
    typical = float(np.quantile([_knit(known[idx == c]) for c in range(len(cats))], 0.25))
    tight = (typical + _knit(known)) / 2
    check()
    groups = _close_knit(recent[unlike], tight)
    check()
    groups = sorted((unlike[g] for g in groups if len(g) >= settings.min_alert_size
                     and _knit(recent[unlike[g]]) >= tight),
                    key=lambda g: (-len(g), int(g[0])))[: settings.max_alerts]
    if not groups:
        return []
    # a group with no common terms ("Thanks!", "Re: Re:", one-word replies) is no topic
    return [t for t in name_groups(space, list(recent_texts), groups) if t.terms]
