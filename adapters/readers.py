"""Who will see the bot use what it keeps, told to the person who shared it, in the same
words on every platform but for what a workspace is called there."""

from __future__ import annotations

from engine import AudienceKind


def readers(kind: AudienceKind, workspace_word: str = "workspace") -> str:
    """ "I'll use it ..." for something learned in a conversation of ``kind``;
    ``workspace_word`` is the platform's name for a workspace ("server" on Discord)."""
    match kind:
        case AudienceKind.DM:
            return "I'll use it only in our DMs"
        case AudienceKind.PRIVATE:
            return "I'll use it only in this private channel"
        case AudienceKind.PUBLIC:
            return f"I'll use it with everyone in this {workspace_word}"
