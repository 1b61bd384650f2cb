"""MCP servers added with ``mnemo mcp add``, kept with the bot's settings so every replica
starts the same servers; each change of a server bumps its version."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from engine.store.protocol import KeyValueStore
from engine.tools.mcp._servers import McpServerSpec

NAMESPACE = "mcp_servers"


@dataclass(frozen=True, slots=True)
class RegisteredServer:
    spec: McpServerSpec
    #: 1 when added, bumped at every change.
    version: int


class McpServerRegistry:
    """Servers by name, over the store's settings."""

    def __init__(self, kv: KeyValueStore) -> None:
        self._kv = kv

    async def add(self, spec: McpServerSpec) -> RegisteredServer:
        """Add or replace the server called ``spec.name``; adding it unchanged changes nothing."""
        current = await self.get(spec.name)
        if current is not None and current.spec == spec:
            return current
        stored = RegisteredServer(spec, current.version + 1 if current else 1)
        await self._kv.put(
            NAMESPACE,
            spec.name,
            {"spec": spec.model_dump(mode="json"), "version": stored.version},
        )
        return stored

    async def get(self, name: str) -> RegisteredServer | None:
        value = await self._kv.get(NAMESPACE, name)
        return _decode(value) if value is not None else None

    async def remove(self, name: str) -> bool:
        return await self._kv.delete(NAMESPACE, name)

    async def all(self) -> list[RegisteredServer]:
        found = [_decode(value) for _, value in await self._kv.list(NAMESPACE)]
        return sorted((s for s in found if s is not None), key=lambda s: s.spec.name)


def _decode(value: dict[str, object]) -> RegisteredServer | None:
    """The stored server; None for a record this version cannot read (it is left alone)."""
    try:
        spec = McpServerSpec.model_validate(value.get("spec"))
    except ValidationError:
        return None
    version = value.get("version")
    return RegisteredServer(spec, version if isinstance(version, int) else 1)
