"""Search over recall and archival memory (``conversation_search``, ``archival_memory_search``)."""

from engine.search.hybrid import HybridSearch, SearchTuning

__all__ = ["HybridSearch", "SearchTuning"]
