"""PDF through pypdf: each page's text by paragraphs, cited by page number. Encrypted and
damaged files are refused with the reason."""

from __future__ import annotations

import io

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PyPdfError

from engine.sources.parsed import ParsedDocument, SourceError, TextBlock, squeeze
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
        blocks = tuple(
            TextBlock("", number, paragraph)
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
