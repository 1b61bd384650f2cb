"""Search over recall and archival memory (``conversation_search``, ``archival_memory_search``)."""

from engine.search._indexing import HistoryRead
from engine.search.exchanges import Exchange, ExchangeShape, render_exchanges
from engine.search.hybrid import HybridSearch, SearchTuning

__all__ = [
    "Exchange",
    "ExchangeShape",
    "HistoryRead",
    "HybridSearch",
    "SearchTuning",
    "render_exchanges",
]
