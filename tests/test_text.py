"""Cleaning of support text and PII masking (scalar and vectorized paths agree)."""

from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd
import pytest

from triage_core.text import (
    CLEAN_SMALL_BATCH,
    clean_body,
    clean_body_series,
    mask_pii,
    mask_pii_series,
    ticket_text,
    ticket_text_series,
)

CLEAN_CASES = [
    # HTML (a Freshdesk export's description): tags go, line breaks stay line ends, so the
    # greeting and the "Sent from" line still go; an escaped tag the customer typed stays
    ('<div dir="ltr">Hi team,<br>My invoice&nbsp;is wrong.<br><!-- tracking -->'
     '<div>Sent from my iPhone</div></div>', "My invoice is wrong."),
    ("<p>Error &lt;div&gt; shown</p><p>Thanks,<br>Ana</p>", "Error <div> shown"),
    # quoted reply: the "On ... wrote:" line and everything after it
    ("My invoice is wrong.\n\nOn Mon, 1 Jan 2024 at 10:00, Bob <bob@x.com> wrote:\n> old\n> older",
     "My invoice is wrong."),
    ("Still broken.\nOn Tue, Jan 2, 2024 at 9:14 AM Support <help@acme.io>\nwrote:\nWe fixed it",
     "Still broken."),
    ("Danke.\nAm 1. Januar 2024 um 10:00 schrieb Max <max@example.de>:\nalt", "Danke."),
    # lines quoted with ">"
    ("New question here\n> quoted line\n>> deeper\nmore text", "New question here\nmore text"),
    # Outlook original message and header block
    ("Please help\n-----Original Message-----\nFrom: a\nSent: b\nold thread", "Please help"),
    ("New text\n\nFrom: Support <s@x.com>\nSent: Monday\nTo: me\nSubject: Re: x\n\nold",
     "New text"),
    # signatures
    ("The app crashes.\n-- \nJane Doe\nACME Inc.", "The app crashes."),
    ("I was charged twice.\n\nSent from my iPhone", "I was charged twice."),
    ("The app is slow.\nBest regards,\nJane Doe\nSenior Buyer\nACME Corp", "The app is slow."),
    ("Order 123 never arrived.\nThanks,\nJane", "Order 123 never arrived."),
    ("The app keeps crashing. Thanks,\nJane", "The app keeps crashing."),
    ("Kind regards,\nJane", "Kind regards,\nJane"),  # nothing before the closing: kept
    # a company signature of six lines, with blank lines between them
    ("The VPN drops.\n\nThank you in advance,\n\nJulia Ali\n\nManager | Facilities\n"
     "Umbrella plc\nTel: +44 20 4604 1974 | Mobile: +44 7239 608030\n"
     "julia.ali@umbrella.com | www.umbrella.com", "The VPN drops."),
    # a signature without a closing word: name, title, company, then a telephone line
    ("Printer 4 is jammed again.\n\nJulia Ali\nManager | Facilities\nUmbrella plc\n"
     "Tel. +44 20 4604 1974\nwww.umbrella.com", "Printer 4 is jammed again."),
    # a disclaimer after the signature, and a quoted reply after that
    ("I cannot log in since Monday.\n\nJane\n\nDISCLAIMER: The information contained in this"
     " message is intended solely for the addressee.\n\nOn Fri, 5 Mar 2025 at 18:57, Desk"
     " <d@x.com> wrote:\n> Any news?", "I cannot log in since Monday.\n\nJane"),
    ("Bitte Passwort zurücksetzen.\n\nDiese E-Mail enthält vertrauliche Informationen. Wenn"
     " Sie nicht der richtige Adressat sind oder diese E-Mail irrtümlich erhalten haben,"
     " informieren Sie bitte den Absender.", "Bitte Passwort zurücksetzen."),
    ("Printer broken.\n\nPlease consider the environment before printing this e-mail.",
     "Printer broken."),
    # one such phrase alone, a closing with a PS, a number in the customer's last lines: kept
    ("Wrong address.\n\nThe invoice was intended for the named recipient at finance. Please"
     " resend it.", "Wrong address.\n\nThe invoice was intended for the named recipient at"
     " finance. Please resend it."),
    ("The export fails.\nThanks!\n\nPS: the PDF also shows the wrong VAT rate on page two",
     "The export fails.\nThanks!\n\nPS: the PDF also shows the wrong VAT rate on page two"),
    ("Please help.\n\nJane Doe\nHead of IT\nTel: +1 555 0100\nOur server is down since 9 am",
     "Please help.\n\nJane Doe\nHead of IT\nTel: +1 555 0100\nOur server is down since 9 am"),
    # a customer's own words about confidential data, and a request with a number: kept
    ("My confidential report was shared.\n\nPlease call me back on 0207 123 4567.",
     "My confidential report was shared.\n\nPlease call me back on 0207 123 4567."),
    ("Order 4 failed.\n\nThe total was 120.\nPhone support said to write here.",
     "Order 4 failed.\n\nThe total was 120.\nPhone support said to write here."),
    # greetings
    ("Hi team,\nMy card was declined.", "My card was declined."),
    ("Hello,\nwhere is my parcel?", "where is my parcel?"),
    ("Dear support,\nplease cancel my plan", "please cancel my plan"),
    ("Hi John Smith, the export fails", "the export fails"),
    ("Hi, I can't log in", "I can't log in"),
    ("Hey The app crashes.", "Hey The app crashes."),  # not a greeting + name: kept
    ("Hi I need help.", "Hi I need help."),
    # header lines, social handles, links, entities, whitespace
    ("Subject: refund\nI want my money back", "I want my money back"),
    ("@united thanks for nothing http://t.co/x &amp; more", "thanks for nothing & more"),
    ("line one\r\nline two\r\n\r\n\r\n\r\nline three", "line one\nline two\n\nline three"),
    ("It\u2019s   broken\u00a0again", "It's broken again"),
    ("", ""),
    ("   \n ", ""),
]


