"""The numeric demo world: customers, campaigns, agents, touchpoints, and every ticket's events
and handling (who writes when about what, how fast it is answered and by whom).

Everything is drawn with numpy from seeded generators, in a fixed order: the order of the draws
is part of the data (reordering them changes every file). The text of the tickets is drawn in
:mod:`triage_core.demo.plan` and written in :mod:`triage_core.demo.render`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa

from triage_core.demo import templates

CATEGORIES = (
    "billing", "refund", "coupon_promo", "account_access", "app_crash",
    "shipping_delivery", "cancellation", "product_question", "feature_request", "security_fraud",
)
SEGMENTS = ("consumer", "smb", "enterprise", "vip")
SOURCE_PRIORITIES = ("Low", "Normal", "High", "Urgent")
_SOLVED = 4  # status codes index TICKET_STATUSES: new, open, pending, on_hold, solved, closed
PLANS = ("free", "basic", "pro", "business", "enterprise")
LANGUAGES = ("en", "de", "es", "fr")
TICKET_CHANNELS = ("email", "chat", "phone", "web", "social")
EMAIL, CHAT, PHONE, WEB, SOCIAL = range(len(TICKET_CHANNELS))
CONSUMER, SMB, ENTERPRISE, VIP = range(len(SEGMENTS))
TOUCH_KINDS = ("impression", "click", "open", "visit", "signup", "purchase")
TEAMS = ("billing_team", "tech_support", "logistics", "customer_success", "trust_safety",
         "vip_desk")
CATEGORY_TEAM = {
    "billing": "billing_team", "refund": "billing_team", "coupon_promo": "billing_team",
    "account_access": "tech_support", "app_crash": "tech_support",
    "shipping_delivery": "logistics", "cancellation": "customer_success",
    "product_question": "customer_success", "feature_request": "customer_success",
    "security_fraud": "trust_safety",
}

# Fixed calendar (not relative to today). TICKETS_UNTIL is exclusive and is also the "now" of the
# snapshot: statuses, response and resolution times are as seen at that moment.
TICKETS_FROM = datetime(2026, 1, 1)
TICKETS_UNTIL = datetime(2026, 7, 1)
INCIDENT_FROM = datetime(2026, 4, 21, 6)
INCIDENT_UNTIL = datetime(2026, 4, 23, 18)
DISCOUNT_CAMPAIGN_IDS = ("CMP08", "CMP09")
APP_RELEASE_CAMPAIGN_IDS = ("CMP14", "CMP15")
DISCOUNT_CODE = "SPRING40"

# Shares of all tickets that come from the causal stories (the rest is the everyday baseline).
_DISCOUNT_SHARE = 0.05
_APP_SHARE = 0.04
_INCIDENT_SHARE = 0.035
_LABEL_SHARE = 0.85  # solved/closed tickets that carry a category label
_LABEL_NOISE = 0.025  # labels an agent got wrong (a related category)
_CSAT_SHARE = 0.35
_P_OVERLOOKED = 0.05  # tickets that sit in the queue much longer before a first answer
_P_STALLED = 0.12  # tickets that wait on the customer or another team before they are solved
_TOUCH_BLOCK = 50_000  # customers per touchpoint block (fixed: the data must not depend on it)

# =============================================================================================
# World parameters (data)
# =============================================================================================

_SEGMENT_SHARE = (0.72, 0.18, 0.06, 0.04)
_SEGMENT_PLAN = (  # rows: segment; columns: PLANS
    (0.45, 0.35, 0.20, 0.00, 0.00),
    (0.00, 0.25, 0.50, 0.25, 0.00),
    (0.00, 0.00, 0.10, 0.35, 0.55),
    (0.00, 0.00, 0.45, 0.45, 0.10),
)
_SEGMENT_LTV = ((4.7, 1.1), (6.3, 1.0), (8.6, 0.9))  # lognormal (mu, sigma); vip is Pareto
_SEGMENT_ACTIVITY = (1.0, 1.3, 2.0, 2.2)  # relative tickets per customer
_SEGMENT_TOUCHED = (0.62, 0.70, 0.75, 0.70)  # share of customers with a campaign journey
_LANGUAGE_SHARE = (0.88, 0.05, 0.04, 0.03)
_SEGMENT_CATEGORY = (  # rows: segment; columns: CATEGORIES
    (0.12, 0.12, 0.08, 0.11, 0.10, 0.18, 0.08, 0.11, 0.05, 0.05),
    (0.15, 0.09, 0.05, 0.12, 0.11, 0.12, 0.08, 0.12, 0.09, 0.07),
    (0.16, 0.06, 0.02, 0.17, 0.12, 0.06, 0.07, 0.10, 0.11, 0.13),
    (0.14, 0.10, 0.04, 0.17, 0.09, 0.08, 0.06, 0.08, 0.06, 0.18),
)
_SEGMENT_CHANNEL = (  # rows: segment; columns: TICKET_CHANNELS
    (0.40, 0.25, 0.05, 0.20, 0.10),
    (0.50, 0.20, 0.08, 0.20, 0.02),
    (0.60, 0.10, 0.15, 0.15, 0.00),
    (0.50, 0.15, 0.25, 0.10, 0.00),
)
# Mood shift (negative = angrier) added to a standard normal; cut into 5 tones.
_SEGMENT_MOOD = (0.0, -0.1, -0.3, -0.45)
_CATEGORY_MOOD = (-0.15, -0.2, -0.05, -0.2, -0.3, -0.2, -0.1, 0.4, 0.5, -0.4)
_TONE_CUTS = (-1.555, -0.643, 0.706, 1.476)  # between the TONES
TONES = ("furious", "angry", "neutral", "positive", "delighted")
_WEEKDAY_VOLUME = (1.3, 1.1, 1.05, 1.0, 0.9, 0.5, 0.45)  # Monday .. Sunday
_HOUR_VOLUME = (0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.7, 1.0, 1.2, 1.25, 1.2,
                1.05, 1.1, 1.15, 1.1, 1.0, 0.9, 0.75, 0.6, 0.5, 0.4, 0.3, 0.2)
# Handling: first response (minutes, lognormal median) and resolution (hours after it).
_FIRST_RESPONSE_MIN = 50.0
_SEGMENT_SPEED = (1.0, 0.9, 0.6, 0.4)
_CHANNEL_SPEED = (1.0, 0.05, 0.01, 1.0, 0.7)
_CATEGORY_RESOLVE_H = (15, 45, 9, 8, 30, 60, 12, 6, 72, 36)
_TEAM_SIZES = (8, 9, 6, 8, 4, 5)
_TEAM_SKILLS = (
    ("billing", "refund", "coupon_promo"),
    ("app_crash", "account_access"),
    ("shipping_delivery", "refund"),
    ("product_question", "feature_request", "cancellation"),
    ("security_fraud", "account_access"),
    ("vip", "billing", "refund", "account_access", "security_fraud", "app_crash"),
)
_EXTRA_SKILLS = ("cancellation", "product_question", "refund", "billing", "feature_request")
# What the stories' tickets are about.
_DISCOUNT_MIX = {"coupon_promo": 0.6, "billing": 0.25, "refund": 0.15}
_APP_MIX = {"app_crash": 0.8, "account_access": 0.2}
_INCIDENT_MIX = {"app_crash": 0.55, "account_access": 0.45}
_LABEL_CONFUSION = {  # category -> a related category an agent might pick instead
    "billing": "refund", "refund": "billing", "coupon_promo": "billing",
    "account_access": "security_fraud", "app_crash": "account_access",
    "shipping_delivery": "refund", "cancellation": "refund",
    "product_question": "feature_request", "feature_request": "product_question",
    "security_fraud": "account_access",
}

# Campaigns: id, name, channel, utm_source, utm_medium, utm_campaign, start, end (None = still
# running), spend, return on ad spend, reach (relative share of touches).
CAMPAIGN_SPECS = (
    ("CMP01", "New Year Newsletter", "email", "newsletter", "email", "new_year_2026",
     "2026-01-02 09:00", "2026-01-09 23:59", 1800, 6.0, 1.0),
    ("CMP02", "Winter Search - Brand", "paid_search", "google", "cpc", "brand_winter",
     "2025-12-01 00:00", "2026-02-28 23:59", 42000, 3.1, 1.2),
    ("CMP03", "Winter Search - Generic", "paid_search", "google", "cpc", "generic_winter",
     "2026-01-05 00:00", "2026-03-15 23:59", 58000, 1.6, 1.0),
    ("CMP04", "January Retargeting", "display", "gdn", "display", "retargeting_jan",
     "2026-01-10 00:00", "2026-02-10 23:59", 15000, 2.2, 0.9),
    ("CMP05", "Valentine's Gift Guide", "paid_social", "instagram", "paid_social",
     "valentines_2026", "2026-02-01 08:00", "2026-02-14 23:59", 22000, 2.4, 0.8),
    ("CMP06", "Affiliate - TechReview Blog", "affiliate", "techreview", "affiliate",
     "techreview_2026", "2026-01-15 00:00", None, 9000, 3.5, 0.4),
    ("CMP07", "Webinar: Getting Started", "webinar", "zoom", "webinar", "getting_started_feb",
     "2026-02-18 16:00", "2026-02-25 23:59", 2500, 4.0, 0.15),
    ("CMP08", "Spring Sale 40% off", "email", "newsletter", "email", "spring_sale_40",
     "2026-03-16 09:00", "2026-03-29 23:59", 3500, 14.0, 1.6),
    ("CMP09", "Spring Sale 40% off - Social", "paid_social", "facebook", "paid_social",
     "spring_sale_40", "2026-03-16 09:00", "2026-03-29 23:59", 26000, 3.8, 1.0),
    ("CMP10", "Refer a Friend", "referral", "referral", "referral", "refer_a_friend",
     "2026-01-01 00:00", None, 12000, 2.9, 0.35),
    ("CMP11", "Spring Search - Generic", "paid_search", "google", "cpc", "generic_spring",
     "2026-03-01 00:00", "2026-05-31 23:59", 61000, 1.5, 1.0),
    ("CMP12", "Display Prospecting Q2", "display", "dv360", "display", "prospecting_q2",
     "2026-04-01 00:00", "2026-06-30 23:59", 24000, 0.9, 1.1),
    ("CMP13", "Webinar: Security Best Practices", "webinar", "zoom", "webinar",
     "security_webinar", "2026-04-08 17:00", "2026-04-15 23:59", 3000, 2.0, 0.12),
    ("CMP14", "App 5.0 launch", "email", "newsletter", "email", "app_5_launch",
     "2026-05-05 10:00", "2026-05-31 23:59", 2200, 5.0, 1.4),
    ("CMP15", "App 5.0 launch - App Store Ads", "paid_search", "apple_search_ads", "cpc",
     "app_5_launch", "2026-05-05 10:00", "2026-06-15 23:59", 18000, 2.1, 0.7),
    ("CMP16", "Mother's Day Gifts", "paid_social", "instagram", "paid_social",
     "mothers_day_2026", "2026-04-25 08:00", "2026-05-10 23:59", 21000, 2.6, 0.8),
    ("CMP17", "Affiliate - Coupon Sites", "affiliate", "couponfollow", "affiliate",
     "coupon_sites", "2026-02-01 00:00", "2026-06-30 23:59", 7000, 4.2, 0.5),
    ("CMP18", "Bing Search - Brand", "paid_search", "bing", "cpc", "brand_bing",
     "2026-01-01 00:00", "2026-06-30 23:59", 8000, 3.9, 0.5),
    ("CMP19", "Customer Newsletter - April", "email", "newsletter", "email", "newsletter_apr",
     "2026-04-02 09:00", "2026-04-09 23:59", 1500, 5.5, 1.0),
    ("CMP20", "Customer Newsletter - June", "email", "newsletter", "email", "newsletter_jun",
     "2026-06-03 09:00", "2026-06-10 23:59", 1500, 5.0, 1.0),
    ("CMP21", "Summer Preview", "paid_social", "tiktok", "paid_social", "summer_preview",
     "2026-06-08 08:00", None, 19000, 1.8, 0.7),
    ("CMP22", "Enterprise ABM - LinkedIn", "paid_social", "linkedin", "paid_social",
     "abm_enterprise", "2026-02-15 00:00", "2026-05-15 23:59", 35000, 2.8, 0.3),
    ("CMP23", "Partner Webinar: Integrations", "webinar", "zoom", "webinar",
     "integrations_webinar", "2026-05-20 16:00", "2026-05-27 23:59", 2800, 3.0, 0.12),
    ("CMP24", "Win-back Email", "email", "newsletter", "email", "winback_feb",
     "2026-02-10 09:00", "2026-02-24 23:59", 1200, 7.5, 0.8),
    ("CMP25", "YouTube Pre-roll", "display", "youtube", "video", "yt_preroll_spring",
     "2026-03-20 00:00", "2026-04-30 23:59", 30000, 0.7, 1.0),
)
# Campaigns aimed at business customers: reach multiplier per segment.
_CAMPAIGN_SEGMENT_BOOST = {
    "CMP22": (0.1, 6.0, 8.0, 6.0),
    "CMP07": (0.5, 2.5, 3.0, 2.0),
    "CMP13": (0.5, 2.5, 3.0, 2.0),
    "CMP23": (0.5, 2.5, 3.0, 2.0),
}
_CAMPAIGN_CHANNELS = ("email", "paid_search", "paid_social", "display", "affiliate", "webinar",
                      "referral")
_KIND_BY_CHANNEL = (  # rows: _CAMPAIGN_CHANNELS; columns: TOUCH_KINDS
    (0.00, 0.30, 0.60, 0.05, 0.00, 0.05),
    (0.45, 0.35, 0.00, 0.15, 0.00, 0.05),
    (0.55, 0.30, 0.00, 0.10, 0.03, 0.02),
    (0.80, 0.15, 0.00, 0.05, 0.00, 0.00),
    (0.00, 0.50, 0.00, 0.30, 0.00, 0.20),
    (0.00, 0.00, 0.00, 0.40, 0.60, 0.00),
    (0.00, 0.00, 0.00, 0.40, 0.35, 0.25),
)
_EMAIL_DECAY_DAYS = 1.2  # email touches: truncated exponential after the send

# =============================================================================================
# Time and random draws
# =============================================================================================

EPOCH = datetime(1970, 1, 1)
DAY = 86_400
HOUR = 3_600


def epoch_secs(value: datetime | str) -> int:
    """Naive UTC datetime (or 'YYYY-MM-DD HH:MM') -> seconds since the epoch."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return int((value - EPOCH).total_seconds())


