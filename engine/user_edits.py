"""A user's own hand on single memories: keep a message they point at ("Remember this"),
forget a message they wrote ("Forget this"), and correct one of their items.

Each keeps lineage whole: a kept message is linked to its recall copies and to a source
standing for the platform message (so forgetting it finds the passage even when the message
was never in recall), and a corrected item keeps the sources of the text it replaces.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from engine.audience import Audience
from engine.embeddings import Embedder
from engine.forgetting import Forgetting, block_of, merged
from engine.ports import ForgetReport, MemoryItem, PlatformMessage
from engine.records import Passage, new_id
from engine.search.hybrid import HybridSearch
from engine.store.lineage import Derived, block_line_id, links
from engine.store.protocol import Store

#: The tag of every passage a user asked to keep, so searches and exports can tell them apart.
REMEMBERED_TAG = "remembered"


class InvalidCorrection(ValueError):
    """A correction an item cannot take (empty, or over its block's limit); the message says
    what to do."""


class UserEdits:
    """Keeps, forgets and corrects single memories on one store."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder | None = None,
        search: HybridSearch | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._forgetting = Forgetting(store, search)

    async def remember_message(
        self, agent_id: str, audience: Audience, message: PlatformMessage, asked_by: str
    ) -> bool:
        store = self._store
        derived = await store.lineage.derived_from([message.source])
        kept = [r.record_id for r in derived if r.kind is Derived.PASSAGE]
        for passage in await asyncio.gather(*(store.passages.get(i) for i in kept)):
            if passage is not None and (passage.workspace, passage.scope, passage.agent_id) == (
                audience.workspace,
                audience.write_scope,
                agent_id,
            ):
                return False
        text = f"{message.author_name} wrote: {message.text.strip()}"
        passage = Passage(
            id=new_id(),
            agent_id=agent_id,
            workspace=audience.workspace,
            scope=audience.write_scope,
            text=text,
            tags=(REMEMBERED_TAG,),
            users=tuple(dict.fromkeys((message.author, asked_by))),
            created_at=message.sent_at,
            embedding=await self._embedding(text),
        )
        await store.passages.insert([passage])
        copies = await store.messages.ids_of_ref(message.workspace, message.channel, message.ref)
        sources = [message.source, *copies]
        await store.lineage.link(links(Derived.PASSAGE, passage.id, sources, passage.workspace))
        return True

    async def forget_message(self, message: PlatformMessage, user: str) -> ForgetReport | None:
        store = self._store
        copies = await store.messages.ids_of_ref(message.workspace, message.channel, message.ref)
        stored = await store.messages.by_ids(copies)
        if message.author != user or any(m.author != user for m in stored):
            return None
        deleted = await self._forgetting.platform_delete(
            message.workspace, message.channel, message.ref
        )
        kept = await self._forgetting.remove_derived([message.source])
        await store.settle_forget()
        return merged(deleted, kept)

    async def edit_item(self, item: MemoryItem, text: str) -> MemoryItem | None:
        """Replace ``item``'s text (one line for a block line); None when it is gone."""
        text = " ".join(text.split())
        if not text:
            raise InvalidCorrection("the new text is empty: use Forget to remove it instead.")
        if item.kind is Derived.PASSAGE:
            return await self._edit_passage(item, text)
        if item.kind is Derived.BLOCK_LINE:
            return await self._edit_line(item, text)
        return None

    async def _edit_passage(self, item: MemoryItem, text: str) -> MemoryItem | None:
        store = self._store
        old = await store.passages.get(item.record_id)
        if old is None:
            return None
        new = replace(old, id=new_id(), text=text, embedding=await self._embedding(text))
        await store.passages.insert([new])
        await self._carry_sources(Derived.PASSAGE, old.id, new.id, new.workspace)
        await store.passages.delete([old.id])
        await store.lineage.unlink_records(Derived.PASSAGE, [old.id])
        return replace(item, record_id=new.id, text=text)

    async def _edit_line(self, item: MemoryItem, text: str) -> MemoryItem | None:
        """Rewrite the line in its block (compare-and-set, retried while others write)."""
        store = self._store
        while (block := await store.blocks.get(block_of(item.record_id))) is not None:
            lines = block.value.split("\n")
            at = [
                i for i, line in enumerate(lines) if block_line_id(block.id, line) == item.record_id
            ]
            if not at:
                return None
            lines[at[0]] = text
            value = "\n".join(lines)
            if len(value) > block.limit:
                raise InvalidCorrection(
                    f"that makes the note {len(value)} characters long, over its "
                    f"{block.limit}-character limit: say it shorter."
                )
            if await store.blocks.update(block.id, block.version, value) is None:
                continue
            line_id = block_line_id(block.id, text)
            await self._carry_sources(Derived.BLOCK_LINE, item.record_id, line_id, block.workspace)
            if item.record_id not in {block_line_id(block.id, line) for line in lines}:
                await store.lineage.unlink_records(Derived.BLOCK_LINE, [item.record_id])
            return replace(item, record_id=line_id, text=text)
        return None

    async def _carry_sources(self, kind: Derived, old: str, new: str, workspace: str) -> None:
        sources = (await self._store.lineage.sources_of(kind, [old])).get(old, [])
        await self._store.lineage.link(links(kind, new, sources, workspace))

    async def _embedding(self, text: str) -> tuple[float, ...] | None:
        if self._embedder is None:
            return None
        vectors = await self._embedder.embed([text])
        return tuple(float(x) for x in vectors[0])
