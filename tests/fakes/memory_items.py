"""The item, forget-one and why parts of the engine's user-memory port, for adapter tests:
scripted answers, and a record of what the adapter asked."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from engine import (
    Audience,
    Block,
    Derived,
    ForgetReport,
    MemoryItem,
    Message,
    Passage,
    PlatformMessage,
    Role,
    Scope,
    Source,
    Store,
    new_id,
)
from engine.records import next_seq
from engine.store.lineage import block_line_id, links

SAID_AT = datetime(2026, 3, 3, 14, 2, tzinfo=UTC)


def cited(text: str, *, channel: str = "#design", link: str | None = None) -> Source:
    """A source as the engine cites it: Ann said ``text`` on 3 March 2026."""
    return Source("m-" + text[:8], "Ann", SAID_AT, channel, text, link)


def line(record_id: str, text: str, *sources: Source) -> MemoryItem:
    return MemoryItem(Derived.BLOCK_LINE, record_id, "human", text, sources)


def archived(record_id: str, text: str, *sources: Source) -> MemoryItem:
    return MemoryItem(Derived.PASSAGE, record_id, "archival", text, sources)


class ExampleLinks:
    """A platform's link port for the ``test`` platform: a link per message, "#<id>" names
    (or ``names``), and a slow answer for ``slow_ref``."""

    platform = "test"

    def __init__(self, slow_ref: str = "", names: dict[str, str] | None = None) -> None:
        self.slow_ref = slow_ref
        self.names = names

    async def permalink(
        self, workspace: str, channel: str, platform_ref: str, thread: str = ""
    ) -> str | None:
        if platform_ref == self.slow_ref:
            await asyncio.sleep(5)
        return f"https://chat.example/{workspace}/{channel}/{platform_ref}"

    async def channel_name(self, workspace: str, channel: str) -> str | None:
        return f"#{channel}" if self.names is None else self.names.get(channel)


@dataclass
class MemoryItemsDouble:
    """Scripted ``memory_items`` and ``why``; ``forget_item`` removes a listed item and
    ``edit_item`` rewrites one; kept and forgotten messages are recorded."""

    items: list[MemoryItem] = field(default_factory=list)
    answer: list[MemoryItem] = field(default_factory=list)
    forgotten_items: list[tuple[str, str, str]] = field(default_factory=list)
    asked_why: list[tuple[Audience, str]] = field(default_factory=list)
    kept: list[tuple[Audience, PlatformMessage, str]] = field(default_factory=list)
    forgotten_messages: list[PlatformMessage] = field(default_factory=list)

    async def memory_items(self, workspace: str, user: str) -> list[MemoryItem]:
        return list(self.items)

    async def forget_item(self, workspace: str, user: str, key: str) -> ForgetReport:
        item = next((i for i in self.items if i.key == key), None)
        if item is None:
            return ForgetReport()
        self.items.remove(item)
        self.forgotten_items.append((workspace, user, key))
        if item.kind is Derived.PASSAGE:
            return ForgetReport(passages=1)
        return ForgetReport(block_lines=1)

    async def why(self, audience: Audience, words: str) -> list[MemoryItem]:
        self.asked_why.append((audience, words))
        return list(self.answer)

    async def edit_item(self, workspace: str, user: str, key: str, text: str) -> MemoryItem | None:
        at = next((n for n, i in enumerate(self.items) if i.key == key), None)
        if at is None:
            return None
        self.items[at] = replace(self.items[at], text=text)
        return self.items[at]

    async def remember_message(
        self, agent_id: str, audience: Audience, message: PlatformMessage, asked_by: str
    ) -> bool:
        if any((a, m.source) == (audience, message.source) for a, m, _ in self.kept):
            return False
        self.kept.append((audience, message, asked_by))
        return True

    async def forget_message(self, message: PlatformMessage, user: str) -> ForgetReport | None:
        if message.author != user:
            return None
        self.forgotten_messages.append(message)
        return ForgetReport(messages=1)


@dataclass(frozen=True)
class Remembered:
    """What ``remember_birthday`` stored: a public and a DM message of one user, a channel
    block line derived from both, a human line and a passage derived from the DM."""

    said: Message
    told: Message
    channel_line: str
    human_line: str
    passage: str


async def remember_birthday(
    store: Store,
    agent: str,
    public: Audience,
    dm: Audience,
    *,
    user: str,
    name: str,
    public_ref: str,
    dm_ref: str,
) -> Remembered:
    """Seed a store as turns would have left it after ``user`` told the agent their birthday
    in a public channel and, with a secret, in their DM."""

    def said(text: str, where: Audience, ref: str, minutes: int) -> Message:
        return Message(
            id=new_id(),
            agent_id=agent,
            workspace=where.workspace,
            channel=where.channel,
            thread="",
            scope=where.write_scope,
            role=Role.USER,
            author=user,
            author_name=name,
            content=text,
            seq=next_seq(),
            created_at=SAID_AT + timedelta(minutes=minutes),
            platform_ref=ref,
        )

    public_msg = said("my birthday is on 12 March", public, public_ref, 0)
    dm_msg = said("birthday cake secret: lemon", dm, dm_ref, 5)
    await store.messages.append([public_msg, dm_msg])
    channel = await store.blocks.create(
        _block(agent, public, "channel", public.channel, "Birthday of the week: 12 March")
    )
    human = await store.blocks.create(
        _block(agent, dm, "human", user, "Birthday cake: lemon", scope=dm.write_scope)
    )
    passage = Passage(
        id=new_id(),
        agent_id=agent,
        workspace=dm.workspace,
        scope=dm.write_scope,
        text=f"{name} wants a lemon birthday cake",
        users=(user,),
        created_at=SAID_AT,
    )
    await store.passages.insert([passage])
    channel_line = block_line_id(channel.id, channel.value)
    human_line = block_line_id(human.id, human.value)
    await store.lineage.link(
        [
            *links(Derived.BLOCK_LINE, channel_line, [public_msg.id, dm_msg.id], public.workspace),
            *links(Derived.BLOCK_LINE, human_line, [dm_msg.id], dm.workspace),
            *links(Derived.PASSAGE, passage.id, [dm_msg.id], dm.workspace),
        ]
    )
    return Remembered(public_msg, dm_msg, channel_line, human_line, passage.id)


def _block(
    agent: str, where: Audience, label: str, subject: str, value: str, scope: Scope | None = None
) -> Block:
    return Block(
        id=new_id(),
        owner=agent,
        workspace=where.workspace,
        label=label,
        subject=subject,
        scope=scope or where.write_scope,
        value=value,
        limit=2000,
    )