@pytest.mark.parametrize(("raw", "expected"), CLEAN_CASES)
def test_clean_body(raw: str, expected: str) -> None:
    assert clean_body(raw) == expected


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA, np.nan])
def test_missing_values_are_empty(missing: object) -> None:
    assert clean_body(missing) == ""
    assert mask_pii(missing) == ""
    assert ticket_text(missing, missing) == ""


def test_clean_body_series_matches_scalar_and_keeps_index() -> None:
    raws = [raw for raw, _ in CLEAN_CASES] + [None, float("nan")]
    series = pd.Series(raws, index=[f"t{i}" for i in range(len(raws))], dtype=object)
    out = clean_body_series(series)
    assert list(out.index) == list(series.index)
    assert out.tolist() == [clean_body(r) for r in raws]
    assert clean_body_series(raws).tolist() == out.tolist()  # plain lists work too
    many = raws * (CLEAN_SMALL_BATCH // len(raws) + 1)  # beyond it: pyarrow's RE2
    assert clean_body_series(many).tolist() == [clean_body(r) for r in many]


PII_CASES = [
    ("mail me at jane.doe+x@mail.example.co.uk now", "mail me at [email] now"),
    ("call +1 (555) 123-4567 or 555.123.4567", "call [phone] or [phone]"),
    ("Festnetz 030 1234567 und +49 30 12345678", "Festnetz [phone] und [phone]"),
    ("card 4111 1111 1111 1111 expired", "card [card] expired"),
    ("card 4111-1111-1111-1111", "card [card]"),
    ("amex 378282246310005.", "amex [card]."),
    # 16 digits that fail the Luhn check are not a card
    ("ref 4111 1111 1111 1112", "ref 4111 1111 1111 1112"),
    ("order 1234567890123 shipped", "order 1234567890123 shipped"),
    ("date 2024-01-15, 3 items, $1,234.56", "date 2024-01-15, 3 items, $1,234.56"),
    ("nothing to hide", "nothing to hide"),
    # a UTC offset after a time is no phone number (it was "10:00:00 [phone]" in the Data
    # page's preview of a Zendesk export); numbers with a country code still are
    ("Created 2026-03-01 10:00:00 +0100", "Created 2026-03-01 10:00:00 +0100"),
    ("Sent: Mon, 2 Mar 2026 10:00:00 +1000", "Sent: Mon, 2 Mar 2026 10:00:00 +1000"),
    ("Paris +33 1 23 45 67 89", "Paris [phone]"),
]


@pytest.mark.parametrize(("raw", "expected"), PII_CASES)
def test_mask_pii(raw: str, expected: str) -> None:
    assert mask_pii(raw) == expected


def test_mask_pii_series_matches_scalar() -> None:
    raws = [raw for raw, _ in PII_CASES] + [None, ""]
    series = pd.Series(raws, index=range(10, 10 + len(raws)), dtype=object)
    out = mask_pii_series(series)
    assert list(out.index) == list(series.index)
    assert out.tolist() == [mask_pii(r) for r in raws]


def test_mask_pii_series_is_fast_enough_for_100k_texts() -> None:
    base = [raw for raw, _ in PII_CASES] + ["My order hasn't arrived, please help " * 3]
    texts = pd.Series(base * (100_000 // len(base) + 1))[:100_000]
    start = time.perf_counter()
    out = mask_pii_series(texts)
    elapsed = time.perf_counter() - start
    assert len(out) == 100_000
    assert out.iloc[3] == "card [card] expired"
    assert elapsed < 10, f"mask_pii_series took {elapsed:.1f}s for 100k texts"


def test_ticket_text_joins_subject_and_cleaned_body() -> None:
    body = "Hi team,\nI was charged twice.\n\nThanks,\nJane\n\nOn Mon, Bob wrote:\n> old"
    assert ticket_text("Re: Fwd: Double charge", body) == "Double charge\nI was charged twice."
    assert ticket_text(None, "just a body") == "just a body"
    assert ticket_text("only subject", None) == "only subject"


def test_ticket_text_series_matches_scalar() -> None:
    subjects = ["RE: Login", None, "", "Refund"]
    bodies = ["cannot log in\n-- \nsig", "body only", None, float("nan")]
    out = ticket_text_series(pd.Series(subjects), pd.Series(bodies, index=[5, 6, 7, 8]))
    assert list(out.index) == [5, 6, 7, 8]
    assert out.tolist() == [ticket_text(s, b) for s, b in zip(subjects, bodies, strict=True)]
    assert out.tolist() == ["Login\ncannot log in", "body only", "", "Refund"]


def test_small_batches_match_the_vectorized_path() -> None:
    """A few texts run in Python's re, many in pyarrow's RE2: the same texts either way."""
    from pathlib import Path

    sample = Path(__file__).resolve().parent.parent / "sample_data" / "tickets.parquet"
    t = pd.read_parquet(sample, columns=["subject", "body"]).head(CLEAN_SMALL_BATCH + 200)
    extra = pd.DataFrame({"subject": ["RE: Login", None, "", "Refund"],
                          "body": ["cannot log in\n-- \nsig", "body only", None, float("nan")]})
    t = pd.concat([t, extra], ignore_index=True)
    whole = ticket_text_series(t["subject"], t["body"])
    assert len(t) > CLEAN_SMALL_BATCH
    parts = [ticket_text_series(t["subject"][i:i + 50], t["body"][i:i + 50])
             for i in range(0, len(t), 50)]
    assert pd.concat(parts).tolist() == whole.tolist()


def test_long_runs_are_cleaned_and_masked_in_linear_time() -> None:
    """A line of 20,000 dashes took 8 s in clean_body (the "-----Original Message-----" rule
    tried every dash as a start and backtracked over the rest), and a 40,000-letter word 1.6 s
    in mask_pii (the e-mail pattern, likewise): a pasted attachment in a ticket stalled the
    server. The Python forms start at the first character of a run only; the results are
    those of the RE2 forms the vectorized path runs."""
    import time

    from triage_core.text import clean_body_series, mask_pii_series

    texts = ["-" * 20000, "x" * 40000 + " a.b@example.com", "-----Original Message-----\nold",
             "mail jane.doe@example.com now", "a" * 5000 + "@example.com", "--- x ---\nkeep",
             # blanks after a closing or a telephone label: minutes and 1.8 s, before
             "Please help.\nthanks" + " " * 5000 + "x", "Please help.\n\nTel" + " " * 20000 + "x",
             "x\n\n" + "intended recipient " * 2000]
    start = time.process_time()
    python = [(clean_body(t), mask_pii(t)) for t in texts]
    # a guard against the stall, not a speed figure: about 0.02 s, quadratic was over 9 s
    assert time.process_time() - start < 2.0
    # the vectorized path (RE2, the original patterns) gives the same texts
    many = texts * (CLEAN_SMALL_BATCH // len(texts) + 1)  # above it: pyarrow's RE2
    vector = list(zip(clean_body_series(many), mask_pii_series(many), strict=True))
    assert vector[:len(texts)] == python
    assert python[2][0] == "" and "[email]" in python[3][1] and "[email]" in python[1][1]


def test_rules_skipped_by_the_substring_check_cannot_match_without_it() -> None:
    """The vectorized cleaning runs a rule only on rows holding one of its strings (``needs``):
    with those strings taken out of the texts, the rule finds nothing (Python's re), and the
    vectorized path equals the scalar one on texts with and without them."""
    import re

    from triage_core.text import _RULES, clean_body_array, to_arrow

    texts = [raw for raw, _ in CLEAN_CASES] + [
        "On Mon, 1 Jan 2024, Jane <j@x.com> wrote:\n> old", "-----Original Message-----\nx",
        "hi\n____________\nold", "From: a\nSent: b\nold", "> quoted\nnew", "text\n-- \nsig",
        "To: x\nbody", "---------- Forwarded message ----------\nx", "@bob hi", "www.x.com",
        "HTTP://X.COM", "a  b\tc", "a\n\n\nb", "ON MON BOB WROTE:\nx",
        "It broke.\nSent from my iPhone", "x\nGet Outlook for iOS", "x\nVon meinem iPad gesendet",
        "x\nENVOYÉ DE MON iPhone", "x\nEnviado desde mi móvil", "it\u2019s &amp; &lt;b&gt;\r\nok",
        "a\xa0b\u2028c &quot;q&quot; &#39;s\rend", "&amp;lt;",
        "<B>x</B><BR/>y", "a<!--\nc-->b", "x &nbsp;y", "<p class='a'>z</p>",
        "<STYLE>a{}</STYLE >b", "<script src=x></script>c", "<title>t</title>d",
        "caf&eacute; &mdash; it&#8217;s &#x2028;x &#8239;y &#13;z &#0; &#x110000; &bogus; &amp",
        "R&uuml;ckerstattung&nbsp;&hellip;\nThanks,\nJo",
        "x\n\nTHIS E-MAIL IS CONFIDENTIAL AND MAY BE PRIVILEGED", "x\n\nDisclaimer: y",
        "x\n\nCe message et ses pièces jointes sont confidentiels et réservés",
        "x\n\nDieser Inhalt ist ausschließlich für den Empfänger bestimmt",
        "x\n\nEste mensaje es confidencial y para uso exclusivo del destinatario",
        "x\n\nJo\nTÉLÉPHONE : 01 23 45 67 89", "x\n\nJo\nMóvil +34 600 000 000",
        "x\n\nJo\nACME | Direct: (555) 010 0000\njo@acme.com"]
    assert sum(bool(r.needs) for r in _RULES) == 22
    for k, (pattern, _, needles, _, _) in enumerate(_RULES):
        if not needles:
            continue
        rule = re.compile(pattern)
        for t in texts:
            stripped = t
            for needle in needles:
                stripped = re.sub(re.escape(needle), " ", stripped, flags=re.IGNORECASE)
            assert rule.search(stripped) is None or any(
                n.lower() in stripped.lower() for n in needles), (k, t)
    many = texts * 8
    assert clean_body_array(to_arrow(many)).to_pylist() == [clean_body(t) for t in many]


def test_rule_groups_run_only_on_rows_holding_a_trigger() -> None:
    """The vectorized path runs each group of rules only on the rows where one RE2 pass finds
    a trigger of a rule of the group: every text, alone or among others that hold no trigger,
    is cleaned as the scalar path cleans it, and the groups cover every rule once, in order."""
    from triage_core.text import _RULES, _VECTOR_GROUPS, clean_body_array, to_arrow

    assert [first for first, _, _ in _VECTOR_GROUPS] == [0] + [
        end for _, end, _ in _VECTOR_GROUPS[:-1]]
    assert _VECTOR_GROUPS[-1][1] == len(_RULES)
    plain = ["my invoice is wrong", "cannot log in", "refund please"] * 30
    for raw, _ in CLEAN_CASES:
        texts = [*plain, raw, *plain]
        assert clean_body_array(to_arrow(texts)).to_pylist() == [clean_body(t) for t in texts]


def test_every_html_character_reference_is_decoded() -> None:
    """Named and numeric references beyond the usual five (a Freshdesk or Zendesk body in
    German, a typographic dash or quote) are decoded for the models and the pages, so topics
    are not named "ndash" or "ckerstattung"; a reference that names nothing stays as written."""
    from triage_core.text import html_to_text

    raw = ("<div>Meine &Uuml;berweisung &ndash; bitte R&uuml;ckerstattung, it&rsquo;s"
           " &#233;t&#xE9; &hellip; &notanentity; AT&T</div>")
    assert clean_body(raw) == ("Meine Überweisung – bitte Rückerstattung, it's été …"
                               " &notanentity; AT&T")
    assert html_to_text(raw) == clean_body(raw)
    assert clean_body("a&#8239;b&#x2029;c") == "a b\nc"  # as the later rules would make them


def test_an_escaped_reference_is_decoded_once() -> None:
    """"&amp;lt;" is how HTML writes the text "&lt;" (someone quoting markup): one decoding,
    in cleaning, in HTML reading and in the vectorized path ("&amp;" was decoded first and
    the "&lt;" it left then again, to "<")."""
    from triage_core.text import clean_body_array, html_to_text, to_arrow

    raw = "<p>type &amp;lt;br&amp;gt; or &amp;amp; or &amp;eacute;</p>"
    want = "type &lt;br&gt; or &amp; or &eacute;"
    assert clean_body(raw) == want and html_to_text(raw) == want
    assert clean_body_array(to_arrow([raw, "x &amp;quot;y"])).to_pylist() == [
        want, "x &quot;y"]


def test_html_bodies_are_shown_as_text_and_plain_ones_as_written() -> None:
    """What a page shows of a ticket holding HTML: tags gone, line breaks kept, entities
    decoded, nothing else cleaned away (the signature stays); plain text is untouched."""
    from triage_core.text import html_to_text

    body = ('<div dir="ltr">Hi team,<br>My invoice&nbsp;is wrong &amp; late.<br><br><br>'
            "<!-- x --><div>Sent from my iPhone</div></div>")
    assert html_to_text(body) == ("Hi team,\nMy invoice is wrong & late.\n\n"
                                  "Sent from my iPhone")
    assert html_to_text("plain & simple\r\nit\u2019s &amp; fine") == (
        "plain & simple\r\nit\u2019s &amp; fine")
    assert html_to_text("<p>2 < 3 and &lt;b&gt;</p>") == "2 < 3 and <b>"
    mention = "my <img src=x> tag does not load &amp; <b>why"  # no HTML document: as written
    assert html_to_text(mention) == mention


def test_style_sheets_scripts_and_titles_of_html_mail_are_not_text() -> None:
    """An HTML e-mail's <style>, <script> and <title> go with their contents, for the page and
    for the models, in Python and in RE2 alike; a tag never closed is only a tag."""
    from triage_core.text import clean_body_array, html_to_text, to_arrow

    body = ('<html><head><title>Message</title><style type="text/css">\np.x {color: red}\n'
            "</style></head><body><p>My invoice is wrong.</p><SCRIPT>if (a < b) go();</SCRIPT>"
            "<p>Please fix it</p></body></html>")
    assert html_to_text(body) == "My invoice is wrong.\n\nPlease fix it"
    assert clean_body(body) == "My invoice is wrong.\n\nPlease fix it"
    assert clean_body_array(to_arrow([body, "plain"])).to_pylist() == [
        "My invoice is wrong.\n\nPlease fix it", "plain"]
    assert html_to_text("<p>I pasted <style>p{}</p>") == "I pasted p{}"


def test_block_rules_in_python_find_what_the_whole_pattern_finds() -> None:
    """Python's re runs the <style>/<script>/<title> rules only up to the last closing tag:
    the same result as the pattern over the whole text, and as RE2 over many texts."""
    import random

    from triage_core.text import _BLOCKS, _UpToLast, clean_body_array, to_arrow

    rnd = random.Random(11)
    pieces = ["<style>", "</style>", "<STYLE media=x>", "</style \n>", "<script>", "</script>",
              "<title>", "</title>", "</styles>", "<styled>", "a", "<", ">", "\n", "x y"]
    texts = ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 14))) for _ in range(3000)]
    for tag, pattern in _BLOCKS.items():
        whole, upto = re.compile(pattern), _UpToLast(tag)
        for text in texts:
            assert upto.sub("", text) == whole.sub("", text), (tag, text)
    many = texts[:400]
    assert clean_body_array(to_arrow(many)).to_pylist() == [clean_body(t) for t in many]


