"""An MCP server whose tools need approval (``approval`` in its declaration): a call is kept
pending with the server's approvers and time limit, runs nothing until approved, and runs on
the real server under the saved audience once approved."""

from __future__ import annotations

from engine.records import Inbound
from engine.store.approvals import ApprovalRequest
from engine.store.protocol import Store
from tests.fakes.openai_server import tool_call
from tests.integration.test_mcp_tools import dm, running, stdio_server
from tests.integration.test_sandbox_agent import store as store  # the fixture, shared


async def test_an_mcp_call_needing_approval_waits_then_runs_on_its_server(store: Store) -> None:
    server = stdio_server("fake", approval=["add"], approvers=("admin",), approval_ttl_s=90)
    async with running(store, [server], ["fake__*"]) as (turns, _):
        prompts: list[str] = []

        class Prompter:
            platform = "test"
            agent_id = turns.agent.id

            async def ask_approval(self, request: ApprovalRequest) -> None:
                prompts.append(request.id)

        turns.runtime.approval_prompts.register(Prompter())
        turns.llm.push(tool_call("fake__add", a=2, b=5))
        assert await turns.say(dm("alice"), "alice", "What is 2 + 5?") == []
        [request_id] = prompts
        request = await store.approvals.get(request_id)
        assert request is not None
        assert (request.tool, request.arguments, request.approvers) == (
            "fake__add",
            '{"a": 2, "b": 5}',
            ("admin",),
        )
        assert (request.expires_at - request.created_at).total_seconds() == 90
        assert isinstance(request.inbound, Inbound)
        assert request.inbound.audience == dm("alice")

        # Its other tools need no approval: they run in the turn.
        turns.llm.push(tool_call("fake__secret"), tool_call("send_message", message="ok"))
        assert await turns.say(dm("alice"), "alice", "secret?") == ["ok"]

        outcome = await turns.runtime.run_approved(request)
        assert (outcome.output, outcome.error) == ("7", False)
