"""Search over recall and archival memory (``conversation_search``, ``archival_memory_search``)."""

from engine.search.exchanges import Exchange, ExchangeShape, render_exchanges
from engine.search.hybrid import HybridSearch, SearchTuning

__all__ = ["Exchange", "ExchangeShape", "HybridSearch", "SearchTuning", "render_exchanges"]