START = epoch_secs(TICKETS_FROM)
END = epoch_secs(TICKETS_UNTIL)
INC_START = epoch_secs(INCIDENT_FROM)
INC_END = epoch_secs(INCIDENT_UNTIL)
_CAMPAIGN_BY_ID = {c[0]: c for c in CAMPAIGN_SPECS}
_CAMPAIGN_BY_ID_INDEX = {c[0]: i for i, c in enumerate(CAMPAIGN_SPECS)}
DISCOUNT_START = epoch_secs(_CAMPAIGN_BY_ID[DISCOUNT_CAMPAIGN_IDS[0]][6])
DISCOUNT_END = epoch_secs(_CAMPAIGN_BY_ID[DISCOUNT_CAMPAIGN_IDS[0]][7])
APP_LAUNCH = epoch_secs(_CAMPAIGN_BY_ID[APP_RELEASE_CAMPAIGN_IDS[0]][6])
NEVER = np.iinfo(np.int64).max


def pick(rng: np.random.Generator, weights: Sequence[float] | np.ndarray, size: int
         ) -> np.ndarray:
    """Draw ``size`` indices with probability proportional to ``weights``."""
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    idx = np.searchsorted(cum, rng.random(size) * cum[-1], side="right")
    return np.minimum(idx, len(cum) - 1)


