"""Every section of a user's config file, validated when the file is loaded.

:func:`triage_core.config.load_config` calls :func:`check` for the sections a user's file
gives, so a mistake in any of them is refused at once, with the file's name, whatever the
command (not only by the command that happens to read the section). Each section is validated
by the settings type that owns it; this module only knows which one that is, and imports it
when the section is checked (``import triage_core.config`` stays cheap).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["VALIDATORS", "check"]


def _attribution(over: Any) -> None:
    from triage_core.marketing.settings import AttributionSettings

    AttributionSettings.from_mapping(over)


def _classifier(over: Any) -> None:
    from triage_core.models.classifier import ClassifierSettings

    ClassifierSettings.from_config(over)


def _dashboard(over: Any) -> None:
    from triage_core.config.dashboard import DashboardSettings

    DashboardSettings.from_mapping(over)


def _forecast(over: Any) -> None:
    from triage_core.marketing.settings import ForecastSettings

    ForecastSettings.from_mapping(over)


def _language(over: Any) -> None:
    from triage_core.models.language import LanguageSettings

    LanguageSettings.from_mapping(over)


def _lift(over: Any) -> None:
    from triage_core.marketing.settings import LiftSettings

    LiftSettings.from_mapping(over)


def _pipeline(over: Any) -> None:
    from triage_core.config.pipeline import PipelineSettings

    PipelineSettings.from_mapping(over)


def _priority(over: Any) -> None:
    from triage_core.ops.priority.profile import PrioritySettings

    PrioritySettings.from_mapping(over)


def _routing(over: Any) -> None:
    from triage_core.ops.routing.rules import RoutingRules

    RoutingRules.from_mapping(over)


def _sentiment(over: Any) -> None:
    from triage_core.models.sentiment.settings import SentimentSettings

    SentimentSettings.from_config(over)


def _server(over: Any) -> None:
    from triage_core.server.settings import ServerSettings

    ServerSettings.from_mapping(over)


def _severity(over: Any) -> None:
    from triage_core.models.severity import SeverityRules

    SeverityRules.from_config(over)


def _topics(over: Any) -> None:
    from triage_core.models.topics import TopicSettings

    TopicSettings.from_config(over)


def _training(over: Any) -> None:
    from triage_core.config.training import TrainingSettings

    TrainingSettings.from_mapping(over)  # its own keys first: "unknown key" before the tables
    from triage_core.models.baseline import BaselineSettings
    from triage_core.models.selection import selection_settings

    selection_settings(over)
    BaselineSettings.from_config(over)


# One validator per file in config/defaults/ (a test keeps the two lists the same).
VALIDATORS: dict[str, Callable[[Any], None]] = {
    "attribution": _attribution,
    "classifier": _classifier,
    "dashboard": _dashboard,
    "forecast": _forecast,
    "language": _language,
    "lift": _lift,
    "pipeline": _pipeline,
    "priority": _priority,
    "routing": _routing,
    "sentiment": _sentiment,
    "server": _server,
    "severity": _severity,
    "topics": _topics,
    "training": _training,
}


def check(config: Mapping[str, Any], names: Iterable[str]) -> None:
    """Validate sections ``names`` of ``config`` (defaults with a user's file on top); the
    first problem raises :class:`~triage_core.errors.ConfigError`."""
    for name in names:
        validate = VALIDATORS.get(name)
        if validate is not None:
            validate(config[name])
