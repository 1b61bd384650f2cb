"""Discord traffic as it really arrives, through real discord.py, the real engine and the fake
Discord: malformed events cost one event and never deafen the bot, deletions are honoured
wherever they happen, integrations' posts are not conversation, and no content is dropped."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.discord import dm_workspace, guild_workspace
from adapters.discord.audience import conversation_of
from bot.http import PLATFORMS_KEY, build_app
from bot.platforms import Platforms
from engine import AudienceKind
from engine.records import ConversationKey, Role, utcnow
from tests.fakes import discord_payloads as p
from tests.fakes.discord_gateway import OP_HELLO
from tests.fakes.discord_world import eventually
from tests.integration.discord.conftest import Scene, until

CLOSE_INVALID_SHARD = 4010


async def test_partial_update_of_an_unfurl_does_not_deafen_the_bot(scene: Scene) -> None:
    said = await scene.mention(scene.world.general, "look at https://example.com")
    await scene.replies(scene.world.general)
    # An embed unfolding: Discord sends only the ids and the embeds, without ``type``.
    unfurl = {
        "id": said["id"],
        "channel_id": said["channel_id"],
        "guild_id": said["guild_id"],
        "embeds": [{"type": "link", "url": "https://example.com", "title": "Example"}],
    }
    await scene.discord.gateway.dispatch("MESSAGE_UPDATE", unfurl)

    await scene.dm("are you still listening?")

    [reply] = await scene.replies(scene.world.alice_dm)
    assert "are you still listening?" in reply.content
    assert scene.adapter.problem is None
    assert scene.adapter.gateway_restarts == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("author", None),
        ("id", None),
        ("channel_id", {"nested": ["id"]}),
        ("mentions", [["not", "a", "user"]]),
        ("attachments", "file.png"),
        ("embeds", None),
        ("timestamp", 1733225600),
        ("content", 42),
    ],
)
async def test_malformed_message_costs_that_message_only(
    scene: Scene, field: str, value: object
) -> None:
    bad = p.message(scene.world.alice_dm["id"], scene.world.alice, "broken")
    bad[field] = value
    await scene.say(bad)

    await scene.dm("and this one?")

    [reply] = await scene.replies(scene.world.alice_dm)
    assert "and this one?" in reply.content
    [refused] = await scene.rejected()
    assert refused["platform"] == "discord"
    assert "MESSAGE_CREATE" in json.dumps(refused)
    assert field in str(refused["error"])


async def test_missing_content_is_refused_not_fatal(scene: Scene) -> None:
    bad = p.message(scene.world.alice_dm["id"], scene.world.alice, "")
    del bad["content"]
    await scene.say(bad)

    await scene.dm("hello after that")

    await scene.replies(scene.world.alice_dm)
    assert len(await scene.rejected()) == 1


async def test_protocol_fault_resumes_and_the_bot_is_unready_meanwhile(scene: Scene) -> None:
    gateway = scene.discord.gateway
    platforms = Platforms(discord=scene.adapter)
    app = build_app(scene.runtime.http_services(), scene.runtime.settings)
    app[PLATFORMS_KEY] = platforms
    scene.runtime.metrics.watch_gateway_restarts(lambda: platforms.gateway_restarts)
    async with TestClient(TestServer(app)) as http:
        assert (await http.get("/readyz")).status == 200
        gateway.answer_resumes.clear()

        # A HELLO without its data fails inside discord.py's socket reader, not a parser.
        await gateway.send_frame(OP_HELLO, None)
        await eventually(lambda: scene.adapter.problem is not None, "the bot to report down")
        while_down = await http.get("/readyz")
        down_body = await while_down.json()
        await gateway.dispatch(
            "MESSAGE_CREATE",
            p.message(scene.world.alice_dm["id"], scene.world.alice, "sent while the bot was away"),
        )
        gateway.answer_resumes.set()

        [reply] = await scene.replies(scene.world.alice_dm)
        ready_again = await http.get("/readyz")
        metrics = await (await http.get("/metrics")).text()

    assert while_down.status == 503
    assert "discord gateway down" in json.dumps(down_body)
    assert "sent while the bot was away" in reply.content
    assert ready_again.status == 200
    assert gateway.resumes == 1
    assert gateway.identifies == 1
    assert scene.adapter.gateway_restarts == 1
    assert "mnemo_gateway_restarts_total 1.0" in metrics


async def test_connection_that_ends_with_an_error_is_started_again(scene: Scene) -> None:
    # A close code discord.py does not reconnect after: Client.connect() raises.
    await scene.discord.gateway.disconnect(code=CLOSE_INVALID_SHARD)
    await scene.discord.gateway.wait_connected(2)

    await scene.dm("back again?")

    [reply] = await scene.replies(scene.world.alice_dm)
    assert "back again?" in reply.content
    assert scene.adapter.gateway_restarts == 1
    await eventually(lambda: scene.adapter.problem is None, "the bot to report up")


async def test_dm_deletion_forgets_the_message_though_the_channel_is_not_cached(
    scene: Scene,
) -> None:
    world = scene.world
    secret = await scene.dm("my bank PIN is 1234")
    await scene.replies(world.alice_dm)
    workspace = dm_workspace(int(world.alice["id"]))
    assert scene.adapter.client.get_channel(int(world.alice_dm["id"])) is None

    await scene.discord.gateway.delete_message(secret)

    async def forgotten() -> bool:
        return not any(
            "1234" in text for text in await scene.recalled(workspace, world.alice_dm["id"])
        )

    await until(forgotten, "the deleted DM to leave recall")


async def test_bulk_delete_forgets_every_purged_message(scene: Scene) -> None:
    general = scene.world.general
    first = await scene.mention(general, "the vault code is 4512")
    await scene.replies(general, 1)
    second = await scene.mention(general, "and the alarm code is 9087")
    await scene.replies(general, 2)
    workspace = guild_workspace(int(scene.world.guild_id))
    assert len(await scene.recalled(workspace, general["id"])) == 2

    await scene.discord.gateway.bulk_delete([first, second])

    async def purged() -> bool:
        return await scene.recalled(workspace, general["id"]) == []

    await until(purged, "the purged messages to leave recall")


@pytest.mark.parametrize(
    "integration",
    [
        {"webhook_id": "set by webhook_message"},
        {"application_id": p.snowflake()},
        {
            "interaction_metadata": {
                "id": p.snowflake(),
                "type": 2,
                "user": p.user(p.snowflake(), "x"),
                "authorizing_integration_owners": {},
            }
        },
    ],
    ids=["webhook", "application", "interaction"],
)
async def test_integration_posts_are_not_answered(scene: Scene, integration: p.Payload) -> None:
    world, bot = scene.world, scene.discord.bot
    text = f"{p.mention(bot)} deploy finished"
    post = p.webhook_message(world.general["id"], world.guild_id, text, mentions=[bot])
    if "webhook_id" not in integration:
        post = {
            **p.message(
                world.general["id"], world.bob, text, guild_id=world.guild_id, mentions=[bot]
            ),
            **integration,
        }
    await scene.say(post)

    await scene.mention(world.general, "did anything happen?")

    [reply] = await scene.replies(world.general)
    assert "did anything happen?" in reply.content
    prompt = json.dumps(scene.llm.chat_requests[-1]["messages"])
    assert "deploy finished" not in prompt


@pytest.mark.parametrize(
    ("origin", "named", "unnamed"),
    [
        ("general", "forwarded from #general", None),
        ("staff", "forwarded from another channel", "staff"),
    ],
    ids=["public origin named", "private origin not named"],
)
async def test_forwarded_message_keeps_its_content_and_origin(
    scene: Scene, origin: str, named: str, unnamed: str | None
) -> None:
    world, bot = scene.world, scene.discord.bot
    channel = world.general if origin == "general" else world.staff
    original = p.message(
        channel["id"], world.bob, "the offsite is in Lisbon", guild_id=world.guild_id
    )
    forward = p.forward(
        world.general["id"],
        world.alice,
        original,
        guild_id=world.guild_id,
        content=p.mention(bot),
        mentions=[bot],
    )

    await scene.say(forward)

    await scene.replies(world.general)
    prompt = json.dumps(scene.llm.chat_requests[-1]["messages"])
    assert "the offsite is in Lisbon" in prompt
    assert named in prompt
    assert unnamed is None or unnamed not in prompt


async def test_bare_mention_is_answered(scene: Scene) -> None:
    await scene.mention(scene.world.general, "")

    [reply] = await scene.replies(scene.world.general)
    assert reply.content
    assert await scene.rejected() == []


async def test_embeds_only_post_keeps_its_title_and_description(scene: Scene) -> None:
    post = p.message(scene.world.alice_dm["id"], scene.world.alice, "")
    post["embeds"] = [p.embed("Release notes", "Version 2 ships on Friday")]

    await scene.say(post)

    await scene.replies(scene.world.alice_dm)
    prompt = json.dumps(scene.llm.chat_requests[-1]["messages"])
    assert "Release notes" in prompt
    assert "Version 2 ships on Friday" in prompt


async def test_message_dated_in_the_future_is_dated_when_received(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    world = scene.world
    future_id = p.snowflake_at(utcnow() + timedelta(days=400))
    await scene.say(
        p.message(world.alice_dm["id"], world.alice, "hi from 2027", message_id=future_id)
    )
    await scene.replies(world.alice_dm)

    key = ConversationKey(
        scene.runtime.default_agent.id,
        dm_workspace(int(world.alice["id"])),
        world.alice_dm["id"],
        "",
    )
    [stored] = [
        m for m in await scene.runtime.store.messages.recent(key, 0, 10) if m.role is Role.USER
    ]
    assert abs(stored.created_at - utcnow()) < timedelta(minutes=5)
    assert "in the future" in caplog.text


async def test_edit_dated_before_discord_is_kept_and_flagged(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    general = scene.world.general
    said = await scene.mention(general, "draft one")
    await scene.replies(general)
    caplog.set_level(logging.WARNING)

    edited = {
        **said,
        "content": f"{p.mention(scene.discord.bot)} draft two",
        "edited_timestamp": "2010-06-01T00:00:00+00:00",
    }
    await scene.discord.gateway.dispatch("MESSAGE_UPDATE", edited)

    workspace = guild_workspace(int(scene.world.guild_id))

    async def edited_in_recall() -> bool:
        return await scene.recalled(workspace, general["id"]) == ["draft two"]

    await until(edited_in_recall, "the edit in recall")
    assert "before Discord existed" in caplog.text


@pytest.mark.parametrize(
    ("name", "place", "damage"),
    [
        ("CHANNEL_UPDATE", "staff", lambda c: c.pop("permission_overwrites")),
        ("CHANNEL_UPDATE", "staff", lambda c: c.update(permission_overwrites=None)),
        ("THREAD_UPDATE", "private_thread", lambda c: c.update(type=None)),
        ("THREAD_UPDATE", "private_thread", lambda c: c.update(type="12")),
    ],
    ids=["overwrites dropped", "overwrites null", "thread type null", "thread type a string"],
)
async def test_a_damaged_channel_event_never_makes_a_private_place_public(
    scene: Scene, name: str, place: str, damage: Callable[[p.Payload], object]
) -> None:
    channel: p.Payload = json.loads(json.dumps(getattr(scene.world, place)))
    damage(channel)

    await scene.discord.gateway.dispatch(name, channel)
    await scene.mention(getattr(scene.world, place), "is this still private?")

    await scene.replies(getattr(scene.world, place))
    [refused] = await scene.rejected()
    assert name in str(refused["error"])
    cached = scene.adapter.client.get_channel(int(channel["id"]))
    audience, _ = conversation_of(cached, 0)
    assert audience.kind is AudienceKind.PRIVATE
