"""Everything a user may do with their memory, behind one port (``engine.ports.UserMemory``).

See, export and forget everything come from ``UserDataService``; this adds the parts that read
lineage: the list of items about the user (each forgettable alone), "why do you think that?",
and, in the export, the user's own messages each memory came from.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from engine.audience import Audience, Scope
from engine.citations import Citations, PlatformLinks, written_by
from engine.embeddings import Embedder
from engine.ports import ForgetReport, MemoryItem, PlatformMessage, Source, UserMemoryReport
from engine.records import BlockLabel
from engine.search.hybrid import HybridSearch
from engine.store.codec import encode_datetime
from engine.store.lineage import Derived
from engine.store.protocol import RecordFilter, Store
from engine.user_data import UserDataService
from engine.user_edits import UserEdits
from engine.why import MemoryExplainer, block_lines, block_owners, passage_item

#: Passages per agent listed as the user's items, newest first.
ITEMS_PER_AGENT = 200


class UserMemoryService:
    """``engine.ports.UserMemory`` over a store, its user data and the platforms' links."""

    def __init__(
        self,
        data: UserDataService,
        store: Store,
        links: PlatformLinks | None = None,
        embedder: Embedder | None = None,
        search: HybridSearch | None = None,
    ) -> None:
        self.data = data
        self._store = store
        #: Remember a message, forget one, correct an item (embedded for search when given;
        #: with ``search``, what followed a forgotten message is embedded again).
        self.edits = UserEdits(store, embedder, search)
        #: Memories matching words, or shown by an operator, with their sources.
        self.explainer = MemoryExplainer(store, Citations(store, links))

    async def about_user(self, workspace: str, user: str) -> UserMemoryReport:
        return await self.data.about_user(workspace, user)

    async def forget_user(self, workspace: str, user: str) -> ForgetReport:
        return await self.data.forget_user(workspace, user)

    async def export_user(self, workspace: str, user: str) -> bytes:
        """The user data export, and each memory about the user with their messages it came
        from (``memories``)."""
        document: dict[str, Any] = json.loads(await self.data.export_user(workspace, user))
        items = await self.explainer.with_sources(
            await self.items_about(workspace, user), written_by(workspace, user)
        )
        document["memories"] = [_exported(item) for item in items]
        return json.dumps(document, ensure_ascii=False, indent=2).encode()

    async def forget_memory(self, workspace: str, kind: Derived, record_id: str) -> ForgetReport:
        """Forget one block line or passage of ``workspace`` (an operator's choice: the
        inspector, the CLI) and what was derived from it."""
        return await self.data.forget_memory(workspace, kind, record_id)

    async def memory_items(self, workspace: str, user: str) -> list[MemoryItem]:
        return await self.items_about(workspace, user)

    async def forget_item(self, workspace: str, user: str, key: str) -> ForgetReport:
        """Forget one of the user's items; any other key (another user's memory, a stale
        choice) removes nothing."""
        item = await self._item(workspace, user, key)
        if item is None:
            return ForgetReport()
        return await self.data.forget_memory(workspace, item.kind, item.record_id)

    async def why(self, audience: Audience, words: str) -> list[MemoryItem]:
        return await self.explainer.why(audience, words)

    async def edit_item(self, workspace: str, user: str, key: str, text: str) -> MemoryItem | None:
        item = await self._item(workspace, user, key)
        return None if item is None else await self.edits.edit_item(item, text)

    async def remember_message(
        self, agent_id: str, audience: Audience, message: PlatformMessage, asked_by: str
    ) -> bool:
        return await self.edits.remember_message(agent_id, audience, message, asked_by)

    async def forget_message(self, message: PlatformMessage, user: str) -> ForgetReport | None:
        return await self.edits.forget_message(message, user)

    async def _item(self, workspace: str, user: str, key: str) -> MemoryItem | None:
        return next((i for i in await self.items_about(workspace, user) if i.key == key), None)

    async def items_about(self, workspace: str, user: str) -> list[MemoryItem]:
        """Lines of the user's ``human`` blocks and of blocks learned in their DMs, then the
        passages about them or learned in their DMs, newest first."""
        agents = await self._store.agents.list()
        private = Scope.dm(user)
        items = [
            item
            for owner in block_owners(agents)
            for block in await self._store.blocks.list(owner, workspace)
            if (block.label == BlockLabel.HUMAN and block.subject == user) or block.scope == private
            for item in block_lines(block)
        ]
        for agent in agents:
            where = RecordFilter(agent.id, workspace, (Scope.workspace(), private), user=user)
            items += map(passage_item, await self._store.passages.list(where, ITEMS_PER_AGENT))
        return _distinct(items)


def _distinct(items: Sequence[MemoryItem]) -> list[MemoryItem]:
    return list({item.key: item for item in reversed(items)}.values())[::-1]


def _exported(item: MemoryItem) -> dict[str, Any]:
    return {
        "kind": item.kind.value,
        "id": item.record_id,
        "label": item.label,
        "text": item.text,
        "from_your_messages": [_exported_source(s) for s in item.sources],
    }


def _exported_source(source: Source) -> dict[str, Any]:
    return {
        "text": source.text,
        "channel": source.channel,
        "sent_at": encode_datetime(source.said_at),
        "link": source.link,
    }
