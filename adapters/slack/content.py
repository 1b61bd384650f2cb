"""What a Slack message says, as text for the agent: its ``text``, else what its rich-text
blocks or legacy attachments hold; mentions found; the mention that addressed the bot dropped."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping

from adapters.slack.payloads import LegacyAttachment, SlackFile, SlackMessagePayload

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
#: Rich text nests sections, lists and quotes; deeper than this is not something people type.
_MAX_BLOCK_DEPTH = 12


def text_of(message: SlackMessagePayload) -> str:
    """The message as mrkdwn: ``text`` when Slack filled it, else its rich text, else what its
    legacy attachments say (shares and unfurls posted by integrations)."""
    text = message.get("text", "")
    if text.strip():
        return text
    from_blocks = "\n".join(_rich_text(message.get("blocks", [])))
    if from_blocks.strip():
        return from_blocks
    return "\n\n".join(_attachment_text(a) for a in message.get("attachments", [])).strip()


def mentions_in(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(MENTION.findall(text)))


def plain_text(text: str, bot_user_id: str) -> str:
    """Slack's escaped mrkdwn as people typed it, without the mention that addressed us; a
    message that was only that mention is kept as the mention (someone calling the bot)."""
    unescaped = html.unescape(text).strip()
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", "", text)
    return html.unescape(text).strip() or unescaped


def describe_file(file: SlackFile) -> str:
    name = file.get("name") or file.get("title") or file.get("id", "file")
    link = file.get("permalink", "")
    return f"{name} ({link})" if link else name


def _attachment_text(attachment: LegacyAttachment) -> str:
    parts = [
        attachment.get("pretext", ""),
        attachment.get("title", ""),
        attachment.get("text", ""),
        attachment.get("title_link") or attachment.get("from_url") or "",
    ]
    said = "\n".join(p for p in parts if p.strip())
    return said or attachment.get("fallback", "")


def _rich_text(blocks: Iterable[object], depth: int = 0) -> Iterable[str]:
    """One line per rich-text section, list item, quote or code block, in order."""
    if depth > _MAX_BLOCK_DEPTH:
        return
    for block in blocks:
        if not isinstance(block, Mapping):
            continue
        elements = block.get("elements")
        if not isinstance(elements, list):
            continue
        if all(isinstance(e, Mapping) and "elements" in e for e in elements):
            yield from _rich_text(elements, depth + 1)
        else:
            yield "".join(_inline(e) for e in elements)


def _inline(element: object) -> str:
    """One inline element of rich text, written as mrkdwn would carry it."""
    if not isinstance(element, Mapping):
        return ""
    match element.get("type"):
        case "text":
            value, form = element.get("text"), "{}"
        case "link":
            value, form = element.get("text") or element.get("url"), "{}"
        case "user":
            value, form = element.get("user_id"), "<@{}>"
        case "channel":
            value, form = element.get("channel_id"), "<#{}>"
        case "emoji":
            value, form = element.get("name"), ":{}:"
        case "broadcast":
            value, form = element.get("range"), "<!{}>"
        case _:
            return ""
    return form.format(value) if isinstance(value, str) else ""
