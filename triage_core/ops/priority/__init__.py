"""Priority score 0-100, tiers P1-P4, SLA due times, SLA risk and escalations (vectorized).

Score. ``score = 100 * sum_k(w_k * c_k) / sum_k(w_k)`` over five components, each in 0..1:

- ``sentiment``: ``max(0, -sentiment)`` (missing sentiment counts 0);
- ``value``: LTV percentile of the customer, the share of customers whose lifetime value is
  <= theirs (column ``ltv_percentile`` if given, else computed from ``lifetime_value`` over the
  distinct ``customer_id`` values of the frame, see :func:`ltv_percentile`);
- ``severity``: ``(severity - 1) / 3`` (severity 1..4; missing counts 0);
- ``wait``: time elapsed / SLA of the running clock, clipped to 0..1 (below);
- ``boost``: ``max(segment boost, campaign boost)`` from the profile.

``contrib_<k> = 100 * w_k * c_k / sum(w)``, so the five ``contrib_*`` columns add up to
``priority_score``. Tiers: ``score >= P1`` -> P1, ``>= P2`` -> P2, ``>= P3`` -> P3, else P4
(compared with a 1e-9 tolerance so that a score computed as 74.99999999999999 is P1 at 75).

Wait and tier. The SLA the wait is measured against depends on the tier, which depends on the
score. It is resolved as a fixed point from below: tier the score without the wait term, add the
wait term measured against that tier's SLA, re-tier, repeat. SLAs may only shrink as tiers get
more urgent, so the score only rises and this stops after at most three upgrades. The final tier
is the one whose SLA the wait term used: ``contrib_wait``, ``sla_due_at`` and ``sla_status``
agree with ``priority_tier``.

SLA clock (``as_of`` is the time of scoring):

- open ticket (new/open/pending/on_hold) without a first response: due = created_at +
  first-response SLA, elapsed = as_of - created_at;
- open ticket already answered: due = created_at + resolution SLA, same elapsed;
- solved/closed ticket: due = created_at + first-response SLA, the wait term is the time its
  first response took (0 if never answered), ``sla_status`` is ``closed``.

``sla_status`` of open tickets: ``breached`` when as_of > due, ``at_risk`` when elapsed >
``at_risk_fraction`` * SLA, else ``ok``. Escalation (computed for every ticket; :func:`alerts`
only reports open ones): sentiment <= ``sentiment_threshold``, or a VIP customer (segment in
``vip_segments`` or LTV percentile >= ``vip_ltv_percentile``) with sentiment <=
``vip_sentiment_threshold``.

Repetitive text columns (``priority_tier``, ``sla_status``, ``escalation_reason``) are pandas
Categoricals: cheap for a million rows; ``.astype(str)`` gives plain strings. For the fastest
re-scoring pass ``ltv_percentile`` (computed once over the customers table) and text columns
with few values (status, segment, campaign_id) as Categoricals: they are then not re-hashed.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from triage_core.config import DEFAULTS_DIR
from triage_core.errors import ConfigError, TriageError
from triage_core.schema import OPEN_STATUSES

COMPONENTS = ("sentiment", "value", "severity", "wait", "boost")
TIERS = ("P1", "P2", "P3", "P4")
SLA_STATUSES = ("ok", "at_risk", "breached", "closed")
CONTRIB_COLUMNS = tuple(f"contrib_{c}" for c in COMPONENTS)
DEFAULTS_PATH = DEFAULTS_DIR / "priority.toml"

_EPS = 1e-9
_US_PER_MINUTE = 60_000_000
_US_PER_HOUR = 60 * _US_PER_MINUTE
_NAT = np.iinfo(np.int64).min


# --------------------------------------------------------------------------- configuration


def _number(value: Any, key: str, ctx: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{ctx}: {key} must be a number, got {value!r}")
    out = float(value)
    if math.isnan(out):
        raise ConfigError(f"{ctx}: {key} is NaN; give a number")
    if math.isinf(out):
        raise ConfigError(f"{ctx}: {key} must be finite, got {out}")
    return out


def _in_range(value: float, key: str, ctx: str, lo: float, hi: float) -> float:
    if not lo <= value <= hi:
        raise ConfigError(f"{ctx}: {key} must be between {lo:g} and {hi:g}, got {value:g}")
    return value


def _table(value: Any, key: str, ctx: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{ctx}: {key} must be a table, got {value!r}")
    return value


def _check_keys(data: Mapping[str, Any], allowed: tuple[str, ...], prefix: str, ctx: str) -> None:
    for key in data:
        if key not in allowed:
            raise ConfigError(
                f"{ctx}: unknown key {prefix + str(key)!r} (allowed: {', '.join(allowed)})"
            )


def _boost_map(value: Any, key: str, ctx: str) -> tuple[tuple[str, float], ...]:
    table = _table(value, key, ctx)
    return tuple(
        (str(name), _in_range(_number(v, f"{key}.{name}", ctx), f"{key}.{name}", ctx, 0.0, 1.0))
        for name, v in sorted(table.items())
    )


@dataclass(frozen=True)
class Weights:
    """Relative weight of each component; divided by their sum, so they need not add to 1."""

    sentiment: float
    value: float
    severity: float
    wait: float
    boost: float

    @property
    def total(self) -> float:
        return self.sentiment + self.value + self.severity + self.wait + self.boost

    def as_dict(self) -> dict[str, float]:
        return {c: getattr(self, c) for c in COMPONENTS}


@dataclass(frozen=True)
class SlaPolicy:
    first_response_minutes: float
    resolution_hours: float


@dataclass(frozen=True)
class EscalationRule:
    sentiment_threshold: float
    vip_sentiment_threshold: float
    vip_segments: tuple[str, ...]
    vip_ltv_percentile: float


@dataclass(frozen=True)
class PriorityProfile:
    """A named weight profile with its tiers, SLAs, escalation rule and boosts.

    Build it with :meth:`from_dict` (a TOML table or a stored JSON object) and store it with
    :meth:`to_dict`; constructing it directly validates it too.
    """

    name: str
    weights: Weights
    tier_thresholds: tuple[float, float, float]  # minimum score of P1, P2, P3
    sla: tuple[SlaPolicy, SlaPolicy, SlaPolicy, SlaPolicy]  # P1..P4
    at_risk_fraction: float
    escalation: EscalationRule
    segment_boost: tuple[tuple[str, float], ...] = ()
    campaign_boost: tuple[tuple[str, float], ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        ctx = f"priority profile {self.name!r}"
        if not self.name:
            raise ConfigError("priority profile: name must not be empty")
        for c in COMPONENTS:
            w = _number(getattr(self.weights, c), f"weights.{c}", ctx)
            if w < 0:
                raise ConfigError(f"{ctx}: weights.{c} must be >= 0, got {w:g}")
        if self.weights.total <= 0:
            raise ConfigError(
                f"{ctx}: weights sum to 0; give at least one of {', '.join(COMPONENTS)} "
                "a positive weight"
            )
        p1, p2, p3 = (_number(t, f"tiers.{n}", ctx)
                      for t, n in zip(self.tier_thresholds, TIERS[:3], strict=True))
        if not 100 >= p1 > p2 > p3 >= 0:
            raise ConfigError(
                f"{ctx}: tiers must satisfy 100 >= P1 > P2 > P3 >= 0, got "
                f"P1={p1:g}, P2={p2:g}, P3={p3:g}"
            )
        if len(self.sla) != len(TIERS):
            raise ConfigError(f"{ctx}: sla needs one policy per tier {', '.join(TIERS)}")
        for tier, policy in zip(TIERS, self.sla, strict=True):
            fr = _number(policy.first_response_minutes, f"sla.{tier}.first_response_minutes", ctx)
            res = _number(policy.resolution_hours, f"sla.{tier}.resolution_hours", ctx)
            if fr <= 0 or res <= 0:
                raise ConfigError(f"{ctx}: sla.{tier} times must be > 0")
            if res * 60 < fr:
                raise ConfigError(
                    f"{ctx}: sla.{tier}.resolution_hours ({res:g} h) is shorter than its "
                    f"first_response_minutes ({fr:g} min)"
                )
        for i in range(1, len(TIERS)):
            for attr in ("first_response_minutes", "resolution_hours"):
                lo, hi = getattr(self.sla[i - 1], attr), getattr(self.sla[i], attr)
                if hi < lo:
                    raise ConfigError(
                        f"{ctx}: sla.{TIERS[i]}.{attr} ({hi:g}) must be >= "
                        f"sla.{TIERS[i - 1]}.{attr} ({lo:g}); a more urgent tier cannot have "
                        "a longer SLA"
                    )
        frac = _number(self.at_risk_fraction, "sla.at_risk_fraction", ctx)
        if not 0 < frac < 1:
            raise ConfigError(f"{ctx}: sla.at_risk_fraction must be between 0 and 1 "
                              f"(exclusive), got {frac:g}")
        esc = self.escalation
        general = _in_range(_number(esc.sentiment_threshold, "escalation.sentiment_threshold",
                                    ctx), "escalation.sentiment_threshold", ctx, -1.0, 1.0)
        vip = _in_range(_number(esc.vip_sentiment_threshold,
                                "escalation.vip_sentiment_threshold", ctx),
                        "escalation.vip_sentiment_threshold", ctx, -1.0, 1.0)
        if vip < general:
            raise ConfigError(
                f"{ctx}: escalation.vip_sentiment_threshold ({vip:g}) must be >= "
                f"escalation.sentiment_threshold ({general:g}); VIPs escalate sooner, not later"
            )
        _in_range(_number(esc.vip_ltv_percentile, "escalation.vip_ltv_percentile", ctx),
                  "escalation.vip_ltv_percentile", ctx, 0.0, 1.0)
        for key, pairs in (("boost.segments", self.segment_boost),
                           ("boost.campaigns", self.campaign_boost)):
            for name, b in pairs:
                _in_range(_number(b, f"{key}.{name}", ctx), f"{key}.{name}", ctx, 0.0, 1.0)

    # -- dict round trip -------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, name: str | None = None,
                  base: PriorityProfile | None = None) -> PriorityProfile:
        """Build and validate a profile from a plain dict (TOML table or stored JSON).

        Tables missing from ``data`` (tiers, sla, escalation, boost) and missing keys inside
        them come from ``base`` (the packaged ``default`` profile when ``base`` is None). A
        ``weights`` table replaces the base weights: a component it leaves out weighs 0.
        ``name`` wins over ``data["name"]``.
        """
        data = _table(data, "profile", "priority profile")
        prof_name = str(name if name is not None else data.get("name", "custom"))
        ctx = f"priority profile {prof_name!r}"
        _check_keys(data, ("name", "description", "weights", "tiers", "sla", "escalation",
                           "boost"), "", ctx)
        merged = (base if base is not None else default_profile()).to_dict()
        if "weights" in data:
            weights = _table(data["weights"], "weights", ctx)
            _check_keys(weights, COMPONENTS, "weights.", ctx)
            merged["weights"] = {c: weights.get(c, 0.0) for c in COMPONENTS}
        if "tiers" in data:
            tiers = _table(data["tiers"], "tiers", ctx)
            _check_keys(tiers, TIERS[:3], "tiers.", ctx)
            merged["tiers"].update(tiers)
        if "sla" in data:
            sla = _table(data["sla"], "sla", ctx)
            _check_keys(sla, ("at_risk_fraction", *TIERS), "sla.", ctx)
            for key, value in sla.items():
                if key == "at_risk_fraction":
                    merged["sla"][key] = value
                    continue
                policy = _table(value, f"sla.{key}", ctx)
                _check_keys(policy, ("first_response_minutes", "resolution_hours"),
                            f"sla.{key}.", ctx)
                merged["sla"][key].update(policy)
        if "escalation" in data:
            esc = _table(data["escalation"], "escalation", ctx)
            _check_keys(esc, ("sentiment_threshold", "vip_sentiment_threshold", "vip_segments",
                              "vip_ltv_percentile"), "escalation.", ctx)
            merged["escalation"].update(esc)
        if "boost" in data:
            boost = _table(data["boost"], "boost", ctx)
            _check_keys(boost, ("segments", "campaigns"), "boost.", ctx)
            merged["boost"].update(boost)
        w, t, s, e, b = (merged[k] for k in ("weights", "tiers", "sla", "escalation", "boost"))
        segments = e["vip_segments"]
        if isinstance(segments, str) or not isinstance(segments, list | tuple):
            raise ConfigError(f"{ctx}: escalation.vip_segments must be a list of segment names")
        return cls(
            name=prof_name,
            description=str(data.get("description", merged.get("description", ""))),
            weights=Weights(**{c: _number(w[c], f"weights.{c}", ctx) for c in COMPONENTS}),
            tier_thresholds=tuple(_number(t[n], f"tiers.{n}", ctx) for n in TIERS[:3]),
            sla=tuple(
                SlaPolicy(
                    _number(_table(s[n], f"sla.{n}", ctx)["first_response_minutes"],
                            f"sla.{n}.first_response_minutes", ctx),
                    _number(s[n]["resolution_hours"], f"sla.{n}.resolution_hours", ctx),
                )
                for n in TIERS
            ),
            at_risk_fraction=_number(s["at_risk_fraction"], "sla.at_risk_fraction", ctx),
            escalation=EscalationRule(
                sentiment_threshold=_number(e["sentiment_threshold"],
                                            "escalation.sentiment_threshold", ctx),
                vip_sentiment_threshold=_number(e["vip_sentiment_threshold"],
                                                "escalation.vip_sentiment_threshold", ctx),
                vip_segments=tuple(str(x).lower() for x in segments),
                vip_ltv_percentile=_number(e["vip_ltv_percentile"],
                                           "escalation.vip_ltv_percentile", ctx),
            ),
            segment_boost=tuple((k.lower(), v) for k, v in
                                _boost_map(b.get("segments", {}), "boost.segments", ctx)),
            campaign_boost=_boost_map(b.get("campaigns", {}), "boost.campaigns", ctx),
        )

    def to_dict(self) -> dict[str, Any]:
        """Complete, JSON- and TOML-friendly form; ``from_dict(p.to_dict()) == p``."""
        sla: dict[str, Any] = {"at_risk_fraction": self.at_risk_fraction}
        for tier, policy in zip(TIERS, self.sla, strict=True):
            sla[tier] = {"first_response_minutes": policy.first_response_minutes,
                         "resolution_hours": policy.resolution_hours}
        return {
            "name": self.name,
            "description": self.description,
            "weights": self.weights.as_dict(),
            "tiers": dict(zip(TIERS[:3], self.tier_thresholds, strict=True)),
            "sla": sla,
            "escalation": {
                "sentiment_threshold": self.escalation.sentiment_threshold,
                "vip_sentiment_threshold": self.escalation.vip_sentiment_threshold,
                "vip_segments": list(self.escalation.vip_segments),
                "vip_ltv_percentile": self.escalation.vip_ltv_percentile,
            },
            "boost": {"segments": dict(self.segment_boost),
                      "campaigns": dict(self.campaign_boost)},
        }


@dataclass(frozen=True)
class PrioritySettings:
    """The ``[priority]`` config section: named profiles and the one used by default."""

    active_profile: str
    profiles: tuple[PriorityProfile, ...]

    def profile(self, name: str | None = None) -> PriorityProfile:
        """The profile called ``name`` (the active one when None)."""
        wanted = name or self.active_profile
        for p in self.profiles:
            if p.name == wanted:
                return p
        raise ConfigError(
            f"priority: unknown profile {wanted!r} (known: {', '.join(self.names)})"
        )

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.profiles]

    @classmethod
    def from_dict(cls, section: Mapping[str, Any]) -> PrioritySettings:
        """Validate a parsed ``[priority]`` section. ``profiles.default`` must be complete;
        other profiles fill what they leave out from it."""
        section = _table(section, "[priority]", "priority")
        _check_keys(section, ("active_profile", "profiles"), "", "priority")
        raw = _table(section.get("profiles", {}), "profiles", "priority")
        if "default" not in raw:
            raise ConfigError("priority: profiles.default is missing")
        default = _complete_profile(raw["default"], "default")
        profiles = [default] + [
            PriorityProfile.from_dict(_table(body, f"profiles.{key}", "priority"),
                                      name=str(key), base=default)
            for key, body in raw.items() if key != "default"
        ]
        active = str(section.get("active_profile", "default"))
        settings = cls(active_profile=active, profiles=tuple(profiles))
        settings.profile(active)  # raises for an unknown active_profile
        return settings

    def to_dict(self) -> dict[str, Any]:
        profiles = {}
        for p in self.profiles:
            body = p.to_dict()
            del body["name"]
            profiles[p.name] = body
        return {"active_profile": self.active_profile, "profiles": profiles}


def _complete_profile(data: Any, name: str) -> PriorityProfile:
    """A profile that must define everything itself (the packaged/merged ``default``)."""
    ctx = f"priority profile {name!r}"
    data = _table(data, f"profiles.{name}", "priority")
    for key in ("weights", "tiers", "sla", "escalation"):
        if key not in data:
            raise ConfigError(f"{ctx}: {key} is missing")
    tiers, sla = _table(data["tiers"], "tiers", ctx), _table(data["sla"], "sla", ctx)
    for t in TIERS[:3]:
        if t not in tiers:
            raise ConfigError(f"{ctx}: tiers.{t} is missing")
    for t in TIERS:
        policy = _table(sla.get(t, {}), f"sla.{t}", ctx)
        for k in ("first_response_minutes", "resolution_hours"):
            if k not in policy:
                raise ConfigError(f"{ctx}: sla.{t}.{k} is missing")
    if "at_risk_fraction" not in sla:
        raise ConfigError(f"{ctx}: sla.at_risk_fraction is missing")
    esc = _table(data["escalation"], "escalation", ctx)
    for k in ("sentiment_threshold", "vip_sentiment_threshold", "vip_segments",
              "vip_ltv_percentile"):
        if k not in esc:
            raise ConfigError(f"{ctx}: escalation.{k} is missing")
    # All keys are present, so the skeleton base only satisfies from_dict's signature.
    skeleton = PriorityProfile(
        name=name, weights=Weights(1, 0, 0, 0, 0), tier_thresholds=(75, 50, 25),
        sla=tuple(SlaPolicy(1, 1) for _ in TIERS), at_risk_fraction=0.5,
        escalation=EscalationRule(-1, -1, (), 1.0),
    )
    return PriorityProfile.from_dict(data, name=name, base=skeleton)


def settings_from_dict(section: Mapping[str, Any]) -> PrioritySettings:
    """Validated settings from the parsed ``[priority]`` section (defaults merged in)."""
    return PrioritySettings.from_dict(section)


@cache
def default_settings() -> PrioritySettings:
    """The packaged ``defaults/priority.toml``."""
    with DEFAULTS_PATH.open("rb") as fh:
        return PrioritySettings.from_dict(tomllib.load(fh))


def default_profile() -> PriorityProfile:
    """The packaged ``default`` profile."""
    return default_settings().profile("default")


# --------------------------------------------------------------------------- helpers


def _require(df: pd.DataFrame, columns: tuple[str, ...], who: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise TriageError(f"{who}: missing column(s) {', '.join(missing)}")


def _floats(series: pd.Series, name: str) -> np.ndarray:
    try:
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise TriageError(f"column {name!r} must be numeric") from None


def _timestamps_us(series: pd.Series, name: str) -> np.ndarray:
    """int64 microseconds since the epoch (naive UTC); NaT -> int64 min."""
    if not isinstance(series.dtype, pd.DatetimeTZDtype) and series.dtype.kind != "M":
        try:
            series = pd.to_datetime(series, utc=True)
        except (TypeError, ValueError) as exc:
            raise TriageError(f"column {name!r} holds a value that is not a time ({exc})")\
                from None
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series.to_numpy(dtype="datetime64[us]").view(np.int64)


def _instant_us(as_of: datetime | str | pd.Timestamp) -> int:
    try:
        ts = pd.Timestamp(as_of)
    except (TypeError, ValueError):
        raise TriageError(f"as_of {as_of!r} is not a time") from None
    if ts is pd.NaT:
        raise TriageError("as_of must be a time, got NaT")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return int(np.datetime64(ts.to_datetime64(), "us").astype(np.int64))


class _Columns:
    """Factorizes each text column of ``df`` once (on a million rows factorize is the costly
    step; a column that is already Categorical costs nothing)."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self._cache: dict[str, tuple[np.ndarray, list[Any]]] = {}

    def factor(self, column: str) -> tuple[np.ndarray, list[Any]]:
        """(codes, uniques); code -1 = missing value or missing column."""
        if column not in self._cache:
            if column in self.df.columns:
                col = self.df[column]
                if isinstance(col.dtype, pd.CategoricalDtype):
                    codes, uniques = col.cat.codes.to_numpy(), col.cat.categories
                else:
                    codes, uniques = pd.factorize(col)
                self._cache[column] = (codes.astype(np.int64, copy=False), list(uniques))
            else:
                self._cache[column] = (np.full(len(self.df), -1, dtype=np.int64), [])
        return self._cache[column]

    def lookup(self, column: str, table: Mapping[str, float], lower: bool) -> np.ndarray:
        """Vectorized ``table.get(value, 0.0)``."""
        codes, uniques = self.factor(column)
        keys = [str(u).strip().lower() if lower else str(u) for u in uniques]
        values = np.array([table.get(k, 0.0) for k in keys] + [0.0], dtype=np.float64)
        return values[codes]  # code -1 picks the trailing 0.0

    def in_set(self, column: str, names: Collection[str]) -> np.ndarray:
        """Whether the lower-cased value is one of ``names``."""
        codes, uniques = self.factor(column)
        hit = np.array([str(u).strip().lower() in names for u in uniques] + [False])
        return hit[codes]


