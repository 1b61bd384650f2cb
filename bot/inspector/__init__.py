"""The inspector: a local web page and JSON API to see and steer what each agent knows."""

from bot.inspector.app import build_inspector, inspector_link, mount_inspector
from bot.inspector.chat import InspectorPort
from bot.inspector.services import ChatIntake, InspectorServices

__all__ = [
    "ChatIntake",
    "InspectorPort",
    "InspectorServices",
    "build_inspector",
    "inspector_link",
    "mount_inspector",
]
