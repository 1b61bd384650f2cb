"""Core memory as one turn sees it: the visible parts of each block, and scoped edits.

The agent edits blocks by label (``persona``, ``human``, ``channel``, shared labels). Each label
maps to parts stored under different scopes; the turn sees the parts its audience may read and
writes only the part under its own write scope (DESIGN §3), so an edit made in a DM lands in
that user's private part and never reaches a channel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field

from engine.agent.provenance import Provenance
from engine.audience import ALL_WORKSPACES, Audience, Scope, ScopeKind
from engine.records import Agent, Author, Block, BlockLabel, new_id, shared_owner
from engine.store.block_selection import BlockSelection
from engine.store.lineage import LineageStore, Link
from engine.store.protocol import BlockStore

DEFAULT_LIMITS: dict[str, int] = {
    BlockLabel.PERSONA: 3000,
    BlockLabel.HUMAN: 2000,
    BlockLabel.CHANNEL: 2000,
}
SHARED_BLOCK_LIMIT = 3000
_CAS_ATTEMPTS = 8


class MemoryEditError(Exception):
    """An edit the agent asked for that cannot be made; the message is for the agent."""


@dataclass(frozen=True, slots=True)
class BlockView:
    """One label as the turn sees it: visible parts, general to specific."""

    label: str
    owner: str
    subject: str
    subject_name: str
    parts: tuple[Block, ...]
    limit: int

    @property
    def value(self) -> str:
        return "\n".join(p.value for p in self.parts if p.value)

    @property
    def size(self) -> int:
        return len(self.value)


def describe_scope(scope: Scope, subject_name: str) -> str:
    """Who may see a part, in words the agent can act on."""
    match scope.kind:
        case ScopeKind.AGENT:
            return "everywhere"
        case ScopeKind.WORKSPACE:
            return "everyone in this workspace"
        case ScopeKind.DM:
            return f"only in your direct messages with {subject_name or 'this user'}"
        case ScopeKind.PRIVATE:
            return "only in this private channel"


@dataclass(eq=False, slots=True)
class TurnMemory:
    """The core memory of one agent for one turn's audience."""

    blocks: BlockStore
    agent: Agent
    audience: Audience
    _: KW_ONLY
    #: Whose ``human`` block the turn sees and edits.
    speaker: Author
    #: How the turn names its channel (the ``channel`` block's subject name).
    channel_name: str
    #: Names of the shared blocks the turn sees besides the agent's own.
    shared: tuple[str, ...] = ()
    #: Where this run's writes come from; each edited line is linked through it.
    provenance: Provenance = field(default_factory=Provenance)
    #: Where an edit's links are resolved, to be written with the edit; without it they
    #: are written when the run's outcome is.
    lineage: LineageStore | None = None
    _views: dict[str, BlockView] = field(default_factory=dict, init=False, repr=False)

    # -- reading -------------------------------------------------------------------------------

    def _target(self, label: str) -> tuple[str, str, str]:
        """(owner, subject, subject name) that a label means in this turn."""
        if label == BlockLabel.HUMAN:
            return self.agent.id, self.speaker.id, self.speaker.name
        if label == BlockLabel.CHANNEL:
            return self.agent.id, self.audience.channel, self.channel_name
        if label == BlockLabel.PERSONA:
            return self.agent.id, "", self.agent.name
        if label in self.shared:
            return shared_owner(label), "", label
        raise MemoryEditError(
            f"There is no memory block called {label!r}; your blocks are: {', '.join(self.labels)}."
        )

    @property
    def labels(self) -> tuple[str, ...]:
        fixed: tuple[str, ...] = (BlockLabel.PERSONA, BlockLabel.HUMAN)
        if self.audience.kind != "dm":
            fixed += (BlockLabel.CHANNEL,)
        return fixed + self.shared

    def selection(self) -> BlockSelection:
        """The parts this turn may see."""
        keys = [(label, self._target(label)[1]) for label in self.labels]
        owners = sorted({self._target(label)[0] for label in self.labels})
        return BlockSelection.of(
            owners, self.audience.workspace, self.audience.readable_scopes, keys
        )

    async def load(self) -> tuple[BlockView, ...]:
        """Read every visible block of this turn in one store query."""
        chosen = self.selection()
        return self.adopt(
            await self.blocks.visible(chosen.owners, chosen.workspace, chosen.scopes, chosen.keys)
        )

    def adopt(self, parts: Sequence[Block]) -> tuple[BlockView, ...]:
        """The turn's blocks from now on: ``parts`` read for ``selection`` (with other reads)."""
        self._views = {label: self._view(label, parts) for label in self.labels}
        return tuple(self._views.values())

    def _view(self, label: str, parts: Sequence[Block]) -> BlockView:
        owner, subject, subject_name = self._target(label)
        order = {scope: i for i, scope in enumerate(self.audience.readable_scopes)}
        mine = sorted(
            (
                p
                for p in parts
                if p.owner == owner
                and p.label == label
                and p.subject == subject
                and self.audience.can_read(p.workspace, p.scope)
            ),
            key=lambda p: (order.get(p.scope, 99), p.workspace != ALL_WORKSPACES),
        )
        limit = max(
            (p.limit for p in mine),
            default=DEFAULT_LIMITS.get(label, SHARED_BLOCK_LIMIT),
        )
        return BlockView(label, owner, subject, subject_name, tuple(mine), limit)

    async def view(self, label: str) -> BlockView:
        if label not in self._views:
            await self.load()
        if label not in self._views:
            self._target(label)  # raises the helpful error
        return self._views[label]

    # -- writing -------------------------------------------------------------------------------

    async def append(self, label: str, content: str) -> BlockView:
        content = content.strip()
        if not content:
            raise MemoryEditError("Nothing to append: content is empty.")

        def edit(current: str) -> str:
            return f"{current}\n{content}" if current else content

        return await self._edit(label, edit)

    async def replace(self, label: str, old: str, new: str) -> BlockView:
        if not old:
            raise MemoryEditError("old_content must not be empty; use core_memory_append to add.")

        view = await self.view(label)
        scope = self.audience.write_scope
        elsewhere = sum(p.value.count(old) for p in view.parts if p.scope != scope)

        def edit(current: str) -> str:
            found = current.count(old)
            if found == 1:
                return current.replace(old, new, 1)
            if found > 1:
                raise MemoryEditError(
                    f"old_content appears {found} times in {label!r}; include more "
                    "surrounding text so it matches exactly once."
                )
            if elsewhere:
                raise MemoryEditError(
                    f"That text is in a part of {label!r} that is shared more widely than this "
                    "conversation, so it cannot be changed from here. Use core_memory_append "
                    "to record the correction for this conversation instead."
                )
            raise MemoryEditError(
                f"old_content was not found in {label!r}; it must match the block text exactly."
            )

        return await self._edit(label, edit)

    async def rethink(self, label: str, new_value: str) -> BlockView:
        return await self._edit(label, lambda _current: new_value.strip())

    async def _edit(self, label: str, edit: Callable[[str], str]) -> BlockView:
        """Apply ``edit`` to this audience's part with compare-and-set, retrying on races."""
        view = await self.view(label)
        part = await self._writable_part(view)
        for _ in range(_CAS_ATTEMPTS):
            new_value = edit(part.value)
            others = sum(len(p.value) + 1 for p in view.parts if p.id != part.id and p.value)
            size = others + len(new_value)
            if size > view.limit:
                raise MemoryEditError(
                    f"Block {label!r} would be {size}/{view.limit} characters. Keep core memory "
                    "to essentials: move details to archival memory with archival_memory_insert, "
                    "or rewrite the block shorter with memory_rethink."
                )
            links = await self._edit_links(part, new_value)
            updated = await self.blocks.update(part.id, part.version, new_value, links)
            if updated is not None:
                self.provenance.rewrite_block(part.id, part.value, new_value)
                return await self._refresh(label, updated)
            fresh = await self.blocks.get(part.id)
            if fresh is None:
                part = await self._writable_part(view)
            else:
                part = fresh
        raise MemoryEditError(f"Block {label!r} is being edited elsewhere; try again.")

    async def _edit_links(self, part: Block, new_value: str) -> list[Link]:
        """The lineage of the lines an edit of ``part`` writes, stored with the edit."""
        if self.lineage is None:
            return []
        return await self.provenance.block_edit_links(
            self.lineage, self.audience.workspace, part.id, part.value, new_value
        )

    async def _writable_part(self, view: BlockView) -> Block:
        scope = self.audience.write_scope
        for part in view.parts:
            if part.scope == scope and part.workspace == self.audience.workspace:
                return part
        return await self.blocks.create(
            Block(
                id=new_id(),
                owner=view.owner,
                workspace=self.audience.workspace,
                label=view.label,
                subject=view.subject,
                scope=scope,
                value="",
                limit=view.limit,
            )
        )

    async def _refresh(self, label: str, updated: Block) -> BlockView:
        parts = [p for p in self._views[label].parts if p.id != updated.id] + [updated]
        self._views[label] = self._view(label, parts)
        return self._views[label]


def base_persona(agent: Agent, text: str) -> Block:
    """The agent-wide persona part every workspace sees."""
    return Block(
        id=new_id(),
        owner=agent.id,
        workspace=ALL_WORKSPACES,
        label=BlockLabel.PERSONA,
        subject="",
        scope=Scope.agent(),
        value=text,
        limit=DEFAULT_LIMITS[BlockLabel.PERSONA],
    )
