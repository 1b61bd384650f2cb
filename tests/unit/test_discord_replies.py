"""Reply nonces and the /memory answer: pure pieces of what the bot posts."""

from __future__ import annotations

from adapters.discord.commands import REPORT_LIMIT, render_report
from adapters.discord.delivery import NONCE_LENGTH, delivery_nonce
from engine.audience import Scope
from engine.ports import UserMemoryReport


def test_nonce_is_stable_per_reply_chunk_and_fits_discords_limit() -> None:
    first = delivery_nonce("reply-1", 0)

    assert first == delivery_nonce("reply-1", 0)
    assert first != delivery_nonce("reply-1", 1)
    assert first != delivery_nonce("reply-2", 0)
    assert len(first) <= NONCE_LENGTH


def test_memory_report_lists_blocks_and_facts() -> None:
    report = UserMemoryReport(
        workspace="discord:1",
        user="42",
        blocks=(("human", Scope.dm("42"), "Likes green tea."),),
        passages=("Has a cat named Miso.",),
        messages=7,
    )

    text = render_report(report)

    assert "Likes green tea." in text
    assert "Has a cat named Miso." in text
    assert "7" in text


def test_long_memory_report_fits_one_message_and_points_to_export() -> None:
    report = UserMemoryReport(
        workspace="discord:1",
        user="42",
        blocks=(),
        passages=tuple(f"fact number {n} " * 5 for n in range(200)),
        messages=0,
    )

    text = render_report(report)

    assert len(text) < 2000
    assert len(text) > REPORT_LIMIT // 2
    assert text.endswith("/export for everything)")
