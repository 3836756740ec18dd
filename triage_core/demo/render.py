"""Rendering: a chunk of the text plan becomes the tickets' subjects and bodies.

No randomness here: every choice was drawn in :mod:`triage_core.demo.plan`. The slots of the
templates are filled with per-ticket strings (``_slot_values``); each channel lays out the
parts its own way (an e-mail has a greeting, paragraphs, a signature and maybe a quoted thread;
a chat is one line; a phone ticket is the agent's note; ...).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta

import numpy as np

from triage_core.demo import templates
from triage_core.demo.pools import (
    CARDS,
    CARRIERS,
    COUPON_CODES,
    DEVICES,
    POOLS,
    PRODUCTS,
    SLOT_INDEX,
    VERSIONS,
)
from triage_core.demo.world import (
    CHAT,
    DAY,
    EMAIL,
    END,
    EPOCH,
    FIRST_NAMES,
    HOUR,
    LANGUAGES,
    LAST_NAMES,
    PHONE,
    PLANS,
    START,
    WEB,
    Customers,
)

_CALENDAR = templates.load("calendar")
_MESSAGE = templates.load("message")
_PEOPLE = templates.load("people")
_SUBJECT_PREFIX = ("", "Re: ", "Fwd: ", "URGENT: ")
_SUPPORT_SENDER = (_MESSAGE["support_sender"]["name"], _MESSAGE["support_sender"]["address"])
_PHONE_PREFIX = _MESSAGE["phone_prefix"]
_SOCIAL_HANDLE = _MESSAGE["social"]["handle"]
_PLAN_NAMES = np.array([p.capitalize() for p in PLANS], dtype=object)
_COMPANY_ARR = np.array(("", *_PEOPLE["companies"]), dtype=object)
_COMPANY_DOMAINS = tuple(re.sub(r"[^a-z0-9]+", "", c.lower().removesuffix(" gmbh")) + ".com"
                         for c in _PEOPLE["companies"])
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e",
                           "á": "a", "í": "i", "ó": "o", "ú": "u", "ñ": "n", "ç": "c", "ï": "i"})
_DATE_FIRST_DAY = START // DAY - 16
_DATE_DAYS = END // DAY - _DATE_FIRST_DAY + 1
_EMAIL_PII = POOLS["misc"].members([("pii", lang, "email") for lang in LANGUAGES])


def _date_pool() -> np.ndarray:
    """Every day of the ticket range (and a little before) as the customer would write it."""
    out = []
    for lang in LANGUAGES:
        for k in range(_DATE_DAYS):
            d = EPOCH + timedelta(days=_DATE_FIRST_DAY + k)
            out.append(_CALENDAR["date_format"][lang].format(
                month=_CALENDAR["months"][lang][d.month - 1], d=d.day))
    return np.array(out, dtype=object)


_DATES = _date_pool()


def _quote_header(lang: str, secs: int, who: str, addr: str) -> str:
    """'On Mon, Mar 16, 2026 at 9:05 AM, {who} <{addr}> wrote:' in ``lang``'s mail program."""
    d = EPOCH + timedelta(seconds=secs)
    month = _CALENDAR["months"][lang][d.month - 1]
    return _MESSAGE["quote_header"][lang].format(
        wd=_CALENDAR["weekday_abbr"][lang][d.weekday()], mon=month[:3] if lang == "en" else month,
        d=d.day, y=d.year, h=d.hour, h12=d.hour % 12 or 12, mi=d.minute,
        ampm="AM" if d.hour < 12 else "PM", who=who, addr=addr)


def _typo(text: str, u: Sequence[float]) -> str:
    """1-3 slips of the finger: swap two neighbours, drop or double a character."""
    for k in range(1 + int(u[0] * 3)):
        if len(text) < 8:
            break
        p = 1 + int(u[1 + k] * (len(text) - 3))
        op = int(u[4 + k] * 3)
        if op == 0:
            text = text[:p] + text[p + 1] + text[p] + text[p + 2:]
        elif op == 1:
            text = text[:p] + text[p + 1:]
        else:
            text = text[:p] + text[p] + text[p:]
    return text


