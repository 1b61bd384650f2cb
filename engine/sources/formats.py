"""Which parser reads a file, chosen by its extension (a text name over a PDF's or a web
page's bytes is read as what the bytes are).

Parsers are imported when first needed: the PDF and HTML libraries cost a running bot
memory (about 27 MB) that only ingestion uses.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import PurePath
from typing import cast

from engine.sources.parsed import ParsedDocument, SourceError

type Parser = Callable[[bytes, str], ParsedDocument]

#: File extension -> the parser (module in this package, function) that reads it.
PARSERS: dict[str, tuple[str, str]] = {
    ".md": ("markdown", "parse_markdown"),
    ".markdown": ("markdown", "parse_markdown"),
    ".txt": ("plain", "parse_text"),
    ".text": ("plain", "parse_text"),
    ".pdf": ("pdf", "parse_pdf"),
    ".html": ("html", "parse_html"),
    ".htm": ("html", "parse_html"),
}


def parser_for(name: str) -> Parser:
    """The parser for a file called ``name``; a SourceError for any other type."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in PARSERS:
        known = ", ".join(sorted(PARSERS))
        raise SourceError(
            f"has an unsupported type ({suffix or 'no extension'}); Mnemo reads {known}"
        )
    module, function = PARSERS[suffix]
    return cast(Parser, getattr(importlib.import_module(f"engine.sources.{module}"), function))


#: Extensions whose files are read as text, and may really hold a PDF or a web page.
_TEXT = frozenset({".md", ".markdown", ".txt", ".text"})
_HTML_STARTS = (b"<!doctype html", b"<html")


def parse_document(name: str, data: bytes) -> ParsedDocument:
    """``data`` read as the file ``name``; its title defaults to the name without extension."""
    path = PurePath(name)
    return parser_for(_read_as(path, data))(data, path.stem)


def _read_as(path: PurePath, data: bytes) -> str:
    """The name whose parser reads ``data``: a PDF, or a whole web page, named as text is
    read as what it is, so neither its raw bytes nor its scripts become passages."""
    if path.suffix.lower() not in _TEXT:
        return path.name
    start = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(b"%pdf-"):
        return f"{path.stem}.pdf"
    if start.startswith(_HTML_STARTS):
        return f"{path.stem}.html"
    return path.name
