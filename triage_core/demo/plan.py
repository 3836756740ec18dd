"""The text plan: every random choice for the text of every ticket, drawn up front with numpy.

A plan is a dict of arrays (one entry per ticket): pool indices of the parts (0 = the part is
absent), flags (capitals, typos, ...) and the indices and numbers the slots are filled with.
:mod:`triage_core.demo.render` turns a chunk of it into subjects and bodies. The draws happen in
a fixed order, which is part of the data: reordering them changes every ticket.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from triage_core.demo.pools import (
    CARDS,
    CARRIERS,
    COUPON_CODES,
    DEVICES,
    POOLS,
    PRODUCTS,
    VERSIONS_BEFORE,
    Pool,
    choose,
)
from triage_core.demo.world import (
    APP_LAUNCH,
    CATEGORIES,
    CHAT,
    DAY,
    DISCOUNT_END,
    DISCOUNT_START,
    EMAIL,
    ENTERPRISE,
    HOUR,
    LANGUAGES,
    PHONE,
    SOCIAL,
    SOURCE_DISCOUNT,
    SOURCE_INCIDENT,
    WEB,
    Customers,
    pick,
)

_P_AMBIGUOUS = 0.14  # English tickets written with an ambiguous (two-category) sentence
_P_VAGUE = 0.045  # tickets that say nothing specific
_P_SECOND_ISSUE = 0.08
_P_GENERIC_SUBJECT = 0.18
_P_QUOTE = 0.22  # of e-mail tickets
_P_TYPO = 0.12
_P_PII = {"email": 0.035, "phone": 0.035, "card": 0.015}
_PII_CARD_CATEGORIES = ("billing", "refund", "security_fraud")
_SUBJECT, _ISSUE, _DETAIL, _MISC = (POOLS[k] for k in ("subject", "issue", "detail", "misc"))
_NL, _NC = len(LANGUAGES), len(CATEGORIES)


@dataclass
class _Tickets:
    """What the text depends on, per ticket."""

    n: int
    t: np.ndarray
    cat: np.ndarray
    source: np.ndarray
    lang: np.ndarray
    channel: np.ndarray
    tone: np.ndarray
    seg: np.ndarray

    def by_lang(self, pool: Pool, key: str, u: np.ndarray) -> np.ndarray:
        """A template of ``key`` in the ticket's language."""
        off, size = pool.grid(lambda r, _c: (key, LANGUAGES[r]), _NL, 1)
        return choose(u, off[self.lang, 0], size[self.lang, 0])

    def by_lang_cat(self, pool: Pool, u: np.ndarray, which: np.ndarray) -> np.ndarray:
        """A template of category ``which`` in the ticket's language."""
        off, size = pool.grid(lambda r, k: ("cat", LANGUAGES[r], CATEGORIES[k]), _NL, _NC)
        return choose(u, off[self.lang, which], size[self.lang, which])


def text_plan(rng: np.random.Generator, ev: dict[str, np.ndarray], hd: dict[str, np.ndarray],
              cust: Customers) -> dict[str, np.ndarray]:
    """Pool indices and slot values for every ticket (0 in a pool index = the part is absent)."""
    tk = _Tickets(ev["t"].size, ev["t"], ev["cat"], ev["source"], hd["lang"], hd["channel"],
                  hd["tone"], cust.segment[ev["cust"]])
    ambiguous, vague, issue = _issue(rng, tk)
    details = _details(rng, tk, ambiguous, vague)
    second, also = _second_issue(rng, tk, vague)
    subject = _subject(rng, tk, ambiguous, vague)
    tone = _tone_sentence(rng, tk)
    thread = _thread(rng, tk)
    pii = _pii(rng, tk)
    return {"subject": subject, "issue": issue, "detail0": details[0], "detail1": details[1],
            "detail2": details[2], "second": second, "also": also, "pii": pii, "tone": tone,
            **thread, **_style_and_slots(rng, tk)}


