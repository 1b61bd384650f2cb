"""Talk to an agent from a terminal, through the same pipeline as Slack and Discord."""

from adapters.console.approvals import ConsoleApprovals
from adapters.console.chat import (
    CONSOLE_WORKSPACE,
    ConsoleChat,
    ConsoleEngine,
    ConsolePort,
    stdin_lines,
    typed_message,
)

__all__ = [
    "CONSOLE_WORKSPACE",
    "ConsoleApprovals",
    "ConsoleChat",
    "ConsoleEngine",
    "ConsolePort",
    "stdin_lines",
    "typed_message",
]
