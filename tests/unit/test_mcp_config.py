"""MCP servers as declared: names the model accepts, no secret in a declaration, one transport
per server, audiences, and what the agents file says about them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from engine.audience import Audience, AudienceKind
from engine.config import AgentsFileError, parse_agents_file
from engine.tools.base import attached
from engine.tools.mcp import McpServerError, McpServerSpec, namespaced_names, server_of
from engine.tools.mcp._tool import capped, schema_problem

MODEL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def test_tool_names_are_namespaced_within_the_models_charset_and_never_collide() -> None:
    tools = ["search", "look.up", "look_up", "x" * 80, "x" * 80 + "y", "ünïcode tool"]
    names = namespaced_names("docs", tools)
    assert names["search"] == "docs__search"
    assert all(MODEL_NAME.fullmatch(name) for name in names.values())
    assert len(set(names.values())) == len(tools)
    assert all(server_of(name) == "docs" for name in names.values())
    # The same listing always gives the same names.
    assert namespaced_names("docs", reversed(tools)) == names


def test_a_server_tool_is_attached_by_name_or_with_all_of_its_servers_tools() -> None:
    assert attached(["docs__search"], "docs__search")
    assert attached(["docs__*"], "docs__search")
    assert not attached(["docs__*"], "web__search")
    assert not attached(["docs__search"], "docs__fetch")
    assert not attached(["send_message"], "docs__search")


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"name": "a"}, "either command"),
        ({"name": "a", "command": "x", "url": "http://h/mcp"}, "either command"),
        ({"name": "a", "url": "ftp://h/mcp"}, "http:// or https://"),
        ({"name": "a", "command": "x", "env": {"TOKEN": "ghp_secret-value"}}, "never the value"),
        ({"name": "a", "url": "http://h", "headers": {"Authorization": "Bearer x"}}, "never"),
        ({"name": "a", "command": "x", "headers": {"A": "B"}}, "headers are for url"),
        ({"name": "a_b", "command": "x"}, "name"),
        ({"name": "a", "command": "x", "audiences": []}, "at least one"),
    ],
)
def test_a_bad_declaration_is_refused_with_the_reason(
    fields: dict[str, object], complaint: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        McpServerSpec.model_validate(fields)
    assert complaint in str(caught.value)


def test_secrets_are_read_from_named_variables_and_a_missing_one_is_named() -> None:
    spec = McpServerSpec(name="web", url="https://h/mcp", headers={"Authorization": "WEB_TOKEN"})
    assert spec.resolved_headers({"WEB_TOKEN": "Bearer t"}) == {"Authorization": "Bearer t"}
    with pytest.raises(McpServerError, match="WEB_TOKEN"):
        spec.resolved_headers({})


def test_a_server_limited_to_channels_does_not_serve_dms() -> None:
    spec = McpServerSpec(name="web", url="https://h/mcp", audiences=("public", "private"))
    assert spec.serves(Audience("W", AudienceKind.PUBLIC, "C1"))
    assert not spec.serves(Audience("W", AudienceKind.DM, "D1", "U1"))


def test_a_long_result_is_cut_with_a_note_the_agent_can_act_on() -> None:
    assert capped("short", 10) == "short"
    cut = capped("z" * 300, 200)
    assert cut.startswith("z" * 200 + "\n[Result cut: the tool answered 300 characters")
    assert "Ask it for less" in cut


def test_only_object_schemas_of_schemas_reach_the_model() -> None:
    assert schema_problem({"type": "object", "properties": {"q": {"type": "string"}}}) == ""
    assert schema_problem({"type": "array"})
    assert schema_problem({"type": "object", "properties": {"q": "text"}})
    assert schema_problem({"type": "object", "required": "q"})


AGENTS = """
mcp_servers:
  - {name: docs, command: docs-server, env: {API_KEY: DOCS_KEY}, audiences: [public]}
  - {name: web, url: "https://example.com/mcp", headers: {Authorization: WEB_TOKEN}}
agents:
  - name: helper
    tools: [send_message, docs__*, web__fetch]
"""


def test_the_agents_file_declares_servers_and_agents_attach_their_tools() -> None:
    agents_file = parse_agents_file(AGENTS, origin="agents.yml", base_dir=Path("."))
    assert [s.name for s in agents_file.mcp_servers] == ["docs", "web"]
    assert agents_file.mcp_servers[0].audiences == ("public",)
    helper = agents_file.agent("helper")
    assert helper is not None
    assert helper.tools == ("send_message", "docs__*", "web__fetch")


def test_the_agents_file_refuses_a_server_declared_twice_or_a_malformed_tool() -> None:
    text = AGENTS.replace("name: web,", "name: docs,").replace("web__fetch", "web__fe.tch")
    with pytest.raises(AgentsFileError) as caught:
        parse_agents_file(text, origin="agents.yml", base_dir=Path("."))
    problems = "\n".join(caught.value.problems)
    assert "agents.yml:4 mcp_servers.1.name: another server is 'docs'" in problems
    assert "unknown tool 'web__fe.tch'" in problems
