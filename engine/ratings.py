"""People rate the agent's replies (thumbs up or down): kept with the turn the reply came
from, counted for the operator, and read by consolidation as a signal."""

from __future__ import annotations

from engine.observer import EngineObserver, SilentObserver
from engine.records import utcnow
from engine.store.feedback import Feedback, Rating
from engine.store.protocol import Store


class ReplyRatings:
    """``engine.ports.FeedbackPort`` over a store; ``observer`` counts each rating kept."""

    def __init__(self, store: Store, observer: EngineObserver | None = None) -> None:
        self._store = store
        self._observer = observer or SilentObserver()

    async def rate(
        self, workspace: str, user: str, turn_id: str, reply_id: str, rating: Rating
    ) -> Feedback | None:
        entries = await self._store.outbox.for_inbox(turn_id)
        reply = next((e.reply for e in entries if e.reply.id == reply_id), None)
        if reply is None or reply.workspace != workspace or not user:
            return None
        feedback = Feedback(
            reply.id, user, rating, reply.agent_id, workspace, reply.channel, turn_id, utcnow()
        )
        await self._store.feedback.put(feedback)
        self._observer.reply_rated(reply.platform, rating)
        return feedback
