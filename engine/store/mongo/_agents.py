"""Agents in the ``agents`` collection, one document per agent keyed by its id."""

from __future__ import annotations

import builtins

from pymongo import ASCENDING

from engine.records import Agent
from engine.store.mongo._documents import Collection, as_document, as_record, find_by_id


class MongoAgents:
    def __init__(self, collection: Collection) -> None:
        self._agents = collection

    async def put(self, agent: Agent) -> None:
        doc = as_document(agent)
        await self._agents.replace_one({"_id": agent.id}, doc, upsert=True)

    async def get(self, agent_id: str) -> Agent | None:
        return await find_by_id(self._agents, Agent, agent_id)

    async def by_name(self, name: str) -> Agent | None:
        doc = await self._agents.find_one({"name": name}, sort=[("created_at", ASCENDING)])
        return None if doc is None else as_record(Agent, doc)

    async def list(self) -> builtins.list[Agent]:
        docs = self._agents.find().sort([("name", ASCENDING), ("_id", ASCENDING)])
        return [as_record(Agent, doc) async for doc in docs]

    async def delete(self, agent_id: str) -> bool:
        result = await self._agents.delete_one({"_id": agent_id})
        return result.deleted_count > 0