def _issue(rng: np.random.Generator, tk: _Tickets) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which tickets are ambiguous or vague, and the issue sentence of every ticket: from the
    category's pool, or ambiguous / vague / outage wording."""
    n, cat, source = tk.n, tk.cat, tk.source
    english = tk.lang == 0
    ambiguous = english & (rng.random(n) < _P_AMBIGUOUS) & (source != SOURCE_INCIDENT)
    vague = (rng.random(n) < _P_VAGUE) & ~ambiguous
    incident_text = (source == SOURCE_INCIDENT) & english & (rng.random(n) < 0.5)

    issue = tk.by_lang_cat(_ISSUE, rng.random(n), cat)
    amb_off, amb_size = _ISSUE.grid(lambda _r, k: ("ambiguous", CATEGORIES[k]), 1, _NC)
    issue = np.where(ambiguous, choose(rng.random(n), amb_off[0, cat], amb_size[0, cat]), issue)
    issue = np.where(vague, tk.by_lang(_ISSUE, "vague", rng.random(n)), issue)
    inc_off, inc_size = np.zeros(_NC, dtype=np.int64), np.ones(_NC, dtype=np.int64)
    for key, (off, size) in _ISSUE.index.items():
        if key[0] == "incident":
            inc_off[CATEGORIES.index(key[1])], inc_size[CATEGORIES.index(key[1])] = off, size
    incident_text &= inc_off[cat] > 0
    issue = np.where(incident_text, choose(rng.random(n), inc_off[cat], inc_size[cat]), issue)
    return ambiguous, vague, issue


def _details(rng: np.random.Generator, tk: _Tickets, ambiguous: np.ndarray, vague: np.ndarray
             ) -> list[np.ndarray]:
    """0-3 detail sentences of the category (fewer on chat/social, none for vague tickets)."""
    n, lang, cat = tk.n, tk.lang, tk.cat
    n_det = np.minimum(pick(rng, (0.3, 0.35, 0.25, 0.1), n),
                       np.where(np.isin(tk.channel, (CHAT, SOCIAL)), 1, 3))
    n_det = np.where(vague | ambiguous & (rng.random(n) < 0.7), 0, n_det)
    d_off, d_size = _DETAIL.grid(lambda r, k: ("cat", LANGUAGES[r], CATEGORIES[k]), _NL, _NC)
    d_size_row = d_size[lang, cat]
    base = rng.integers(0, 10_000, n)
    details = []
    for j in range(3):
        idx = d_off[lang, cat] + (base + j) % d_size_row
        details.append(np.where((n_det > j) & (j < d_size_row), idx, 0))
    return details


