"""Severity rules: each rule, category defaults, the maximum of both, config validation."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from triage_core.config import defaults
from triage_core.demo import CATEGORIES
from triage_core.errors import ConfigError
from triage_core.models.severity import SeverityRules, default_rules

RULE_CASES = [
    ("outage", 4, "The site is down for everyone since 9am"),
    ("outage", 4, "Your API is completely down, we get 503 errors"),
    ("outage", 4, "Major outage in the EU region"),
    ("data_loss", 4, "After the update I lost all my data"),
    ("data_loss", 4, "All my files are gone from the shared folder"),
    ("security_breach", 4, "Someone hacked my account and changed the password"),
    ("security_breach", 4, "There is an unauthorized charge on my card"),
    ("security_breach", 4, "My card was stolen yesterday"),
    ("security_breach", 4, "I did not make these purchases, this is fraud"),
    ("security_breach", 4, "The card has suffered a security breach."),
    ("security_breach", 4, "I think our database has been breached"),
    ("payment_failure", 3, "You charged me twice for the same order"),
    ("payment_failure", 3, "My payment didn't go through at checkout"),
    ("payment_failure", 3, "card declined again"),
    ("payment_failure", 3, "My credit card was rejected at checkout"),
    ("payment_failure", 3, "Why was my virtual card rejected?"),
    ("legal_threat", 3, "I will talk to my lawyer"),
    ("legal_threat", 3, "My attorney will contact you"),
    ("legal_threat", 3, "Refund me or I file a chargeback"),
    ("legal_threat", 3, "I am reporting you to the BBB"),
    ("legal_threat", 3, "I'm going to sue"),
    ("legal_threat", 3, "See you in court"),
    ("blocked", 3, "I cannot log in since yesterday"),
    ("blocked", 3, "I'm locked out of my account"),
    ("blocked", 3, "My account has been suspended and I can\u2019t work"),
]


def assess_one(text: str, category: str) -> tuple[int, list[str]]:
    """(severity, fired rule names) of one ticket under the default rules."""
    row = default_rules().assess([text], [category]).iloc[0]
    return int(row["severity"]), row["severity_rules"].split(", ") if row["severity_rules"] else []


@pytest.mark.parametrize(("rule", "level", "text"), RULE_CASES)
def test_each_rule_fires(rule: str, level: int, text: str) -> None:
    severity, fired = assess_one(text, "product_question")
    assert rule in fired
    assert severity == level


@pytest.mark.parametrize("text", [
    "I have an issue with my tissue order",  # "sue" only as a whole word
    "Of course I will pay the invoice",  # not "court"
    # words of the rules in other senses, from real tickets: an SLA's or a contract's breach,
    # a street in a signature, a colleague's name
    "ticket breached without notification",
    "Your SLA was breached again, please check the queue",
    "Is this a breach of contract?",
    "Registered office: 5 St Court, Chart Way",
    "Hi, this is Sue from accounting",
    "My time card was rejected by the approvers",
    "This e-mail is protected by attorney-client privilege; any unauthorized use is prohibited",
    "How do I download my data?",
    "The app is slow when I log in",
    "Please add a dark mode",
    "",
])
def test_ordinary_text_fires_no_rule(text: str) -> None:
    severity, fired = assess_one(text, "feature_request")
    assert fired == []
    assert severity == 1


def test_category_default_when_no_rule_fires() -> None:
    texts = ["hello"] * 4
    out = default_rules().assess(texts, ["security_fraud", "billing", "coupon_promo", "no_such"])
    assert out["severity"].tolist() == [3, 2, 1, 1]
    assert out["severity_rules"].tolist() == ["", "", "", ""]
    assert out["severity_reason"].tolist() == [
        "category default for security_fraud (3)", "category default for billing (2)",
        "category default for coupon_promo (1)", "default (1)"]


def test_severity_is_the_max_of_category_and_rules() -> None:
    texts = ["Someone hacked my account and I was charged twice",  # 4 and 3
             "Please add a dark mode or I will call my lawyer",  # rule 3 > category 1
             "I was charged twice",  # rule 3 > category 2
             "I cannot log in",  # rule 3 == category 3
             "hi"]
    cats = ["billing", "feature_request", "billing", "security_fraud", None]
    out = default_rules().assess(pd.Series(texts, index=[10, 11, 12, 13, 14]), cats)
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert out["severity"].tolist() == [4, 3, 3, 3, 1]
    assert out.loc[10, "severity_rules"] == "security_breach, payment_failure"
    assert out.loc[10, "severity_reason"] == "security breach (4), payment failure (3)"
    assert out.loc[11, "severity_rules"] == "legal_threat"
    assert out.loc[14, "severity_reason"] == "default (1)"


def test_without_categories_uses_default_severity() -> None:
    out = default_rules().assess(["hello", "the site is down for everyone"])
    assert out["severity"].tolist() == [1, 4]


def test_vectorized_over_many_rows() -> None:
    texts = pd.Series([t for _, _, t in RULE_CASES] * 500)
    out = default_rules().assess(texts, ["product_question"] * len(texts))
    assert len(out) == len(texts)
    assert out["severity"].tolist() == [lvl for _, lvl, _ in RULE_CASES] * 500


def test_default_config_covers_the_ten_categories() -> None:
    rules = default_rules()
    assert sorted(dict(rules.category_defaults)) == sorted(CATEGORIES)
    assert {r.name for r in rules.rules} == {"outage", "data_loss", "security_breach",
                                             "payment_failure", "legal_threat", "blocked"}
    assert all(1 <= r.severity <= 4 for r in rules.rules)
    assert SeverityRules.from_mapping(defaults("severity")) == rules
    assert SeverityRules.from_config({}) == rules
    with pytest.raises(ConfigError, match="severity: rules is missing"):
        SeverityRules.from_mapping({"default_severity": 1, "category_defaults": {}})


def test_custom_rules_from_config() -> None:
    rules = SeverityRules.from_config({
        "default_severity": 2,
        "category_defaults": {"billing": 1},
        "rules": [{"name": "vip_words", "severity": 4, "patterns": [r"\bceo\b", "board member"],
                   "description": "Escalations from executives"}],
    })
    out = rules.assess(["our CEO is waiting", "a Board  Member wrote", "billing question"],
                       [None, "billing", "billing"])
    assert out["severity"].tolist() == [4, 4, 1]
    assert out["severity_rules"].tolist() == ["vip_words", "vip_words", ""]


def _config_with(path: str, value: object) -> dict[str, object]:
    config = copy.deepcopy(defaults("severity"))
    target: object = config
    keys = path.split("/")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]  # type: ignore[index]
    last = keys[-1]
    if isinstance(target, list):
        target[int(last)] = value
    elif value is None:
        target.pop(last)  # type: ignore[union-attr]
    else:
        target[last] = value  # type: ignore[index]
    return config


@pytest.mark.parametrize(("path", "value", "key"), [
    ("default_severity", 5, "severity: default_severity"),
    ("category_defaults/billing", "high", r"severity: category_defaults\.billing"),
    ("category_defaults/refund", True, r"severity: category_defaults\.refund"),
    ("category_defaults", [1, 2], "severity: category_defaults"),
    ("colour", "red", "severity: unknown key 'colour'"),
    ("rules", {"name": "x"}, "severity: rules"),
    ("rules/0/severity", 0, r"severity: rules\[0\] \(outage\)\.severity"),
    ("rules/0/severity", None, r"severity: rules\[0\] \(outage\)\.severity is missing"),
    ("rules/1/name", "outage", r"severity: rules\[1\]\.name"),
    ("rules/1/name", "Data Loss", r"severity: rules\[1\]\.name"),
    ("rules/2/patterns", [], r"severity: rules\[2\] \(security_breach\)\.patterns"),
    ("rules/3/patterns", ["(?<=my )card"], r"rules\[3\] \(payment_failure\)\.patterns\[0\]"),
    ("rules/3/patterns", ["(unclosed"], r"rules\[3\] \(payment_failure\)\.patterns\[0\]"),
    ("rules/4/weight", 2, r"severity: unknown key 'rules\[4\]\.weight'"),
])
def test_invalid_config_names_the_key(path: str, value: object, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        SeverityRules.from_config(_config_with(path, value))


def test_rules_must_be_a_table() -> None:
    with pytest.raises(ConfigError, match=r"severity: rules\[0\]"):
        SeverityRules.from_config({"rules": ["outage"]})
    with pytest.raises(ConfigError, match="severity"):
        SeverityRules.from_config(["not", "a", "table"])  # type: ignore[arg-type]


def test_a_few_texts_match_like_a_column() -> None:
    """A few texts are matched by Python's re, a column by pyarrow's RE2: the same rules fire."""
    from pathlib import Path

    from triage_core.models import severity
    from triage_core.text import ticket_text_series

    sample = Path(__file__).resolve().parent.parent / "sample_data" / "tickets.parquet"
    t = pd.read_parquet(sample, columns=["subject", "body"]).head(3000)
    texts = ticket_text_series(t["subject"], t["body"]).tolist()
    texts += [text for _, _, text in RULE_CASES] + [
        "", "tab\tand\nbreaks  OUTAGE\r\n!", "caf\u00e9\u00a0down for everyone",
        "I can\u2019t log in", "Stra\u00dfe \u00fcber outage\u3000now"]
    rules = default_rules()
    assert severity._python_rules(rules.rules) is not None
    whole = rules.matches(texts)  # more than a few: RE2
    few = list(range(len(texts)))
    assert whole.any()
    for start in range(0, len(few), 50):
        part = [texts[i] for i in few[start:start + 50]]
        assert severity._few_texts(part) is not None
        assert (rules.matches(part) == whole[few[start:start + 50]]).all()


@pytest.mark.parametrize("pattern", [r"[[:alpha:]]+ outage", r"\pL+ down", r"(?s)a.b",
                                     r"\x{41}", "caf\u00e9 down", r"\Qa.b\E"])
def test_patterns_re_may_read_differently_stay_with_re2(pattern: str) -> None:
    from triage_core.models import severity

    rule = severity.SeverityRule("odd", 3, (pattern,), "")
    assert severity._python_rules((rule,)) is None


def test_texts_re_may_read_differently_stay_with_re2() -> None:
    from triage_core.models import severity

    assert severity._few_texts(["ok", "vertical\x0btab"]) is None
    assert severity._few_texts(["\u212a"]) is None
    assert severity._few_texts(["x"] * 65) is None
    assert severity._few_texts(["caf\u00e9", None]) == ["caf\u00e9", ""]


def test_blank_runs_become_one_space_exactly_like_re2_whitespace() -> None:
    """The vectorized path's faster pattern gives what RE2's \\s+ -> " " gives."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from triage_core.models import severity

    texts = pa.array(["", " ", "a b", "a  b", " a\tb\n\nc\r\n d\f", "x\x0by", "\u00a0\u3000 z ",
                      "   ", "tab\t", None, "one two  three   four\n"], pa.large_string())
    want = pc.replace_substring_regex(texts, pattern=r"\s+", replacement=" ")
    got = pc.replace_substring_regex(texts, pattern=severity._RE2_BLANK_RUNS, replacement=" ")
    assert got.to_pylist() == want.to_pylist()
    assert got.to_pylist()[4] == " a b c d "