def _phones(lang: Sequence[int], digits: Sequence[int]) -> list[str]:
    """Phone numbers as written in each language's country (9 random digits each)."""
    phones = []
    for lg, p in zip(lang, digits, strict=True):
        if lg == 0:  # en, de, es, fr
            phones.append(f"+1 ({200 + p % 800}) 555-{p // 1000 % 10000:04d}")
        elif lg == 1:
            phones.append(f"+49 15{p % 10} {p // 10 % 10_000_000:07d}")
        elif lg == 2:
            phones.append(f"+34 6{p % 100:02d} {p // 100 % 1000:03d} {p // 100_000 % 1000:03d}")
        else:
            phones.append(f"+33 6 {p % 100:02d} {p // 100 % 100:02d} {p // 10_000 % 100:02d} "
                          f"{p // 1_000_000 % 100:02d}")
    return phones


def _emails(lang: np.ndarray, first: np.ndarray, last: np.ndarray, company: np.ndarray,
            dom: np.ndarray, need: np.ndarray) -> list[str]:
    """The customer's e-mail address where ``need`` (work address at the company or a free
    mailer's, by ``dom``); "" elsewhere."""
    emails = [""] * lang.size
    for i in np.flatnonzero(need).tolist():
        lg = LANGUAGES[lang[i]]
        f = first[i].lower().translate(_TRANSLIT)
        la = last[i].lower().translate(_TRANSLIT)
        if company[i] >= 0 and dom[i] % 2 == 0:
            emails[i] = f"{f}.{la}@{_COMPANY_DOMAINS[company[i]]}"
        else:
            domains = _PEOPLE["email_domains"][lg]
            local = f"{f}.{la}" if dom[i] % 3 else f"{f[0]}{la}{dom[i] % 100}"
            emails[i] = f"{local}@{domains[dom[i] % len(domains)]}"
    return emails


def _slot_values(sl: slice, ev: dict[str, np.ndarray], hd: dict[str, np.ndarray],
                plan: dict[str, np.ndarray], cust: Customers, need_email: np.ndarray
                ) -> list[tuple[str, ...]]:
    """Per ticket of the chunk, the slot strings in SLOTS order."""
    lang = hd["lang"][sl]
    c = ev["cust"][sl]
    euro = lang > 0
    orders = [f"#{o}" for o in plan["order"][sl].tolist()]
    amounts = [f"{a:.2f} €".replace(".", ",") if e else f"${a:.2f}"
               for a, e in zip(plan["amount"][sl].tolist(), euro.tolist(), strict=True)]
    days = [str(d) for d in plan["days"][sl].tolist()]
    date_idx = lang * _DATE_DAYS + (ev["t"][sl] // DAY - plan["date_back"][sl]
                                    - _DATE_FIRST_DAY)
    first = FIRST_NAMES[cust.first[c]]
    last = LAST_NAMES[cust.last[c]]
    company = cust.company[c]
    last4 = [f"{x:04d}" for x in plan["last4"][sl].tolist()]
    phones = _phones(lang.tolist(), cust.phone[c].tolist())
    emails = _emails(lang, first, last, company, cust.domain[c], need_email)
    return list(zip(
        orders, amounts, PRODUCTS[plan["product"][sl]].tolist(),
        COUPON_CODES[plan["code"][sl]].tolist(), DEVICES[plan["device"][sl]].tolist(),
        VERSIONS[plan["version"][sl]].tolist(), _PLAN_NAMES[cust.plan[c]].tolist(), days,
        CARRIERS[plan["carrier"][sl]].tolist(), _DATES[date_idx].tolist(), first.tolist(),
        last4, last.tolist(), _COMPANY_ARR[company + 1].tolist(), emails, phones,
        CARDS[plan["card"][sl]].tolist(), strict=True))


def render(lo: int, hi: int, ev: dict[str, np.ndarray], hd: dict[str, np.ndarray],
           plan: dict[str, np.ndarray], cust: Customers) -> tuple[list[str], list[str]]:
    """Subjects and bodies of tickets lo..hi-1."""
    sl = slice(lo, hi)
    need_email = np.isin(plan["pii"][sl], _EMAIL_PII) | plan["nested"][sl]
    args = _slot_values(sl, ev, hd, plan, cust, need_email)
    return _subjects(sl, plan, args), _bodies(sl, ev, hd, plan, args)


def _subjects(sl: slice, plan: dict[str, np.ndarray], args: list[tuple[str, ...]]
              ) -> list[str]:
    subjects = []
    subject_t = POOLS["subject"].items[plan["subject"][sl]].tolist()
    for template, p, a in zip(subject_t, plan["prefix"][sl].tolist(), args, strict=True):
        subject = template.format(*a)
        if p:  # 1 "Re: ", 2 "Fwd: ", 3 "URGENT: ", 4 all caps
            subject = subject.upper() if p == 4 else _SUBJECT_PREFIX[p] + subject
        subjects.append(subject)
    return subjects