def _second_issue(rng: np.random.Generator, tk: _Tickets, vague: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A second, unrelated issue on some e-mail / web tickets, and the words introducing it."""
    n = tk.n
    second_cat = (tk.cat + rng.integers(1, _NC, n)) % _NC
    has_second = (rng.random(n) < _P_SECOND_ISSUE) & np.isin(tk.channel, (EMAIL, WEB)) & ~vague
    second = np.where(has_second, tk.by_lang_cat(_ISSUE, rng.random(n), second_cat), 0)
    also = np.where(has_second, tk.by_lang(_MISC, "also", rng.random(n)), 0)
    return second, also


def _subject(rng: np.random.Generator, tk: _Tickets, ambiguous: np.ndarray, vague: np.ndarray
             ) -> np.ndarray:
    """The subject: of the category, generic, or what the chat / phone / social tool writes."""
    n = tk.n
    generic_subject = (rng.random(n) < _P_GENERIC_SUBJECT) | ((ambiguous | vague)
                                                              & (rng.random(n) < 0.7))
    subject = np.where(generic_subject, tk.by_lang(_SUBJECT, "generic", rng.random(n)),
                       tk.by_lang_cat(_SUBJECT, rng.random(n), tk.cat))
    tool_subject = rng.random(n)
    for ch, key, p in ((CHAT, "chat", 0.5), (PHONE, "phone", 0.6), (SOCIAL, "social", 0.5)):
        use = (tk.channel == ch) & (tool_subject < p)
        subject = np.where(use, tk.by_lang(_SUBJECT, key, rng.random(n)), subject)
    return subject


def _tone_sentence(rng: np.random.Generator, tk: _Tickets) -> np.ndarray:
    """The tone sentence; vip/enterprise anger is often about waiting."""
    n, lang, tone = tk.n, tk.lang, tk.tone
    tone_off, tone_size = _MISC.grid(lambda r, k: ("tone", LANGUAGES[r], str(k)), _NL, 5)
    tone_idx = choose(rng.random(n), tone_off[lang, tone], tone_size[lang, tone])
    waiting = (tone <= 1) & (rng.random(n) < np.where(tk.seg >= ENTERPRISE, 0.6, 0.15))
    tone_idx = np.where(waiting, tk.by_lang(_MISC, "waiting", rng.random(n)), tone_idx)
    return np.where((tone == 2) & (rng.random(n) < 0.5), 0, tone_idx)


def _thread(rng: np.random.Generator, tk: _Tickets) -> dict[str, np.ndarray]:
    """The quoted thread of e-mails, background sentences, and the subject prefix."""
    n, lang = tk.n, tk.lang
    furious = tk.tone == 0
    email = tk.channel == EMAIL
    quote = np.where(email & (rng.random(n) < _P_QUOTE),
                     tk.by_lang(_MISC, "quote", rng.random(n)), 0)
    nested = (quote > 0) & (rng.random(n) < 0.4)  # the reply also quotes the customer's mail
    n_context = np.where(email | (tk.channel == WEB), pick(rng, (0.7, 0.2, 0.1), n), 0)
    ctx_off, ctx_size = _MISC.grid(lambda r, _c: ("context", LANGUAGES[r]), _NL, 1)
    ctx_base = rng.integers(0, 1_000, n)
    contexts = [np.where(n_context > j, ctx_off[lang, 0] + (ctx_base + j) % ctx_size[lang, 0], 0)
                for j in range(2)]
    # Subject prefix: 1 "Re: " (replies), 2 "Fwd: ", 3 "URGENT: ", 4 all caps.
    prefix = np.where(quote > 0, np.where(rng.random(n) < 0.8, 1, 0), 0)
    prefix = np.where(email & (prefix == 0) & (rng.random(n) < 0.03), 2, prefix)
    u = rng.random(n)
    prefix = np.where(furious & (u < 0.25), 3, np.where(furious & (u > 0.8), 4, prefix))
    return {"quote": quote, "nested": nested, "context0": contexts[0],
            "context1": contexts[1], "prefix": prefix}


def _pii(rng: np.random.Generator, tk: _Tickets) -> np.ndarray:
    """A sentence with an e-mail address, phone or card number (cards mostly in money and fraud
    tickets)."""
    n, lang = tk.n, tk.lang
    kinds = tuple(_P_PII)
    pii_off, pii_size = _MISC.grid(lambda r, k: ("pii", LANGUAGES[r], kinds[k]), _NL, len(kinds))
    money = np.isin(tk.cat, [CATEGORIES.index(k) for k in _PII_CARD_CATEGORIES])
    u = rng.random(n)
    pii_kind = np.full(n, -1)
    lo = np.zeros(n)
    for k, name in enumerate(kinds):
        p_row = _P_PII[name] * (np.where(money, 3.0, 0.5) if name == "card" else 1.0)
        pii_kind = np.where((pii_kind < 0) & (u >= lo) & (u < lo + p_row), k, pii_kind)
        lo = lo + p_row
    safe_kind = np.maximum(pii_kind, 0)
    return np.where(pii_kind >= 0,
                    choose(rng.random(n), pii_off[lang, safe_kind], pii_size[lang, safe_kind]), 0)


def _style_and_slots(rng: np.random.Generator, tk: _Tickets) -> dict[str, np.ndarray]:
    """Greeting, signature, capitals, typos, and the values of the slots (in this order)."""
    n, t = tk.n, tk.t
    furious = tk.tone == 0
    code = np.where((tk.source == SOURCE_DISCOUNT)
                    | ((t >= DISCOUNT_START) & (t < DISCOUNT_END + 5 * DAY)
                       & (rng.random(n) < 0.7)),
                    0, rng.integers(1, len(COUPON_CODES), n))
    version = np.where(t >= APP_LAUNCH, VERSIONS_BEFORE, 0) + rng.integers(0, 4, n)
    typo = rng.random(n) < _P_TYPO
    return {
        "greet": tk.by_lang(_MISC, "greet", rng.random(n)),
        "chat_greet": np.where(rng.random(n) < 0.5,
                               tk.by_lang(_MISC, "chat_greet", rng.random(n)), 0),
        "tone_first": rng.random(n) < 0.3, "sig": tk.by_lang(_MISC, "sig", rng.random(n)),
        "quote_back": rng.integers(2 * HOUR, 5 * DAY, n),
        "caps": furious & (rng.random(n) < 0.35), "bang": furious & (rng.random(n) < 0.5),
        "lower": (tk.channel == CHAT) & (rng.random(n) < 0.35), "typo": typo,
        "typo_u": rng.random((n, 7), dtype=np.float32),
        "order": rng.integers(100_000, 9_999_999, n), "amount": np.round(
            rng.lognormal(np.log(60.0), 0.8, n), 2),
        "product": rng.integers(0, len(PRODUCTS), n), "code": code,
        "device": rng.integers(0, len(DEVICES), n), "version": version,
        "days": rng.integers(2, 22, n), "carrier": rng.integers(0, len(CARRIERS), n),
        "date_back": rng.integers(1, 12, n), "last4": rng.integers(0, 10_000, n),
        "card": rng.integers(0, len(CARDS), n),
    }
