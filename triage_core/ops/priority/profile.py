"""Priority profiles: weights, tiers, SLAs, escalation and boosts (config section ``[priority]``).

Defaults live only in ``config/defaults/priority.toml``; :meth:`PrioritySettings.from_mapping`
puts a user's ``[priority]`` table on top of them (:func:`triage_core.config.section`) and
validates every value with :class:`~triage_core.config.validate.Checker`. A profile other than
``default`` only needs the tables it changes: the rest comes from ``default``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from triage_core.config import Checker, section
from triage_core.errors import ConfigError

__all__ = ["COMPONENTS", "TIERS", "EscalationRule", "PriorityProfile", "PrioritySettings",
           "SlaPolicy", "Weights", "default_profile", "default_settings"]

COMPONENTS = ("sentiment", "value", "severity", "wait", "boost", "source")
TIERS = ("P1", "P2", "P3", "P4")

_SLA_KEYS = ("first_response_minutes", "resolution_hours")
_ESCALATION_KEYS = ("sentiment_threshold", "vip_sentiment_threshold", "vip_segments",
                    "vip_ltv_percentile")
# Tables of a profile and the keys each may hold (``sla.P1``.. hold _SLA_KEYS).
_TABLES: dict[str, tuple[str, ...]] = {
    "weights": COMPONENTS,
    "tiers": TIERS[:3],
    "sla": ("at_risk_fraction", *TIERS),
    "escalation": _ESCALATION_KEYS,
    "boost": ("segments", "campaigns"),
    "source_levels": None,  # the helpdesk's own priority (lower case) -> 0..1
}


@dataclass(frozen=True)
class Weights:
    """Relative weight of each component; divided by their sum, so they need not add to 1."""

    sentiment: float
    value: float
    severity: float
    wait: float
    boost: float
    source: float  # the helpdesk's own priority (tickets.source_priority)

    @property
    def total(self) -> float:
        return sum(getattr(self, c) for c in COMPONENTS)

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

    Build it with :meth:`from_mapping` (a TOML table or a stored JSON object) and store it with
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
    source_levels: tuple[tuple[str, float], ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("priority profile: name must not be empty")
        check = Checker(f"priority profile {self.name!r}")
        _check_weights(check, self.weights)
        _check_tiers(check, self.tier_thresholds)
        _check_sla(check, self.sla, self.at_risk_fraction)
        _check_escalation(check, self.escalation)
        for key, pairs in (("boost.segments", self.segment_boost),
                           ("boost.campaigns", self.campaign_boost),
                           ("source_levels", self.source_levels)):
            for name, b in pairs:
                check.number(b, f"{key}.{name}", lo=0.0, hi=1.0)

    # -- dict round trip -------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, name: str | None = None,
                     base: PriorityProfile | None = None) -> PriorityProfile:
        """Build and validate a profile from a plain dict (TOML table or stored JSON).

        Tables missing from ``data`` (tiers, sla, escalation, boost) and missing keys inside
        them come from ``base`` (the packaged ``default`` profile when ``base`` is None). A
        ``weights`` table replaces the base weights: a component it leaves out weighs 0.
        ``name`` wins over ``data["name"]``.
        """
        data = Checker("priority profile").table(data, "profile")
        prof_name = str(name if name is not None else data.get("name", "custom"))
        check = Checker(f"priority profile {prof_name!r}")
        tables = _tables(check, data)
        merged = _overlay(tables, (base if base is not None else default_profile()).to_dict())
        description = data.get("description", merged["description"])
        return cls._from_complete(check, prof_name, description, merged)

    @classmethod
    def _from_complete(cls, check: Checker, name: str, description: Any,
                       d: Mapping[str, Any]) -> PriorityProfile:
        """A profile from a dict that holds every table (``weights`` may leave some out)."""
        w, t, s, e, b = (d[k] for k in ("weights", "tiers", "sla", "escalation", "boost"))
        levels = d.get("source_levels", {})
        segments = e["vip_segments"]
        if isinstance(segments, str) or not isinstance(segments, list | tuple):
            check.fail("escalation.vip_segments must be a list of segment names")
        return cls(
            name=name,
            description=str(description),
            weights=Weights(**{c: check.number(w.get(c, 0.0), f"weights.{c}")
                               for c in COMPONENTS}),
            tier_thresholds=tuple(check.number(t[n], f"tiers.{n}") for n in TIERS[:3]),
            sla=tuple(SlaPolicy(*(check.number(s[n][k], f"sla.{n}.{k}") for k in _SLA_KEYS))
                      for n in TIERS),
            at_risk_fraction=check.number(s["at_risk_fraction"], "sla.at_risk_fraction"),
            escalation=EscalationRule(
                sentiment_threshold=check.number(e["sentiment_threshold"],
                                                 "escalation.sentiment_threshold"),
                vip_sentiment_threshold=check.number(e["vip_sentiment_threshold"],
                                                     "escalation.vip_sentiment_threshold"),
                vip_segments=tuple(str(x).lower() for x in segments),
                vip_ltv_percentile=check.number(e["vip_ltv_percentile"],
                                                "escalation.vip_ltv_percentile"),
            ),
            segment_boost=tuple((k.lower(), v) for k, v in
                                _boost_map(check, b.get("segments", {}), "boost.segments")),
            campaign_boost=_boost_map(check, b.get("campaigns", {}), "boost.campaigns"),
            source_levels=tuple((k.strip().lower(), v) for k, v in
                                _boost_map(check, levels, "source_levels")),
        )

    def to_dict(self) -> dict[str, Any]:
        """Complete, JSON- and TOML-friendly form; ``from_mapping(p.to_dict()) == p``."""
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
            "source_levels": dict(self.source_levels),
        }


def _tables(check: Checker, data: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The tables ``data`` gives, each checked to be a table holding only known keys."""
    check.keys(data, ("name", "description", *_TABLES))
    tables = {key: check.table(data[key], key, allowed)
              for key, allowed in _TABLES.items() if key in data}
    for tier, policy in tables.get("sla", {}).items():
        if tier != "at_risk_fraction":
            check.table(policy, f"sla.{tier}", _SLA_KEYS)
    return tables


