"""Feedback presses, attacked: a reply's button value sent from a press that names no
channel, from another workspace, or to another agent's bot rates nothing."""

from __future__ import annotations

import json

from engine import PressedIn, Rating
from tests.fakes import slack_payloads
from tests.fakes.slack_world import TEAM, SlackWorld
from tests.integration.test_slack_feedback import answered, buttons, private_answer, world

__all__ = ["world"]


async def test_a_press_naming_no_channel_or_another_workspace_rates_nothing(
    world: SlackWorld,
) -> None:
    good = buttons(await answered(world))["positive_button"]["value"]
    turn = good.split(":")[1]
    for key, forged in (("no-channel", {"channel": None}), ("other-team", {"team": "TOTHER"})):
        action = slack_payloads.block_action("mnemo_feedback")
        action["actions"][0] |= {"type": "feedback_buttons", "value": good}
        action["response_url"] = world.api.response_url(key)
        action["channel"] = {"id": "DUANN"}
        if forged.get("channel", "") is None:
            del action["channel"]
        if "team" in forged:
            action["team"] = {"id": forged["team"], "domain": "other"}
            action["user"]["team_id"] = forged["team"]
        await world.interact({"payload": json.dumps(action)})
        answer = await private_answer(world, key)
        assert answer["response_type"] == "ephemeral"
    assert await world.runtime.store.feedback.for_turns([turn]) == []


async def test_a_reply_of_one_agent_is_not_rated_through_another_agents_bot(
    world: SlackWorld,
) -> None:
    _, turn, reply_id = buttons(await answered(world))["positive_button"]["value"].split(":")
    ratings = world.runtime.ratings()
    workspace = f"slack:{TEAM}"
    elsewhere = PressedIn("slack", workspace, "DUANN", "another-agent")
    assert await ratings.rate(elsewhere, "UANN", turn, reply_id, Rating.GOOD) is None
    assert await world.runtime.store.feedback.for_turns([turn]) == []
    own = PressedIn("slack", workspace, "DUANN", world.runtime.default_agent.id)
    assert await ratings.rate(own, "UANN", turn, reply_id, Rating.GOOD) is not None