def test_a_few_texts_match_like_a_column_with_a_pattern_that_needs_case_folding() -> None:
    """The packaged rules match lowered texts behind one gate; a rule whose pattern cannot be
    lowered (one written with a capital) keeps every rule matching case-insensitively:
    the same rules fire as in RE2 either way."""
    from triage_core.models import severity

    assert severity._python_rules(default_rules().rules).gate is not None
    odd = SeverityRules.from_config({"rules": [
        {"name": "outage", "severity": 4, "patterns": [r"\bOutage\b", r"\bsite down\b"]},
        {"name": "refund", "severity": 2, "patterns": [r"\brefund(?:ed)?\b"]}]})
    compiled = severity._python_rules(odd.rules)
    assert compiled is not None and compiled.gate is None
    texts = ["Total OUTAGE here", "outage", "the SITE DOWN again", "REFUNDED?", "nothing",
             "caf\u00e9 Outage", "", "Refund and outage"]
    whole = odd.matches(texts * 10)  # more than a few: RE2
    assert whole[:8].tolist() == [[True, False], [True, False], [True, False], [False, True],
                                  [False, False], [True, False], [False, False], [True, True]]
    assert (odd.matches(texts) == whole[:8]).all()
    lowered = SeverityRules.from_config({"rules": [
        {"name": "outage", "severity": 4, "patterns": [r"\boutage\b", r"\bsite down\b"]},
        {"name": "refund", "severity": 2, "patterns": [r"\brefund(?:ed)?\b"]}]})
    assert severity._python_rules(lowered.rules).gate is not None
    assert (lowered.matches(texts) == whole[:8]).all()
