"""Sentiment: exact fast VADER, zero-shot support scorer, bands, explanations, trained mode."""

from __future__ import annotations

import itertools
import math
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.base import clone

from triage_core.config import section
from triage_core.errors import ConfigError, ModelError
from triage_core.models import registry
from triage_core.models.sentiment import (
    TRUSTED_TYPES,
    LexiconSentiment,
    SentimentBands,
    SentimentModel,
    SentimentSettings,
    TrainedSentiment,
    VaderEngine,
    default_settings,
    explain,
    explain_with,
    label,
    labels_from_csat,
    reference_compounds,
    score_and_label,
    score_frame,
    score_texts,
    vader_lexicon,
)

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"

# Sentences that exercise every VADER rule: negation (1-3 words back, "n't", "never so",
# "without doubt"), "no", boosters and dampeners (with capitals), "kind of", "least", special
# idioms, "but" (including its repeated-value quirk), emoticons, emoji, ! and ? emphasis.
TRICKY = [
    "VADER is smart, handsome, and funny.", "VADER is VERY SMART, handsome, and FUNNY!!!",
    "VADER is not smart, handsome, nor funny.", "At least it isn't a horrible book.",
    "The book was only kind of good.", "Today only kinda sux! But I'll get by, lol",
    "Make sure you :) or :D today!", "Catch utf-8 emoji such as 💘 and 💋 and 😁",
    "Not bad at all", "Sentiment analysis has never been this good!",
    "Most automated sentiment analysis tools are shit.",
    "With VADER, sentiment analysis is the shit!",
    "On the other hand, VADER is quite bad ass", "Without a doubt, excellent idea.",
    "Roger Dodger is one of the least compelling variations on this theme.",
    "Roger Dodger is at least compelling as a variation on the theme.",
    "yeah right, like that will work", "it was the kiss of death", "a cake to die for",
    "good good but good good", "great but great and great", "no no good", "no, not bad",
    "NO way this is good", "It is not so good, not really good, never so good",
    "I don't know?? Really??? Why????", "This is sort of ok but just enough", "",
    "   ", "!!!", "GOOD GOOD GOOD", "the bus stop was fine", "I am beating heart happy",
    "hate 😍😍😍", "Great😁service", "nope nothing none good", "least bad", "very least good",
    "x least good", "no or bad", "no nor good", "never so bad", "without any doubt good",
]


# --- the exact, vectorized VADER ------------------------------------------------------------

@pytest.mark.parametrize("lexicon", ["vader", "support"])
def test_engine_equals_vader_on_tricky_sentences(lexicon: str) -> None:
    lex = vader_lexicon() if lexicon == "vader" else LexiconSentiment().engine.lexicon
    got = VaderEngine(lex).compounds(TRICKY)
    want = reference_compounds(TRICKY, lex)
    assert np.array_equal(got, want), [
        (s, g, w) for s, g, w in zip(TRICKY, got, want, strict=True) if g != w]


def test_engine_equals_vader_on_random_word_salad() -> None:
    rng = np.random.default_rng(7)
    words = ["no", "not", "never", "so", "this", "but", "BUT", "kind", "of", "least", "at",
             "very", "the", "shit", "bad", "ass", "GOOD", "good", "VERY", "isn't", "or", "nor",
             "!", "??", ":)", "😁", "hate", "kinda", "without", "doubt", "sort", "just",
             "enough", "yeah", "right", "to", "die", "for", "great", "Great"]
    texts = [" ".join(rng.choice(words, size=rng.integers(0, 14))) for _ in range(3000)]
    lex = vader_lexicon()
    assert np.array_equal(VaderEngine(lex).compounds(texts), reference_compounds(texts, lex))


def _dataset_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted(DATASETS.rglob("*.csv")):
        frame = pd.read_csv(path)
        if "text" in frame.columns:
            texts.extend(frame["text"].dropna().astype(str).tolist())
    return texts


DEMO_TICKETS = Path(__file__).resolve().parents[1] / "sample_data" / "tickets.parquet"


@pytest.mark.slow
@pytest.mark.skipif(not DEMO_TICKETS.is_file(),
                    reason=f"demo tickets not generated yet ({DEMO_TICKETS} is absent)")
def test_engine_equals_vader_on_demo_tickets() -> None:
    tickets = pd.read_parquet(DEMO_TICKETS, columns=["subject", "body"])  # all of them
    texts = (tickets["subject"].fillna("") + "\n" + tickets["body"].fillna("")).tolist()
    lex = LexiconSentiment().engine.lexicon
    diff = np.abs(VaderEngine(lex).compounds(texts) - reference_compounds(texts, lex))
    assert diff.max() <= 1e-9, texts[int(diff.argmax())]


@pytest.mark.slow
@pytest.mark.skipif(not DATASETS.is_dir(),
                    reason=f"real evaluation texts not available ({DATASETS} is absent)")
