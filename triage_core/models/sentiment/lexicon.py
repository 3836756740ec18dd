"""Zero-shot sentiment of support text on a -1..+1 scale: ``LexiconSentiment``.

VADER's lexicon plus the support-domain lexicon of the ``[sentiment]`` settings (single words,
multi-word phrases and regex patterns). Text is cleaned first (quoted replies, signatures,
greetings, headers, @handles, links), phrases and patterns become single tokens of the
augmented lexicon, and every sentence is scored on its own by the exact VADER engine
(:mod:`._vader`); the text's score is a weighted mean of its sentence compounds in which
negative sentences weigh more, so long e-mails do not saturate to +-1.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from triage_core.errors import ConfigError
from triage_core.models.sentiment._vader import VaderEngine, as_large_string, vader_lexicon
from triage_core.models.sentiment.informal import InformalText
from triage_core.models.sentiment.settings import SentimentSettings, default_settings, label
from triage_core.text import SMALL_BATCH, caseless, clean_body_array, to_arrow

__all__ = ["LexiconSentiment", "explain", "score_frame", "score_texts"]

_SENTENCE_END = r"([.!?])[ \t]+"  # a sentence ends at . ! or ? followed by blanks ...
_SENTENCE_BREAK = r"[ \t]*\n[ \t\n]*"  # ... or at a line break
_QUESTION = r"\?[ \t\r\n]*$"
# a negation ("they did not call back", "nothing works"): what a sentence without sentiment
# words scores ``bare_negation`` for
_NEGATION = (r"(?i)\b(?:not|never|nothing|nobody|no one|no longer|cannot|(?:ca|do|does|did|is|"
             r"are|was|were|wo|would|could|should|has|have|had)n['\x{2019}]?t)\b")
_WORD_EDGE_L = r"(?<![A-Za-z0-9_'])"
_WORD_EDGE_R = r"(?![A-Za-z0-9_'])"


def _token_for(phrase: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", phrase.lower()).strip("_")


def _re2_accepts(pattern: str) -> bool:
    try:
        pc.match_substring_regex(pa.array([""]), pattern=pattern, ignore_case=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


# Patterns whose matches RE2 finds exactly as Python's re does on ASCII text without the
# control characters Python counts as whitespace and RE2 does not (\v, \x1c-\x1f): plain
# syntax only (no anchors, POSIX classes, flags or escapes the two engines read differently).
_RE2_SAME = re.compile(r"(?:[^\\$\[(]|\\[bswdBSWD.+*?()\[\]{}|\\'-]|\[(?!:)|\((?!\?)|\(\?:)*")
_NOT_RE2_CLEAN = r"[^\x{09}\x{0a}\x{0c}\x{0d}\x{20}-\x{7e}]"  # outside printable ASCII and \t\n\f\r


def _re2_same(pattern: str) -> bool:
    """Whether RE2 replaces ``pattern``'s matches exactly as Python's re does (on the rows of
    :data:`_NOT_RE2_CLEAN`'s complement): plain ASCII syntax, and never an empty match (the
    two engines step past an empty match differently)."""
    if not (pattern.isascii() and _RE2_SAME.fullmatch(pattern) and _re2_accepts(pattern)):
        return False
    try:
        from re import _parser  # Python's own regular-expression parser

        return _parser.parse(pattern, re.IGNORECASE).getwidth()[0] > 0
    except Exception:  # a parser that changed: let Python's re do the work
        return False


def _missing_to_empty(texts: Sequence[Any] | pd.Series | pa.Array) -> pa.Array:
    if isinstance(texts, pa.Array | pa.ChunkedArray):
        return as_large_string(texts)
    return to_arrow(texts if isinstance(texts, pd.Series) else list(texts))


class LexiconSentiment:
    """Zero-shot sentiment: VADER + support-domain lexicon, per-sentence scoring.

    Text goes through ``clean_body`` (unless ``clean=False``), phrases and patterns become
    single lexicon tokens, the text is split into sentences, every sentence gets VADER's
    compound (``VaderEngine``), and ``combine`` turns sentence compounds into one score.
    """

    def __init__(self, settings: SentimentSettings | None = None) -> None:
        self.settings = settings or default_settings()
        lexicon = vader_lexicon()
        for word in self.settings.ignore_words:
            lexicon.pop(word, None)
        lexicon.update(self.settings.lexicon)
        self._display: dict[str, str] = {}
        phrase_tokens: dict[str, str] = {}
        for phrase, val in self.settings.phrases:
            tok = _token_for(phrase)
            lexicon[tok] = val
            phrase_tokens[phrase] = tok
            self._display[tok] = phrase
        self._phrase_tokens = phrase_tokens
        # one regex per phrase, longest phrase first; the apostrophe-free form is the key of a
        # cheap substring test that decides whether the regex needs to run at all
        self._phrases: list[tuple[str, re.Pattern[str]]] = []
        for phrase in sorted(phrase_tokens, key=lambda p: (-len(p), p)):
            body = r"[ \t]+".join(re.escape(w).replace("'", "'?") for w in phrase.split())
            self._phrases.append((phrase.replace("'", ""), re.compile(
                _WORD_EDGE_L + body + _WORD_EDGE_R, re.IGNORECASE)))
        self._no_apostrophe = {p.replace("'", ""): t for p, t in phrase_tokens.items()}
        # RE2 finds the texts that may hold a phrase; only those go through Python
        self._phrase_filter = "|".join(
            r"[ \t]+".join(re.escape(w).replace("'", "'?") for w in p.split())
            for p in phrase_tokens) or None
        self._patterns: list[tuple[re.Pattern[str], str, str | None]] = []
        self._re2_subs: list[str | None] = []
        for rule in self.settings.patterns:
            tok = f"pattern_{rule.name}"
            lexicon[tok] = rule.valence
            self._display[tok] = rule.name.replace("_", " ")
            # RE2 pre-selects rows (its \b is ASCII-only, so it is at least as permissive;
            # whitespace is normalized by cleaning); Python-only syntax runs on every row
            self._patterns.append((re.compile(rule.regex, re.IGNORECASE), tok,
                                   rule.regex if _re2_accepts(rule.regex) else None))
            # RE2 also replaces it, in rows where it finds what Python's re finds
            self._re2_subs.append(rule.regex if _re2_same(rule.regex)
                                  and re.fullmatch(r"[A-Za-z0-9_]+", tok) else None)
        # the patterns, and one gate of them all, for lowered ASCII texts (None: one of them
        # cannot be lowered)
        self._lowered: tuple[re.Pattern[str], list[re.Pattern[str]]] | None = None
        lowered = [caseless(rule.regex) for rule in self.settings.patterns]
        gate = caseless("|".join(f"(?:{rule.regex})" for rule in self.settings.patterns))
        if self._patterns and gate is not None and all(p is not None for p in lowered):
            self._lowered = (gate, [p for p in lowered if p is not None])
        self.engine = VaderEngine(lexicon, negated_negative=self.settings.negated_negative,
                                  hypothetical_weight=self.settings.hypothetical_weight,
                                  hypothetical_words=self.settings.hypothetical_words,
                                  emojis=dict(self.settings.emoji))
        self._informal = InformalText(lexicon) if self.settings.normalize_informal else None
        self._sarcasm = ("(?i)" + "|".join(re.escape(m) for m in self.settings.sarcasm_markers)
                         if self.settings.sarcasm_markers else None)

    # --- text preparation -------------------------------------------------------------------

    def _phrase_sub(self, match: re.Match[str]) -> str:
        text = match.group(0)
        key = " ".join(text.lower().split())
        tok = self._phrase_tokens.get(key) or self._no_apostrophe[key]
        return f" {tok.upper() if text.isupper() else tok} "

    def _substitute(self, text: str, phrases: bool, patterns: Sequence[int]) -> str:
        if phrases:
            low = " ".join(text.lower().replace("'", "").split())
            for key, regex in self._phrases:
                if key in low:
                    text = regex.sub(self._phrase_sub, text)
        for k in patterns:
            pattern, tok, _ = self._patterns[k]
            text = pattern.sub(f" {tok} ", text)
        return text

    def _substitute_one(self, text: str) -> str:
        """:meth:`_substitute` of one text with the patterns that match it (every row's
        pre-check of :meth:`prepare`, by Python's re; an ASCII text lowered, when every
        pattern allows, behind one gate: see :func:`~triage_core.text.caseless`)."""
        if self._lowered is not None and text.isascii():
            low = text.lower()
            gate_open = self._lowered[0].search(low) is not None
            found = [k for k, ((_, _, rx), lowered) in enumerate(
                zip(self._patterns, self._lowered[1], strict=True))
                if rx is None or (gate_open and lowered.search(low))]
        else:
            found = [k for k, (pattern, _, rx) in enumerate(self._patterns)
                     if rx is None or pattern.search(text)]
        return self._substitute(text, bool(self._phrase_filter), found)

    def prepare(self, texts: Sequence[Any] | pd.Series | pa.Array,
                clean: bool = True) -> pa.Array:
        """Cleaned texts with phrases and patterns replaced (a pyarrow string array)."""
        arr = _missing_to_empty(texts)
        if clean:
            arr = clean_body_array(arr)
        n = len(arr)
        informal = self._informal
        if n == 0:
            return arr
        if n <= SMALL_BATCH:  # a few texts: Python's re (RE2 compiles every pattern per call)
            texts_ = arr.to_pylist()
            if informal is not None:
                texts_ = [informal.normalize(t) for t in texts_]
            if self._phrase_filter or self._patterns:
                texts_ = [self._substitute_one(t) for t in texts_]
            return pa.array(texts_, type=pa.large_string())
        if informal is not None:
            arr = informal.normalize_array(arr)
        if not (self._phrase_filter or self._patterns):
            return arr

        def rows_matching(regex: str | None) -> np.ndarray:
            if regex is None:
                return np.ones(n, dtype=bool)
            hit = pc.match_substring_regex(arr, pattern=regex, ignore_case=True)
            return hit.to_numpy(zero_copy_only=False)

        phrase_rows = (rows_matching(self._phrase_filter) if self._phrase_filter
                       else np.zeros(n, dtype=bool))
        pattern_rows = [rows_matching(rx) for _, _, rx in self._patterns]
        # phrases first, by Python's re, in the rows that may hold one
        arr = self._python_subs(arr, phrase_rows, [np.zeros(n, dtype=bool)] * len(pattern_rows))
        # then the patterns, each in the rows RE2 pre-selected in the original text: by RE2 in
        # rows of plain ASCII whose patterns all read alike in both engines, else by Python
        hits = np.zeros(n, dtype=bool)
        for hit in pattern_rows:
            hits |= hit
        by_re2 = hits.copy()
        for hit, sub in zip(pattern_rows, self._re2_subs, strict=True):
            if sub is None:
                by_re2 &= ~hit
        if by_re2.any():
            unclean = pc.match_substring_regex(arr, pattern=_NOT_RE2_CLEAN)
            by_re2 &= ~unclean.to_numpy(zero_copy_only=False)
        arr = self._python_subs(arr, np.zeros(n, dtype=bool),
                                [hit & ~by_re2 for hit in pattern_rows])
        for (_, tok, _), sub, hit in zip(self._patterns, self._re2_subs, pattern_rows,
                                         strict=True):
            rows = hit & by_re2
            if rows.any():
                mask = pa.array(rows)
                done = pc.replace_substring_regex(arr.filter(mask), pattern=f"(?i){sub}",
                                                  replacement=f" {tok} ")
                arr = pc.replace_with_mask(arr, mask, done)
        return arr

    def _python_subs(self, arr: pa.Array, phrase_rows: np.ndarray,
                     pattern_rows: list[np.ndarray]) -> pa.Array:
        """:meth:`_substitute` by Python's re in the rows that need it."""
        todo = phrase_rows.copy()
        for hit in pattern_rows:
            todo |= hit
        rows = np.flatnonzero(todo)
        if rows.size == 0:
            return arr
        texts_todo = arr.take(pa.array(rows)).to_pylist()
        fixed = [
            self._substitute(text, bool(phrase_rows[r]),
                             [k for k, hit in enumerate(pattern_rows) if hit[r]])
            for text, r in zip(texts_todo, rows.tolist(), strict=True)
        ]
        return pc.replace_with_mask(arr, pa.array(todo),
                                    pa.array(fixed, type=pa.large_string()))

    @staticmethod
    def split_sentences(arr: pa.Array) -> tuple[np.ndarray, pa.Array]:
        """(owner text index, sentence) for every non-blank sentence of every text."""
        marked = pc.replace_substring_regex(arr, pattern=_SENTENCE_END, replacement="\\1\n")
        pieces = pc.split_pattern_regex(marked, pattern=_SENTENCE_BREAK)
        flat = pc.list_flatten(pieces)
        owner = pc.list_parent_indices(pieces).to_numpy(zero_copy_only=False)
        keep = pc.match_substring_regex(flat, pattern=r"\S")
        return owner[keep.to_numpy(zero_copy_only=False)], flat.filter(keep)

    # --- scoring ----------------------------------------------------------------------------

    def _sentence_table(self, prepared: pa.Array) -> tuple[np.ndarray, pa.Array, np.ndarray,
                                                           np.ndarray]:
        """(owner text index, sentence, compound, token count) for every sentence of every
        text; a question's positive compound is scaled by ``question_weight``."""
        owner, sentences = self.split_sentences(prepared)
        compounds, lengths = self.engine.score(sentences)
        question = pc.match_substring_regex(sentences, pattern=_QUESTION)
        question = question.to_numpy(zero_copy_only=False)
        compounds = np.where(question & (compounds > 0),
                             compounds * self.settings.question_weight, compounds)
        if self._sarcasm is not None and len(sentences):
            marked = pc.match_substring_regex(sentences, pattern=self._sarcasm)
            marked = marked.to_numpy(zero_copy_only=False)
            if marked.any():  # every positive sentence of a text with a mark is sarcastic
                texts = np.zeros(int(owner.max()) + 1, dtype=bool)
                texts[owner[marked]] = True
                compounds = np.where(texts[owner] & (compounds > 0), -compounds, compounds)
        return owner, sentences, compounds, lengths

    def _scores(self, owner: np.ndarray, sentences: pa.Array, compounds: np.ndarray,
                lengths: np.ndarray, n_texts: int) -> np.ndarray:
        """``combine``, and ``bare_negation`` for a text without a single sentiment word that
        holds a negation ("they never called back"). Only such texts: a negation beside
        sentiment words adds nothing, so it cannot water down "This is unacceptable"."""
        score = self.combine(owner, compounds, lengths, n_texts)
        value = self.settings.bare_negation
        if value == 0 or compounds.size == 0:
            return score
        silent = np.bincount(owner, weights=compounds != 0, minlength=n_texts) == 0
        rows = np.flatnonzero(silent[owner])
        if rows.size == 0:
            return score
        hit = pc.match_substring_regex(sentences.take(pa.array(rows)), pattern=_NEGATION)
        score[owner[rows[hit.to_numpy(zero_copy_only=False)]]] = value
        return score

    def combine(self, owner: np.ndarray, compounds: np.ndarray, lengths: np.ndarray,
                n_texts: int) -> np.ndarray:
        """Weighted mean of the non-neutral sentence compounds of each text.

        Every sentence weighs the same (``sentence_weighting = "equal"``) or by its number of
        tokens (``"length"``); negative sentences weigh ``negative_weight`` times more; texts
        without sentiment-bearing sentences score 0.
        """
        base = (lengths if self.settings.sentence_weighting == "length"
                else np.ones(len(compounds)))
        w = base * np.where(compounds < 0, self.settings.negative_weight, 1.0)
        w = np.where(compounds != 0, w, 0.0)
        num = np.bincount(owner, weights=w * compounds, minlength=n_texts)
        den = np.bincount(owner, weights=w, minlength=n_texts)
        return np.divide(num, den, out=np.zeros(n_texts), where=den > 0)

    def score_texts(self, texts: Sequence[Any] | pd.Series | pa.Array,
                    clean: bool = True) -> np.ndarray:
        """Scores in -1..+1, one per text (missing or empty text scores 0)."""
        owner, sentences, compounds, lengths = self._sentence_table(self.prepare(texts, clean))
        return self._scores(owner, sentences, compounds, lengths, len(texts))

    def label(self, scores: Any) -> np.ndarray:
        return label(scores, self.settings.bands)

    def features(self, texts: Sequence[Any] | pd.Series | pa.Array,
                 clean: bool = True) -> np.ndarray:
        """Per-text lexicon features: score, most negative and most positive sentence compound,
        share of negative and of positive sentences, "!" and "?" counts (capped at 4, / 4)."""
        prepared = self.prepare(texts, clean)
        n = len(prepared)
        owner, sentences, compounds, lengths = self._sentence_table(prepared)
        score = self._scores(owner, sentences, compounds, lengths, n)
        lo = np.zeros(n)
        hi = np.zeros(n)
        np.minimum.at(lo, owner, compounds)
        np.maximum.at(hi, owner, compounds)
        n_sent = np.maximum(np.bincount(owner, minlength=n), 1)
        share_neg = np.bincount(owner, weights=compounds < 0, minlength=n) / n_sent
        share_pos = np.bincount(owner, weights=compounds > 0, minlength=n) / n_sent
        excl = np.minimum(pc.count_substring(prepared, "!").to_numpy(zero_copy_only=False), 4)
        ques = np.minimum(pc.count_substring(prepared, "?").to_numpy(zero_copy_only=False), 4)
        return np.column_stack([score, lo, hi, share_neg, share_pos, excl / 4, ques / 4])

    def explain_many(self, texts: Sequence[Any] | pd.Series | pa.Array, k: int = 5,
                     clean: bool = True) -> list[list[tuple[str, float]]]:
        """For each text, the k words or phrases carrying its sentiment: their valence after
        VADER's rules (negation, boosters, capitals, ``but``), averaged over their occurrences,
        sorted by absolute valence (then by how often they occur)."""
        prepared = self.prepare(texts, clean)
        owner, sentences = self.split_sentences(prepared)
        sent_idx, terms, values = self.engine.token_table(sentences)
        sent_idx, terms, values = self._negation_terms(owner, sentences, sent_idx, terms,
                                                       values)
        out: list[list[tuple[str, float]]] = [[] for _ in range(len(prepared))]
        if values.size == 0 or k <= 0:
            return out
        display = [self._display.get(t, t) for t in terms]
        if len(prepared) <= _FEW_TEXTS:
            return _top_terms(owner[sent_idx].tolist(), display, values.tolist(), out, k)
        table = pd.DataFrame({"text": owner[sent_idx], "term": display, "value": values})
        table = table.groupby(["text", "term"], sort=False, as_index=False)["value"].agg(
            ["mean", "size"]).rename(columns={"mean": "value"})
        table["order"] = -table["value"].abs()
        table["count"] = -table["size"]
        table = table.sort_values(["text", "order", "count", "term"], kind="stable")
        table = table.groupby("text", sort=False).head(k)
        for text_i, term, value in zip(table["text"].tolist(), table["term"].tolist(),
                                       table["value"].tolist(), strict=True):
            out[text_i].append((term, round(value, 4)))
        return out

    def _negation_terms(self, owner: np.ndarray, sentences: pa.Array, sent_idx: np.ndarray,
                        terms: list[str], values: np.ndarray,
                        ) -> tuple[np.ndarray, list[str], np.ndarray]:
        """The token table with the negations of every text that scores ``bare_negation``
        (no sentiment word at all, a negation) as more terms."""
        value = self.settings.bare_negation
        if value == 0 or len(sentences) == 0:
            return sent_idx, terms, values
        silent = np.ones(int(owner.max()) + 1, dtype=bool)
        silent[owner[sent_idx]] = False
        rows = np.flatnonzero(silent[owner])
        if rows.size == 0:
            return sent_idx, terms, values
        found = pc.extract_regex(sentences.take(pa.array(rows)),
                                 pattern=f"(?P<negation>{_NEGATION})")
        valid = found.is_valid().to_numpy(zero_copy_only=False)
        if not valid.any():
            return sent_idx, terms, values
        words = [w.lower().replace("\u2019", "'") for w in
                 pc.struct_field(found.filter(pa.array(valid)), [0]).to_pylist()]
        idx = np.concatenate([sent_idx, rows[valid]])
        order = np.argsort(idx, kind="stable")
        all_terms = terms + words
        all_values = np.concatenate([values, np.full(len(words), value)])
        return idx[order], [all_terms[i] for i in order.tolist()], all_values[order]

    def explain(self, text: Any, k: int = 5, clean: bool = True) -> list[tuple[str, float]]:
        """The k words or phrases carrying one text's sentiment (see ``explain_many``)."""
        return self.explain_many([text], k, clean)[0]

    def score_frame(self, frame: pd.DataFrame, text_column: str = "text", k: int = 3,
                    clean: bool = True) -> pd.DataFrame:
        """``sentiment``, ``sentiment_label`` and ``sentiment_terms`` (top-k terms as
        "word (+1.90); ...") for every row of ``frame``, same index."""
        if text_column not in frame.columns:
            raise ConfigError(f"score_frame: no column {text_column!r} in the frame")
        texts = frame[text_column]
        prepared = self.prepare(texts, clean)
        scores = self.score_texts(prepared, clean=False)
        terms = ["; ".join(f"{w} ({v:+.2f})" for w, v in row)
                 for row in self.explain_many(prepared, k, clean=False)]
        return pd.DataFrame({"sentiment": scores, "sentiment_label": self.label(scores),
                             "sentiment_terms": terms}, index=frame.index)


