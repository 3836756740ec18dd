"""Cleaning of support text: quoted replies, signatures, greetings, headers and PII masking.

Every rule is a regular expression written in the subset shared by Python's ``re`` and RE2
(no look-arounds, explicit character classes instead of ``\\w``/``\\s``/``\\d``/``\\b``), so the
scalar functions (``clean_body``, ``mask_pii``) and the vectorized ones (``clean_body_series``,
``mask_pii_series``, which run the same rules in pyarrow's RE2 over a whole column) give the same
result. Missing values (None, NaN, pandas NA) become ``""``.
"""

from __future__ import annotations

import functools
import hashlib
import html
import html.entities
import math
import re
from collections.abc import Iterable, Sized
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "clean_body",
    "clean_body_array",
    "clean_body_series",
    "mask_pii",
    "mask_pii_series",
    "mask_values",
    "pseudonymize_cached",
    "pseudonymize_key",
    "pseudonymize_series",
    "ticket_text",
    "ticket_text_series",
    "to_arrow",
]

# --- cleaning rules: (pattern, replacement[, needs]), applied in order ------------------------

_NL = r"(?:\n|$)"
_QUOTE_INTRO = (
    # "On Mon, 1 Jan 2024 at 10:00, Jane <jane@x.com> wrote:" (may wrap onto a second line),
    # and the German, French and Spanish forms; the intro and everything after it go.
    r"(?is)(?:^|\n)[ \t]*(?:on|am|le|el)[ \t][^\n]+(?:\n[^\n]*)?"
    r"(?:wrote|schrieb[^\n]*|a écrit|escribió)[ \t]*:[ \t]*(?:\n.*|$)"
)

# What an e-mail disclaimer says (English, German, French, Spanish), lower case.
_DISCLAIMER = (
    r"intended (?:solely |only |exclusively )?for the (?:use of the )?(?:named )?"
    r"(?:addressee|recipient|individual|person)|intended recipient|intended solely for|"
    r"intended only for the|received this (?:e-?mail|email|message|communication) in error|"
    r"is confidential and (?:may|intended|is)|(?:may|might) contain (?:confidential|privileged)|"
    r"legally privileged|strictly prohibited|notify the sender|registered in england|"
    r"registered office:|"
    r"enthält vertrauliche|ist ausschließlich für den|irrtümlich erhalten|"
    r"nicht der richtige adressat|"
    r"sont confidentiels et|exclusivement à l'usage du destinataire|intention exclusive|"
    r"reçu ce message par erreur|"
    r"es confidencial y|uso exclusivo del destinatario|no es el destinatario|"
    r"recibido este mensaje por error"
)
# What starts a disclaimer on its own, or is one: a heading, the printing line.
_DISCLAIMER_HEAD = (r"(?:disclaimer|confidentiality notice|legal notice|haftungsausschluss)"
                    r"[ \t]*:|[^\n]{0,100}consider the environment before printing")
# Labels of a telephone line in a signature ("Tel:", "Mobile:", "Direct:"), each holding one
# of the rule's needs below.
_PHONE_LABEL = (r"tel|telephone|phone|mobile|mob|cell|fax|direct|mobil|telefon|téléphone|"
                r"teléfono|móvil")

_ORIGINAL_MESSAGE = (r"-{3,}[ \t]*(?:original message|ursprüngliche nachricht|message d'origine)"
                     r"[ \t]*-{3,}.*")


# HTML elements dropped with their contents: the tag, and its closing tag (one pattern per
# tag: RE2 has no backreference).
_CLOSING = r"</{tag}[ \t\n]*>"
_BLOCKS = {tag: rf"(?is)<{tag}(?:[ \t\n/][^<>]{{0,1000}})?>.*?" + _CLOSING.format(tag=tag)
           for tag in ("style", "script", "title")}


# Any other character reference of HTML (&eacute; &rsquo; &mdash; &#233; &#x2014;), decoded by
# the standard library; what a later rule would change in the decoded character (a curly
# quote, a line or paragraph separator, an unusual space) is changed here at once, since the
# rules for those non-ASCII characters never run on a text that was ASCII (see clean_body).
_ENTITY = r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
_AFTER_ENTITY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u02bc": "'", "\r": "\n", "\u2028": "\n", "\u2029": "\n",
    **dict.fromkeys("\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u202f\u205f\u3000", " "),
    **dict.fromkeys(map(chr, range(0x2000, 0x200b)), " ")})


