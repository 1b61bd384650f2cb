"""Markdown as language models write it -> Slack mrkdwn.

Slack renders ``*bold*`` and ``<url|label>`` rather than ``**bold**`` and ``[label](url)``, and
requires ``&``, ``<`` and ``>`` escaped except in its own ``<@user>``/``<#channel>``/``<url>``
tokens. Code (fenced or inline) is escaped but otherwise left exactly as written.
"""

from __future__ import annotations

import re

_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]+`", re.DOTALL)
_SLACK_TOKEN = re.compile(r"<(?:[@#!][^<>\s]+|(?:https?|mailto):[^<>\s]+)>")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)
_STRIKE = re.compile(r"~~(.+?)~~")


def to_mrkdwn(markdown: str) -> str:
    """Convert ``markdown`` to Slack mrkdwn, leaving code untouched but escaped."""
    parts: list[str] = []
    last = 0
    for code in _CODE.finditer(markdown):
        parts.append(_prose(markdown[last : code.start()]))
        parts.append(escape(code.group(0)))
        last = code.end()
    parts.append(_prose(markdown[last:]))
    return "".join(parts)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _prose(text: str) -> str:
    pieces: list[str] = []
    last = 0
    for token in _SLACK_TOKEN.finditer(text):
        pieces.append(_styled(escape(text[last : token.start()])))
        pieces.append(token.group(0))
        last = token.end()
    pieces.append(_styled(escape(text[last:])))
    return "".join(pieces)


def _styled(text: str) -> str:
    text = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", text)
    text = _BOLD.sub(lambda m: f"*{m.group(1) or m.group(2)}*", text)
    text = _HEADING.sub(lambda m: f"*{m.group(1)}*", text)
    return _STRIKE.sub(lambda m: f"~{m.group(1)}~", text)