# Up to this many texts, explain_many ranks the terms in plain Python: the DataFrame
# group-by and sort cost about 15 ms whatever the size, which was most of the time of one
# ticket's explanation (the API's ticket lookup, the explorer's ticket detail).
_FEW_TEXTS = 64


def _top_terms(texts: list[int], terms: list[str], values: list[float],
               out: list[list[tuple[str, float]]], k: int) -> list[list[tuple[str, float]]]:
    """explain_many's ranking without a DataFrame, with the same result: per text, each
    term's mean valence and count, ordered by absolute mean (larger first), then count
    (larger first), then term; the first k."""
    groups: dict[tuple[int, str], list[float]] = {}
    for text, term, value in zip(texts, terms, values, strict=True):
        groups.setdefault((text, term), []).append(value)
    ranked = sorted(((text, -abs(mean), -len(vals), term, mean)
                     for (text, term), vals in groups.items()
                     for mean in (float(np.mean(vals)),)),
                    key=lambda r: r[:4])
    for text, _, _, term, mean in ranked:
        if len(out[text]) < k:
            out[text].append((term, round(mean, 4)))
    return out


@functools.cache
def _default_scorer() -> LexiconSentiment:
    return LexiconSentiment()


def score_texts(texts: Sequence[Any] | pd.Series,
                settings: SentimentSettings | None = None) -> np.ndarray:
    """Zero-shot scores in -1..+1 for many texts (see ``LexiconSentiment``)."""
    scorer = _default_scorer() if settings is None else LexiconSentiment(settings)
    return scorer.score_texts(texts)


def explain(text: Any, k: int = 5,
            settings: SentimentSettings | None = None) -> list[tuple[str, float]]:
    """The k words or phrases carrying a text's sentiment, sorted by absolute valence."""
    scorer = _default_scorer() if settings is None else LexiconSentiment(settings)
    return scorer.explain(text, k)


def score_frame(frame: pd.DataFrame, text_column: str = "text",
                settings: SentimentSettings | None = None, k: int = 3) -> pd.DataFrame:
    """Score, label and top-k explanation terms for each row of a DataFrame."""
    scorer = _default_scorer() if settings is None else LexiconSentiment(settings)
    return scorer.score_frame(frame, text_column, k)
