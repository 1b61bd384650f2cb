"""Slack's Agents & AI Apps surface, through slack-bolt's ``AsyncAssistant``.

A new assistant thread opens with a greeting and suggested prompts drawn from what the agent
remembers about the user who opened it. An assistant thread is a DM with that user, so only
what a DM with them may read is offered: their DM-private memory, and what is visible to the
whole workspace; never what was learned in a private channel or another user's DM. The channel
the user is viewing (``assistant_thread_context_changed``) is recorded with the thread; the
turn's audience stays the DM, so what the agent may read from that channel is what any DM with
the user may read. The user's messages go through the normal intake as DM thread messages, and
the thread is titled after the first one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.context.assistant.thread_context import AssistantThreadContext
from slack_bolt.context.assistant.thread_context_store.async_store import (
    AsyncAssistantThreadContextStore,
)
from slack_bolt.context.save_thread_context.async_save_thread_context import (
    AsyncSaveThreadContext,
)
from slack_bolt.context.say.async_say import AsyncSay
from slack_bolt.context.set_suggested_prompts.async_set_suggested_prompts import (
    AsyncSetSuggestedPrompts,
)
from slack_bolt.context.set_title.async_set_title import AsyncSetTitle
from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.payload_utils import is_other_message_sub_event_in_assistant_thread
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.directory import SlackDirectory
from adapters.slack.events import parse_event, workspace_id
from adapters.slack.payloads import MalformedEvent, read_callback
from adapters.slack.routing import receiver_of
from engine import JSON, Audience, AudienceKind, KeyValueStore, MemoryItem, UserMemory, utcnow

log = logging.getLogger(__name__)

NAMESPACE = "slack_assistant"
#: Slack shows at most four suggested prompts.
PROMPTS = 4
PROMPT_TITLE = 60
THREAD_TITLE = 80
MEMORY_TIMEOUT_S = 2.5
#: What is kept about an assistant thread is forgotten this long after it was written.
THREAD_DAYS = 30
ASK_MEMORY = "What do you remember about me?"
FIRST_PROMPTS: tuple[dict[str, str], ...] = (
    {"title": "What can you do?", "message": "What can you do, and what do you remember?"},
    {"title": "Remember something for me", "message": "Please remember this for me: "},
    {"title": "Who sees what I tell you?", "message": "Who can see what I tell you here?"},
)

type MessageListener = Callable[..., Awaitable[None]]


class KeyValueThreadContexts(AsyncAssistantThreadContextStore):
    """The channel each assistant thread's user is viewing, kept in Mnemo's store (so every
    replica knows it), instead of in a message's metadata as bolt's default store does."""

    def __init__(self, kv: KeyValueStore) -> None:
        self._kv = kv

    def __deepcopy__(self, memo: dict[int, object]) -> KeyValueThreadContexts:
        """bolt deep-copies a request (and this, through its context) for lazy listeners:
        every copy keeps the one store."""
        return self

    async def save(self, *, channel_id: str, thread_ts: str, context: dict[str, str]) -> None:
        entry = {"context": dict(context), "at": utcnow().isoformat()}
        await self._kv.put(NAMESPACE, _key("context", channel_id, thread_ts), entry)

    async def find(self, *, channel_id: str, thread_ts: str) -> AssistantThreadContext | None:
        found = await self._kv.get(NAMESPACE, _key("context", channel_id, thread_ts))
        context = found.get("context") if found is not None else None
        if not isinstance(context, dict) or not isinstance(context.get("channel_id"), str):
            return None
        return AssistantThreadContext(context)


class _MessagesPassThrough(AsyncAssistant):
    """bolt's assistant, except that edits and deletions in a DM thread go on to the app's
    own message listener (which updates what is remembered) instead of being dropped."""

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        if is_other_message_sub_event_in_assistant_thread(req.body):
            return await next()
        return await super().async_process(req=req, resp=resp, next=next)


class AssistantThreads:
    """The assistant surface of one Slack app; ``on_message`` is the app's message listener."""

    def __init__(
        self,
        memory: UserMemory,
        kv: KeyValueStore,
        on_message: MessageListener,
        directory: SlackDirectory | None = None,
    ) -> None:
        self._memory = memory
        self._kv = kv
        self._directory = directory or SlackDirectory()
        self.contexts = KeyValueThreadContexts(kv)
        self._claiming = asyncio.Lock()
        assistant = _MessagesPassThrough(thread_context_store=self.contexts, logger=log)
        # bolt's assistant types its lazy listeners as plain functions; it awaits them.
        assistant.thread_started(lazy=[self.greet])(_acknowledged)  # type: ignore[list-item]
        assistant.thread_context_changed(self.record_context)
        assistant.user_message(lazy=[self.title])(on_message)  # type: ignore[list-item]
        self.middleware: AsyncAssistant = assistant

    async def greet(
        self,
        body: dict[str, Any],
        event: dict[str, Any],
        client: AsyncWebClient,
        say: AsyncSay,
        set_suggested_prompts: AsyncSetSuggestedPrompts,
    ) -> None:
        """Greet the user once per thread, with prompts from what the agent remembers of
        them (or, for someone it does not know yet, prompts that show what it does)."""
        thread = event.get("assistant_thread") or {}
        channel, ts, user = thread.get("channel_id"), thread.get("thread_ts"), thread.get("user_id")
        team = _team(body)
        if not (team and isinstance(channel, str) and isinstance(ts, str) and user):
            log.info("an assistant thread started without its channel, ts, user or team")
            return
        if isinstance(thread.get("context"), dict) and thread["context"].get("channel_id"):
            await self.contexts.save(channel_id=channel, thread_ts=ts, context=thread["context"])
        # The thread's DM is the user's: kept with it, so forgetting them finds its records.
        if not await self._first(_key("greeted", channel, ts), _person(team, str(user))):
            return
        items = await self._own_items(team, str(user), channel)
        name = await self._directory.user_name(client, team, str(user))
        try:
            await say(text=greeting(name, bool(items)))
            await set_suggested_prompts(prompts=suggested_prompts(items))
        except (SlackClientError, OSError, TimeoutError) as error:
            log.warning("greeting assistant thread %s/%s failed: %r", channel, ts, error)

    async def record_context(
        self, event: dict[str, Any], save_thread_context: AsyncSaveThreadContext
    ) -> None:
        """Keep the channel the user now views with the thread."""
        context = (event.get("assistant_thread") or {}).get("context")
        if isinstance(context, dict) and isinstance(context.get("channel_id"), str):
            await save_thread_context(context)

    async def title(self, body: dict[str, Any], set_title: AsyncSetTitle) -> None:
        """Name the thread after the user's first message in it."""
        try:
            message = parse_event(body, "")
        except MalformedEvent:
            return  # the message listener has kept it for the operator
        if message is None or not message.thread_ts or not message.text.strip():
            return
        if not await self._first(_key("titled", message.envelope.channel, message.thread_ts)):
            return
        # A lone surrogate (the text is whatever the client sent) cannot be encoded.
        words = " ".join(message.text.encode("utf-8", "ignore").decode("utf-8").split())
        try:
            await set_title(_clipped(words, THREAD_TITLE))
        except (SlackClientError, OSError, TimeoutError) as error:
            log.info("titling assistant thread %s failed: %r", message.thread_ts, error)

    async def prune(self, now: datetime) -> int:
        """Forget what was kept about threads untouched for ``THREAD_DAYS`` (their context,
        whether they were greeted and titled): Slack retries an event for minutes, not days."""
        before = now - timedelta(days=THREAD_DAYS)
        stale = [key for key, entry in await self._kv.list(NAMESPACE) if _older(entry, before)]
        for key in stale:
            await self._kv.delete(NAMESPACE, key)
        return len(stale)

    async def _own_items(self, team: str, user: str, channel: str) -> list[MemoryItem]:
        """The user's memory that a DM with them may read, newest first; none when it takes
        too long to list."""
        workspace = workspace_id(team)
        readable = Audience(workspace, AudienceKind.DM, channel, user).readable_scopes
        try:
            async with asyncio.timeout(MEMORY_TIMEOUT_S):
                items = await self._memory.memory_items(workspace, user)
        except TimeoutError:
            return []
        return [item for item in items if item.scope is not None and item.scope in readable]

    async def _first(self, key: str, about: dict[str, str] | None = None) -> bool:
        """Whether this is the first time ``key`` is claimed (Slack retries events, and a
        retry's lazy listener runs beside the first one's). Claims race only across
        replicas, where a retry lands only when the first delivery was not acknowledged.
        ``about`` names the person the claim is about, kept with it."""
        async with self._claiming:
            if await self._kv.get(NAMESPACE, key) is not None:
                return False
            await self._kv.put(NAMESPACE, key, {"at": utcnow().isoformat(), **(about or {})})
            return True


