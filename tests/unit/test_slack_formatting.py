"""Markdown -> Slack mrkdwn, and the look-up cache's expiry."""

from __future__ import annotations

from adapters.slack.directory import TtlCache
from adapters.slack.formatting import to_mrkdwn


def test_bold_links_and_headings_become_mrkdwn() -> None:
    text = "# Plan\n**Ship** it, see [the doc](https://example.com/d?a=1)."
    assert to_mrkdwn(text) == "*Plan*\n*Ship* it, see <https://example.com/d?a=1|the doc>."


def test_special_characters_are_escaped_but_slack_tokens_kept() -> None:
    assert to_mrkdwn("a < b & c > d, ask <@U1> in <#C1>") == (
        "a &lt; b &amp; c &gt; d, ask <@U1> in <#C1>"
    )


def test_code_is_escaped_but_not_restyled() -> None:
    text = "run `a**b**<c`\n```py\nx = **y** if a < b else [z](https://e)\n```"
    assert to_mrkdwn(text) == (
        "run `a**b**&lt;c`\n```py\nx = **y** if a &lt; b else [z](https://e)\n```"
    )


def test_cache_entries_expire_after_their_ttl() -> None:
    now = [0.0]
    cache: TtlCache[str, str] = TtlCache(10.0, clock=lambda: now[0])
    cache.put("U1", "Ann")
    now[0] = 9.0
    assert cache.get("U1") == "Ann"
    now[0] = 10.5
    assert cache.get("U1") is None


def test_cache_keeps_at_most_max_entries() -> None:
    cache: TtlCache[int, int] = TtlCache(60.0, max_entries=2)
    for i in range(3):
        cache.put(i, i)
    assert cache.get(0) is None
    assert cache.get(2) == 2
