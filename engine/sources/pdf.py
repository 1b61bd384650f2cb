"""PDF through pypdf: each page's text by paragraphs, cited by page number and, when the PDF
has bookmarks (an outline), by the section the page is in. Encrypted and damaged files are
refused with the reason."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PyPdfError

from engine.sources.parsed import ParsedDocument, SectionPath, SourceError, TextBlock, squeeze
from engine.sources.plain import paragraphs

#: A damaged file can fail deep inside pypdf's object parser with any of these as well.
_DAMAGE = (PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError)


def parse_pdf(data: bytes, title: str) -> ParsedDocument:
    if not data.startswith(b"%PDF"):
        raise SourceError("is not a PDF (no %PDF header); check the file and its extension")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileNotDecryptedError("password required")
        meta = reader.metadata
        named = squeeze(str(meta.title)) if meta is not None and meta.title else ""
        sections = _sections_by_page(reader)
        blocks = tuple(
            TextBlock(sections.get(number, ""), number, paragraph)
            for number, page in enumerate(reader.pages, start=1)
            for paragraph in paragraphs(page.extract_text() or "")
        )
    except FileNotDecryptedError:
        raise SourceError(
            "is an encrypted PDF; save a copy without a password and add that"
        ) from None
    except _DAMAGE as exc:
        raise SourceError(f"is a damaged PDF that cannot be read ({exc})") from None
    if not blocks:
        raise SourceError("is a PDF without a text layer (a scan?); run OCR on it first")
    return ParsedDocument("pdf", named or title, blocks)


def _sections_by_page(reader: PdfReader) -> dict[int, str]:
    """The bookmark path each page (from 1) is under: the last bookmark starting on it or
    before it."""
    starts: list[tuple[int, str]] = []

    def walk(items: list[Any], path: SectionPath, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, path, depth + 1)
                continue
            index = reader.get_destination_page_number(item)
            path.enter(depth + 1, squeeze(str(item.title or "")))
            if index is not None and index >= 0:
                starts.append((index + 1, str(path)))

    walk(reader.outline, SectionPath(), 0)
    starts.sort(key=lambda start: start[0])
    by_page: dict[int, str] = {}
    current, pending = "", iter(starts)
    upcoming = next(pending, None)
    for number in range(1, len(reader.pages) + 1):
        while upcoming is not None and upcoming[0] <= number:
            current = upcoming[1]
            upcoming = next(pending, None)
        by_page[number] = current
    return by_page