def test_engine_equals_vader_on_every_dataset_text() -> None:
    texts = _dataset_texts()
    assert len(texts) > 1000
    for lex in (vader_lexicon(), LexiconSentiment().engine.lexicon):
        got = VaderEngine(lex).compounds(texts)
        want = reference_compounds(texts, lex)
        diff = np.abs(got - want)
        assert diff.max() <= 1e-9, texts[int(diff.argmax())]


def test_no_problem_and_no_complaints_are_not_negative() -> None:
    texts = ["no problem", "No problem, thanks", "no complaints", "No worries at all",
             "I have no complaints about the service"]
    scores = score_texts(texts)
    assert (scores >= 0).all(), scores
    assert "negative" not in set(label(scores))
    # plain VADER gets "No problem, thanks" wrong: "no" negates "thanks" two words later
    assert reference_compounds(["No problem, thanks"])[0] < 0
    assert scores[1] > 0


def test_long_emails_do_not_saturate() -> None:
    sentence = "The new dashboard is great and the team was very helpful."
    long_mail = " ".join([sentence] * 30)
    assert reference_compounds([long_mail])[0] > 0.99  # plain VADER saturates
    single, many = score_texts([sentence, long_mail])
    assert many == pytest.approx(single)  # a mean of equal sentences is that sentence
    assert many < 0.95
    angry = " ".join(["This is awful and the worst experience."] * 30)
    assert reference_compounds([angry])[0] < -0.99
    assert score_texts([angry])[0] > -0.95


def test_support_language_is_negative() -> None:
    texts = ["I've been waiting for 3 weeks and still not fixed",
             "I was charged twice and nobody answers",
             "My parcel never arrived, on hold for an hour"]
    scores = score_texts(texts)
    assert (label(scores) == "negative").all(), scores
    # plain VADER sees no sentiment in the first one
    assert reference_compounds(texts[:1])[0] > -0.05


def test_quoted_replies_signatures_and_greetings_are_ignored() -> None:
    quoted = ("Thanks for the quick fix!\n\nOn Mon, 1 Jan 2024, Bob <b@x.com> wrote:\n"
              "> This is terrible, worst service ever, I hate it")
    signed = "My order is late.\n-- \nJane Doe | Best company in the world | Love & joy"
    greeted = "Hi team,\nthe export is broken.\n\nBest regards,\nHappy Customer Ltd"
    scores = score_texts([quoted, signed, greeted])
    bare = score_texts(["Thanks for the quick fix!", "My order is late.",
                        "the export is broken."])
    assert scores == pytest.approx(bare)
    assert scores[0] > 0 > scores[1]


def _settings(**overrides: object) -> SentimentSettings:
    """The packaged numbers, no domain lexicon, phrases, patterns or ignored words."""
    config = section("sentiment")
    config.update(lexicon={}, phrases={}, patterns={}, ignore_words=[])
    config.update(overrides)
    return SentimentSettings.from_mapping(config)


@pytest.mark.parametrize("weighting", ["equal", "length"])
def test_score_is_weighted_mean_with_negative_emphasis(weighting: str) -> None:
    scorer = LexiconSentiment(_settings(lexicon={"late": -1.2}, negative_weight=2.0,
                                        sentence_weighting=weighting))
    # "great" = 3.1 -> compound 3.1 / sqrt(3.1^2 + 15) = 0.6249; "late" -> -0.2960
    great = round(3.1 / math.sqrt(3.1**2 + 15), 4)
    late = round(-1.2 / math.sqrt(1.2**2 + 15), 4)
    assert (great, late) == (0.6249, -0.296)
    text = "The agent who answered my call on Monday was great. It is late."  # 10 and 3 tokens
    size = (10, 3) if weighting == "length" else (1, 1)
    expected = (size[0] * great + 2.0 * size[1] * late) / (size[0] + 2.0 * size[1])
    assert scorer.score_texts([text])[0] == pytest.approx(expected)
    # sentences without sentiment words do not dilute the score
    padded = scorer.score_texts(["The agent was great. I ordered it on Monday at noon."])[0]
    assert padded == pytest.approx(great)


def test_a_short_complaint_is_not_outweighed_by_a_long_polite_sentence() -> None:
    text = ("So disappointed. The least you could do is give us access to the lounge for an "
            "hour before our flight to our wedding!")
    assert default_settings().sentence_weighting == "equal"
    assert label(score_texts([text]))[0] == "negative"
    by_length = LexiconSentiment(SentimentSettings.from_config({"sentence_weighting": "length"}))
    assert by_length.score_texts([text])[0] > score_texts([text])[0]