def ltv_percentile(lifetime_value: pd.Series, customer_id: pd.Series | None = None) -> pd.Series:
    """Share of customers whose lifetime value is <= each row's (0..1; missing LTV -> 0).

    With ``customer_id``, each customer counts once (the "customer base"); without it, every
    row counts. Same as SQL ``cume_dist() OVER (ORDER BY lifetime_value)`` over customers.
    """
    values = _floats(lifetime_value, "lifetime_value")
    base = values
    if customer_id is not None:
        base = values[~customer_id.duplicated().to_numpy()]
    base = np.sort(base[~np.isnan(base)])
    if base.size == 0:
        return pd.Series(0.0, index=lifetime_value.index)
    # searchsorted on the sorted distinct values, not on every row: far fewer cache misses
    uniq, inverse = np.unique(values, return_inverse=True)
    pct = (np.searchsorted(base, uniq, side="right") / base.size)[inverse.ravel()]
    pct[np.isnan(values)] = 0.0
    return pd.Series(pct, index=lifetime_value.index)


def _tier_codes(score: np.ndarray, thresholds: tuple[float, float, float]) -> np.ndarray:
    """0 for P1 .. 3 for P4; a score within 1e-9 below a threshold counts as on it."""
    tier = np.full(score.shape, 3, dtype=np.int8)
    for t in thresholds:  # three comparisons beat searchsorted on a million rows
        tier -= score >= t - _EPS
    return tier


