"""People rate the agent's replies (thumbs up or down): kept with the turn the reply came
from, counted for the operator, and read by consolidation as a signal."""

from __future__ import annotations

from engine.approvals import PressedIn
from engine.audience import AudienceKind
from engine.observer import EngineObserver, SilentObserver
from engine.records import Outbound, utcnow
from engine.store.feedback import Feedback, Rating
from engine.store.protocol import Store


class ReplyRatings:
    """``engine.ports.FeedbackPort`` over a store; ``observer`` counts each rating kept."""

    def __init__(self, store: Store, observer: EngineObserver | None = None) -> None:
        self._store = store
        self._observer = observer or SilentObserver()

    async def rate(
        self, where: PressedIn, user: str, turn_id: str, reply_id: str, rating: Rating
    ) -> Feedback | None:
        entries = await self._store.outbox.for_inbox(turn_id)
        reply = next((e.reply for e in entries if e.reply.id == reply_id), None)
        if reply is None or not user or not await self._may_rate(where, user, reply):
            return None
        feedback = Feedback(
            reply.id,
            user,
            rating,
            reply.agent_id,
            reply.workspace,
            reply.channel,
            turn_id,
            utcnow(),
        )
        await self._store.feedback.put(feedback)
        self._observer.reply_rated(reply.platform, rating)
        return feedback

    async def _may_rate(self, where: PressedIn, user: str, reply: Outbound) -> bool:
        """The press came from the reply's own conversation, by someone who sees it: in a DM,
        only the person it is with (a reply's id copied anywhere else rates nothing)."""
        conversation = (reply.channel, reply.thread)
        if not where.channel or not where.names(
            reply.platform, reply.agent_id, reply.workspace, conversation
        ):
            return False
        answered = await self._store.inbox.get(reply.inbox_id)
        if answered is None:
            return False
        audience = answered.inbound.audience
        return audience.kind is not AudienceKind.DM or audience.user == user