def _overlay(tables: Mapping[str, Mapping[str, Any]], base: dict[str, Any]) -> dict[str, Any]:
    """``base`` (a profile's ``to_dict()``, changed in place) with ``tables`` on top."""
    if "weights" in tables:
        base["weights"] = {c: tables["weights"].get(c, 0.0) for c in COMPONENTS}
    base.setdefault("source_levels", {})
    for key in ("tiers", "escalation", "boost", "source_levels"):
        base[key].update(tables.get(key, {}))
    for key, value in tables.get("sla", {}).items():
        if key == "at_risk_fraction":
            base["sla"][key] = value
        else:
            base["sla"][key].update(value)
    return base


def _boost_map(check: Checker, value: Any, key: str) -> tuple[tuple[str, float], ...]:
    table = check.table(value, key)
    return tuple((str(name), check.number(v, f"{key}.{name}", lo=0.0, hi=1.0))
                 for name, v in sorted(table.items()))


def _check_weights(check: Checker, weights: Weights) -> None:
    # Weights are relative (score = 100 * sum(w * c) / sum(w)): beyond these bounds the sum or
    # 100 / sum overflows and every ticket would silently score 0 or NaN.
    max_weight, min_sum = 1e6, 1e-6
    for c in COMPONENTS:
        w = check.number(getattr(weights, c), f"weights.{c}")
        if w < 0:
            check.fail(f"weights.{c} must be >= 0, got {w:g}")
        if w > max_weight:
            check.fail(f"weights.{c} must be at most {max_weight:g} (weights are relative: "
                       f"they are divided by their sum), got {w:g}")
    if weights.total <= 0:
        check.fail(f"weights sum to 0; give at least one of {', '.join(COMPONENTS)} "
                   "a positive weight")
    if weights.total < min_sum:
        check.fail(f"weights sum to {weights.total:g}, less than {min_sum:g}; weights "
                   "are relative: scale them up (e.g. 0.3, 0.15, ...)")


