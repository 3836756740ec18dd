"""Routing rules as data: config section ``[routing]``, defaults in ``defaults/routing.toml``.

:meth:`RoutingRules.from_mapping` puts a user's ``[routing]`` table on top of the packaged one
(:func:`triage_core.config.section`: ``categories`` merge category by category) and validates
it with :class:`~triage_core.config.validate.Checker`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from triage_core.config import Checker, section

__all__ = ["CategoryRule", "RoutingRules", "default_rules"]

_TOP_KEYS = ("confidence_threshold", "default_language", "keep_assigned", "triage_queue",
             "overflow_queue", "vip", "categories")
_VIP_KEYS = ("segments", "team", "senior_only", "require_skill")


@dataclass(frozen=True)
class CategoryRule:
    team: str
    skill: str = ""  # "" = any agent of the team


@dataclass(frozen=True)
class RoutingRules:
    """Validated ``[routing]`` section; build with :meth:`from_mapping`."""

    categories: tuple[tuple[str, CategoryRule], ...]
    confidence_threshold: float
    default_language: str
    keep_assigned: bool
    triage_queue: str
    overflow_queue: str
    vip_segments: tuple[str, ...]
    vip_team: str
    vip_senior_only: bool
    vip_require_skill: bool

    def rule(self, category: str) -> CategoryRule | None:
        return dict(self.categories).get(category)

    @classmethod
    def from_mapping(cls, over: Mapping[str, Any] | None = None) -> RoutingRules:
        """The packaged ``[routing]`` section with ``over`` (a parsed TOML table) on top,
        validated."""
        check = Checker("routing")
        d = section("routing", over)
        check.keys(d, _TOP_KEYS)
        vip = check.table(d["vip"], "vip", _VIP_KEYS)
        categories = _category_rules(check, d["categories"])
        segments = vip["segments"]
        if isinstance(segments, str) or not isinstance(segments, list | tuple):
            check.fail("vip.segments must be a list of segment names")
        return cls(
            categories=categories,
            confidence_threshold=check.number(d["confidence_threshold"], "confidence_threshold",
                                              lo=0, hi=1),
            default_language=check.text(d["default_language"], "default_language").lower(),
            keep_assigned=check.flag(d["keep_assigned"], "keep_assigned"),
            triage_queue=check.text(d["triage_queue"], "triage_queue"),
            overflow_queue=check.text(d["overflow_queue"], "overflow_queue"),
            vip_segments=tuple(str(s).strip().lower() for s in segments),
            vip_team=check.text(vip["team"], "vip.team"),
            vip_senior_only=check.flag(vip["senior_only"], "vip.senior_only"),
            vip_require_skill=check.flag(vip["require_skill"], "vip.require_skill"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "confidence_threshold": self.confidence_threshold,
            "default_language": self.default_language,
            "keep_assigned": self.keep_assigned,
            "triage_queue": self.triage_queue,
            "overflow_queue": self.overflow_queue,
            "vip": {"segments": list(self.vip_segments), "team": self.vip_team,
                    "senior_only": self.vip_senior_only,
                    "require_skill": self.vip_require_skill},
            "categories": {c: {"team": r.team, "skill": r.skill} for c, r in self.categories},
        }


def _category_rules(check: Checker, value: Any) -> tuple[tuple[str, CategoryRule], ...]:
    """``categories.<category>``: a team (required) and a skill ("" = any agent of the team)."""
    rules = []
    for cat, body in sorted(check.table(value, "categories").items()):
        body = check.table(body, f"categories.{cat}", ("team", "skill"))
        team = body.get("team")
        if not isinstance(team, str) or not team.strip():
            check.fail(f"categories.{cat}.team must name a team")
        skill = body.get("skill", "")
        if not isinstance(skill, str):
            check.fail(f"categories.{cat}.skill must be text, got {skill!r}")
        rules.append((str(cat), CategoryRule(team.strip(), skill.strip().lower())))
    return tuple(rules)


@cache
def default_rules() -> RoutingRules:
    """The packaged ``config/defaults/routing.toml``."""
    return RoutingRules.from_mapping()
