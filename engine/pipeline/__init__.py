"""The durable message pipeline (DESIGN §2): inbox, per-conversation workers, outbox."""

from engine.backoff import Backoff
from engine.pipeline.context import PipelineContext
from engine.pipeline.delivery import ReplyDelivery, is_settled
from engine.pipeline.dispatcher import Dispatcher
from engine.pipeline.intake import MAX_TEXT_BYTES, Admission, InboxAdmission, admit
from engine.pipeline.leases import HeldLease, LeaseLost
from engine.pipeline.settings import PipelineSettings
from engine.pipeline.settle import SettleWatch
from engine.pipeline.worker import FAILED_REPLY, ConversationWorker
from engine.store.state import JournalEntry, TurnOutcome

__all__ = [
    "FAILED_REPLY",
    "MAX_TEXT_BYTES",
    "Admission",
    "Backoff",
    "ConversationWorker",
    "Dispatcher",
    "HeldLease",
    "InboxAdmission",
    "JournalEntry",
    "LeaseLost",
    "PipelineContext",
    "PipelineSettings",
    "ReplyDelivery",
    "SettleWatch",
    "TurnOutcome",
    "admit",
    "is_settled",
]