@pytest.mark.parametrize("pattern", [r"\x41bc", r"\101", "Outage", r"(?-i:down)", "caf\u00e9",
                                     r"(?P<Name>x)", r"\N{LATIN SMALL LETTER A}", r"\u0041", "(?i"])
def test_patterns_that_may_read_differently_lowered_are_not_caseless(pattern: str) -> None:
    from triage_core.text import caseless

    assert caseless(pattern) is None
    assert caseless(pattern, re.ASCII) is None


def test_caseless_patterns_find_what_ignorecase_finds() -> None:
    """Lowered texts and patterns without IGNORECASE: the same matches, with re.ASCII on any
    text (lowered by ascii_lower) and in Unicode mode on ASCII texts (str.lower)."""
    import random

    from triage_core.text import ascii_lower, caseless

    patterns = [r"\bdown\b", r"\bcan'?t (?:log ?in|pay)\b", r"[a-z]+ [0-9]{2,}\W", r"^\w+$",
                r"(?:k|s)\s+\S", r"[^a-z ]{2}", r"\Bou", r"x\.y\Z", r"(?i)ab", r"(a)b",
                r"\d+ times", r"[-a-f]+z"]
    rnd = random.Random(3)
    letters = "abcdefkszABCDEFKSZ \t'.-09_\u212a\u017f\u0130\u00e9\u00c9\u00df\u1e9e\u03c3"
    texts = ["".join(rnd.choice(letters) for _ in range(rnd.randint(0, 30))) for _ in range(3000)]
    texts += ["Can't LOG IN", "SITE DOWN", "KS \u212a", "\ud800 surrogate down"]
    checked = 0
    for pattern in patterns:
        low = caseless(pattern, re.ASCII)
        assert low is not None, pattern
        full = re.compile(pattern, re.ASCII | re.IGNORECASE)
        for text in texts:
            assert (low.search(ascii_lower(text)) is None) == (full.search(text) is None), \
                (pattern, text)
        uni, full_uni = caseless(pattern), re.compile(pattern, re.IGNORECASE)
        assert uni is not None
        for text in (t for t in texts if t.isascii()):
            assert (uni.search(text.lower()) is None) == (full_uni.search(text) is None)
            checked += 1
    assert checked > 1000


