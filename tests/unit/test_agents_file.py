"""The agents file: what it accepts, and errors that point at the line and field to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import AgentsFileError, parse_agents_file, read_agents_file

EXAMPLE = Path(__file__).parents[2] / "examples" / "agents.yml"


def parse(text: str, base_dir: Path = Path(".")) -> object:
    return parse_agents_file(text, origin="agents.yml", base_dir=base_dir)


def problems(text: str, base_dir: Path = Path(".")) -> tuple[str, ...]:
    with pytest.raises(AgentsFileError) as caught:
        parse_agents_file(text, origin="agents.yml", base_dir=base_dir)
    return caught.value.problems


def test_example_file_declares_two_agents_sharing_a_block() -> None:
    agents_file = read_agents_file(EXAMPLE)
    names = [a.name for a in agents_file.agents]
    assert len(names) == 2
    assert all(a.shared_blocks == ("team",) for a in agents_file.agents)
    assert "team" in agents_file.shared_blocks


def test_full_agent_is_read_with_tools_rules_tags_and_platforms(tmp_path: Path) -> None:
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "dice.py").write_text(
        'def roll(sides: int) -> int:\n    """Roll a die.\n\n    Args:\n'
        '        sides: how many sides\n    """\n    return 4\n'
    )
    agents_file = parse_agents_file(
        """
shared_blocks:
  team: {value: "Ship on Fridays.", limit: 1000}
agents:
  - name: lead
    model: gpt-4o
    persona: I lead.
    tags: [Supervisor, supervisor]
    tools: [send_message, send_message_to_agents_matching_tags,
            {name: roll, file: tools/dice.py}]
    tool_rules:
      - {kind: init, tool: roll}
    shared_blocks: [team]
    platforms:
      slack: {bot_user: U0LEAD, channels: [C1], policy: listen, channel_policies: {C2: open}}
""",
        origin="agents.yml",
        base_dir=tmp_path,
    )
    [lead] = agents_file.agents
    assert lead.tools == ("send_message", "send_message_to_agents_matching_tags", "roll")
    assert [t.name for t in lead.custom_tools] == ["roll"]
    assert lead.tags == ("supervisor",)
    assert lead.tool_rules[0].kind == "init"
    assert lead.platforms["slack"].bot_user == "U0LEAD"
    assert lead.platforms["slack"].channel_policies == {"C2": "open"}
    assert agents_file.shared_blocks["team"].limit == 1000


def test_error_names_line_and_field_of_a_bad_value() -> None:
    found = problems("agents:\n  - name: a\n    max_steps: lots\n")
    assert len(found) == 1
    assert found[0].startswith("agents.yml:3 agents.0.max_steps:")


def test_unknown_key_is_refused_with_its_line() -> None:
    [found] = problems("agents:\n  - name: a\n    personna: typo\n")
    assert found.startswith("agents.yml:3 agents.0.personna:")
    assert "Extra inputs" in found


def test_unknown_tool_and_undeclared_shared_block_are_both_reported() -> None:
    found = problems(
        "agents:\n  - name: a\n    tools: [send_message, teleport]\n    shared_blocks: [team]\n"
    )
    assert any(p.startswith("agents.yml:3 agents.0.tools.1:") and "teleport" in p for p in found)
    assert any(p.startswith("agents.yml:4 agents.0.shared_blocks.0:") for p in found)


def test_duplicate_agent_names_are_refused() -> None:
    [found] = problems("agents:\n  - name: a\n  - name: a\n")
    assert found.startswith("agents.yml:3 agents.1.name:")


def test_tool_rule_naming_a_tool_the_agent_lacks_is_refused() -> None:
    [found] = problems(
        "agents:\n  - name: a\n    tools: [send_message]\n    tool_rules:\n"
        "      - {kind: init, tool: archival_memory_search}\n"
    )
    assert found.startswith("agents.yml:5 agents.0.tool_rules.0:")
    assert "archival_memory_search" in found


def test_custom_tool_file_problems_point_at_the_file_field(tmp_path: Path) -> None:
    [found] = problems(
        "agents:\n  - name: a\n    tools:\n      - {name: roll, file: missing.py}\n", tmp_path
    )
    assert found.startswith("agents.yml:4 agents.0.tools.0.file:")
    assert "cannot read tool file" in found


def test_invalid_yaml_names_its_line() -> None:
    [found] = problems("agents:\n  - name: a\n   bad: [\n")
    assert found.startswith("agents.yml:")
    assert "not valid YAML" in found


def test_a_file_without_agents_is_refused() -> None:
    [found] = problems("shared_blocks: {}\n")
    assert "agents" in found


def test_agent_bot_token_fields_name_variables_not_tokens() -> None:
    [found] = problems(
        'agents:\n  - name: a\n    platforms:\n      discord: {bot_user: "1", token_env: xoxb-1}\n'
    )
    assert "agents.0.platforms.discord.token_env" in found
    assert "never the token itself" in found


def test_agent_bot_credentials_come_complete_with_the_bot_user() -> None:
    found = problems(
        """
agents:
  - name: a
    platforms:
      slack: {bot_user: U1, bot_token_env: A_BOT}
  - name: b
    platforms:
      discord: {token_env: B_DISCORD, app_token_env: B_APP}
"""
    )
    assert any("agents.0.platforms.slack" in f and "add app_token_env" in f for f in found)
    assert any("discord takes token_env, not app_token_env" in f for f in found)
    assert any("agents.1.platforms.discord" in f and "needs its bot_user" in f for f in found)


def test_agent_bot_credentials_are_read_as_variable_names() -> None:
    agents_file = parse_agents_file(
        """
agents:
  - name: a
    platforms:
      slack: {bot_user: U1, bot_token_env: A_SLACK_BOT, app_token_env: A_SLACK_APP}
""",
        origin="agents.yml",
        base_dir=Path("."),
    )
    slack = agents_file.agents[0].platforms["slack"]
    assert (slack.bot_token_env, slack.app_token_env, slack.has_credentials) == (
        "A_SLACK_BOT",
        "A_SLACK_APP",
        True,
    )
