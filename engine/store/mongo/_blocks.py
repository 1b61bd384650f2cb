"""Scoped core-memory parts in the ``blocks`` collection.

A part's identity (owner, workspace, label, subject, scope) is a unique index, so racing
creators agree on one part; edits are compare-and-set on ``version``.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from engine.audience import Scope
from engine.records import Block, BlockLabel, next_seq, utcnow
from engine.store.block_selection import BlockSelection
from engine.store.codec import encode_datetime
from engine.store.lineage import LineageStore, Link
from engine.store.mongo._documents import (
    Collection,
    Document,
    as_document,
    as_record,
    find_by_id,
    matching,
)
from engine.store.mongo._indexes import BLOCK_IDENTITY
from engine.store.protocol import BlockStore

#: Insertion order of parts, the last key of the ``visible`` ordering.
_CREATED_SEQ = "created_seq"
_ORDER = [("label", ASCENDING), ("subject", ASCENDING), (_CREATED_SEQ, ASCENDING)]


class MongoBlocks(BlockStore):
    def __init__(self, collection: Collection, lineage: LineageStore) -> None:
        self._blocks = collection
        self._lineage = lineage

    @property
    def collection(self) -> Collection:
        return self._blocks

    async def select(self, selection: BlockSelection) -> builtins.list[Block]:
        cursor = self._blocks.find(_selected(selection)).sort(_ORDER)
        return self.records([doc async for doc in cursor])

    def selected(self, selection: BlockSelection) -> builtins.list[Document]:
        """``select`` as the first stages of an aggregate on the collection."""
        match = {"_id": {"$in": []}} if selection.matches_nothing else _selected(selection)
        return [{"$match": match}, {"$sort": dict(_ORDER)}]

    def records(self, docs: builtins.list[Document]) -> builtins.list[Block]:
        return [as_record(Block, doc) for doc in docs]

    async def create(self, block: Block) -> Block:
        doc = as_document(block)
        doc[_CREATED_SEQ] = next_seq()
        try:
            await self._blocks.insert_one(doc)
        except DuplicateKeyError:
            existing = await self._blocks.find_one(matching(doc, BLOCK_IDENTITY))
            if existing is None:
                existing = await self._blocks.find_one({"_id": block.id})
            if existing is None:
                raise
            return as_record(Block, existing)
        return block

    async def update(
        self, block_id: str, expected_version: int, value: str, links: Sequence[Link] = ()
    ) -> Block | None:
        # The links first: an edit is never stored without them.
        await self._lineage.link(links)
        doc = await self._blocks.find_one_and_update(
            {"_id": block_id, "version": expected_version},
            {
                "$set": {"value": value, "updated_at": encode_datetime(utcnow())},
                "$inc": {"version": 1},
            },
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else as_record(Block, doc)

    async def get(self, block_id: str) -> Block | None:
        return await find_by_id(self._blocks, Block, block_id)

    async def list(self, owner: str, workspace: str | None = None) -> builtins.list[Block]:
        query: Document = {"owner": owner}
        if workspace is not None:
            query["workspace"] = workspace
        return [as_record(Block, doc) async for doc in self._blocks.find(query).sort(_ORDER)]

    async def delete(self, block_id: str) -> bool:
        result = await self._blocks.delete_one({"_id": block_id})
        return result.deleted_count > 0

    async def delete_user(self, workspace: str, user: str) -> int:
        result = await self._blocks.delete_many(
            {
                "workspace": workspace,
                "$or": [
                    {"label": BlockLabel.HUMAN.value, "subject": user},
                    {"scope": str(Scope.dm(user))},
                ],
            }
        )
        return result.deleted_count


def _selected(selection: BlockSelection) -> Document:
    query: Document = {
        "owner": {"$in": list(selection.owners)},
        "workspace": {"$in": list(selection.workspaces)},
        "scope": {"$in": selection.stored_scopes},
    }
    if selection.keys is not None:
        query["$or"] = [{"label": label, "subject": subject} for label, subject in selection.keys]
    return query