def test_a_negated_complaint_word_is_not_praise() -> None:
    texts = ["DONT LOSE MY LUGGAGE!!!", "That wouldn't explain the delay."]
    assert (reference_compounds(texts) > 0).all()  # plain VADER: -0.74 x a negative word
    scores = score_texts(texts)
    assert "positive" not in set(label(scores)), scores
    # negated positive words are still negative, as in VADER
    assert label(score_texts(["The agent was not helpful."]))[0] == "negative"
    vader_negation = LexiconSentiment(SentimentSettings.from_config({"negated_negative": -0.74}))
    assert (vader_negation.score_texts(texts) > 0).all()


def test_positive_words_after_a_demand_or_condition_are_no_praise() -> None:
    demands = ["You should hire better staff.", "It would be great if someone answered.",
               "That\u2019d be nice.", "I should've known better.", "If only it was easy."]
    assert (reference_compounds(demands) > 0).all()  # plain VADER reads them as praise
    assert score_texts(demands).tolist() == [0.0] * len(demands)
    assert explain(demands[0]) == []
    # only at or after the word, and only in its sentence; negative words keep their weight
    assert score_texts(["Great agent. You should hire more."])[0] == pytest.approx(
        score_texts(["Great agent."])[0])
    assert score_texts(["Great, you should hire more."])[0] > 0
    assert label(score_texts(["You should fire that rude agent."]))[0] == "negative"
    # in a batch, a word of one sentence never reaches the next one
    assert score_texts(["I could not log in", "Great job"])[1] == pytest.approx(
        score_texts(["Great job"])[0])
    half = LexiconSentiment(SentimentSettings.from_config({"hypothetical_weight": 0.5}))
    assert 0 < half.score_texts([demands[0]])[0] < reference_compounds([demands[0]])[0]
    off = LexiconSentiment(SentimentSettings.from_config({"hypothetical_weight": None}))
    assert off.score_texts(demands).tolist() == pytest.approx(
        LexiconSentiment(SentimentSettings.from_config(
            {"hypothetical_words": []})).score_texts(demands).tolist())


def test_a_negation_without_sentiment_words_is_a_mild_complaint() -> None:
    texts = ["They never told us anything.", "Nothing on the website about it",
             "I ordered it on Monday."]
    settings = default_settings()
    assert settings.bare_negation < 0
    scores = score_texts(texts)
    assert scores.tolist() == pytest.approx([settings.bare_negation] * 2 + [0.0])
    assert explain(texts[0]) == [("never", settings.bare_negation)]
    off = LexiconSentiment(SentimentSettings.from_config({"bare_negation": 0}))
    assert off.score_texts(texts).tolist() == [0.0, 0.0, 0.0]
    # a text with sentiment words is scored by them alone: the negation does not water down
    # the complaint
    assert score_texts(["It is not great."])[0] == pytest.approx(
        reference_compounds(["It is not great."])[0])
    alone = score_texts(["This is unacceptable."])[0]
    assert alone < settings.bare_negation
    assert score_texts(["This is unacceptable. They never told us."])[0] == pytest.approx(alone)
    assert [t for t, _ in explain("This is unacceptable. They never told us.")] == [
        "unacceptable"]