def pick_rows(rng: np.random.Generator, table: Sequence[Sequence[float]] | np.ndarray,
              rows: np.ndarray) -> np.ndarray:
    """Per element, draw a column of ``table[rows[i]]`` (rows are probability vectors)."""
    t = np.asarray(table, dtype=np.float64)
    cum = np.cumsum(t / t.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(rows.size)
    out = np.zeros(rows.size, dtype=np.int64)
    for k in range(t.shape[1] - 1):  # few columns: count thresholds passed, no n x k matrix
        out += u >= cum[rows, k]
    return out


def _pick_categories(rng: np.random.Generator, mix: Mapping[str, float], size: int
                     ) -> np.ndarray:
    """Category indices drawn from ``{category: probability}``."""
    codes = np.array([CATEGORIES.index(k) for k in mix])
    return codes[pick(rng, list(mix.values()), size)]


def _day_of_week(t: np.ndarray) -> np.ndarray:
    """Monday = 0 (1970-01-01 was a Thursday)."""
    return (t // DAY + 3) % 7


# =============================================================================================
# Customers
# =============================================================================================

_PEOPLE = templates.load("people")


@dataclass
class Customers:
    ids: pa.Array
    created: np.ndarray  # seconds
    segment: np.ndarray
    plan: np.ndarray
    ltv: np.ndarray
    lang: np.ndarray
    first: np.ndarray  # index into FIRST_NAMES
    last: np.ndarray  # index into LAST_NAMES
    company: np.ndarray  # index into the companies (templates "people"), -1 for consumers
    domain: np.ndarray  # index into the language's e-mail domains
    phone: np.ndarray  # 9 random digits
    weight: np.ndarray  # ticket propensity

    def __len__(self) -> int:
        return self.created.size


# Every language's names, one after the other; _FIRST_OFF[lang] is where a language starts.
FIRST_NAMES = np.array([n for lang in LANGUAGES for n in _PEOPLE["first_names"][lang]],
                       dtype=object)
LAST_NAMES = np.array([n for lang in LANGUAGES for n in _PEOPLE["last_names"][lang]],
                      dtype=object)
_FIRST_OFF = np.cumsum([0] + [len(_PEOPLE["first_names"][lang]) for lang in LANGUAGES])
_LAST_OFF = np.cumsum([0] + [len(_PEOPLE["last_names"][lang]) for lang in LANGUAGES])


def make_customers(rng: np.random.Generator, n: int) -> Customers:
    width = max(6, len(str(n)))
    ids = pa.array([f"CU{i:0{width}d}" for i in range(1, n + 1)], type=pa.string())
    segment = pick(rng, _SEGMENT_SHARE, n)
    old = rng.random(n) < 0.88
    history_start, history_end = epoch_secs("2021-01-01"), START
    created = np.where(
        old,
        history_start + (history_end - history_start) * rng.random(n) ** 0.7,
        START + (END - 5 * DAY - START) * rng.random(n),
    ).astype(np.int64)
    plan = pick_rows(rng, _SEGMENT_PLAN, segment)
    ltv = np.empty(n)
    for s, (mu, sigma) in enumerate(_SEGMENT_LTV):
        m = segment == s
        ltv[m] = rng.lognormal(mu, sigma, int(m.sum()))
    vip = segment == VIP
    ltv[vip] = 3000.0 * (1.0 + rng.pareto(1.3, int(vip.sum())))
    ltv = np.round(ltv, 2)
    lang = pick(rng, _LANGUAGE_SHARE, n)
    first_size = np.diff(_FIRST_OFF)[lang]
    last_size = np.diff(_LAST_OFF)[lang]
    first = _FIRST_OFF[lang] + (rng.random(n) * first_size).astype(np.int64)
    last = _LAST_OFF[lang] + (rng.random(n) * last_size).astype(np.int64)
    company = np.where(segment == CONSUMER, -1, rng.integers(0, len(_PEOPLE["companies"]), n))
    domain = rng.integers(0, 1_000_000, n)
    phone = rng.integers(100_000_000, 999_999_999, n)
    activity = np.asarray(_SEGMENT_ACTIVITY)[segment]
    weight = rng.gamma(0.5, 1.0, n) * activity
    return Customers(ids, created, segment, plan, ltv, lang, first, last, company, domain,
                     phone, weight)


# =============================================================================================
# Campaigns
# =============================================================================================


@dataclass
class Campaigns:
    ids: tuple[str, ...]
    start: np.ndarray
    end: np.ndarray  # effective end for touches (running campaigns: the snapshot)
    channel: np.ndarray  # index into _CAMPAIGN_CHANNELS
    reach: np.ndarray  # (segments x campaigns) touch weights
    spend: np.ndarray
    revenue: np.ndarray


def make_campaigns(rng: np.random.Generator) -> Campaigns:
    specs = CAMPAIGN_SPECS
    k = len(specs)
    start = np.array([epoch_secs(c[6]) for c in specs], dtype=np.int64)
    end = np.array([epoch_secs(c[7]) if c[7] else END - 1 for c in specs], dtype=np.int64)
    channel = np.array([_CAMPAIGN_CHANNELS.index(c[2]) for c in specs])
    reach = np.tile(np.array([c[10] for c in specs], dtype=np.float64), (4, 1))
    for j, c in enumerate(specs):
        if c[0] in _CAMPAIGN_SEGMENT_BOOST:
            reach[:, j] *= _CAMPAIGN_SEGMENT_BOOST[c[0]]
    spend = np.round(np.array([c[8] for c in specs]) * rng.uniform(0.9, 1.1, k), 2)
    revenue = np.round(spend * np.array([c[9] for c in specs]) * rng.uniform(0.85, 1.15, k), 2)
    return Campaigns(tuple(c[0] for c in specs), start, np.minimum(end, END - 1),
                     channel, reach, spend, revenue)


# =============================================================================================
# Agents
# =============================================================================================


@dataclass
class Agents:
    ids: pa.Array
    team: np.ndarray
    speaks: np.ndarray  # (agents x languages) bool
    capacity: np.ndarray
    rows: dict[str, list[str]]


def make_agents(rng: np.random.Generator) -> Agents:
    team = np.repeat(np.arange(len(TEAMS)), _TEAM_SIZES)
    n = team.size
    speaks = np.zeros((n, len(LANGUAGES)), dtype=bool)
    speaks[:, 0] = True
    speaks[:, 1:] = rng.random((n, 3)) < (0.2, 0.15, 0.12)
    for t in range(len(TEAMS)):  # every team can answer every language
        members = np.flatnonzero(team == t)
        for lang in range(1, len(LANGUAGES)):
            if not speaks[members, lang].any():
                speaks[members[rng.integers(0, members.size)], lang] = True
    capacity = np.where(team == TEAMS.index("vip_desk"), rng.integers(5, 13, n),
                        rng.integers(8, 26, n))
    first_team_member = np.r_[True, team[1:] != team[:-1]]
    senior = (team == TEAMS.index("vip_desk")) | first_team_member
    ids = [f"AG{i:03d}" for i in range(1, n + 1)]
    names, skills = [], []
    for i in range(n):
        lang = LANGUAGES[int(rng.choice(np.flatnonzero(speaks[i])))]
        firsts, lasts = _PEOPLE["first_names"][lang], _PEOPLE["last_names"][lang]
        first = firsts[int(rng.integers(0, len(firsts)))]
        last = lasts[int(rng.integers(0, len(lasts)))]
        names.append(f"{first} {last}")
        own = list(_TEAM_SKILLS[team[i]])
        extra = [s for s in _EXTRA_SKILLS if s not in own]
        if rng.random() < 0.3:
            own.append(extra[int(rng.integers(0, len(extra)))])
        skills.append(";".join(own))
    rows = {
        "agent_id": ids,
        "name": names,
        "team": [TEAMS[t] for t in team],
        "skills": skills,
        "languages": [";".join(LANGUAGES[j] for j in np.flatnonzero(s)) for s in speaks],
        "capacity": [str(c) for c in capacity.tolist()],
        "senior": [str(int(s)) for s in senior],
    }
    return Agents(pa.array(ids, type=pa.string()), team, speaks, capacity, rows)


# =============================================================================================
# Touchpoints
# =============================================================================================


@dataclass
class TouchBlock:
    """The touches of a block of customers, sorted by customer, time, campaign and kind."""

    hi: int  # customers before this index have their journeys drawn
    owner: np.ndarray  # customer index
    campaign: np.ndarray  # campaign index
    t: np.ndarray  # seconds
    kind: np.ndarray  # index into TOUCH_KINDS


def touch_blocks(seed: int, cust: Customers, camp: Campaigns, touches: tuple[int, int]
                 ) -> Iterator[TouchBlock]:
    """Every customer's campaign journey, _TOUCH_BLOCK customers at a time (one random stream
    per block, so a million customers never need all their touches in memory at once)."""
    n = len(cust)
    for block, lo in enumerate(range(0, n, _TOUCH_BLOCK)):
        hi = min(n, lo + _TOUCH_BLOCK)
        rng = np.random.default_rng([seed, 2, block])
        yield TouchBlock(hi, *_touch_block(rng, lo, hi, cust, camp, touches))


def _touch_block(rng: np.random.Generator, lo: int, hi: int, cust: Customers,
                 camp: Campaigns, touches: tuple[int, int]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Journeys of customers lo..hi-1: (customer, campaign, time, kind), sorted per customer."""
    m = hi - lo
    seg = cust.segment[lo:hi]
    k_lo, k_hi = touches
    journey = rng.random(m) < np.asarray(_SEGMENT_TOUCHED)[seg]
    k = k_lo + np.floor((k_hi - k_lo + 1) * rng.random(m) ** 1.6).astype(np.int64)
    k = np.where(journey, np.minimum(k, k_hi), 0)
    owner = np.repeat(np.arange(lo, hi), k)
    ci = pick_rows(rng, camp.reach, cust.segment[owner])
    start, span = camp.start[ci], (camp.end - camp.start)[ci].astype(np.float64)
    u = rng.random(owner.size)
    decay = _EMAIL_DECAY_DAYS * DAY
    email = camp.channel[ci] == _CAMPAIGN_CHANNELS.index("email")
    offset = np.where(email, -decay * np.log1p(-u * (1.0 - np.exp(-span / decay))), u * span)
    t = np.minimum(start + offset.astype(np.int64), END - 1)
    kind = pick_rows(rng, _KIND_BY_CHANNEL, camp.channel[ci])
    order = np.lexsort((kind, t, ci, owner))  # drop exact duplicates of the table key
    owner, ci, t, kind = owner[order], ci[order], t[order], kind[order]
    dup = np.zeros(owner.size, dtype=bool)
    dup[1:] = ((owner[1:] == owner[:-1]) & (ci[1:] == ci[:-1]) & (t[1:] == t[:-1])
               & (kind[1:] == kind[:-1]))
    keep = ~dup
    owner, ci, t, kind = owner[keep], ci[keep], t[keep], kind[keep]
    order = np.lexsort((kind, ci, t, owner))
    return owner[order], ci[order], t[order], kind[order]


STORY_CAMPAIGN_IDS = DISCOUNT_CAMPAIGN_IDS + APP_RELEASE_CAMPAIGN_IDS


@dataclass
class FirstTouches:
    """Each customer's first touch by each story campaign (seconds; ``NEVER`` when untouched):
    the tickets a story campaign causes follow it."""

    first: dict[str, np.ndarray]

    @classmethod
    def untouched(cls, n: int) -> FirstTouches:
        return cls({c: np.full(n, NEVER, dtype=np.int64) for c in STORY_CAMPAIGN_IDS})

    def record(self, block: TouchBlock, camp: Campaigns) -> None:
        """Take the touches of ``block`` into account."""
        for cid, first in self.first.items():
            m = block.campaign == camp.ids.index(cid)
            np.minimum.at(first, block.owner[m], block.t[m])

    def exposures(self, ids: Sequence[str], cust: Customers
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(customer, campaign index, first touch) of every customer an ``ids`` campaign touched
        while a customer (a prospect touched before signing up has no story ticket) and early
        enough for its tickets to come before the snapshot."""
        cs, ks, ts = [], [], []
        for cid in ids:
            t = self.first[cid]
            c = np.flatnonzero((t < END - 2 * DAY) & (t > cust.created))
            cs.append(c)
            ks.append(np.full(c.size, _CAMPAIGN_BY_ID_INDEX[cid]))
            ts.append(t[c])
        return np.concatenate(cs), np.concatenate(ks), np.concatenate(ts)


# =============================================================================================
# Tickets: who writes when about what (all scalar columns, for every ticket at once)
# =============================================================================================

SOURCE_BASE, SOURCE_DISCOUNT, SOURCE_APP, SOURCE_INCIDENT = range(4)


def _story(rng: np.random.Generator, first: FirstTouches, ids: Sequence[str], cust: Customers,
           n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` story tickets: each one caused by one campaign's touch of one customer, drawn
    evenly over those (customer, campaign) exposures, so a customer two story campaigns touched
    writes twice as many. Returns (customer, causing campaign index, touch time)."""
    c, k, t = first.exposures(ids, cust)
    pick_ = rng.integers(0, max(c.size, 1), n)
    return c[pick_], k[pick_], t[pick_]


def ticket_events(rng: np.random.Generator, n: int, cust: Customers, first: FirstTouches
                  ) -> dict[str, np.ndarray]:
    """created_at, customer, category, story source and causing campaign (index into
    CAMPAIGN_SPECS, -1 for none) of every ticket, sorted by time."""
    old = np.flatnonzero(cust.created < START - DAY)
    if old.size == 0:
        old = np.arange(len(cust))
    has_disc = first.exposures(DISCOUNT_CAMPAIGN_IDS, cust)[0].size > 0
    has_app = first.exposures(APP_RELEASE_CAMPAIGN_IDS, cust)[0].size > 0
    n_disc = round(n * _DISCOUNT_SHARE) if has_disc else 0
    n_app = round(n * _APP_SHARE) if has_app else 0
    n_inc = round(n * _INCIDENT_SHARE)
    n_base = n - n_disc - n_app - n_inc
    if n_base < 0:  # tiny n: baseline only
        n_disc = n_app = n_inc = 0
        n_base = n

    # Baseline: weekly and daily cycle, slow growth; customers by propensity.
    n_days = (END - START) // DAY
    days = np.arange(n_days)
    day_w = (np.asarray(_WEEKDAY_VOLUME)[_day_of_week(START + days * DAY)]
             * (1.0 + 0.25 * days / n_days) * rng.lognormal(0.0, 0.1, n_days))
    t_base = (START + pick(rng, day_w, n_base) * DAY + pick(rng, _HOUR_VOLUME, n_base) * HOUR
              + rng.integers(0, HOUR, n_base))
    c_base = pick(rng, cust.weight, n_base)
    too_new = cust.created[c_base] > t_base - HOUR
    c_base[too_new] = old[pick(rng, cust.weight[old], int(too_new.sum()))]
    cat_base = pick_rows(rng, _SEGMENT_CATEGORY, cust.segment[c_base])

    # Discount: coupon / billing / refund tickets a few days after the customer's touch.
    c_disc, k_disc, touch = _story(rng, first, DISCOUNT_CAMPAIGN_IDS, cust, n_disc)
    t_disc = touch + 1800 + rng.exponential(2.5 * DAY, n_disc).astype(np.int64)
    cat_disc = _pick_categories(rng, _DISCOUNT_MIX, n_disc)

    # App release: crash tickets after the touch (not before the release itself).
    c_app, k_app, touch = _story(rng, first, APP_RELEASE_CAMPAIGN_IDS, cust, n_app)
    t_app = (np.maximum(touch, APP_LAUNCH) + HOUR
             + rng.exponential(3.5 * DAY, n_app).astype(np.int64))
    cat_app = _pick_categories(rng, _APP_MIX, n_app)

    # Incident: a burst early in the outage window, from established customers.
    c_inc = old[pick(rng, cust.weight[old], n_inc)]
    t_inc = INC_START + ((INC_END - INC_START) * rng.beta(1.3, 2.2, n_inc)).astype(np.int64)
    cat_inc = _pick_categories(rng, _INCIDENT_MIX, n_inc)

    t = np.concatenate([t_base, t_disc, t_app, t_inc]).astype(np.int64)
    c = np.concatenate([c_base, c_disc, c_app, c_inc]).astype(np.int64)
    cat = np.concatenate([cat_base, cat_disc, cat_app, cat_inc]).astype(np.int64)
    cause = np.concatenate([np.full(n_base, -1), k_disc, k_app, np.full(n_inc, -1)])
    source = np.repeat(np.arange(4), [n_base, n_disc, n_app, n_inc])
    t = np.maximum(t, cust.created[c] + HOUR)  # never before the customer existed
    late = t >= END
    t[late] = END - 1 - rng.integers(0, 12 * HOUR, int(late.sum()))
    order = np.lexsort((source, c, t))
    return {"t": t[order], "cust": c[order], "cat": cat[order], "source": source[order],
            "cause": cause[order].astype(np.int64)}


def caused_tickets(ev: dict[str, np.ndarray]) -> dict[str, int]:
    """The ground truth of the stories: tickets each campaign caused (0 for most)."""
    counts = np.bincount(ev["cause"][ev["cause"] >= 0], minlength=len(CAMPAIGN_SPECS))
    return {spec[0]: int(k) for spec, k in zip(CAMPAIGN_SPECS, counts, strict=True)}


def _business_delay(rng: np.random.Generator, t: np.ndarray, p_weekend: float) -> np.ndarray:
    """When work on a ticket can start: evenings and nights mostly wait for 07:00, weekends
    mostly for Monday 08:00 (a skeleton crew answers the rest)."""
    day = t // DAY
    hour = (t % DAY) // HOUR
    u = rng.random(t.size)
    jitter = rng.integers(0, HOUR, t.size)
    out = np.where((hour >= 19) & (u < 0.6), (day + 1) * DAY + 7 * HOUR + jitter, t)
    out = np.where((hour < 7) & (u < 0.7), day * DAY + 7 * HOUR + jitter, out)
    day = out // DAY
    dow = _day_of_week(out)
    monday = (day + 7 - dow) * DAY + 8 * HOUR + 2 * jitter
    weekend = (dow >= 5) & (rng.random(t.size) < p_weekend)
    return np.where(weekend, np.maximum(out, monday), out)


def ticket_handling(rng: np.random.Generator, ev: dict[str, np.ndarray], cust: Customers,
                    agents: Agents) -> dict[str, np.ndarray]:
    """Language, channel, tone, status, response/resolution times, agent, CSAT and label."""
    n = ev["t"].size
    t, c, cat, source = ev["t"], ev["cust"], ev["cat"], ev["source"]
    seg = cust.segment[c]
    incident = source == SOURCE_INCIDENT
    lang = np.where(rng.random(n) < 0.95, cust.lang[c], 0)
    channel = pick_rows(rng, _SEGMENT_CHANNEL, seg)
    mood = (rng.standard_normal(n) + np.asarray(_SEGMENT_MOOD)[seg]
            + np.asarray(_CATEGORY_MOOD)[cat] - 1.4 * incident
            - 0.15 * (source == SOURCE_DISCOUNT))
    tone = np.searchsorted(np.asarray(_TONE_CUTS), mood)
    status, first_resp, resolved = _response_times(rng, t, cat, seg, channel)
    responded, done = first_resp >= 0, resolved >= 0
    agent = _within_capacity(_assign_agents(rng, cat, seg, lang, responded, agents),
                             status, lang, agents)
    csat = _csat(rng, t, tone, seg, resolved, done)
    label = _labels(rng, cat, done)
    return {"lang": lang, "channel": channel, "tone": tone, "status": status,
            "first_resp": first_resp, "resolved": resolved, "agent": agent, "csat": csat,
            "label": label, "prio": _source_priority(cat, seg, tone, incident)}


def _source_priority(cat: np.ndarray, seg: np.ndarray, tone: np.ndarray,
                     incident: np.ndarray) -> np.ndarray:
    """The priority the demo helpdesk's intake form sets (index into SOURCE_PRIORITIES), from
    what the requester picked: no random draw, so the rest of the world does not move."""
    security = cat == CATEGORIES.index("security_fraud")
    prio = np.full(cat.size, 1)  # Normal
    prio[(tone >= 3) | (cat == CATEGORIES.index("feature_request"))] = 0  # Low
    prio[(tone <= 1) | (seg >= SEGMENTS.index("enterprise"))] = 2  # High
    prio[incident | (security & (tone == 0))] = 3  # Urgent
    return prio


def _response_times(rng: np.random.Generator, t: np.ndarray, cat: np.ndarray, seg: np.ndarray,
                    channel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Status code, first response and resolution time (-1: not yet) of every ticket."""
    n = t.size
    # First response: lognormal minutes, faster for vip and chat/phone, slow in the outage.
    # During the outage (and half a day after) the queue is flooded: every ticket waits.
    flooded = (t >= INC_START) & (t < INC_END + 12 * HOUR)
    start = _business_delay(rng, t, 0.75)
    frt_min = (rng.lognormal(np.log(_FIRST_RESPONSE_MIN), 1.3, n)
               * np.asarray(_SEGMENT_SPEED)[seg] * np.asarray(_CHANNEL_SPEED)[channel]
               * np.where(rng.random(n) < _P_OVERLOOKED, 15.0, 1.0))
    backlog = np.where(flooded, rng.exponential(5 * HOUR, n), 0.0)
    first_resp = start + 60 + (frt_min * 60 + backlog).astype(np.int64)
    res_h = (rng.lognormal(0.0, 1.4, n) * np.asarray(_CATEGORY_RESOLVE_H, dtype=float)[cat]
             * np.where(seg == VIP, 0.6, 1.0) * np.where(flooded, 1.5, 1.0)
             * np.where(rng.random(n) < _P_STALLED, 8.0, 1.0))
    resolved = _business_delay(rng, first_resp + (res_h * HOUR).astype(np.int64), 0.6)
    responded = first_resp < END
    done = resolved < END
    young = END - t < 2 * DAY
    # Status codes index TICKET_STATUSES: new, open, pending, on_hold, solved, closed. Solved
    # tickets close automatically after 4 days.
    in_work = 1 + pick_rows(rng, ((0.35, 0.4, 0.25), (0.6, 0.3, 0.1)), young.astype(np.int64))
    status = np.where(~responded, 0, np.where(~done, in_work, 0))
    status = np.where(done, np.where(resolved < END - 4 * DAY, 5, 4), status)
    return status, np.where(responded, first_resp, -1), np.where(done, resolved, -1)


def _assign_agents(rng: np.random.Generator, cat: np.ndarray, seg: np.ndarray, lang: np.ndarray,
                   responded: np.ndarray, agents: Agents) -> np.ndarray:
    """The agent of every answered ticket (-1 for the others): usually one of the category's
    team (vip/enterprise often the vip desk), else any team; who speaks the ticket's language,
    in proportion to capacity."""
    n = cat.size
    team = np.asarray([TEAMS.index(CATEGORY_TEAM[k]) for k in CATEGORIES])[cat]
    u = rng.random(n)
    vip_desk = TEAMS.index("vip_desk")
    team = np.where((seg == VIP) & (u < 0.65) | (seg == ENTERPRISE) & (u < 0.3), vip_desk, team)
    other = (u > 0.88) & (seg < ENTERPRISE)
    team = np.where(other, rng.integers(0, vip_desk, n), team)
    agent = np.full(n, -1, dtype=np.int64)
    pick_u = rng.random(n)
    for tm in range(len(TEAMS)):
        for lg in range(len(LANGUAGES)):
            rows = np.flatnonzero(responded & (team == tm) & (lang == lg))
            if rows.size == 0:
                continue
            members = np.flatnonzero((agents.team == tm) & agents.speaks[:, lg])
            cap = agents.capacity[members].astype(np.float64)
            cum = np.cumsum(cap) / cap.sum()
            agent[rows] = members[np.minimum(np.searchsorted(cum, pick_u[rows], side="right"),
                                             members.size - 1)]
    return agent


def _within_capacity(agent: np.ndarray, status: np.ndarray, lang: np.ndarray, agents: Agents
                     ) -> np.ndarray:
    """No agent holds more open tickets than its capacity: oldest first, an open ticket keeps
    its agent while the agent has room, else goes to the least-loaded colleague of the same team
    who speaks its language and has room, else stays unassigned. No random draw, so the rest of
    the world does not move."""
    out = agent.copy()
    load = np.zeros(agents.team.size, dtype=np.int64)
    for i in np.flatnonzero((status > 0) & (status < _SOLVED) & (agent >= 0)):  # time order
        a = agent[i]
        if load[a] >= agents.capacity[a]:
            mates = np.flatnonzero((agents.team == agents.team[a]) & agents.speaks[:, lang[i]]
                                   & (load < agents.capacity))
            a = mates[np.argmin(load[mates] / agents.capacity[mates])] if mates.size else -1
        out[i] = a
        if a >= 0:
            load[a] += 1
    return out


def _csat(rng: np.random.Generator, t: np.ndarray, tone: np.ndarray, seg: np.ndarray,
          resolved: np.ndarray, done: np.ndarray) -> np.ndarray:
    """CSAT 1-5 on some solved tickets (0 = not rated): worse when angry or kept waiting."""
    n = t.size
    wait_days = np.where(done, (resolved - t) / DAY, 0.0)
    score = (4.3 + np.asarray([-2.0, -1.1, 0.0, 0.4, 0.7])[tone]
             - 0.6 * np.log1p(wait_days) + rng.normal(0.0, 0.7, n))
    rated = done & (rng.random(n) < np.where(seg >= ENTERPRISE, 0.5, _CSAT_SHARE))
    return np.where(rated, np.clip(np.rint(score), 1, 5), 0).astype(np.int64)


def _labels(rng: np.random.Generator, cat: np.ndarray, done: np.ndarray) -> np.ndarray:
    """Training label (category index, -1 = none) on most solved/closed tickets, a few wrong."""
    n = cat.size
    label = np.where(done & (rng.random(n) < _LABEL_SHARE), cat, -1)
    confused = np.asarray([CATEGORIES.index(_LABEL_CONFUSION[k]) for k in CATEGORIES])
    noisy = (label >= 0) & (rng.random(n) < _LABEL_NOISE)
    return np.where(noisy, confused[np.maximum(label, 0)], label)
