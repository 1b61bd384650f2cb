"""Which parser reads a file, chosen by its extension."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath

from engine.sources.html import parse_html
from engine.sources.markdown import parse_markdown
from engine.sources.parsed import ParsedDocument, SourceError
from engine.sources.pdf import parse_pdf
from engine.sources.plain import parse_text

type Parser = Callable[[bytes, str], ParsedDocument]

PARSERS: dict[str, Parser] = {
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".txt": parse_text,
    ".text": parse_text,
    ".pdf": parse_pdf,
    ".html": parse_html,
    ".htm": parse_html,
}


def parser_for(name: str) -> Parser:
    """The parser for a file called ``name``; a SourceError for any other type."""
    suffix = PurePath(name).suffix.lower()
    try:
        return PARSERS[suffix]
    except KeyError:
        known = ", ".join(sorted(PARSERS))
        raise SourceError(
            f"has an unsupported type ({suffix or 'no extension'}); Mnemo reads {known}"
        ) from None


def parse_document(name: str, data: bytes) -> ParsedDocument:
    """``data`` read as the file ``name``; its title defaults to the name without extension."""
    return parser_for(name)(data, PurePath(name).stem)