def _decode_entity(match: re.Match[str]) -> str:
    ref = match[0]
    if ref[1] != "#" and ref[1:] not in html.entities.html5:  # "&notanentity;" is no "&not"
        return ref
    return html.unescape(ref).translate(_AFTER_ENTITY)


class _Rule(NamedTuple):
    """A cleaning rule: ``pattern`` becomes ``repl``. With ``needs``, the rule can only match a
    text holding one of those strings (case-insensitive): the vectorized path runs it only on
    those rows, after a plain substring search (much cheaper than a regex pass over every row;
    most texts, e.g. chat messages, hold none of them).

    ``vector="trim"`` tells the vectorized path that the rule strips blanks and line ends at both
    ends of the text (pyarrow's trim does that in a fraction of a regex pass).

    ``python``: the same rule for Python's re where ``pattern`` would backtrack quadratically
    in it (RE2, which runs ``pattern``, never backtracks but has no lookbehind)."""

    pattern: str
    repl: Any  # the replacement, or a function of the match (Python's re.sub takes either)
    needs: tuple[str, ...] = ()
    vector: str = ""
    python: str = ""


_RULES: tuple[_Rule, ...] = tuple(_Rule(*rule) for rule in (
    ("\r\n", "\n"),
    ("\r", "\n"),
    # HTML (a Freshdesk or Zendesk export's description, an HTML e-mail): comments go, a line
    # break or block tag becomes a line end (so the line rules below still see signatures and
    # "Sent from my iPhone" lines), any other tag goes. Before the entities are decoded, so an
    # escaped "&lt;div&gt;" a customer typed stays text.
    # A style sheet, script or title of an HTML e-mail, with its contents (CSS, code or the
    # document's name, not what the customer wrote). Python's re runs them only up to the
    # last closing tag (see _UpToLast).
    (_BLOCKS["style"], "", ("<style",)),
    (_BLOCKS["script"], "", ("<script",)),
    (_BLOCKS["title"], "", ("<title",)),
    (r"(?s)<!--.{0,1000}?-->", "", ("<!--",)),
    (r"(?i)<(?:br|/?(?:p|div|li|tr|h[1-6]|blockquote|ul|ol|table))\b[^<>]{0,1000}>", "\n",
     ("<",)),
    (r"</?[A-Za-z][A-Za-z0-9:-]{0,30}(?:[ \t\n/][^<>]{0,1000})?>", "", ("<",)),
    ("[\u2018\u2019\u02bc]", "'"),
    ("&lt;", "<"),
    ("&gt;", ">"),
    ("&quot;", '"'),
    ("&#39;", "'"),
    ("&nbsp;|&#160;", " "),
    # "&amp;" too, in the same pass as the others: "&amp;lt;" is the text "&lt;", not "<"
    (_ENTITY, _decode_entity, ("&",)),
    ("[\u2028\u2029]", "\n"),
    # Other whitespace (no-break and typographic spaces, control separators) becomes a space,
    # so that later rules, RE2 and Python all agree on what whitespace is.
    ("[\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u202f\u205f\u3000]", " "),
    (_QUOTE_INTRO, "", (":",)),
    # Outlook: "-----Original Message-----", or a line of underscores, then the old thread.
    # (Python: from the first dash of a run only; a line of 20,000 dashes took 8 s otherwise)
    ("(?is)" + _ORIGINAL_MESSAGE, "", ("---",), "", "(?is)(?<!-)" + _ORIGINAL_MESSAGE),
    (r"(?s)(?:^|\n)[ \t]*_{10,}[ \t]*\n.*", "", ("__________",)),
    # A "From: ... Sent:/Date: ..." header block starts a quoted thread: drop it and the rest.
    (r"(?is)(?:^|\n)[ \t]*(?:from|von|de)[ \t]*:[^\n]*\n(?:[^\n]*\n){0,3}?[ \t]*"
     r"(?:sent|date|gesendet|datum|envoyé|enviado)[ \t]*:.*", "", (":",)),
    # Lines quoted with ">".
    (r"(?m)^[ \t]*>[^\n]*" + _NL, "", (">",)),
    # Signature delimiter "-- " (or "--") on its own line, and everything below it.
    (r"(?s)(?:^|\n)[ \t]*--[ \t]*\n.*", "", ("--",)),
    (r"(?im)^[ \t]*(?:sent from my|sent from (?:outlook|mail|yahoo)|get outlook for|"
     r"von meinem [^\n]* gesendet|envoyé de mon|enviado desde mi)[^\n]*" + _NL, "",
     ("sent from ", "get outlook for", "von meinem ", "envoyé de mon", "enviado desde mi")),
    # Remaining single header lines (forwarded or pasted mail).
    (r"(?im)^[ \t]*(?:from|to|cc|bcc|subject|date|sent|reply-to)[ \t]*:[^\n]*" + _NL, "",
     (":",)),
    (r"(?im)^[ \t]*-{2,}[ \t]*forwarded message[ \t]*-{2,}[ \t]*" + _NL, "", ("--",)),
    # A company's e-mail disclaimer: a paragraph (after a blank line) that says twice over
    # that the message is confidential, meant for its addressee only, or privileged (or starts
    # "Disclaimer:"), and everything after it (it ends the e-mail; what was quoted below went
    # with the rules above). One such phrase alone may be the customer's ("the invoice was
    # intended for the named recipient"): kept.
    (r"(?is)\n[ \t]*\n[ \t]*(?:" + _DISCLAIMER_HEAD + r"|[^\n]{0,400}(?:" + _DISCLAIMER
     + r")[^\n]{0,1000}(?:" + _DISCLAIMER + r")).*", "",
     ("intended", "in error", "disclaimer", "confidential", "privileged", "prohibited",
      "notify the sender", "legal notice", "environment before", "registered in",
      "registered office", "vertraulich", "ausschließlich", "irrtümlich", "adressat",
      "haftungsausschluss", "confidentiel", "intention exclusive", "par erreur",
      "destinataire", "confidencial", "destinatario", "por error")),
    # A signature paragraph at the end without a closing word: up to four lines of a name,
    # title, company (no sentence: none ends in . ? ! or :), then a telephone line (a label,
    # then a number), and up to three more lines of contact details (an e-mail address, a
    # web site, another number after "|").
    (r"(?is)\n[ \t]*\n(?:[^\n]{0,49}[^\n.?!:]\n){0,4}[ \t]*(?:[^\n]{0,40}[|/][ \t]*)?(?:"
     + _PHONE_LABEL + r")[ \t]*(?:[.:][ \t]*){0,2}[+(0-9][^\n]{0,60}"
     r"(?:\n[^\n]{0,60}(?:@|www\.|https?:|\|)[^\n]{0,60}){0,3}(?:\n[ \t\n]*)?$", "",
     ("tel", "tél", "phone", "mob", "móvil", "fax", "cell", "direct")),
    # A closing at the end, on its own line or after a sentence ("Thanks,\nJane", "... now.
    # Best regards,\nJane Doe\nACME"): the closing and up to six lines of a signature after
    # it (name, title, company, telephone, e-mail, web site; a blank line between two is
    # allowed): lines of at most 40 characters, or longer ones of contact details (a "|", "@"
    # or "+" in their last 21 characters). Text before the closing must exist. (The blanks
    # after the closing and at the end are each matched one way only: Python's re took
    # minutes over a run of spaces.)
    (r"(?is)(\n|[.!?])[ \t]*(?:best regards|kind regards|warm regards|regards|best wishes|best|"
     r"cheers|many thanks in advance|many thanks|thanks in advance|thanks again|thanks|"
     r"thank you in advance|thank you|thx|sincerely|"
     r"yours sincerely|yours truly|yours|mit freundlichen grüßen|viele grüße|grüße|"
     r"cordialement|bien à vous|saludos|atentamente)[ \t]*(?:[,!.][ \t]*)?"
     r"(?:\n\n?[^\n]{0,39}[^\n.?!])?(?:\n\n?(?:[^\n]{0,40}|[^\n]{0,60}[|@+][^\n]{0,20})){0,5}"
     r"(?:\n[ \t\n]*)?$", r"\1"),
    # A greeting at the start ("Hi team,", "Dear support,", "Hello!", "Hi John Smith,"): the
    # greeting word, up to three capitalised or addressing words, then , ! : . or a line end.
    (r"^[ \t\n]*(?i:hi|hello|hey|dear|greetings|good morning|good afternoon|good evening|"
     r"to whom it may concern|hallo|guten tag|bonjour|hola)"
     r"(?:[ \t]+(?:(?i:team|support|there|all|everyone|folks|guys|sir|madam|or|and)|"
     r"[A-Z][^ \t\n,!:.?]{0,29})){0,3}[ \t]*(?:[,!:.]|\n|$)", ""),
    # Social media: @handles and links.
    (r"(^|[^A-Za-z0-9_.+-])@[A-Za-z0-9_]+", r"\1", ("@",)),
    (r"(?i)(?:https?://|www\.)[^ \t\n]+", "", ("http", "www.")),
    # Whitespace: runs of blanks, blank-line runs, ends.
    (r"[ \t]{2,}|\t", " ", ("  ", "\t")),
    (r" ?\n[ \n]*\n", "\n\n", ("\n",)),
    (r"^[ \t\n]+|[ \t\n]+$", "", (), "trim"),
))