def _check_tiers(check: Checker, thresholds: tuple[float, float, float]) -> None:
    p1, p2, p3 = (check.number(t, f"tiers.{n}")
                  for t, n in zip(thresholds, TIERS[:3], strict=True))
    if not 100 >= p1 > p2 > p3 >= 0:
        check.fail(f"tiers must satisfy 100 >= P1 > P2 > P3 >= 0, got "
                   f"P1={p1:g}, P2={p2:g}, P3={p3:g}")


def _check_sla(check: Checker, sla: tuple[SlaPolicy, ...], at_risk_fraction: float) -> None:
    if len(sla) != len(TIERS):
        check.fail(f"sla needs one policy per tier {', '.join(TIERS)}")
    for tier, policy in zip(TIERS, sla, strict=True):
        fr = check.number(policy.first_response_minutes, f"sla.{tier}.first_response_minutes")
        res = check.number(policy.resolution_hours, f"sla.{tier}.resolution_hours")
        if fr <= 0 or res <= 0:
            check.fail(f"sla.{tier} times must be > 0")
        if res * 60 < fr:
            check.fail(f"sla.{tier}.resolution_hours ({res:g} h) is shorter than its "
                       f"first_response_minutes ({fr:g} min)")
    for i in range(1, len(TIERS)):
        for attr in _SLA_KEYS:
            lo, hi = getattr(sla[i - 1], attr), getattr(sla[i], attr)
            if hi < lo:
                check.fail(f"sla.{TIERS[i]}.{attr} ({hi:g}) must be >= sla.{TIERS[i - 1]}."
                           f"{attr} ({lo:g}); a more urgent tier cannot have a longer SLA")
    frac = check.number(at_risk_fraction, "sla.at_risk_fraction")
    if not 0 < frac < 1:
        check.fail(f"sla.at_risk_fraction must be between 0 and 1 (exclusive), got {frac:g}")


def _check_escalation(check: Checker, esc: EscalationRule) -> None:
    general = check.number(esc.sentiment_threshold, "escalation.sentiment_threshold",
                           lo=-1.0, hi=1.0)
    vip = check.number(esc.vip_sentiment_threshold, "escalation.vip_sentiment_threshold",
                       lo=-1.0, hi=1.0)
    if vip < general:
        check.fail(f"escalation.vip_sentiment_threshold ({vip:g}) must be >= "
                   f"escalation.sentiment_threshold ({general:g}); VIPs escalate sooner, "
                   "not later")
    check.number(esc.vip_ltv_percentile, "escalation.vip_ltv_percentile", lo=0.0, hi=1.0)


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
    def from_mapping(cls, over: Mapping[str, Any] | None = None) -> PrioritySettings:
        """The packaged ``[priority]`` section with ``over`` (a parsed TOML table) on top,
        validated. ``profiles.default`` is complete (the packaged one is); other profiles fill
        what they leave out from it."""
        check = Checker("priority")
        data = section("priority", over)
        check.keys(data, ("active_profile", "profiles"))
        raw = check.table(data["profiles"], "profiles")
        body = check.table(raw["default"], "profiles.default")
        default_check = Checker("priority profile 'default'")
        default = PriorityProfile._from_complete(
            default_check, "default", body.get("description", ""), _tables(default_check, body))
        profiles = [default] + [
            PriorityProfile.from_mapping(check.table(body, f"profiles.{key}"), name=str(key),
                                         base=default)
            for key, body in raw.items() if key != "default"
        ]
        settings = cls(active_profile=str(data["active_profile"]), profiles=tuple(profiles))
        settings.profile(settings.active_profile)  # raises for an unknown active_profile
        return settings

    def to_dict(self) -> dict[str, Any]:
        profiles = {}
        for p in self.profiles:
            body = p.to_dict()
            del body["name"]
            profiles[p.name] = body
        return {"active_profile": self.active_profile, "profiles": profiles}


@cache
def default_settings() -> PrioritySettings:
    """The packaged ``config/defaults/priority.toml``."""
    return PrioritySettings.from_mapping()


def default_profile() -> PriorityProfile:
    """The packaged ``default`` profile."""
    return default_settings().profile("default")
