"""The seam between the durable pipeline and the agent runtime."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from engine.records import Message
from engine.store.protocol import InboxItem


@dataclass(frozen=True, slots=True)
class TurnResult:
    """What one turn decided: replies to deliver, and the recall messages it produced.

    The pipeline journals the result before applying it, so a crash after the LLM answered
    never runs the turn again and never posts a reply twice.
    """

    replies: tuple[str, ...]
    #: Assistant and tool messages of the turn, with ids derived from the inbox item, so
    #: appending them twice stores them once.
    messages: tuple[Message, ...]


class TurnRunner(Protocol):
    async def run(self, items: Sequence[InboxItem]) -> TurnResult:
        """Run one turn for pending items of one conversation (oldest first).

        Stores the items' user messages in recall first (idempotently, id = inbox item id),
        then loops LLM step -> tools until a terminal tool or the step limit. When no item
        asks for a reply (``Inbound.respond`` False, the "listen" policy) it only stores them
        and returns an empty result without calling the model.
        """
