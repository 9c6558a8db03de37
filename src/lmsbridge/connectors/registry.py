"""Tool slug -> connector class: the built-in connectors, and those installed packages declare
in the `lmsbridge.connectors` entry point group (`slug = "package.module:ConnectorClass"`), so a
third party can ship a connector without changing lmsbridge."""

from __future__ import annotations

import logging
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from lmsbridge.connectors.connector import BaseConnector
from lmsbridge.connectors.linkedinlearning.connector import LinkedInLearningConnector
from lmsbridge.connectors.moodle.connector import MoodleConnector
from lmsbridge.connectors.sandbox.connector import SandboxConnector
from lmsbridge.connectors.talentlms.connector import TalentLmsConnector
from lmsbridge.connectors.threesixtylearning.connector import ThreeSixtyLearningConnector
from lmsbridge.connectors.udemy.connector import UdemyConnector

ENTRY_POINT_GROUP = "lmsbridge.connectors"

log = logging.getLogger("lmsbridge.connectors")

CONNECTORS: dict[str, type[BaseConnector[Any]]] = {
    SandboxConnector.tool: SandboxConnector,
    TalentLmsConnector.tool: TalentLmsConnector,
    ThreeSixtyLearningConnector.tool: ThreeSixtyLearningConnector,
    UdemyConnector.tool: UdemyConnector,
    LinkedInLearningConnector.tool: LinkedInLearningConnector,
    MoodleConnector.tool: MoodleConnector,
}


class UnknownToolError(ValueError):
    pass


@cache
def load_entry_points() -> list[str]:
    """Adds the installed packages' connectors (once); a built-in slug is never replaced. Returns
    the slugs added."""
    added = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in CONNECTORS:
            log.warning("connector %r from %s ignored: the slug is taken", entry.name, entry.value)
            continue
        try:
            loaded = entry.load()
        except Exception:
            log.exception("connector %r (%s) could not be loaded", entry.name, entry.value)
            continue
        if not (isinstance(loaded, type) and issubclass(loaded, BaseConnector)):
            log.warning("connector %r (%s) is not a BaseConnector; ignored", entry.name, entry.value)
            continue
        CONNECTORS[entry.name] = loaded
        added.append(entry.name)
    return added


def tools() -> list[str]:
    load_entry_points()
    return sorted(CONNECTORS)


def connector_class(tool: str) -> type[BaseConnector[Any]]:
    load_entry_points()
    try:
        return CONNECTORS[tool]
    except KeyError:
        known = ", ".join(sorted(CONNECTORS))
        raise UnknownToolError(f"unknown tool {tool!r}; available: {known}") from None


def validate_settings(tool: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Validate an integration's settings against its connector; returns them normalised."""
    return connector_class(tool).settings_model.model_validate(settings).model_dump(mode="json")
