"""The seam between the durable pipeline and the agent runtime: what a turn produces.

A turn never writes recall or the outbox itself: it returns every record it produced, and the
pipeline journals and applies them, so each record has one writer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Protocol

from engine.records import Agent, Inbound, Message, Outbound, Role
from engine.search import HistoryRead
from engine.store.lineage import Derivation
from engine.store.queues import InboxItem


@dataclass(frozen=True, slots=True)
class TurnResult:
    """What one turn decided: recall messages to store, replies to deliver, and where what it
    wrote came from.

    The pipeline journals the result before applying it, so a crash after the LLM answered
    never runs the turn again and never posts a reply twice.
    """

    #: The items' user messages, then the turn's assistant and tool messages; ids derive from
    #: the inbox items, so storing them twice stores them once.
    messages: tuple[Message, ...]
    #: Replies addressed to the conversation, ids ``<head>.r<index>``.
    replies: tuple[Outbound, ...]
    #: The lineage of everything the turn wrote: its own messages, block lines, passages,
    #: summary and mail.
    links: tuple[Derivation, ...] = ()
    #: Why the agent could not answer (the model was down or refused), when it could not: the
    #: replies then carry a notice, and the turn counts as failed.
    failure: str = ""
    #: What the turn's context read found of the conversation (None when it read none).
    seen: HistoryRead | None = None


class TurnRunner(Protocol):
    async def run(self, items: Sequence[InboxItem], agent: Agent | None = None) -> TurnResult:
        """Run one turn for pending items of one conversation (oldest first), for ``agent``
        when the caller read it with the items.

        Loops LLM step -> tools until a terminal tool or the step limit, and returns the
        items' user messages with everything the turn produced. When no item asks for a reply
        (``Inbound.respond`` False, the "listen" policy) it returns only the user messages,
        without calling the model.
        """
        ...

    async def message_embeddings(
        self, messages: Sequence[Message], seen: HistoryRead | None = None
    ) -> Sequence[tuple[str, Sequence[float]]]:
        """The vectors that make a turn's messages findable by meaning, by message id, for
        the pipeline to store with them; ``seen`` is the turn's ``TurnResult.seen``."""
        ...


def user_message(item: InboxItem) -> Message:
    """An inbox item as a recall message (id and position are the item's)."""
    inbound = item.inbound
    return Message(
        **asdict(inbound.conversation),
        id=item.id,
        scope=inbound.audience.write_scope,
        role=Role.USER,
        author=inbound.author.id,
        author_name=inbound.author.name,
        content=inbound.text,
        seq=item.seq,
        created_at=inbound.sent_at,
        platform_ref=inbound.message_ref,
        turn_id=item.id,
    )


@dataclass(eq=False)
class Replies:
    """The replies of one turn, addressed to the message it answers and numbered in order."""

    #: The id of the turn's first item: replies are numbered after it.
    head: str
    answered: Inbound
    clock: Callable[[], datetime]
    _replies: list[Outbound] = field(init=False, default_factory=list)

    @classmethod
    def for_items(cls, items: Sequence[InboxItem], clock: Callable[[], datetime]) -> Replies:
        """Replies of a turn over ``items``: they answer the newest item that asked for one."""
        answered = next(
            (i.inbound for i in reversed(items) if i.inbound.respond), items[-1].inbound
        )
        return cls(items[0].id, answered, clock)

    def add(self, text: str) -> Outbound:
        reply = self.numbered(len(self._replies), text)
        self._replies.append(reply)
        return reply

    def numbered(self, index: int, text: str) -> Outbound:
        """The turn's reply number ``index`` (its id is the same each time the turn runs)."""
        answered = self.answered
        return Outbound(
            **asdict(answered.conversation),
            id=f"{self.head}.r{index}",
            inbox_id=self.head,
            platform=answered.platform,
            text=text,
            reply_to=answered.message_ref,
            index=index,
            created_at=self.clock(),
        )

    def retract(self) -> None:
        """Take back what was added (a turn that failed midway answers with one notice)."""
        self._replies.clear()

    @property
    def sent(self) -> tuple[Outbound, ...]:
        return tuple(self._replies)

    def __len__(self) -> int:
        return len(self._replies)