class _UpToLast:
    """A rule of :data:`_BLOCKS` for Python's re, run only up to the end of the last closing
    tag: an opening tag after it can match nothing (RE2 finds nothing there either), and
    ``pattern.sub`` would search the rest of the text from each such tag in turn (a text of
    many unclosed ``<style>`` tags took quadratic time)."""

    def __init__(self, tag: str) -> None:
        self.pattern = re.compile(_BLOCKS[tag])
        self.close = re.compile(_CLOSING.format(tag=tag), re.IGNORECASE)

    def sub(self, repl: str, text: str) -> str:
        end = -1
        for end_tag in self.close.finditer(text):
            end = end_tag.end()
        if end < 0:
            return text
        head = self.pattern.sub(repl, text[:end])
        return text if head == text[:end] else head + text[end:]


_BLOCK_TAGS = {pattern: tag for tag, pattern in _BLOCKS.items()}
_COMPILED_RULES = tuple(
    (_UpToLast(_BLOCK_TAGS[rule.pattern]) if rule.pattern in _BLOCK_TAGS else
     re.compile(rule.python or rule.pattern), rule.repl) for rule in _RULES)


def _ascii_gates(rule: _Rule) -> tuple[str, ...] | None:
    """Strings one of which an ASCII text (lowered) holds if ``rule`` can match it: its
    ``needs``, a literal pattern itself, nothing for a class of non-ASCII characters (the
    rule never matches an ASCII text); None: the rule runs on every text."""
    if rule.needs:
        return tuple(n.lower() for n in rule.needs)
    if re.fullmatch(r"\[[^\x00-\x7f]+\]", rule.pattern):
        return ()
    if not re.search(r"[][\\.^$*+?{}|()]", rule.pattern):  # a literal
        return (rule.pattern.lower(),)
    return None