def _bodies(sl: slice, ev: dict[str, np.ndarray], hd: dict[str, np.ndarray],
            plan: dict[str, np.ndarray], args: list[tuple[str, ...]]) -> list[str]:
    """The chunk's bodies, laid out as each channel writes them."""
    ip, dp, mp = (POOLS[k].items for k in ("issue", "detail", "misc"))
    issue_t = ip[plan["issue"][sl]].tolist()
    second_t = ip[plan["second"][sl]].tolist()
    det = [dp[plan[f"detail{j}"][sl]].tolist() for j in range(3)]
    greet_t, chat_greet, also, pii_t, tone_t, sig_t, quote = (
        mp[plan[k][sl]].tolist() for k in ("greet", "chat_greet", "also", "pii", "tone", "sig",
                                           "quote"))
    nested = plan["nested"][sl].tolist()
    context = [" ".join(x for x in pair if x) for pair in zip(
        mp[plan["context0"][sl]].tolist(), mp[plan["context1"][sl]].tolist(), strict=True)]
    flags = zip(plan["caps"][sl].tolist(), plan["bang"][sl].tolist(), plan["lower"][sl].tolist(),
                plan["typo"][sl].tolist(), plan["tone_first"][sl].tolist(), strict=True)
    typo_u = plan["typo_u"][sl]
    channel = hd["channel"][sl].tolist()
    lang = hd["lang"][sl].tolist()
    quoted_at = (ev["t"][sl] - plan["quote_back"][sl]).tolist()
    bodies: list[str] = []
    for i, (caps, bang, lower, typo, tone_first) in enumerate(flags):
        a = args[i]
        text = issue_t[i].format(*a)
        original = text
        if det[0][i]:
            text += " " + det[0][i].format(*a)
        if typo:
            text = _typo(text, typo_u[i].tolist())
        if caps:
            text = text.upper()
        if bang:
            text = text.rstrip(".?! ") + "!!!"
        if lower:
            text = text.lower()
        extra = " ".join(d[i].format(*a) for d in det[1:] if d[i])
        second = also[i] + second_t[i].format(*a) if second_t[i] else ""
        pii = pii_t[i].format(*a) if pii_t[i] else ""
        tone = tone_t[i].format(*a) if tone_t[i] else ""
        ctx = context[i].format(*a) if context[i] else ""
        ch = channel[i]
        lg = LANGUAGES[lang[i]]
        if ch == EMAIL:
            # Greeting, paragraphs, signature, maybe the quoted thread.
            paras = [greet_t[i].format(*a)] if greet_t[i] else []
            if ctx:
                paras.append(ctx)
            paras.append(f"{tone} {text}" if tone and tone_first else text)
            paras.extend(x for x in (extra, second, pii) if x)
            if tone and not tone_first:
                paras.append(tone)
            paras.append(sig_t[i].format(*a).rstrip())
            body = "\n\n".join(paras)
            if quote[i]:
                body += _quoted_thread(lg, quoted_at[i], quote[i], nested[i], a, original)
        elif ch == CHAT:  # one line
            body = " ".join(x for x in (chat_greet[i], text, pii, tone) if x)
        elif ch == PHONE:  # the agent's note of what the caller said
            body = _PHONE_PREFIX[lg] + " ".join(x for x in (text, extra, pii, tone) if x)
        elif ch == WEB:  # a form: one or two paragraphs
            head = " ".join(x for x in (ctx, text, extra) if x)
            tail = " ".join(x for x in (second, pii, tone) if x)
            body = f"{head}\n\n{tail}" if tail and extra else f"{head} {tail}".rstrip()
        else:  # social: short and public
            body = _SOCIAL_HANDLE + " ".join(x for x in (text, tone) if x)
        bodies.append(body)
    return bodies


def _quoted_thread(lang: str, at: int, reply: str, nested: bool, a: tuple[str, ...],
                   original: str) -> str:
    """Support's earlier reply, quoted under the e-mail; ``nested``: the reply quotes the
    customer's first mail (its issue sentence) in turn."""
    out = "\n\n" + _quote_header(lang, at, *_SUPPORT_SENDER) + "\n" + reply
    if nested:
        who = f"{a[SLOT_INDEX['name']]} {a[SLOT_INDEX['last']]}"
        header = _quote_header(lang, at - 3 * HOUR, who, a[SLOT_INDEX["email"]])
        out += f"\n>\n> {header}\n>> {original}"
    return out
