"""Replies streamed into Discord by editing one message as the model writes.

The message is created with the nonce of the reply's first part (``enforce_nonce``), so it is
the reply's delivery from the start: delivering the reply, after the turn or after a crash and
a new turn, gets that same message back from Discord and edits it to the final text instead
of posting a second one. Edits keep to Discord's rate limit on editing a channel's messages:
at most one per ``EDIT_INTERVAL`` (the engine joins what arrives meanwhile into one edit).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

#: Discord allows about five message edits per channel per 5 s; one a second leaves room.
EDIT_INTERVAL = 1.0


class DiscordReplyStream:
    """``engine.ReplyStream`` over one Discord message, created on the first text."""

    interval = EDIT_INTERVAL

    def __init__(self, post_first: Callable[[str], Awaitable[discord.Message]], limit: int) -> None:
        #: Posts the reply's first part (with its nonce and reference).
        self._post_first = post_first
        self._limit = limit
        self._text = ""
        self._shown = ""
        self._message: discord.Message | None = None

    async def append(self, text: str) -> None:
        self._text += text
        shown = self._text[: self._limit]  # past the limit, delivery posts the rest as parts
        if shown == self._shown:
            return
        if self._message is None:
            self._message = await self._post_first(shown)
        else:
            await self._message.edit(content=shown)
        self._shown = shown

    async def finish(self) -> None:
        """Every append edited the message to all the text so far: nothing is left to show."""

    async def withdraw(self) -> None:
        if self._message is not None:
            await self._message.delete()
