"""Knowledge sources: files (Markdown, text, PDF, HTML) taught to an agent as archival chunks
it can search and cite, each linked to its document so removing the document forgets them."""

from engine.sources.citation import chunk_citations, cite_chunk
from engine.sources.formats import PARSERS
from engine.sources.library import (
    IngestProgress,
    IngestResult,
    IngestStatus,
    SourceLibrary,
    SourceLimits,
    SourceTarget,
)
from engine.sources.parsed import SourceError
from engine.sources.tags import SOURCE_TAG, source_tag

__all__ = [
    "PARSERS",
    "SOURCE_TAG",
    "IngestProgress",
    "IngestResult",
    "IngestStatus",
    "SourceError",
    "SourceLibrary",
    "SourceLimits",
    "SourceTarget",
    "chunk_citations",
    "cite_chunk",
    "source_tag",
]
