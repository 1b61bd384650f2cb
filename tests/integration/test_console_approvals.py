"""Approvals in the terminal chat: the prompt is printed, ``/approve`` decides it as the person
typing, and the agent's answer to what came of it is printed like any reply."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from adapters.console import ConsoleApprovals, ConsoleChat, ConsolePort
from tests.fakes.discord_world import eventually
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.harness import bot_running, settings_for
from tests.integration.test_approvals import FACT, require_approval


def typed(*lines: str) -> Iterator[str | None]:
    yield from lines
    yield None


async def test_a_call_is_approved_from_the_terminal(tmp_path: Path, llm: FakeOpenAI) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        runtime = bot.runtime
        await require_approval(runtime)
        out = io.StringIO()
        agent = runtime.default_agent
        runtime.engine.register_platform(ConsolePort(out, {agent.id: agent.name}))
        approvals = ConsoleApprovals(runtime.approvals, out)
        runtime.agents.approval_prompts.register(approvals)
        chat = ConsoleChat(runtime.engine, agent.id, user="you", channel=None, approvals=approvals)
        lines = typed("/deny", "remember the freeze", "/approve")

        async def read_line() -> str | None:
            line = next(lines)
            if line == "/approve":
                llm.push(tool_call("send_message", message="Kept it."))
            return line

        llm.push(tool_call("archival_memory_insert", content=FACT))
        await chat.run(read_line, out)
        await eventually(lambda: "Kept it." in out.getvalue(), "the resumed turn's reply")
        shown = out.getvalue()
        assert "(no request is waiting for approval)" in shown
        assert "the agent wants to run archival_memory_insert with" in shown
        assert "Type /approve or /deny (approvers: you;" in shown
        assert "(Approved by you: archival_memory_insert ran.)" in shown
        assert shown.index("[approval ") < shown.index("(Approved by you") < shown.index("Kept it.")
