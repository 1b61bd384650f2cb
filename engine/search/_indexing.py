"""What text stands for a message in the vector index.

A reply such as "Yes, last summer, with the kids!" means little alone; embedded together with
the turn it answers, it is found by the question that turn asked.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from engine.records import ConversationKey, Message, Role
from engine.store.lineage import REDACTED

#: Roles whose messages are worth finding again; tool traffic and system notes are not.
SEARCHABLE_ROLES = frozenset({Role.USER, Role.ASSISTANT})
#: Characters of the previous turn kept as context: enough for its gist, not to dominate.
CONTEXT_CHARS = 300
#: How many of the conversation's newest messages are looked through for the turn before a
#: new one.
CONTEXT_LOOKBACK = 8
#: Messages read on each side of a forgotten one to find the message that took it as the turn
#: before it, and that message's turn before now.
FOLLOWER_REACH = 32


@dataclass(frozen=True, slots=True)
class HistoryRead:
    """A conversation's newest stored messages (oldest first) as a turn's context read found
    them: the turn before the turn's messages is taken from them, with no second read."""

    conversation: ConversationKey
    messages: tuple[Message, ...]
    #: Whether they are everything the conversation holds (no summary folded any, and the
    #: read was not cut at its limit).
    whole: bool

    def newest(self) -> Sequence[Message] | None:
        """The conversation's ``CONTEXT_LOOKBACK`` newest messages; None when the read holds
        fewer than the conversation does (a summary folded the rest)."""
        if self.whole or len(self.messages) >= CONTEXT_LOOKBACK:
            return self.messages[-CONTEXT_LOOKBACK:]
        return None


def is_searchable(message: Message) -> bool:
    return message.role in SEARCHABLE_ROLES and bool(message.content.strip())


def lends_context(message: Message) -> bool:
    """Whether a message may be the turn before another: a forgotten one never is."""
    return is_searchable(message) and message.content != REDACTED


def embedding_text(message: Message, previous: Message | None) -> str:
    """The message as its author said it, after the turn before it when there is one."""
    own = f"{message.author_name}: {message.content}" if message.author_name else message.content
    if previous is None:
        return own
    before = previous.content[:CONTEXT_CHARS]
    said = f"{previous.author_name}: {before}" if previous.author_name else before
    return f"{said}\n{own}"


def turn_before(newest: Sequence[Message], first: Message) -> Message | None:
    """The last searchable message of ``newest`` (a conversation's newest messages, oldest
    first) said before ``first``."""
    before = [m for m in newest if m.seq < first.seq and lends_context(m)]
    return before[-1] if before else None


def previous_turns(
    messages: Sequence[Message], earlier: Message | None
) -> list[tuple[Message, Message | None]]:
    """Each searchable message of one conversation (oldest first) with the turn before it.

    ``earlier`` is the conversation's last searchable message before ``messages``. A turn only
    lends context to a message stored under the same scope, so no vector mixes two audiences.
    """
    pairs: list[tuple[Message, Message | None]] = []
    last = earlier
    for message in messages:
        if not lends_context(message):
            continue
        context = last if last is not None and last.scope == message.scope else None
        pairs.append((message, context))
        last = message
    return pairs


def followers(
    window: Sequence[Message], forgotten: Sequence[Message]
) -> list[tuple[Message, Message | None]]:
    """The messages of ``window`` (one conversation as stored now, oldest first) that may have
    been embedded with one of ``forgotten`` as the turn before them, each with the turn before
    it now. Forgotten messages still stored (redacted) are passed over: they lend nothing."""
    lending = [m for m in window if lends_context(m)]
    seqs = [m.seq for m in lending]
    found: dict[str, Message] = {}
    for gone in forgotten:
        at = bisect.bisect_right(seqs, gone.seq)
        if at < len(lending) and lending[at].scope == gone.scope:
            found[lending[at].id] = lending[at]
    return [pair for m in found.values() for pair in previous_turns([m], turn_before(window, m))]
