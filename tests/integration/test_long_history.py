"""A conversation longer than a turn loads: every message stays in view or in the summary."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAI, Step, Text, echo_responder
from tests.harness import bot_running, dm, settings_for

_NOTE = re.compile(r"note-\d{3}")


def summarising_responder(body: dict[str, object]) -> Step:
    """A summary that keeps every note number it was given (old summary and new messages)."""
    messages = body.get("messages")
    assert isinstance(messages, list)
    if "running summary" in str(messages[0].get("content", "")):
        notes = sorted(set(_NOTE.findall(str(messages[-1].get("content", "")))))
        return Text("Notes mentioned: " + " ".join(notes))
    return echo_responder(body)


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(responder=summarising_responder) as server:
        yield server


async def test_250_short_messages_each_stay_in_the_window_or_the_summary(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        for n in range(1, 251):
            await bot.say(dm("ann"), "ann", f"note-{n:03d}", respond=False)
        await bot.say(dm("ann"), "ann", "what did I note?")

    last = json.dumps(llm.chat_requests[-1]["messages"])
    missing = [n for n in range(1, 251) if f"note-{n:03d}" not in last]
    assert missing == []
    summaries = [r for r in llm.chat_requests if "tools" not in r]
    assert summaries, "messages beyond the load were folded into the summary"
