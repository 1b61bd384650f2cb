"""Search hits as exchanges: each matching message with the turns around it.

The answer to a question often sits a turn or two away from the words that match it ("We found
an awesome cafe" matches; "We had croissants, muffins and tarts!" answers). So a recall search
returns each hit with its neighbouring turns in the same conversation, merges hits whose turns
overlap or touch, and stops adding turns at a token cap so the result fits the agent's window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from engine.records import ConversationKey, Message
from engine.search._indexing import is_searchable
from engine.store.protocol import MessageStore, RecordFilter

#: How far around a hit, in ``seq`` (nanoseconds of wall clock), neighbours are looked for:
#: turns further apart than this belong to another exchange.
NEIGHBOUR_SPAN_NS = 3 * 3600 * 10**9


@dataclass(frozen=True, slots=True)
class ExchangeShape:
    """How many turns surround a hit, and how many tokens all exchanges may fill."""

    before: int = 2
    after: int = 2
    token_cap: int = 1200


@dataclass(frozen=True, slots=True)
class Exchange:
    """Consecutive visible turns of one conversation, oldest first, and which of them matched."""

    turns: tuple[Message, ...]
    hits: frozenset[str]


def visible(message: Message, where: RecordFilter) -> bool:
    """Whether ``where`` lets ``message`` through, as the store's own filter would."""
    return (
        message.agent_id == where.agent_id
        and message.workspace == where.workspace
        and message.scope in where.scopes
        and (where.start is None or message.created_at >= where.start)
        and (where.end is None or message.created_at <= where.end)
        and (where.channel is None or message.channel == where.channel)
        and (where.user is None or message.author == where.user)
    )


def turn_line(message: Message, hit: bool) -> str:
    """One turn as the agent reads it; a matching turn is marked with ``>``."""
    mark = ">" if hit else "-"
    return f"{mark} [{message.created_at:%Y-%m-%d %H:%M}] {message.author_name}: {message.content}"


def render_exchanges(exchanges: Sequence[Exchange]) -> str:
    """The text ``conversation_search`` answers with."""
    if not exchanges:
        return "No past messages matched."
    hits = sum(len(e.hits) for e in exchanges)
    head = f"{hits} matching messages (marked >) in {len(exchanges)} exchanges:"
    blocks = [
        "\n".join(turn_line(m, m.id in exchange.hits) for m in exchange.turns)
        for exchange in exchanges
    ]
    return head + "\n\n" + "\n\n".join(blocks)


class _Draft:
    """An exchange being assembled: turns by id, in conversation order."""

    def __init__(self, turns: Sequence[Message], hit: str) -> None:
        self.turns = {m.id: m for m in turns}
        self.hits = {hit}

    def frozen(self) -> Exchange:
        ordered = sorted(self.turns.values(), key=lambda m: m.seq)
        return Exchange(tuple(ordered), frozenset(self.hits))


async def gather_exchanges(
    store: MessageStore,
    where: RecordFilter,
    hits: Sequence[Message],
    shape: ExchangeShape,
    count_tokens: Callable[[str], int],
    exclude: Collection[str] = frozenset(),
) -> list[Exchange]:
    """``hits`` (best first) with their neighbours, merged, within ``shape.token_cap``.

    A hit whose whole window does not fit comes alone; one that does not fit even alone is
    left out, except the first. Turns in ``exclude`` (already in the agent's view) are not
    repeated.
    """
    drafts: list[_Draft] = []
    spent = 0
    neighbourhoods = await _neighbourhoods(store, where, hits, exclude)
    for hit in hits:
        around = neighbourhoods[hit.id]
        at = next(i for i, m in enumerate(around) if m.id == hit.id)
        window = around[max(at - shape.before, 0) : at + shape.after + 1]
        touching = {m.id for m in around[max(at - shape.before - 1, 0) : at + shape.after + 2]}
        joined = next((d for d in drafts if touching & d.turns.keys()), None)
        seen = joined.turns.keys() if joined is not None else frozenset[str]()
        options = [(turns, _cost(turns, seen, count_tokens)) for turns in (window, [hit])]
        fits = [o for o in options if spent + o[1] <= shape.token_cap]
        chosen = fits[0] if fits else options[1] if not drafts else None
        if chosen is None:
            continue
        taken, added = chosen
        spent += added
        if joined is None:
            drafts.append(_Draft(taken, hit.id))
        else:
            joined.turns.update((m.id, m) for m in taken)
            joined.hits.add(hit.id)
    return [draft.frozen() for draft in drafts]


def _cost(
    turns: Sequence[Message], seen: Collection[str], count_tokens: Callable[[str], int]
) -> int:
    """Tokens ``turns`` add to the result, leaving out those already in it."""
    return sum(count_tokens(turn_line(m, True)) + 1 for m in turns if m.id not in seen)


async def _neighbourhoods(
    store: MessageStore, where: RecordFilter, hits: Sequence[Message], exclude: Collection[str]
) -> dict[str, list[Message]]:
    """The visible, searchable turns of each hit's conversation near it, the hit included, by
    hit id. Hits of one conversation whose spans overlap are read together, and all reads are
    sent at once."""
    spans: list[tuple[ConversationKey, int, int, list[Message]]] = []
    for hit in sorted(hits, key=lambda m: (str(m.conversation), m.seq)):
        low, high = hit.seq - NEIGHBOUR_SPAN_NS - 1, hit.seq + NEIGHBOUR_SPAN_NS
        if spans and spans[-1][0] == hit.conversation and low <= spans[-1][2]:
            spans[-1] = (hit.conversation, spans[-1][1], high, [*spans[-1][3], hit])
        else:
            spans.append((hit.conversation, low, high, [hit]))
    reads = await asyncio.gather(*(store.between(key, low, high) for key, low, high, _ in spans))
    found: dict[str, list[Message]] = {}
    for (_, _, _, members), nearby in zip(spans, reads, strict=True):
        for hit in members:
            around = [
                m
                for m in nearby
                if abs(m.seq - hit.seq) <= NEIGHBOUR_SPAN_NS
                and (m.id == hit.id or (m.id not in exclude and _shown(m, where)))
            ]
            found[hit.id] = around if any(m.id == hit.id for m in around) else [hit]
    return found


def _shown(message: Message, where: RecordFilter) -> bool:
    """Whether ``message`` may stand beside a hit: a searchable turn ``where`` lets through."""
    return is_searchable(message) and visible(message, where)
