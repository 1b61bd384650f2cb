"""Which core-memory parts a turn may see, read once for every backend's query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.audience import ALL_WORKSPACES, Scope


@dataclass(frozen=True, slots=True)
class BlockSelection:
    """The parts owned by ``owners`` in a workspace (or in all of them) under ``scopes``,
    restricted to (label, subject) ``keys`` when given; each backend turns it into a query."""

    owners: tuple[str, ...]
    workspace: str
    scopes: tuple[Scope, ...]
    keys: tuple[tuple[str, str], ...] | None = None

    @classmethod
    def of(
        cls,
        owners: Sequence[str],
        workspace: str,
        scopes: Sequence[Scope],
        keys: Sequence[tuple[str, str]] | None,
    ) -> BlockSelection:
        return cls(tuple(owners), workspace, tuple(scopes), None if keys is None else tuple(keys))

    @property
    def workspaces(self) -> tuple[str, str]:
        """The workspace and ``ALL_WORKSPACES``: parts kept for every workspace apply too."""
        return (self.workspace, ALL_WORKSPACES)

    @property
    def stored_scopes(self) -> list[str]:
        """The scopes as their stored text."""
        return [str(scope) for scope in self.scopes]

    @property
    def matches_nothing(self) -> bool:
        """No owner, no scope or an empty ``keys``: no query need run."""
        return not self.owners or not self.scopes or self.keys == ()