def test_ascii_texts_skip_rules_that_cannot_match_and_come_out_the_same() -> None:
    """An ASCII text skips the rules whose strings it does not hold (and trims without a
    regex): the same text as every rule applied in order."""
    import random
    from pathlib import Path

    from triage_core.text import _COMPILED_RULES, _RULES

    def every_rule(text: str) -> str:
        for pattern, repl in _COMPILED_RULES:
            text = pattern.sub(repl, text)
        return text

    sample = Path(__file__).resolve().parent.parent / "sample_data" / "tickets.parquet"
    texts = pd.read_parquet(sample, columns=["body"])["body"].head(1500).tolist()
    texts += [raw for raw, _ in CLEAN_CASES if isinstance(raw, str)]
    rnd = random.Random(5)
    pieces = ["Hi team,", "\n", " ", "\t", "\r\n", "\r", "Thanks,\nJane", "&amp;", "&AMP;",
              "&lt;b&gt;", "<BR>", "<p>", "-- ", "\n--\n", "> quoted", "From: a", "Sent: b",
              "SENT FROM MY PHONE", "@bob", "HTTP://x.y", "www.z", "-----Original Message-----",
              "____________", "On Mon, Bob wrote:", "\x0b", "\x1f", "word", "WORD.", "!", ""]
    texts += ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 12))) for _ in range(3000)]
    assert all(t.isascii() for t in texts[-3000:])
    assert sum(r.vector == "trim" for r in _RULES) == 1
    for text in texts:
        assert clean_body(text) == every_rule(text), text