def greeting(name: str, remembers: bool) -> str:
    if remembers:
        return (
            f"Welcome back{f', {name}' if name else ''}. Pick up one of these, or ask me anything."
        )
    return (
        f"Hi{f' {name}' if name else ''}! I'm Mnemo. Ask me anything; I remember what you "
        "tell me, and only where you told it."
    )


def suggested_prompts(items: Sequence[MemoryItem]) -> list[dict[str, str]]:
    """Up to four prompts: for someone the agent knows, what it remembers of them."""
    if not items:
        return list(FIRST_PROMPTS)
    prompts = [{"title": ASK_MEMORY, "message": ASK_MEMORY}]
    for item in items[: PROMPTS - 1]:
        prompts.append(
            {
                "title": _clipped(item.text, PROMPT_TITLE),
                "message": f"Let's talk about what you remember: {item.text}",
            }
        )
    return prompts


async def _acknowledged() -> None:
    """The thread's start is acknowledged at once; the greeting follows."""


def _team(body: dict[str, Any]) -> str:
    try:
        return receiver_of(read_callback(body)).team
    except MalformedEvent:
        return ""


def _older(entry: JSON, before: datetime) -> bool:
    """Whether ``entry`` was written before ``before`` (one without a readable time is)."""
    try:
        return datetime.fromisoformat(str(entry.get("at"))) < before
    except ValueError:
        return True


