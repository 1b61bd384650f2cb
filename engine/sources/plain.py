"""Plain text: paragraphs separated by blank lines; refuses what is not UTF-8 text."""

from __future__ import annotations

import re

from engine.sources.parsed import ParsedDocument, SourceError, TextBlock

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
#: Control characters other than tab, newline, carriage return and form feed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
#: Share of control characters above which decoded bytes are taken for binary data.
_BINARY_SHARE = 0.01


def decode_text(data: bytes) -> str:
    """The text in ``data``; a SourceError when it is binary or not UTF-8."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"is not UTF-8 text (binary data at byte {exc.start}); convert it to UTF-8 "
            "or give it the extension of its real format"
        ) from None
    if len(_CONTROL.findall(text[:65_536])) > _BINARY_SHARE * min(len(text), 65_536):
        raise SourceError("looks like binary data, not text; check the file and its extension")
    return text.replace("\r\n", "\n")


def paragraphs(text: str) -> list[str]:
    """Non-empty paragraphs of ``text``, whitespace folded."""
    return [p for p in (" ".join(part.split()) for part in _PARAGRAPH_BREAK.split(text)) if p]


def parse_text(data: bytes, title: str) -> ParsedDocument:
    blocks = tuple(TextBlock("", 0, p) for p in paragraphs(decode_text(data)))
    return ParsedDocument("text", title, blocks)
