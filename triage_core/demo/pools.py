"""The demo text templates compiled into pools a ticket's parts are chosen from, and the values
its slots are filled with.

Each pool (``subject``, ``issue``, ``detail``, ``misc``) holds the templates of many keys, e.g.
``("cat", "en", "billing")`` or ``("tone", "de", "0")``, one after the other, so that the choice
for every ticket is a vectorized offset + floor(u * size) (:func:`choose`). Slots in braces are
compiled to positions in :data:`SLOTS` for a fast ``str.format(*slot_values)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from triage_core.demo import templates
from triage_core.demo.world import CATEGORIES, DISCOUNT_CODE, LANGUAGES, TONES

# Every slot a template may use, in the order render.slot_values fills them.
SLOTS = ("order", "amount", "product", "code", "device", "version", "plan", "days", "carrier",
         "date", "name", "last4", "last", "company", "email", "phone", "card")
SLOT_INDEX = {name: i for i, name in enumerate(SLOTS)}
_SLOT_RE = re.compile(r"\{(\w+)\}")


def _compile(template: str) -> str:
    """'{order} was {amount}' -> '{0} was {1}': positional slots for a fast str.format(*slots)."""
    return _SLOT_RE.sub(lambda m: "{" + str(SLOT_INDEX[m.group(1)]) + "}", template)


class Pool:
    """A flat array of compiled templates; ``key -> (offset, size)``. Item 0 is "" (= none)."""

    def __init__(self) -> None:
        self._items: list[str] = [""]
        self.index: dict[tuple[str, ...], tuple[int, int]] = {}

    def add(self, key: tuple[str, ...], texts: Sequence[str]) -> None:
        if not texts:
            raise ValueError(f"empty template pool {key}")
        self.index[key] = (len(self._items), len(texts))
        self._items.extend(_compile(t) for t in texts)

    def grid(self, keys: Callable[[int, int], tuple[str, ...]], rows: int, cols: int
             ) -> tuple[np.ndarray, np.ndarray]:
        """Offset and size arrays (rows x cols) for vectorized choice."""
        off = np.zeros((rows, cols), dtype=np.int64)
        size = np.zeros((rows, cols), dtype=np.int64)
        for r in range(rows):
            for c in range(cols):
                off[r, c], size[r, c] = self.index[keys(r, c)]
        return off, size

    def members(self, keys: Sequence[tuple[str, ...]]) -> np.ndarray:
        """Every pool index that belongs to one of ``keys``."""
        return np.array(sorted(i for key in keys
                               for i in range(self.index[key][0], sum(self.index[key]))))

    def freeze(self) -> None:
        self.items = np.array(self._items, dtype=object)


def choose(u: np.ndarray, off: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Pool index offset + floor(u * size), elementwise."""
    return off + np.minimum((u * size).astype(np.int64), size - 1)


def _quoted(reply: str) -> str:
    """An agent's reply as the customer's mail program quotes it."""
    return "\n".join("> " + line if line else ">" for line in reply.split("\n"))


def _build_pools() -> dict[str, Pool]:
    subjects, issues = templates.load("subjects"), templates.load("issues")
    details, message = templates.load("details"), templates.load("message")
    subj, issue, detail, misc = Pool(), Pool(), Pool(), Pool()
    for lang in LANGUAGES:
        for cat in CATEGORIES:
            subj.add(("cat", lang, cat), subjects["by_category"][lang][cat])
            issue.add(("cat", lang, cat), issues["by_category"][lang][cat])
            detail.add(("cat", lang, cat), details["by_category"][lang][cat])
        for key in ("generic", "chat", "phone", "social"):
            subj.add((key, lang), subjects[key][lang])
        issue.add(("vague", lang), issues["vague"][lang])
        misc.add(("greet", lang), message["greetings"][lang])
        misc.add(("chat_greet", lang), message["chat_greetings"][lang])
        for level, tone in enumerate(TONES):
            misc.add(("tone", lang, str(level)), message["tones"][lang][tone])
        misc.add(("waiting", lang), message["waiting"][lang])
        misc.add(("also", lang), message["also"][lang])
        misc.add(("context", lang), message["context"][lang])
        misc.add(("sig", lang), message["signatures"][lang])
        misc.add(("quote", lang), tuple(_quoted(r) for r in message["agent_replies"][lang]))
        for kind, sentences in message["pii"][lang].items():
            misc.add(("pii", lang, kind), sentences)
    for cat in CATEGORIES:  # an ambiguous sentence serves both its categories
        issue.add(("ambiguous", cat),
                  tuple(a["text"] for a in issues["ambiguous"] if cat in a["categories"]))
    for cat, texts in issues["incident"].items():
        issue.add(("incident", cat), texts)
    pools = {"subject": subj, "issue": issue, "detail": detail, "misc": misc}
    for p in pools.values():
        p.freeze()
    return pools


POOLS = _build_pools()

# What the {product}, {code}, {device}, {version}, {carrier} and {card} slots are filled with
# (the plan draws an index per ticket). Code 0 is the Spring Sale's; versions after the
# VERSIONS_BEFORE first ones are the App 5.0 releases.
_VALUES = templates.load("slots")
PRODUCTS = np.array(_VALUES["products"], dtype=object)
COUPON_CODES = np.array((DISCOUNT_CODE, *_VALUES["other_coupon_codes"]), dtype=object)
DEVICES = np.array(_VALUES["devices"], dtype=object)
VERSIONS_BEFORE = len(_VALUES["versions_before"])
VERSIONS = np.array(_VALUES["versions_before"] + _VALUES["versions_after"], dtype=object)
CARRIERS = np.array(_VALUES["carriers"], dtype=object)
CARDS = np.array(_VALUES["cards"], dtype=object)
