"""HTML through selectolax (lexbor): headings make sections; paragraphs, list items, table
cells, quotes and preformatted text become text blocks; scripts, styles and navigation go."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from engine.sources.parsed import ParsedDocument, SectionPath, TextBlock, squeeze
from engine.sources.plain import decode_text, paragraphs

_DROPPED = "script, style, noscript, template, nav, head svg"
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_BLOCKS = ("p", "li", "pre", "blockquote", "tr", "dt", "dd", "figcaption", "caption")


def parse_html(data: bytes, title: str) -> ParsedDocument:
    tree = LexborHTMLParser(decode_text(data))
    for node in tree.css(_DROPPED):
        node.decompose()
    named = tree.css_first("title")
    page_title = squeeze(named.text()) if named is not None else ""
    body = tree.body
    if body is None:
        return ParsedDocument("html", page_title or title, ())
    section = SectionPath()
    blocks: list[TextBlock] = []
    first_heading = ""
    for node in body.css(", ".join(_HEADINGS + _BLOCKS)):
        if node.tag in _HEADINGS:
            text = squeeze(node.text(separator=" "))
            first_heading = first_heading or text
            section.enter(int(node.tag[1]), text)
        elif not _inside_block(node):
            separator = " | " if node.tag == "tr" else " "
            text = squeeze(node.text(separator=separator))
            if text:
                blocks.append(TextBlock(str(section), 0, f"- {text}" if node.tag == "li" else text))
    if not blocks:  # text straight in <div>s: take it by paragraphs
        text = body.text(separator="\n\n")
        blocks = [TextBlock("", 0, p) for p in paragraphs(text)]
    return ParsedDocument("html", page_title or first_heading or title, tuple(blocks))


def html_text(fragment: str) -> str:
    """The words of an HTML fragment (raw HTML in Markdown), without its scripts and styles."""
    tree = LexborHTMLParser(fragment)
    for node in tree.css(_DROPPED):
        node.decompose()
    body = tree.body
    return squeeze(body.text(separator=" ")) if body is not None else ""


def _inside_block(node: LexborNode) -> bool:
    """Whether an enclosing block already holds this node's text."""
    parent = node.parent
    while parent is not None:
        if parent.tag in _BLOCKS:
            return True
        parent = parent.parent
    return False
