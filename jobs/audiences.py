"""The audience a stored conversation was heard by, rebuilt from the scope of its messages.

A job writes what it learned from a conversation exactly where a turn in it would have
(DESIGN §3): a DM's facts into that user's private parts, a private channel's into the
channel, a public channel's into the workspace.
"""

from __future__ import annotations

from engine.audience import SCOPE_WORKSPACE, Audience, AudienceKind
from engine.records import ConversationKey


def audience_for(conversation: ConversationKey, scope: str) -> Audience:
    """The audience of ``conversation``, whose messages are stored under ``scope``."""
    if scope.startswith("dm:"):
        return Audience(
            conversation.workspace, AudienceKind.DM, conversation.channel, scope.removeprefix("dm:")
        )
    if scope.startswith("private:"):
        return Audience(conversation.workspace, AudienceKind.PRIVATE, conversation.channel)
    if scope == SCOPE_WORKSPACE:
        return Audience(conversation.workspace, AudienceKind.PUBLIC, conversation.channel)
    raise ValueError(f"messages of {conversation} carry an unknown scope {scope!r}")