@dataclass(frozen=True)
class _Parts:
    """Per-ticket contributions (already in score points) without the wait term."""

    contrib: dict[str, np.ndarray]
    base: np.ndarray
    sentiment: np.ndarray
    ltv_pct: np.ndarray


def _components(df: pd.DataFrame, profile: PriorityProfile, cols: _Columns) -> _Parts:
    _require(df, ("sentiment", "severity"), "score()")
    if "ltv_percentile" in df.columns:
        ltv_pct = np.clip(np.nan_to_num(_floats(df["ltv_percentile"], "ltv_percentile")), 0, 1)
    elif "lifetime_value" in df.columns:
        ids = df["customer_id"] if "customer_id" in df.columns else None
        ltv_pct = ltv_percentile(df["lifetime_value"], ids).to_numpy()
    else:
        raise TriageError("score(): missing column ltv_percentile or lifetime_value")
    sentiment = _floats(df["sentiment"], "sentiment")
    severity = _floats(df["severity"], "severity")
    comp = {
        "sentiment": np.clip(np.nan_to_num(-sentiment), 0.0, 1.0),
        "value": ltv_pct,
        "severity": np.clip(np.nan_to_num((severity - 1.0) / 3.0), 0.0, 1.0),
    }
    boost = np.zeros(len(df))
    if profile.segment_boost and "segment" in df.columns:
        boost = cols.lookup("segment", dict(profile.segment_boost), lower=True)
    if profile.campaign_boost and "campaign_id" in df.columns:
        boost = np.maximum(boost, cols.lookup("campaign_id", dict(profile.campaign_boost),
                                              lower=False))
    comp["boost"] = boost
    scale = 100.0 / profile.weights.total
    contrib = {k: (getattr(profile.weights, k) * scale) * v for k, v in comp.items()}
    base = contrib["sentiment"] + contrib["value"] + contrib["severity"] + contrib["boost"]
    return _Parts(contrib, base, sentiment, ltv_pct)


