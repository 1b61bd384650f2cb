"""Attachments of Discord messages, handed to ``adapters.shared_files`` to be learned.

Each attachment names its file, size and CDN URL (signed by Discord, read without the bot
token). The answer is a reply to the message that shared them.
"""

from __future__ import annotations

import discord

from adapters.intake import Arrival
from adapters.shared_files import FileShare, SharedFile, SharedFileLearner


def shared_files(message: discord.Message) -> tuple[SharedFile, ...]:
    """The files attached to ``message`` (not those of a message it forwards)."""
    return tuple(SharedFile(a.filename, a.size, a.url) for a in message.attachments)


class DiscordSharedFiles:
    """Hands the attachments of Discord messages to the learner, answering by a reply."""

    def __init__(self, learner: SharedFileLearner) -> None:
        self.learner = learner

    def take(self, message: discord.Message, arrival: Arrival) -> None:
        if not message.attachments:
            return

        async def tell(text: str) -> object:
            # A file's name is the sharer's words: it mentions nobody (not @everyone).
            return await message.reply(
                text, mention_author=False, allowed_mentions=discord.AllowedMentions.none()
            )

        self.learner.take(FileShare(arrival, shared_files(message), tell))