_ASCII_GATES = tuple(_ascii_gates(rule) for rule in _RULES)
# The vectorized path runs the rules in groups of consecutive rules: (first, end, gated). A gated
# group first finds, in one RE2 pass, the rows holding a trigger of any of its rules (the rule's
# ``needs``, or else its own pattern) and runs its rules on those rows only. A row without any
# trigger is changed by none of them: the first rule finds nothing, so the row is unchanged for
# the second, and so on. One pass over every row instead of one per rule and needle; the
# ungated groups are rules that fire on about half of the texts (greetings, blank lines, ends).
_VECTOR_GROUPS = ((0, 17, True), (17, 26, True), (26, 27, True), (27, 28, True),
                  (28, 29, True), (29, 30, False), (30, 33, True), (33, 35, False))
# Up to this many texts, the rules run in Python's re one text at a time: pyarrow compiles each
# RE2 pattern again on every call, a fixed cost of milliseconds that a few texts never repay.
SMALL_BATCH = 64
# The cleaning rules' break-even: compiling them in RE2 costs 40-70 ms a call (counted
# repetitions such as {0,60} become that many copies), Python's re about 35 us a text against
# RE2's 8 (demo tickets, 2026-12-06): up to this many texts, Python's re is the faster.
CLEAN_SMALL_BATCH = 1_000

# --- PII ---------------------------------------------------------------------------------------

