"""Which tools wait for approval: the agent's ``requires_approval`` rules and an MCP server's
``approval`` setting, with its approvers and time limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config.agents_file import parse_agents_file
from engine.tools.approval import (
    APPROVAL_NOTE,
    DEFAULT_TTL_S,
    ApprovalGate,
    ApprovalPolicy,
    ApprovalPrompts,
    ungated,
    with_approvals,
)
from engine.tools.builtin import BUILTIN_TOOLS
from engine.tools.mcp import McpServerSpec
from engine.tools.rules import ToolRuleError, ToolRuleSet, approval_required, parse_tool_rules

INSERT = "archival_memory_insert"


def test_a_requires_approval_rule_is_read_named_in_the_prompt_and_gates_its_tool() -> None:
    rules = parse_tool_rules([{"kind": "requires_approval", "tool": INSERT}])
    assert approval_required(rules) == {INSERT}
    rendered = ToolRuleSet(rules, [INSERT, "send_message"]).render()
    assert f"These tools run only once a person approves the call: {INSERT}." in rendered
    tools = with_approvals(BUILTIN_TOOLS, approval_required(rules), ApprovalPrompts())
    gate = tools[INSERT]
    assert isinstance(gate, ApprovalGate)
    assert gate.terminal
    assert gate.policy == ApprovalPolicy((), DEFAULT_TTL_S)
    inner = BUILTIN_TOOLS[INSERT].schema()["function"]
    described = gate.schema()["function"]
    assert described["description"] == f"{APPROVAL_NOTE} {inner['description']}"
    assert described["parameters"] == inner["parameters"]
    assert "Needs a person's approval" not in inner["description"]
    assert ungated(gate) is BUILTIN_TOOLS[INSERT]
    assert all(tools[name] is tool for name, tool in BUILTIN_TOOLS.items() if name != INSERT)


def test_a_requires_approval_rule_takes_no_other_keys() -> None:
    with pytest.raises(ToolRuleError, match="unexpected keys approvers"):
        parse_tool_rules([{"kind": "requires_approval", "tool": INSERT, "approvers": ["U1"]}])


def test_an_mcp_server_asks_approval_for_all_or_some_of_its_tools() -> None:
    def spec(**fields: object) -> McpServerSpec:
        return McpServerSpec.model_validate({"name": "tickets", "command": "srv", **fields})

    assert spec().approval_policy("close") is None
    every = spec(approval="all", approvers=["U-admin"], approval_ttl_s=120)
    assert every.approval_policy("close") == ApprovalPolicy(("U-admin",), 120.0)
    some = spec(approval=["close"])
    assert some.approval_policy("close") == ApprovalPolicy((), DEFAULT_TTL_S)
    assert some.approval_policy("list") is None
    with pytest.raises(ValueError, match="approval_ttl_s"):
        spec(approval="all", approval_ttl_s=0)
    with pytest.raises(ValueError, match="approval"):
        spec(approval="some")


def test_the_agents_file_declares_approvals_for_a_server_and_a_tool(tmp_path: Path) -> None:
    text = """
mcp_servers:
  - name: tickets
    command: tickets-mcp
    approval: [close]
    approvers: [U-admin]
    approval_ttl_s: 600
agents:
  - name: helper
    tools: [send_message, tickets__close, archival_memory_insert]
    tool_rules:
      - {kind: requires_approval, tool: archival_memory_insert}
"""
    parsed = parse_agents_file(text, origin="agents.yaml", base_dir=tmp_path)
    [server] = parsed.mcp_servers
    assert server.approval_policy("close") == ApprovalPolicy(("U-admin",), 600.0)
    [helper] = parsed.agents
    assert approval_required(helper.tool_rules) == {INSERT}
