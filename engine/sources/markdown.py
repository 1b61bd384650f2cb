"""Markdown through markdown-it-py (CommonMark): headings make sections; paragraphs, list
items, table rows and code blocks become text blocks."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from engine.sources.html import html_text
from engine.sources.parsed import ParsedDocument, SectionPath, TextBlock, squeeze
from engine.sources.plain import decode_text

_PARSER = MarkdownIt("commonmark").enable("table")
#: YAML front matter (``---``, ``key: value`` lines, ``---``) at the very start, as static sites
#: and wikis write it: metadata, not text; CommonMark would read it as a rule and a heading.
_FRONT_MATTER = re.compile(
    r"\A---[ \t]*\r?\n(?=[A-Za-z_][\w-]*[ \t]*:).*?^(?:---|\.\.\.)[ \t]*$\r?\n?", re.S | re.M
)


def parse_markdown(data: bytes, title: str) -> ParsedDocument:
    tokens = _PARSER.parse(_FRONT_MATTER.sub("", decode_text(data), count=1))
    section = SectionPath()
    blocks: list[TextBlock] = []
    heading_title = ""
    row: list[str] = []
    lists = 0
    for index, token in enumerate(tokens):
        match token.type:
            case "heading_open":
                text = _inline_text(tokens[index + 1])
                level = int(token.tag[1])
                if level == 1 and not heading_title:
                    heading_title = text
                section.enter(level, text)
            case "bullet_list_open" | "ordered_list_open":
                lists += 1
            case "bullet_list_close" | "ordered_list_close":
                lists -= 1
            case "tr_open":
                row = []
            case "tr_close":
                blocks.append(TextBlock(str(section), 0, " | ".join(row)))
            case "inline" if index and tokens[index - 1].type in ("th_open", "td_open"):
                row.append(_inline_text(token))
            case "inline" if index and tokens[index - 1].type == "paragraph_open":
                text = _inline_text(token)
                if text:
                    blocks.append(TextBlock(str(section), 0, f"- {text}" if lists else text))
            case "fence" | "code_block" if token.content.strip():
                blocks.append(TextBlock(str(section), 0, token.content.strip()))
            case "html_block":
                text = html_text(token.content)
                if text:
                    blocks.append(TextBlock(str(section), 0, text))
    return ParsedDocument("markdown", heading_title or title, tuple(blocks))


def _inline_text(token: Token) -> str:
    """The words of an inline token, without its markup (links keep their text)."""
    parts = [
        " " if child.type in ("softbreak", "hardbreak") else child.content
        for child in token.children or ()
        if child.type in ("text", "code_inline", "html_inline", "softbreak", "hardbreak")
    ]
    return squeeze("".join(parts) if parts else token.content)