_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_PHONE = (
    r"(^|[^0-9A-Za-z_+])("
    # +49 30 1234567: a country code (never 0) and at least five digits more, so a UTC
    # offset after a time ("10:00:00 +0100", "+1000") is no phone number
    r"\+[1-9][0-9]{0,2}[ .-]?\(?[0-9](?:[ .()-]{0,2}[0-9]){4,13}"
    r"|\(?[0-9]{3}\)?[ .-]?[0-9]{3}[ .-]?[0-9]{4}"  # (555) 123-4567, 555.123.4567
    r"|0[0-9]{2,4}[ /-]?[0-9]{3,8}"  # 030 1234567, 07700 900123
    r")([^0-9]|$)"
)
_PII_RULES: tuple[tuple[str, str], ...] = ((_EMAIL, "[email]"),)
_PHONE_RULE = (_PHONE, r"\1[phone]\3")
# Card candidates: 13-19 digits with optional single spaces/dashes between them. Only those
# passing the Luhn check are masked (Python callback; RE2 only pre-selects candidate rows).
_CARD = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")
_CARD_HINT = r"[0-9](?:[ -]?[0-9]){12,}"
# Python's re: only from the start of a run of address characters (equivalent: a later start
# meets the same "@" and domain), else a 40,000-letter word took 1.6 s, quadratic in its length
_EMAIL_RE = re.compile(r"(?<![A-Za-z0-9._%+-])" + _EMAIL)
_PHONE_RE = re.compile(_PHONE)


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _as_text(value: Any) -> str:
    return "" if _is_missing(value) else str(value)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_sub(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    return "[card]" if _luhn_ok(digits) else match.group(0)


def _mask_cards(text: str) -> str:
    return _CARD.sub(_card_sub, text)


def clean_body(text: Any) -> str:
    """Strip quoted replies, signatures, greetings, header lines, @handles and links.

    >>> clean_body("Hi team,\\nMy bill is wrong.\\nThanks,\\nJane\\n\\nOn Mon, Bob wrote:\\n> x")
    'My bill is wrong.'
    """
    out = _as_text(text)
    if not out.isascii():
        for pattern, repl in _COMPILED_RULES:
            out = pattern.sub(repl, out)
        return out
    # An ASCII text stays ASCII (no rule puts anything else in): a rule that cannot match it
    # is skipped (see _ascii_gates), about a third of the time.
    low = out.lower()
    for (pattern, repl), gate, rule in zip(_COMPILED_RULES, _ASCII_GATES, _RULES, strict=True):
        if gate is not None and (gate[0] not in low if len(gate) == 1
                                 else not any(g in low for g in gate)):
            continue
        # the blanks and line ends at both ends (what the pattern removes), without a regex
        new = out.strip(" \t\n") if rule.vector == "trim" else pattern.sub(repl, out)
        if new is not out:
            out, low = new, new.lower()
    return out


# Markup as an HTML e-mail or export writes it: a line break or a closing tag of a usual
# element. A text that only mentions a tag ("my <img> does not load", a pasted script) is
# shown as written.
_LOOKS_HTML = re.compile(r"(?i)<br\s*/?>|</(?:p|div|span|html|body|table|tr|td|li|ul|ol|font|b"
                         r"|i|u|strong|em|a|h[1-6]|blockquote)\s*>")
# The cleaning rules that read HTML as text: comments and tags, then the entities.
_HTML_RULES = tuple(i for i, r in enumerate(_RULES) if any(n.startswith("<") for n in r.needs))
_ENTITY_RULES = tuple(i for i, r in enumerate(_RULES) if r.pattern.startswith("&"))


def html_to_text(text: Any, always: bool = False) -> str:
    """A ticket's text as a person reads it when it holds HTML (an export's description):
    tags and comments dropped (a style sheet's or script's content with them), line breaks and
    block tags as line ends, entities decoded; everything else as written (unlike
    :func:`clean_body`, which also drops quotes and signatures for the models). Text that is
    not HTML (no line break or closing tag of a usual element) comes back unchanged, unless
    ``always`` says it is HTML whatever it looks like (a field that only ever holds HTML)."""
    out = _as_text(text)
    if not always and ("<" not in out or not _LOOKS_HTML.search(out)):
        return out
    out = out.replace("\r\n", "\n").replace("\r", "\n")
    for i in (*_HTML_RULES, *_ENTITY_RULES):
        pattern, repl = _COMPILED_RULES[i]
        out = pattern.sub(repl, out)
    return re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", out).strip()


def mask_pii(text: Any) -> str:
    """Replace e-mail addresses, card numbers (Luhn-valid) and phone numbers with placeholders."""
    out = _as_text(text)
    out = _EMAIL_RE.sub("[email]", out)
    out = _mask_cards(out)
    # Twice: a match consumes the character after it, which may be the next number's boundary.
    for _ in range(2):
        out = _PHONE_RE.sub(_PHONE_RULE[1], out)
    return out


def ascii_lower(text: str) -> str:
    """``text`` with A-Z lowered and every other character as it is (what ``re.IGNORECASE``
    with ``re.ASCII`` folds): UTF-8 bytes of other characters are never ASCII letters."""
    if text.isascii():
        return text.lower()
    return text.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass")


# escapes that mean the same in a lowered text: classes, anchors and escaped punctuation (a
# letter or digit escape may stand for a letter, e.g. \x41 or \101)
_CASELESS_ESCAPE = re.compile(r"\\(?:[bBdDsSwWAZ]|[^0-9A-Za-z])")


def caseless(pattern: str, flags: int = 0) -> re.Pattern[str] | None:
    """``pattern`` compiled without ``re.IGNORECASE`` for texts with their letters lowered:
    Python's re matches case-insensitively about 2.5 times slower. It finds what the
    pattern with ``re.IGNORECASE`` finds in the original text when ``flags`` has
    ``re.ASCII`` and the text is lowered by :func:`ascii_lower`, or the text is ASCII and
    lowered by ``str.lower``. None for a pattern where that may not hold: one that is not
    ASCII, holds an upper-case letter (outside the escapes above) or another escape, or
    turns case-insensitivity off (``(?-i:...)``)."""
    rest = _CASELESS_ESCAPE.sub("", pattern)
    if not pattern.isascii() or "\\" in rest or re.search(r"[A-Z]|\(\?[a-zA-Z]*-", rest):
        return None
    try:
        return re.compile(pattern, flags & ~re.IGNORECASE)
    except re.error:
        return None


def to_arrow(values: Iterable[Any] | pd.Series) -> pa.Array:
    """Texts as a pyarrow large_string array; missing values become ``""``."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.StringDtype):
        arr = pa.array(values, from_pandas=True)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        arr = arr.cast(pa.large_string())
    elif isinstance(values, pd.Series):
        arr = pa.array([None if _is_missing(v) else str(v) for v in values.tolist()],
                       type=pa.large_string())
    else:
        arr = pa.array([None if _is_missing(v) else str(v) for v in values],
                       type=pa.large_string())
    return arr.fill_null("")


def _to_series(arr: pa.Array, index: pd.Index | None) -> pd.Series:
    """A pandas ``str`` Series over the Arrow data (no copy through Python objects)."""
    return pd.Series(pd.array(arr, dtype=pd.StringDtype("pyarrow", na_value=np.nan)),
                     index=index)


def text_series(texts: list[str]) -> pd.Series:
    """Texts already made by :func:`ticket_text` as the Series :func:`ticket_text_series`
    gives (a pandas ``str`` Series over Arrow data)."""
    return _to_series(pa.array(texts, type=pa.large_string()), None)


def _index_of(values: Iterable[Any] | pd.Series) -> pd.Index | None:
    return values.index if isinstance(values, pd.Series) else None


def _replace(arr: pa.Array, pattern: str, repl: str) -> pa.Array:
    if any(c in pattern for c in "()[]^$.*+?\\|{"):
        return pc.replace_substring_regex(arr, pattern=pattern, replacement=repl)
    return pc.replace_substring(arr, pattern=pattern, replacement=repl)


def _re2_literal(text: str) -> str:
    """``text`` as an RE2 pattern matching it literally (punctuation escaped)."""
    return "".join("\\" + c if c in "\\.^$|?*+()[]{}" else c for c in text)


@functools.cache
def _group_gate(first: int, end: int) -> str:
    """One RE2 pattern matching a text that holds a trigger of any rule of the group."""
    parts = []
    for rule in _RULES[first:end]:
        if rule.needs:
            parts.extend(f"(?i:{_re2_literal(needle)})" for needle in rule.needs)
        else:
            parts.append(f"(?:{rule.pattern})")
    return "|".join(dict.fromkeys(parts))


def _apply_rule(arr: pa.Array, rule: _Rule) -> pa.Array:
    """One rule over ``arr``; a rule with ``needs`` only on the rows holding one of them."""
    if rule.vector == "trim":
        return pc.utf8_trim(arr, characters=" \t\n")
    if callable(rule.repl):  # a function of the match: Python's re on the rows it can match
        mask = pc.match_substring_regex(arr, pattern=rule.pattern)
        if not (pc.sum(mask).as_py() or 0):
            return arr
        compiled = re.compile(rule.pattern)
        fixed = pa.array([compiled.sub(rule.repl, t) for t in arr.filter(mask).to_pylist()],
                         type=arr.type)
        return pc.replace_with_mask(arr, mask, fixed)
    if not rule.needs:
        return _replace(arr, rule.pattern, rule.repl)
    mask = None
    for needle in rule.needs:
        hit = pc.match_substring(arr, pattern=needle, ignore_case=True)
        mask = hit if mask is None else pc.or_(mask, hit)
    n_hit = pc.sum(mask).as_py() or 0
    if n_hit == len(arr):
        return _replace(arr, rule.pattern, rule.repl)
    if n_hit:
        return pc.replace_with_mask(arr, mask, _replace(arr.filter(mask), rule.pattern,
                                                        rule.repl))
    return arr


def clean_body_array(arr: pa.Array) -> pa.Array:
    """``clean_body`` over a pyarrow string array (nulls become ``""``)."""
    arr = arr.cast(pa.large_string()).fill_null("")
    for first, end, gated in _VECTOR_GROUPS:
        rules = _RULES[first:end]
        if not gated:
            for rule in rules:
                arr = _apply_rule(arr, rule)
            continue
        mask = pc.match_substring_regex(arr, pattern=_group_gate(first, end))
        n_hit = pc.sum(mask).as_py() or 0
        if not n_hit:
            continue
        part = arr if n_hit == len(arr) else arr.filter(mask)
        for rule in rules:
            part = _apply_rule(part, rule)
        arr = part if n_hit == len(arr) else pc.replace_with_mask(arr, mask, part)
    return arr


def clean_body_series(values: Iterable[Any] | pd.Series) -> pd.Series:
    """Vectorized ``clean_body`` over a column (same rules, run by pyarrow's RE2; up to
    :data:`CLEAN_SMALL_BATCH` texts by Python's re)."""
    items = values.tolist() if isinstance(values, pd.Series) else list(values)
    if len(items) <= CLEAN_SMALL_BATCH:
        return _to_series(pa.array([clean_body(v) for v in items], type=pa.large_string()),
                          _index_of(values))
    return _to_series(clean_body_array(to_arrow(values)), _index_of(values))


def mask_pii_series(values: Iterable[Any] | pd.Series) -> pd.Series:
    """Vectorized ``mask_pii``: same output, fast enough for 100k+ texts (a few texts go
    through Python's re: RE2 compiles its patterns on every call, see :data:`SMALL_BATCH`)."""
    items = values.tolist() if isinstance(values, pd.Series) else list(values)
    if len(items) <= SMALL_BATCH:
        return _to_series(pa.array([mask_pii(v) for v in items], type=pa.large_string()),
                          _index_of(values))
    arr = to_arrow(values)
    for pattern, repl in _PII_RULES:
        arr = pc.replace_substring_regex(arr, pattern=pattern, replacement=repl)
    hint = pc.match_substring_regex(arr, pattern=_CARD_HINT)
    rows = np.flatnonzero(hint.to_numpy(zero_copy_only=False))
    if rows.size:
        texts = arr.to_pylist()
        for i in rows:
            texts[i] = _mask_cards(texts[i])
        arr = pa.array(texts, type=pa.large_string())
    for _ in range(2):
        arr = pc.replace_substring_regex(arr, pattern=_PHONE_RULE[0], replacement=_PHONE_RULE[1])
    return _to_series(arr, _index_of(values))


def _keyed(kind: str, value: str, salt: bytes) -> str:
    digest = hashlib.blake2b(value.encode("utf-8"), digest_size=4, key=salt[:64]).hexdigest()
    return f"[{kind} {digest}]"


def _pseudonymize(text: str, salt: bytes) -> str:
    out = _pseudonymize_emails(text, salt)
    out = _CARD.sub(lambda m: _keyed("card", re.sub(r"[ -]", "", m.group(0)), salt)
                    if _luhn_ok(re.sub(r"[ -]", "", m.group(0))) else m.group(0), out)
    for _ in range(2):
        out = _PHONE_RE.sub(lambda m: m.group(1) + _keyed(
            "phone", re.sub(r"[^0-9+]", "", m.group(2)), salt) + m.group(3), out)
    return out


def _pseudonymize_emails(text: str, salt: bytes) -> str:
    return _EMAIL_RE.sub(lambda m: _keyed("email", m.group(0).lower(), salt), text)


def pseudonymize_key(value: Any, salt: bytes) -> str | None:
    """A record key (a ticket id) as a page may show it: only e-mail addresses in it become
    keyed tokens. Keys are made of digits (``4155550123``, ``LOAD20261202-08-00025``), which the
    phone and card rules would take for numbers to hide, leaving ids that nobody can look up;
    a key that holds an e-mail address (``TK-jane.doe@example.com``) still loses it."""
    if _is_missing(value):
        return None
    text = str(value)
    return _pseudonymize_emails(text, salt) if "@" in text else text


def pseudonymize(value: Any, salt: bytes) -> str | None:
    """:func:`pseudonymize_series` of one value (None stays None)."""
    if _is_missing(value):
        return None
    text = str(value)
    return _pseudonymize(text, salt) if mask_pii(text) != text else text


def pseudonymize_series(values: Iterable[Any] | pd.Series, salt: bytes) -> pd.Series:
    """Like :func:`mask_pii_series`, but each e-mail address, card or phone number becomes a
    token keyed by ``salt`` (``[email 3fa2c1d0]``): the same address always gives the same
    token, so masked ids and names still tell customers apart and group correctly, and the
    address cannot be read back (nor guessed from a list without the salt)."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values))
    plain = mask_pii_series(series)
    text = series.astype(object).where(series.notna(), None)
    out = plain.astype(object).where(plain.notna(), None)
    changed = np.flatnonzero((plain.fillna("") != text.fillna("").astype(str)).to_numpy())
    for i in changed:
        out.iloc[i] = _pseudonymize(str(text.iloc[i]), salt)
    out[text.isna().to_numpy()] = None
    return out


@functools.lru_cache(maxsize=8192)
def pseudonymize_cached(text: str, salt: bytes) -> str:
    """:func:`pseudonymize` of a text, remembered: pages show the same ids, names and labels
    on every rerun."""
    return str(pseudonymize(text, salt))


SCALAR_MASKING = 1024  # distinct values up to which each goes through the cached scalar path


def mask_values(values: np.ndarray, salt: bytes, free_text: bool = False,
                key: bool = False) -> np.ndarray | None:
    """An object array's strings masked (``free_text``: :func:`mask_pii`) or pseudonymized
    (ids, names, labels: :func:`pseudonymize`; record keys, ``key``: :func:`pseudonymize_key`),
    each distinct value once; other values stay. None when it holds no strings."""
    strings = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
    if not strings.any():
        return None
    codes, uniques = pd.factorize(values[strings])
    uniques = np.asarray(uniques, dtype=object)
    if free_text:
        done = mask_pii_series(uniques).to_numpy(dtype=object)
    elif key:
        done = np.array([pseudonymize_key(u, salt) for u in uniques], dtype=object)
    elif len(uniques) <= SCALAR_MASKING:
        done = np.array([pseudonymize_cached(u, salt) for u in uniques], dtype=object)
    else:
        done = pseudonymize_series(uniques, salt).to_numpy(dtype=object)
    out = values.copy()
    out[strings] = done[codes]
    return out


_SUBJECT_PREFIX = re.compile(r"(?i)^(?:[ \t]*(?:re|fw|fwd|aw|wg|tr)[ \t]*:[ \t]*)+")


def ticket_text(subject: Any, body: Any) -> str:
    """Subject (without Re:/Fwd: prefixes) and cleaned body, joined by a newline."""
    subj = _SUBJECT_PREFIX.sub("", _as_text(subject)).strip(" \t\n")
    text = clean_body(body)
    if subj and text:
        return f"{subj}\n{text}"
    return subj or text


def ticket_text_series(subjects: Iterable[Any] | pd.Series,
                       bodies: Iterable[Any] | pd.Series) -> pd.Series:
    """Vectorized ``ticket_text`` (index taken from ``bodies`` if it is a Series)."""
    # sized columns are not turned into lists of Python strings just to be counted
    subjects = subjects if isinstance(subjects, Sized) else list(subjects)
    bodies = bodies if isinstance(bodies, Sized) else list(bodies)
    if len(bodies) <= CLEAN_SMALL_BATCH:
        if len(subjects) != len(bodies):
            raise ValueError(f"{len(subjects)} subjects but {len(bodies)} bodies")
        texts = [ticket_text(a, b) for a, b in zip(subjects, bodies, strict=True)]
        return _to_series(pa.array(texts, type=pa.large_string()), _index_of(bodies))
    subj = pc.utf8_trim(
        pc.replace_substring_regex(to_arrow(subjects), pattern=_SUBJECT_PREFIX.pattern,
                                   replacement=""),
        characters=" \t\n",
    )
    body = clean_body_array(to_arrow(bodies))
    if len(subj) != len(body):
        raise ValueError(f"{len(subj)} subjects but {len(body)} bodies")
    has_subj = pc.greater(pc.utf8_length(subj), 0)
    has_body = pc.greater(pc.utf8_length(body), 0)
    sep = pa.scalar("\n", type=pa.large_string())
    joined = pc.if_else(pc.and_(has_subj, has_body), pc.binary_join_element_wise(subj, body, sep),
                        pc.if_else(has_subj, subj, body))
    return _to_series(joined, _index_of(bodies))