def test_informal_text_is_normalized_for_the_lexicon() -> None:
    scorer = LexiconSentiment()
    prepared = scorer.prepare(["so sloooow today #nothappy", "Tried...nothing works",
                               "#JetBlue #avgeek #Philly", "sooo baaad", "order #12345"],
                              clean=False).to_pylist()
    assert prepared == ["so slow today not happy", "Tried... nothing works",
                        "#JetBlue #avgeek #Philly", "so bad", "order #12345"]
    assert label(score_texts(["#epicfail #worstcustomerservice"]))[0] == "negative"
    assert label(score_texts(["#bestairlineever"]))[0] == "positive"
    plain = LexiconSentiment(SentimentSettings.from_config({"normalize_informal": False}))
    assert plain.prepare(["#nothappy"], clean=False).to_pylist() == ["#nothappy"]
    # a text longer than MAX_CHARS is left as it is, by either path (a hostile megabyte of
    # hashtags or ellipses must not cost more than the scoring itself)
    from triage_core.models.sentiment.informal import MAX_CHARS

    long = "w..." * (MAX_CHARS // 4) + " sloooow #nothappy"
    for texts in ([long, "sloooow"], [long, "sloooow"] * 40):
        got = scorer.prepare(texts, clean=False).to_pylist()
        assert got[:2] == [long, "slow"]


def test_settings_stored_before_the_newer_rules_keep_the_old_rules() -> None:
    """A section saved with a model before these keys existed scores as it did then."""
    old = default_settings().to_config()
    for key in ("negated_negative", "bare_negation", "sentence_weighting",
                "normalize_informal", "hypothetical_weight", "hypothetical_words"):
        del old[key]
    settings = SentimentSettings.from_mapping(old)
    assert (settings.negated_negative, settings.bare_negation, settings.sentence_weighting,
            settings.normalize_informal, settings.hypothetical_weight) == (
        None, 0.0, "length", False, None)
    scorer = LexiconSentiment(settings)
    assert scorer.score_texts(["DONT LOSE MY LUGGAGE!!!"])[0] > 0
    demand = "You should hire better staff."
    assert scorer.score_texts([demand])[0] == pytest.approx(reference_compounds([demand])[0])
    assert SentimentSettings.from_mapping(default_settings().to_config()) == default_settings()


def test_positive_words_in_questions_count_half() -> None:
    scorer = LexiconSentiment(_settings(question_weight=0.5))
    question = "Can you help me with this great feature?"
    statement = "Can you help me with this great feature."
    full = reference_compounds([question])[0]
    assert full > 0
    assert scorer.score_texts([question])[0] == pytest.approx(0.5 * full)
    assert scorer.score_texts([statement])[0] == pytest.approx(reference_compounds([statement])[0])
    negative_question = "Why is this so terrible?"
    assert scorer.score_texts([negative_question])[0] == pytest.approx(
        reference_compounds([negative_question])[0])


def test_phrases_and_patterns_become_lexicon_tokens() -> None:
    scorer = LexiconSentiment(_settings(
        phrases={"on hold": -1.5, "doesn't work": -2.0},
        patterns={"long_wait": {"regex": r"\b[0-9]+ hours\b", "valence": -1.0}},
    ))
    prepared = scorer.prepare(["I was ON HOLD for 3 hours. It doesnt work"])
    sentences = scorer.split_sentences(prepared)[1].to_pylist()
    assert [" ".join(s.split()) for s in sentences] == [
        "I was ON_HOLD for pattern_long_wait .", "It doesn_t_work"]
    on_hold = -1.5 - 0.733  # capitals add emphasis when the rest is not all capitals
    terms = scorer.explain("I was ON HOLD for 3 hours.")
    assert [t for t, _ in terms] == ["on hold", "long wait"]
    assert [v for _, v in terms] == pytest.approx([on_hold, -1.0])
    total = on_hold - 1.0
    compound = round(total / math.sqrt(total * total + 15), 4)
    assert scorer.score_texts(["I was ON HOLD for 3 hours."])[0] == pytest.approx(compound)


def test_a_few_texts_are_prepared_as_many_are() -> None:
    """Up to SMALL_BATCH texts go through Python's re, more through RE2's pre-check: the
    prepared texts are the same either way (packaged phrases and patterns, tricky texts)."""
    from triage_core.text import SMALL_BATCH

    scorer = LexiconSentiment()
    texts = [*TRICKY, "I was on hold for 3 hours and it still doesn't work!",
             "Still waiting... charged twice, can't log in, 5 days late", "Kelvin K ſ 3 HOURS",
             "no problem, thanks", "WHERE IS MY parcel?? never arrived", None, "",
             "sooo sloooow #nothappy #badservice #12", "tried...nothing…works", "#a #abcdefgh"]
    few = [scorer.prepare(texts[i:i + 8]).to_pylist() for i in range(0, len(texts), 8)]
    many = scorer.prepare(texts * (SMALL_BATCH // len(texts) + 1)).to_pylist()
    assert len(texts) * (SMALL_BATCH // len(texts) + 1) > SMALL_BATCH
    assert list(itertools.chain.from_iterable(few)) == many[:len(texts)]
    assert scorer._lowered is not None  # the packaged patterns match lowered ASCII texts
    # a pattern written with a capital: every pattern matches the texts as they are
    capital = LexiconSentiment(SentimentSettings.from_mapping(
        {**section("sentiment"), "patterns": {**section("sentiment")["patterns"],
                                              "shouting": {"regex": r"\bWHY\b|\bNOT working",
                                                           "valence": -1.0}}}))
    assert capital._lowered is None
    few = [capital.prepare(texts[i:i + 8]).to_pylist() for i in range(0, len(texts), 8)]
    many = capital.prepare(texts * (SMALL_BATCH // len(texts) + 1)).to_pylist()
    assert list(itertools.chain.from_iterable(few)) == many[:len(texts)]
    assert any("pattern_shouting" in t for t in many)


@pytest.mark.parametrize("extra", [{}, {"lookahead": {"regex": r"\bsupport(?= team)",
                                                    "valence": -1.0}}])
def test_patterns_replaced_by_re2_read_as_pythons_re(extra: dict[str, object]) -> None:
    """In large batches RE2 replaces the packaged patterns in rows of plain ASCII; each text
    comes out as Python's re, one text at a time, makes it (with a pattern only Python reads,
    the rows it may match go to Python's re)."""
    from triage_core.models.sentiment.lexicon import _re2_same
    from triage_core.text import SMALL_BATCH, clean_body

    settings = default_settings()
    scorer = LexiconSentiment(settings if not extra else SentimentSettings.from_mapping(
        {**section("sentiment"), "patterns": {**section("sentiment")["patterns"], **extra}}))
    phrases = ("I can't log in|still not working|never used it again|barely works|3 hours"
               "|waited two times|what is going on|would be nice if|cannot get refund|on hold"
               "|support team|Ünïcode é ß|NOT WORKING|Can't Log In|An hour|5 days\n|wasn't sent"
               "|What's the holdup?")
    words = [w for p in phrases.split("|") for w in p.split(" ")]
    rng = np.random.default_rng(3)
    texts = [" ".join(rng.choice(words, size=rng.integers(1, 30))) for _ in range(3 * SMALL_BATCH)]
    got = scorer.prepare(texts).to_pylist()
    assert got == [scorer._substitute_one(clean_body(t)) for t in texts]
    assert any("pattern_" in t for t in got)
    assert [sub is not None for sub in scorer._re2_subs] == \
        [True] * len(settings.patterns) + [False] * len(extra)
    assert not _re2_same(r"\bfoo$") and not _re2_same("[[:alpha:]]+") and not _re2_same(r"\b")


def test_user_lexicon_changes_the_score() -> None:
    plain = LexiconSentiment(_settings())
    custom = LexiconSentiment(_settings(lexicon={"banana": -3.0}))
    assert plain.score_texts(["the banana arrived"])[0] == 0
    assert custom.label(custom.score_texts(["the banana arrived"]))[0] == "negative"


def test_foreign_function_words_are_not_english_sentiment() -> None:
    german = "Die Lieferung war pünktlich, danke"  # "die" and "war" are not die / war
    assert reference_compounds([german])[0] < -0.5
    assert score_texts([german])[0] > 0
    ignoring = LexiconSentiment(_settings(ignore_words=["Banana"], lexicon={"banana": -3.0}))
    assert ignoring.score_texts(["banana"])[0] < 0  # [lexicon] entries win over ignore_words
    plain = LexiconSentiment(_settings(ignore_words=["terrible"]))
    assert plain.score_texts(["terrible"])[0] == 0


def test_angry_emoji_read_as_complaints() -> None:
    """VADER reads an emoji as its description: 😡 ("pouting face") and 👎 ("thumbs down")
    scored 0.0 and 💔 ("broken heart") as praise, so a ticket of angry emoji only was neutral
    while happy ones scored positive. [emoji] reads them as words of the lexicon."""
    scorer = LexiconSentiment()
    angry, poo, heart, happy, plain = scorer.score_texts(
        ["😡😡", "🤬💩👎", "💔", "👍🎉", "Order late"])
    assert reference_compounds(["😡😡", "👎"]).tolist() == [0.0, 0.0]
    assert reference_compounds(["💔"])[0] > 0
    assert scorer.label([angry, poo, heart, happy]).tolist() == [
        "negative", "negative", "negative", "positive"]
    assert scorer.score_texts(["Order late 😡"])[0] < plain < 0
    assert scorer.explain("Order late 😡", 1) == [("angry", -2.3)]
    # an emoji next to a word, as VADER separates them; the rest of an emoji's sequence kept
    assert scorer.score_texts(["late😡"])[0] == scorer.score_texts(["late 😡"])[0]
    # without [emoji] (settings saved before it): VADER's descriptions, as before
    vader = LexiconSentiment(_settings(emoji={}))
    assert vader.score_texts(["😡😡", "💔"]).tolist() == [0.0, pytest.approx(0.2732)]
    mine = LexiconSentiment(_settings(emoji={"🐢": "awful"}))
    assert mine.score_texts(["🐢"])[0] < 0 == vader.score_texts(["🐢"])[0]
    assert SentimentSettings.from_mapping(default_settings().to_config()) == default_settings()
    for bad, match in [({"x": "angry"}, "a key is one emoji character"),
                       ({"😡😡": "angry"}, "a key is one emoji character"),
                       ({"😡": "Angry!"}, "must be words in lower case"),
                       ({"😡": 3}, "must be words in lower case")]:
        with pytest.raises(ConfigError, match=match):
            _settings(emoji=bad)


def test_sarcasm_markers_turn_praise_into_complaints() -> None:
    """"great job 🙄" scored +0.36, positive: a text with an eye-roll emoji is sarcastic, so
    its positive sentences count as negative ones of the same strength."""
    scorer = LexiconSentiment()
    plain = LexiconSentiment(_settings(sarcasm_markers=[]))
    texts = ["great job 🙄", "Thanks a lot! Still no refund 😒", "Thanks! 🙄", "great job"]
    marked = scorer.score_texts(texts)
    before = plain.score_texts(texts)
    assert plain.label(before[:1]).tolist() == ["positive"]
    assert scorer.label(marked[:3]).tolist() == ["negative"] * 3
    assert marked[0] == pytest.approx(-before[0])  # the same strength, turned
    assert marked[3] == before[3] > 0  # no mark: as before
    # a sentence of the text without the mark is turned too ("Thanks!" before "🙄")
    assert marked[2] < 0 < scorer.score_texts(["Thanks!"])[0]
    # the same in the batch path (RE2) as for a few texts (Python)
    assert scorer.score_texts(texts * 200)[:4].tolist() == pytest.approx(marked.tolist())
    assert SentimentSettings.from_mapping(default_settings().to_config()) == default_settings()
    for bad in (["two words"], [""], [3]):
        with pytest.raises(ConfigError, match="sarcasm_markers"):
            _settings(sarcasm_markers=bad)


def test_missing_and_empty_texts_score_zero() -> None:
    scores = score_texts([None, "", float("nan"), "   ", "terrible"])
    assert isinstance(scores, np.ndarray)
    assert scores.tolist()[:4] == [0.0, 0.0, 0.0, 0.0]
    assert scores[4] < 0
    assert score_texts([]).shape == (0,)


# --- explanations -----------------------------------------------------------------------------

def test_explaining_a_few_texts_ranks_terms_like_explaining_many() -> None:
    """Up to 64 texts are ranked in plain Python (one ticket's explanation took 20 ms in the
    DataFrame ranking): the same terms, values and order as a large batch, where ties in
    valence go to the more frequent term and then to the term itself."""
    from triage_core.models.sentiment import lexicon

    frame = pd.read_parquet(DEMO_TICKETS, columns=["subject", "body"]).head(400)
    texts = [*(frame["subject"].fillna("") + "\n" + frame["body"].fillna("")),
             "", "GREAT!!! but terrible :( not good, not bad", "bad bad good good fine",
             "no no no", "love it, hate it, love it"]
    scorer = LexiconSentiment()
    assert len(texts) > lexicon._FEW_TEXTS
    many = scorer.explain_many(texts, 6)
    assert sum(map(len, many)) > len(texts)  # most texts have terms to compare
    assert [scorer.explain(t, 6) for t in texts] == many
    assert scorer.explain_many(texts[-3:], 2) == [row[:2] for row in many[-3:]]


def test_explain_lists_sentiment_words_by_absolute_valence() -> None:
    terms = explain("I was charged twice!!! This is unacceptable, not good at all.", k=5)
    words = [w for w, _ in terms]
    assert words[:2] == ["charged twice", "unacceptable"]
    assert dict(terms)["good"] == pytest.approx(1.9 * -0.74)  # negated by "not"
    assert all(abs(a[1]) >= abs(b[1]) for a, b in itertools.pairwise(terms))
    assert explain("I love it", k=1) == [("love", 3.2)]
    assert explain("", k=3) == []
    assert explain("the parcel arrived on Monday") == []


def test_score_frame_returns_score_label_and_terms() -> None:
    frame = pd.DataFrame({"body": ["I love this, thank you!", "Worst support ever.",
                                   "How do I reset my password?", None]},
                         index=["a", "b", "c", "d"])
    out = score_frame(frame, "body")
    assert list(out.index) == ["a", "b", "c", "d"]
    assert list(out.columns) == ["sentiment", "sentiment_label", "sentiment_terms"]
    assert out["sentiment_label"].tolist() == ["positive", "negative", "neutral", "neutral"]
    assert out.loc["a", "sentiment_terms"].startswith("love (+3.20)")
    assert "worst (-3.10)" in out.loc["b", "sentiment_terms"]
    assert out.loc["d", "sentiment_terms"] == ""
    assert out["sentiment"].tolist() == pytest.approx(score_texts(frame["body"]).tolist())
    with pytest.raises(ConfigError, match="text"):
        score_frame(frame, "text")


# --- bands and settings -----------------------------------------------------------------------

def test_label_bands_are_inclusive() -> None:
    bands = SentimentBands(neg_threshold=-0.2, pos_threshold=0.4)
    scores = [-1.0, -0.2, -0.19, 0.0, 0.39, 0.4, 1.0, float("nan")]
    assert label(scores, bands).tolist() == ["negative", "negative", "neutral", "neutral",
                                             "neutral", "positive", "positive", "neutral"]


def test_default_settings_come_from_the_packaged_toml() -> None:
    settings = default_settings()
    assert settings.bands.neg_threshold < 0 < settings.bands.pos_threshold
    assert dict(settings.phrases)["no problem"] > 0
    assert dict(settings.lexicon)["waiting"] < 0
    assert SentimentSettings.from_mapping(settings.to_config()) == settings
    assert SentimentSettings.from_config({}) == settings
    partial = {k: v for k, v in settings.to_config().items() if k != "question_weight"}
    with pytest.raises(ConfigError, match="sentiment: question_weight is missing"):
        SentimentSettings.from_mapping(partial)


def test_settings_from_config() -> None:
    settings = SentimentSettings.from_config({"neg_threshold": -0.3, "pos_threshold": 0.2})
    assert settings.bands == SentimentBands(-0.3, 0.2)
    scorer = LexiconSentiment(settings)
    assert scorer.label([-0.3, -0.29, 0.2]).tolist() == ["negative", "neutral", "positive"]


@pytest.mark.parametrize(("config", "key"), [
    ({"neg_threshold": 0.5, "pos_threshold": 0.1}, "sentiment: neg_threshold"),
    ({"pos_threshold": "high"}, "sentiment: pos_threshold"),
    ({"neg_threshold": -2}, "sentiment: neg_threshold"),
    ({"negative_weight": 0}, "sentiment: negative_weight"),
    ({"question_weight": 1.5}, "sentiment: question_weight"),
    ({"negated_negative": 2}, "sentiment: negated_negative"),
    ({"bare_negation": 0.5}, "sentiment: bare_negation"),
    ({"sentence_weighting": "words"}, "sentiment: sentence_weighting"),
    ({"normalize_informal": "yes"}, "sentiment: normalize_informal"),
    ({"colour": "blue"}, "sentiment: unknown key 'colour'"),
    ({"lexicon": {"two words": -1}}, "sentiment: lexicon.'two words'"),
    ({"lexicon": {"bad": 9}}, "sentiment: lexicon.'bad'"),
    ({"lexicon": {"bad": True}}, "sentiment: lexicon.'bad'"),
    ({"phrases": {"single": -1}}, "sentiment: phrases.'single'"),
    ({"phrases": ["on hold"]}, "sentiment: phrases"),
    ({"ignore_words": "die"}, "sentiment: ignore_words"),
    ({"ignore_words": ["two words"]}, "sentiment: ignore_words"),
    ({"patterns": {"wait": {"regex": "(unclosed", "valence": -1}}}, "sentiment: patterns.wait"),
    ({"patterns": {"wait": {"regex": "x"}}}, "sentiment: patterns.wait"),
    ({"patterns": {"Bad Name": {"regex": "x", "valence": -1}}}, "sentiment: patterns"),
])
def test_invalid_settings_name_the_key(config: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        SentimentSettings.from_config(config)


def test_patterns_re2_cannot_run_still_apply() -> None:
    # a look-behind is Python-only: every text then goes through the Python substitution
    scorer = LexiconSentiment(_settings(
        patterns={"refund_wait": {"regex": r"(?<=my )refund", "valence": -2.0}}))
    assert scorer.score_texts(["where is my refund", "a refund"]).tolist()[1] == 0
    assert scorer.score_texts(["where is my refund"])[0] < 0


# --- trained mode -----------------------------------------------------------------------------

NEG = ["My {x} is late and nobody answers", "Terrible service, I want my money back for the {x}",
       "The {x} broke after one day, this is unacceptable", "Still waiting for my {x}, awful",
       "Worst experience ever with the {x}", "I am angry, the {x} never arrived"]
NEU = ["How do I change the address for my {x}?", "Can I pay the {x} by bank transfer?",
       "Where can I find the invoice for the {x}?", "Please update the {x} to the new plan",
       "Is the {x} available in blue?", "What are your opening hours for {x} pickup?"]
POS = ["Thank you, the {x} arrived early and works great", "Love the {x}, excellent quality",
       "Great support, the {x} issue was resolved quickly", "Amazing {x}, very happy with it",
       "The agent was so helpful with my {x}, thanks!", "Perfect {x}, I recommend you"]
ITEMS = ["order", "parcel", "phone", "laptop", "subscription"]


def _training_data() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for lab, templates in (("negative", NEG), ("neutral", NEU), ("positive", POS)):
        for t in templates:
            for x in ITEMS:
                texts.append(t.format(x=x))
                labels.append(lab)
    return texts, labels


@pytest.fixture(scope="module")
def trained() -> SentimentModel:
    texts, labels = _training_data()
    return SentimentModel().fit(texts, labels)


def test_trained_model_follows_the_estimator_contract(trained: SentimentModel) -> None:
    fresh = SentimentModel(C=3.0, char_ngrams=False)
    assert fresh.get_params()["C"] == 3.0
    assert not hasattr(fresh, "classes_")
    copy = clone(trained)
    assert not hasattr(copy, "pipeline_") and copy.get_params() == trained.get_params()
    texts, labels = _training_data()
    assert copy.fit(texts, labels) is copy
    assert trained.classes_.tolist() == ["negative", "neutral", "positive"]
    probe = ["The tablet never arrived and nobody answers, terrible",
             "How do I change my delivery address?", "Thank you, great support!"]
    proba = trained.predict_proba(probe)
    assert proba.shape == (3, 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert trained.predict(probe).tolist() == ["negative", "neutral", "positive"]
    scores = trained.score_texts(probe)
    assert scores == pytest.approx(proba[:, 2] - proba[:, 0])
    assert scores[0] < 0 < scores[2]
    assert ((scores >= -1) & (scores <= 1)).all()


def test_trained_model_accepts_csat_as_weak_labels() -> None:
    texts, labels = _training_data()
    csat = [{"negative": 1, "neutral": 3, "positive": 5}[lab] for lab in labels]
    csat = [2 if i % 2 and c == 1 else 4 if i % 2 and c == 5 else c for i, c in enumerate(csat)]
    model = SentimentModel(char_ngrams=False).fit(texts, csat)
    assert model.classes_.tolist() == ["negative", "neutral", "positive"]
    assert labels_from_csat([1, 2, 3, 4, 5, "4", "Negative"]).tolist() == [
        "negative", "negative", "neutral", "positive", "positive", "positive", "negative"]


@pytest.mark.parametrize("bad", [[0], [6], ["angry"], [2.5], [None]])
def test_bad_labels_are_refused(bad: list[object]) -> None:
    with pytest.raises(ModelError, match="label 0"):
        labels_from_csat(bad)


def test_training_needs_two_classes_and_predicting_needs_training() -> None:
    with pytest.raises(ModelError, match="two different"):
        SentimentModel().fit(["a", "b"], ["negative", "negative"])
    with pytest.raises(ModelError, match="not trained"):
        SentimentModel().predict(["hello"])
    with pytest.raises(ModelError, match="2 texts but 1 labels"):
        SentimentModel().fit(["a", "b"], ["negative"])
    with pytest.raises(ModelError, match="at least 3 texts of every label; 'positive' has 1"):
        SentimentModel().fit(["a", "b", "c", "d"], ["negative"] * 3 + ["positive"])


def test_trained_model_round_trips_through_skops(trained: SentimentModel) -> None:
    blob = registry.dumps(trained)
    assert set(sio.get_untrusted_types(data=blob)) <= set(TRUSTED_TYPES)
    loaded = registry.loads(blob, trusted=TRUSTED_TYPES)
    probe = ["Terrible, still waiting", "Is it available in red?", "Great job, thanks"]
    assert np.array_equal(loaded.predict_proba(probe), trained.predict_proba(probe))
    assert loaded.predict(probe).tolist() == trained.predict(probe).tolist()


def test_skops_refuses_the_model_without_trusted_types(trained: SentimentModel) -> None:
    with pytest.raises(ModelError, match="SentimentModel"):
        registry.loads(registry.dumps(trained), trusted=[])


def test_score_and_label_and_explain_with_either_model(trained: SentimentModel) -> None:
    texts = pd.Series(["Terrible service, still waiting for my parcel", "Thank you, great job!"],
                      index=[7, 3])
    zero_shot = LexiconSentiment()
    scores, labels = score_and_label(zero_shot, texts)
    assert scores.tolist() == pytest.approx(zero_shot.score_texts(texts).tolist())
    assert labels.tolist() == ["negative", "positive"]
    cleaned = ["the app crashes", "Hi team, it works now. Thanks,\nJane"]
    assert score_and_label(zero_shot, cleaned, clean=False)[0][1] != pytest.approx(
        score_and_label(zero_shot, cleaned)[0][1])  # the closing "Thanks" stays without clean
    scores, labels = score_and_label(trained, texts)
    assert scores.tolist() == pytest.approx(trained.score_texts(texts).tolist())
    assert labels.tolist() == trained.predict(texts).tolist() == ["negative", "positive"]
    empty_scores, empty_labels = score_and_label(trained, [])
    assert empty_scores.shape == empty_labels.shape == (0,)
    assert explain_with(zero_shot, texts[7], k=2)[0] == ("terrible", -2.1)
    words = explain_with(trained, "terrible service, thank you", k=6)
    assert 0 < len(words) <= 6
    assert dict(words)["terrible"] < 0 < dict(words)["thank"]
    assert len(explain_with(trained, "terrible service, thank you", k=2)) == 2
    assert TrainedSentiment is SentimentModel
    with pytest.raises(ModelError, match="not a sentiment model"):
        score_and_label(object(), texts)  # type: ignore[arg-type]


def test_scorer_pickles_for_cluster_workers() -> None:
    scorer = LexiconSentiment()
    texts = ["I was charged twice!!", "no problem, thanks", "Die Lieferung war super"]
    before = scorer.score_texts(texts)
    copy = pickle.loads(pickle.dumps(scorer))
    assert np.array_equal(copy.score_texts(texts), before)


def test_engine_memo_is_bounded() -> None:
    engine = VaderEngine({"good": 1.9})
    engine.MAX_MEMO = 3
    assert engine.compounds(["good a b c d", "good e f"]).tolist() == [0.4404, 0.4404]
    assert engine.compounds(["good g"]).tolist() == [0.4404]  # memo was cleared, same result
    assert len(engine._ids) == 2
