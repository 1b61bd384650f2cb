"""The chat playground: talk to an agent as a chosen user in a chosen channel or DM.

Messages go through the engine's intake like any platform's, so the turn, its memory writes and
the audience rules are the real ones; replies arrive through the ``inspector`` platform port,
which keeps them for the page.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from pydantic import Field

from adapters.console import typed_message
from bot.inspector.api import Endpoint, agent_of, body_of, fail, query_of, reply, services_of
from bot.inspector.context_routes import INSPECTOR_PLATFORM
from bot.inspector.conversation import ConversationQuery
from engine import Author, ConversationKey, Inbound, Outbound, ReceiveOutcome

#: Replies kept for the page; older ones are dropped (recall keeps the conversation).
KEPT_REPLIES = 1000
#: Seconds a chat request waits for the turn before answering that it is still running.
TURN_WAIT = 90.0


class InspectorPort:
    """The ``inspector`` platform: delivering a reply means keeping it for the page."""

    platform = INSPECTOR_PLATFORM

    def __init__(self) -> None:
        self._delivered: deque[tuple[int, Outbound]] = deque(maxlen=KEPT_REPLIES)
        #: How many replies were ever delivered; a position in this count is a "mark".
        self.count = 0

    async def deliver(self, reply: Outbound) -> str:
        self.count += 1
        self._delivered.append((self.count, reply))
        return reply.id

    @asynccontextmanager
    async def working(self, inbound: Inbound) -> AsyncIterator[None]:
        yield

    def replies_since(self, mark: int, conversation: ConversationKey) -> list[Outbound]:
        """Replies in ``conversation`` delivered here after ``mark`` (a turn may answer several
        messages at once, so replies are matched by conversation, not by message)."""
        since: list[Outbound] = []
        for n, delivered in reversed(self._delivered):  # newest first: stop at the mark
            if n <= mark:
                break
            if delivered.conversation == conversation:
                since.append(delivered)
        since.reverse()
        return since


class ChatAgents:
    """The agents chat requests named by id, once found: a message then reads no agent record
    (the engine's intake checks that an agent exists the same way, once per id)."""

    def __init__(self) -> None:
        self._known: set[str] = set()

    async def id_of(self, request: web.Request) -> str:
        """The id of the agent named by ``{agent_id}`` (its id or its name)."""
        key = request.match_info["agent_id"]
        if key in self._known:
            return key
        agent_id = (await agent_of(request)).id
        self._known.add(agent_id)
        return agent_id


INSPECTOR_PORT_KEY = web.AppKey("inspector_port", InspectorPort)
CHAT_AGENTS_KEY = web.AppKey("chat_agents", ChatAgents)


class ChatMessage(ConversationQuery):
    text: str = Field(min_length=1, description="What the user says.")


class RepliesQuery(ConversationQuery):
    after: int = Field(default=0, ge=0, description="The mark a chat request answered with.")


async def send_chat(request: web.Request) -> web.Response:
    """Say something as the user and wait (up to ``TURN_WAIT``) for the agent's replies."""
    agent_id = await request.app[CHAT_AGENTS_KEY].id_of(request)
    message = await body_of(request, ChatMessage)
    if not message.user:
        fail(400, "user: the playground speaks as a user; name one")
    intake = services_of(request).intake
    port = request.app[INSPECTOR_PORT_KEY]
    mark = port.count
    said = typed_message(
        INSPECTOR_PLATFORM,
        agent_id,
        message.audience,
        Author(message.user, message.speaker_name),
        message.text,
        thread=message.thread,
        channel_name=message.channel_name,
    )
    result = await intake.receive(said)
    if result.outcome is not ReceiveOutcome.ACCEPTED:
        fail(422, f"the engine did not accept the message: {result.reason}")
    settled = True
    try:
        async with asyncio.timeout(TURN_WAIT):
            await intake.wait_settled(result.inbox_id)
    except TimeoutError:
        settled = False
    replies = port.replies_since(mark, message.key(agent_id))
    if settled and not any(r.inbox_id == result.inbox_id for r in replies):
        # Every process serving the store takes its messages: another one may have run this
        # turn and delivered its replies there.
        shown = {r.id for r in replies}
        stored = await intake.delivered_replies(result.inbox_id)
        replies += [r for r in stored if r.id not in shown]
    return reply(
        {
            "inbox_id": result.inbox_id,
            "settled": settled,
            "mark": mark,
            "replies": [r.text for r in replies],
        },
        status=200 if settled else 202,
    )


async def get_replies(request: web.Request) -> web.Response:
    """Replies delivered in the conversation after a mark (after a chat request answered 202)."""
    agent_id = await request.app[CHAT_AGENTS_KEY].id_of(request)
    query = query_of(request, RepliesQuery)
    port = request.app[INSPECTOR_PORT_KEY]
    replies = port.replies_since(query.after, query.key(agent_id))
    return reply({"replies": [r.text for r in replies]})


ENDPOINTS = (
    Endpoint(
        "POST",
        "/agents/{agent_id}/chat",
        send_chat,
        "Say something to the agent as a user in a channel or DM; returns its replies",
        "chat",
        body=ChatMessage,
    ),
    Endpoint(
        "GET",
        "/agents/{agent_id}/chat",
        get_replies,
        "Replies delivered in the conversation after a mark",
        "chat",
        query=RepliesQuery,
    ),
)
