"""Replies to Discord: split under 2,000 characters, posted exactly once, typing while working.

Exactly once: every chunk carries a nonce derived from the outbox id and its position, sent
with ``enforce_nonce``, so when the pipeline delivers the same reply again after a crash,
Discord returns the message it already created instead of posting a copy. Discord keeps
nonces for a few minutes, which covers the pipeline's redelivery after a restart. A reply
streamed while the model wrote it (``adapters.discord.streaming``) was created with its first
chunk's nonce: delivering it gets that message back and edits it to the final text.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Iterator

import aiohttp
import discord

from adapters.chunking import split_message
from adapters.discord.audience import PLATFORM
from adapters.discord.links import DiscordLinks
from adapters.discord.streaming import DiscordReplyStream
from engine import DeliveryError, Inbound, Outbound, ReplyStream

log = logging.getLogger(__name__)

#: Discord's limit on a message's content.
MESSAGE_LIMIT = 2000
#: Discord's limit on a nonce's length.
NONCE_LENGTH = 25
#: A typing indicator lasts 10 s; renew it a little before it runs out.
TYPING_RENEWAL = 8.0
#: Replies may ping the people they talk to, never whole roles or @everyone.
REPLY_MENTIONS = discord.AllowedMentions(everyone=False, roles=False, users=True, replied_user=True)


def delivery_nonce(reply_id: str, chunk: int) -> str:
    """The same nonce for the same chunk of the same reply, every time it is delivered."""
    return hashlib.sha256(f"{reply_id}:{chunk}".encode()).hexdigest()[:NONCE_LENGTH]


class DiscordDelivery(DiscordLinks):
    """The engine's ``PlatformPort`` for Discord, and its ``LinkPort`` (``DiscordLinks``)."""

    @property
    def platform(self) -> str:
        return PLATFORM

    async def deliver(self, reply: Outbound) -> str:
        chunks = split_message(reply.text, MESSAGE_LIMIT)
        if not chunks:
            raise DeliveryError(f"reply {reply.id} is blank; nothing to post", permanent=True)
        target = self._client.get_partial_messageable(int(reply.thread or reply.channel))
        posted: list[str] = []
        for index, chunk in enumerate(chunks):
            with _as_delivery_error(reply):
                message = await _send_part(target, reply, index, chunk)
                if message.content.strip() != chunk.strip():
                    # The message the reply was streamed into: it shows the final text now.
                    await message.edit(content=chunk)
            posted.append(str(message.id))
        return posted[0]

    async def open_stream(self, reply: Outbound, answering: Inbound) -> ReplyStream:
        """``engine.StreamingPort``: the reply's first message, edited as the model writes."""
        target = self._client.get_partial_messageable(int(reply.thread or reply.channel))
        return DiscordReplyStream(
            lambda text: _send_part(target, reply, 0, text), limit=MESSAGE_LIMIT
        )

    @contextlib.asynccontextmanager
    async def working(self, inbound: Inbound) -> AsyncIterator[None]:
        """Keep "<bot> is typing…" shown in the conversation until the turn is over."""
        target = self._client.get_partial_messageable(int(inbound.thread or inbound.channel))
        typing = asyncio.create_task(_keep_typing(target), name=f"typing:{target.id}")
        try:
            yield
        finally:
            typing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await typing


async def _keep_typing(target: discord.PartialMessageable) -> None:
    while True:
        try:
            await target.typing()
        except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
            # Typing is a courtesy: the turn goes on without it.
            log.info("typing indicator in %s failed: %s", target.id, error)
        await asyncio.sleep(TYPING_RENEWAL)


async def _send_part(
    target: discord.PartialMessageable, reply: Outbound, index: int, text: str
) -> discord.Message:
    """Post part ``index`` of ``reply`` with its nonce (the first part as a reply to the
    message it answers); Discord returns the part posted before, if there was one."""
    nonce = delivery_nonce(reply.id, index)
    if index == 0 and reply.reply_to:
        reference = discord.MessageReference(
            message_id=int(reply.reply_to), channel_id=target.id, fail_if_not_exists=False
        )
        return await target.send(
            text, reference=reference, nonce=nonce, allowed_mentions=REPLY_MENTIONS
        )
    return await target.send(text, nonce=nonce, allowed_mentions=REPLY_MENTIONS)


@contextlib.contextmanager
def _as_delivery_error(reply: Outbound) -> Iterator[None]:
    """Discord's failures as the engine's ``DeliveryError`` (permanent or retryable)."""
    where = f"reply {reply.id} to channel {reply.thread or reply.channel}"
    try:
        yield
    except discord.RateLimited as error:
        raise DeliveryError(f"{where}: rate limited", retry_after=error.retry_after) from error
    except (discord.Forbidden, discord.NotFound) as error:
        raise DeliveryError(f"{where}: {error.text or error}", permanent=True) from error
    except discord.HTTPException as error:
        retryable = error.status >= 500 or error.status == 429
        raise DeliveryError(f"{where}: {error.text or error}", permanent=not retryable) from error
    except (aiohttp.ClientError, OSError, TimeoutError) as error:
        raise DeliveryError(f"{where}: {error!r}") from error