def _sla_tables(profile: PriorityProfile) -> tuple[np.ndarray, np.ndarray]:
    """First-response and resolution SLA per tier, in microseconds."""
    fr = np.array([p.first_response_minutes * _US_PER_MINUTE for p in profile.sla])
    res = np.array([p.resolution_hours * _US_PER_HOUR for p in profile.sla])
    return fr, res


def _resolve(parts: _Parts, profile: PriorityProfile, elapsed: np.ndarray,
             resolution_clock: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fixed point of tier <-> wait term (see module doc): (wait contribution, tier, SLA us)."""
    fr_us, res_us = _sla_tables(profile)
    w_wait = profile.weights.wait * 100.0 / profile.weights.total
    tier = _tier_codes(parts.base, profile.tier_thresholds)
    for _ in range(len(TIERS)):
        sla_us = np.where(resolution_clock, res_us[tier], fr_us[tier])
        wait = w_wait * np.clip(elapsed / sla_us, 0.0, 1.0)
        new_tier = _tier_codes(parts.base + wait, profile.tier_thresholds)
        if np.array_equal(new_tier, tier):
            break
        tier = new_tier
    return wait, tier, sla_us


def replay_tiers(df: pd.DataFrame, profile: PriorityProfile) -> pd.DataFrame:
    """Tiers of historical tickets under ``profile``, for backtests.

    ``priority_score``/``priority_tier``/``sla_due_at``: as scored at arrival (wait term 0),
    with the first-response due time of that tier. ``response_tier``/``response_due_at``: what
    :func:`score` would have shown at the moment of the actual ``first_response_at`` (the wait
    term then counts; at arrival values when never answered). The first response was late iff
    ``first_response_at > response_due_at``.
    """
    _require(df, ("created_at",), "replay_tiers()")
    parts = _components(df, profile, _Columns(df))
    created = _timestamps_us(df["created_at"], "created_at")
    if "first_response_at" in df.columns:
        first = _timestamps_us(df["first_response_at"], "first_response_at")
    else:
        first = np.full(len(df), _NAT, dtype=np.int64)
    fr_us, _ = _sla_tables(profile)
    tier = _tier_codes(parts.base, profile.tier_thresholds)
    elapsed = np.where((first != _NAT) & (created != _NAT), first - created, 0)
    _, resp_tier, resp_sla = _resolve(parts, profile, elapsed.astype(np.float64),
                                      np.zeros(len(df), dtype=bool))

    def due(sla: np.ndarray) -> np.ndarray:
        return np.where(created == _NAT, _NAT, created + sla.astype(np.int64)).view(
            "datetime64[us]")

    return pd.DataFrame({
        "priority_score": parts.base,
        "priority_tier": pd.Categorical.from_codes(tier, categories=TIERS, ordered=True),
        "sla_due_at": due(fr_us[tier]),
        "response_tier": pd.Categorical.from_codes(resp_tier, categories=TIERS, ordered=True),
        "response_due_at": due(resp_sla),
    }, index=df.index)


def _escalation_reasons(parts: _Parts, segment_vip: np.ndarray, profile: PriorityProfile,
                        ) -> tuple[np.ndarray, pd.Categorical]:
    esc = profile.escalation
    s = parts.sentiment
    general = s <= esc.sentiment_threshold  # NaN compares False
    vip_by_ltv = parts.ltv_pct >= esc.vip_ltv_percentile
    vip = s <= esc.vip_sentiment_threshold
    by_segment = ~general & vip & segment_vip
    by_ltv = ~general & vip & ~segment_vip & vip_by_ltv
    escalated = general | by_segment | by_ltv
    # Reason text shows the sentiment floored to 2 decimals (so it never looks above the
    # threshold): one category per (kind, centi-sentiment) instead of a string per row.
    kind = np.where(general, 0, np.where(by_segment, 1, 2))
    centi = np.floor(np.nan_to_num(s) * 100 + 1e-9).astype(np.int64).clip(-100, 100) + 100
    codes = np.where(escalated, kind * 201 + centi, -1)
    used = np.unique(codes[escalated])
    templates = (
        f"sentiment {{v:.2f}} <= {esc.sentiment_threshold:g}",
        f"VIP segment: sentiment {{v:.2f}} <= {esc.vip_sentiment_threshold:g}",
        f"VIP (LTV percentile >= {esc.vip_ltv_percentile:g}): sentiment {{v:.2f}} <= "
        f"{esc.vip_sentiment_threshold:g}",
    )
    labels = [templates[c // 201].format(v=(c % 201 - 100) / 100) for c in used]
    remap = np.full(3 * 201, -1, dtype=np.int64)
    remap[used] = np.arange(used.size)
    reason = pd.Categorical.from_codes(np.where(escalated, remap[codes.clip(0)], -1),
                                       categories=labels)
    return escalated, reason


# --------------------------------------------------------------------------- public API


def score(df: pd.DataFrame, profile: PriorityProfile | None = None,
          as_of: datetime | str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Score, tier, SLA and escalate every ticket; returns ``df`` plus the result columns.

    Needs ticket_id, created_at, status, sentiment, severity and ltv_percentile or
    lifetime_value; uses segment, campaign_id, customer_id, first_response_at when present.
    Adds priority_score, priority_tier, contrib_{sentiment,value,severity,wait,boost},
    sla_due_at, sla_status, escalated, escalation_reason. ``as_of`` defaults to now (UTC).
    ``df`` is not modified.
    """
    profile = profile or default_profile()
    _require(df, ("ticket_id", "created_at", "status"), "score()")
    now = _instant_us(as_of if as_of is not None else pd.Timestamp.now(tz="UTC"))
    cols = _Columns(df)
    parts = _components(df, profile, cols)
    created = _timestamps_us(df["created_at"], "created_at")
    if (created == _NAT).any():
        first = df["ticket_id"].iloc[int(np.argmax(created == _NAT))]
        raise TriageError(f"score(): created_at is missing for ticket {first!r}")
    is_open = cols.in_set("status", OPEN_STATUSES)
    if "first_response_at" in df.columns:
        responded_at = _timestamps_us(df["first_response_at"], "first_response_at")
    else:
        responded_at = np.full(len(df), _NAT, dtype=np.int64)
    responded = responded_at != _NAT
    resolution_clock = is_open & responded

    # Elapsed time of the running clock: open -> until as_of; closed -> until first response.
    elapsed = np.where(is_open, now - created, np.where(responded, responded_at - created, 0))
    elapsed = elapsed.astype(np.float64)
    wait, tier, sla_us = _resolve(parts, profile, elapsed, resolution_clock)
    total = parts.base + wait

    due = created + sla_us.astype(np.int64)
    status = np.where(
        ~is_open, 3,
        np.where(now > due, 2, np.where(elapsed > profile.at_risk_fraction * sla_us, 1, 0)),
    ).astype(np.int8)
    segment_vip = cols.in_set("segment", profile.escalation.vip_segments)
    escalated, reason = _escalation_reasons(parts, segment_vip, profile)

    index = df.index
    out: dict[str, Any] = {
        "priority_score": pd.Series(total, index=index),
        "priority_tier": pd.Series(pd.Categorical.from_codes(tier, categories=TIERS,
                                                             ordered=True), index=index),
    }
    for comp, col in zip(COMPONENTS, CONTRIB_COLUMNS, strict=True):
        out[col] = pd.Series(wait if comp == "wait" else parts.contrib[comp], index=index)
    out["sla_due_at"] = pd.Series(due.view("datetime64[us]"), index=index)
    out["sla_status"] = pd.Series(pd.Categorical.from_codes(status, categories=SLA_STATUSES),
                                  index=index)
    out["escalated"] = pd.Series(escalated, index=index)
    out["escalation_reason"] = pd.Series(reason, index=index)
    return df.assign(**out)


ALERT_KINDS = ("sla_breached", "escalation", "sla_at_risk")


def alerts(scored: pd.DataFrame) -> pd.DataFrame:
    """Alerts for open tickets of a :func:`score` result, most urgent first.

    One row per alert (a ticket can raise an escalation and an SLA alert): ticket_id, kind
    (sla_breached, escalation, sla_at_risk), message, priority_score, priority_tier,
    sla_due_at. Sorted by kind in that order, then score (high first), due time, ticket_id.
    """
    _require(scored, ("ticket_id", "status", "priority_score", "priority_tier", "sla_due_at",
                      "sla_status", "escalated", "escalation_reason"), "alerts()")
    is_open = _Columns(scored).in_set("status", OPEN_STATUSES)
    status = scored["sla_status"].astype(str).to_numpy()
    keep = ["ticket_id", "priority_score", "priority_tier", "sla_due_at"]
    frames = []
    for rank, kind in enumerate(ALERT_KINDS):
        if kind == "escalation":
            mask = is_open & scored["escalated"].to_numpy(dtype=bool, na_value=False)
        else:
            mask = is_open & (status == kind.removeprefix("sla_"))
        part = scored.loc[mask, keep].copy()
        if kind == "escalation":
            part["message"] = "escalate: " + scored.loc[mask, "escalation_reason"].astype(str)
        else:
            word = "breached" if kind == "sla_breached" else "at risk"
            part["message"] = (f"SLA {word}: due " +
                               part["sla_due_at"].dt.strftime("%Y-%m-%d %H:%M").astype(str))
        part["kind"] = kind
        part["_rank"] = rank
        frames.append(part)
    nonempty = [f for f in frames if len(f)]
    out = pd.concat(nonempty, ignore_index=True) if nonempty else frames[0]
    out = out.sort_values(["_rank", "priority_score", "sla_due_at", "ticket_id"],
                          ascending=[True, False, True, True], kind="stable")
    cols = ["ticket_id", "kind", "message", "priority_score", "priority_tier", "sla_due_at"]
    return out[cols].reset_index(drop=True)