async def forget_assistant_threads(kv: KeyValueStore, workspace: str, user: str) -> int:
    """Forget what is kept about ``user``'s assistant threads (the channels they viewed,
    whether a thread was greeted and titled): every record of the DM their threads are in.
    Returns how many records went. It needs only the store, so a forget run from the terminal
    does it too."""
    entries = await kv.list(NAMESPACE)
    person = _person_in(workspace, user)
    theirs = {_channel_of(key) for key, entry in entries if _is_about(entry, person)}
    doomed = [key for key, _ in entries if _channel_of(key) in theirs]
    for key in doomed:
        await kv.delete(NAMESPACE, key)
    return len(doomed)


def _key(kind: str, channel: str, thread_ts: str) -> str:
    return f"{kind}:{channel}:{thread_ts}"


def _channel_of(key: str) -> str:
    """The DM channel a record's key (``_key``) names."""
    return key.split(":", 2)[1] if key.count(":") >= 2 else ""


def _person(team: str, user: str) -> dict[str, str]:
    return _person_in(workspace_id(team), user)


def _person_in(workspace: str, user: str) -> dict[str, str]:
    """What a record about ``user`` of ``workspace`` keeps to be found by their forget."""
    return {"workspace": workspace, "user": user}


def _is_about(entry: JSON, person: dict[str, str]) -> bool:
    return all(entry.get(name) == value for name, value in person.items())


def _clipped(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
