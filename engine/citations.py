"""Citations: who said a remembered thing, when, in which channel, and a link to it.

Search results and ``why`` answers cite the messages a memory came from (its lineage). Links
and channel names come from the platforms' ``LinkPort``s, each asked within a short timeout;
a platform that does not answer costs the citation its link, never the answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from engine.audience import Audience
from engine.ports import LinkPort, PlatformPort, Source
from engine.records import Message, Role
from engine.store.lineage import Derived
from engine.store.protocol import Store

log = logging.getLogger(__name__)

#: How long a platform may take to give one link or channel name.
LINK_TIMEOUT_S = 2.0
#: How far back through the agent's own messages and summaries a citation looks for people.
MAX_HOPS = 3
#: What a citation calls a direct conversation.
DIRECT_MESSAGES = "direct messages"


def platform_of(workspace: str) -> str:
    """The platform a workspace id belongs to (its prefix: ``slack:T1`` -> ``slack``)."""
    platform, colon, _ = workspace.partition(":")
    return platform if colon else ""


class PlatformLinks:
    """The link ports of the platforms this process serves, by platform name."""

    def __init__(self, timeout: float = LINK_TIMEOUT_S) -> None:
        self._timeout = timeout
        self._ports: dict[str, LinkPort] = {}

    def register(self, port: PlatformPort | LinkPort) -> None:
        """Use ``port`` for its platform's links, when it gives links."""
        if isinstance(port, LinkPort):
            self._ports[port.platform] = port

    async def permalink(self, message: Message) -> str | None:
        port = self._ports.get(platform_of(message.workspace))
        if port is None or not message.platform_ref:
            return None
        return await self._bounded(
            port.permalink(message.workspace, message.channel, message.platform_ref, message.thread)
        )

    async def channel_name(self, message: Message) -> str:
        """How people call the message's channel; its id when the platform does not say."""
        if message.scope.is_dm:
            return DIRECT_MESSAGES
        port = self._ports.get(platform_of(message.workspace))
        named = None
        if port is not None:
            named = await self._bounded(port.channel_name(message.workspace, message.channel))
        return named or message.channel

    async def _bounded[T](self, answer: Awaitable[T | None]) -> T | None:
        try:
            async with asyncio.timeout(self._timeout):
                return await answer
        except TimeoutError:
            log.info("a platform link look-up took over %.1f s; cited without it", self._timeout)
            return None


class Citations:
    """Turns messages, and the lineage of derived records, into ``Source``s."""

    def __init__(self, store: Store, links: PlatformLinks | None = None) -> None:
        self._store = store
        self._links = links or PlatformLinks()

    async def cite(self, messages: Sequence[Message]) -> list[Source]:
        """A citation of each message, in the same order (links looked up concurrently)."""
        return list(await asyncio.gather(*(self._source(m) for m in messages)))

    async def sources(
        self, kind: Derived, record_ids: Sequence[str], shown: Callable[[Message], bool]
    ) -> dict[str, list[Source]]:
        """The people's messages each record came from that pass ``shown`` (``readable_by``,
        ``written_by``), oldest first; records with none of those are absent."""
        if not record_ids:
            return {}
        behind = await self._people_behind(await self._sources_of(kind, record_ids), shown)
        said = sorted({m.id: m for ms in behind.values() for m in ms}.values(), key=_said_order)
        cited = dict(zip((m.id for m in said), await self.cite(said), strict=True))
        return {record: [cited[m.id] for m in ms] for record, ms in behind.items()}

    async def _people_behind(
        self, lineage: dict[str, list[str]], shown: Callable[[Message], bool]
    ) -> dict[str, list[Message]]:
        """For each record, the people's messages among its sources that pass ``shown``; a
        record with none is followed back through the agent's messages and the summaries it
        came from (linked by id, not flattened), up to ``MAX_HOPS`` steps."""
        found: dict[str, list[Message]] = {}
        known: dict[str, Message] = {}
        followed: set[str] = set()
        frontier = {record: set(sources) for record, sources in lineage.items()}
        for hop in range(MAX_HOPS + 1):
            missing = sorted({s for sources in frontier.values() for s in sources} - known.keys())
            known |= {m.id: m for m in await self._store.messages.by_ids(missing)}
            onward: dict[str, set[str]] = {}
            for record, sources in frontier.items():
                people = {s for s in sources if s in known and _said_by_people(known[s])}
                readable = sorted(filter(shown, (known[s] for s in people)), key=_said_order)
                if readable:
                    found[record] = readable
                elif rest := sources - people - followed:
                    onward[record] = rest
            if not onward or hop == MAX_HOPS:
                break
            ids = sorted({s for sources in onward.values() for s in sources})
            followed.update(ids)
            earlier = {
                **await self._sources_of(Derived.MESSAGE, [i for i in ids if i in known]),
                **await self._sources_of(Derived.SUMMARY, [i for i in ids if i not in known]),
            }
            frontier = {
                record: {e for s in sources for e in earlier.get(s, ())}
                for record, sources in onward.items()
            }
        return found

    async def _sources_of(self, kind: Derived, ids: Sequence[str]) -> dict[str, list[str]]:
        return await self._store.lineage.sources_of(kind, ids) if ids else {}

    async def _source(self, message: Message) -> Source:
        channel, link = await asyncio.gather(
            self._links.channel_name(message), self._links.permalink(message)
        )
        return Source(
            message_id=message.id,
            author=message.author_name or message.author,
            said_at=message.created_at,
            channel=channel,
            text=message.content,
            link=link,
        )


def readable_by(audience: Audience) -> Callable[[Message], bool]:
    """Messages ``audience`` may read (DESIGN §3): what a citation may show it."""
    return lambda message: audience.can_read(message.workspace, message.scope)


def written_by(workspace: str, user: str) -> Callable[[Message], bool]:
    """The messages ``user`` wrote in ``workspace`` (what their export shows them)."""
    return lambda message: message.workspace == workspace and message.author == user


def _said_by_people(message: Message) -> bool:
    return message.role is Role.USER


def _said_order(message: Message) -> tuple[datetime, str]:
    return message.created_at, message.id


def describe_source(source: Source) -> str:
    """One line of plain text: ``Alice, 2026-03-03 in #design <link>``."""
    link = f" <{source.link}>" if source.link else ""
    return f"{source.author}, {source.said_at:%Y-%m-%d} in {source.channel}{link}"
