"""Real-shaped Discord gateway events, one of each kind a bot in a guild and in DMs receives.

Messages in a public and a private channel, a DM, public and private threads and a forum post,
with embeds, files, mentions, replies and forwards; a webhook post; edits, unfurls, single and
bulk deletions; a slash command; and the guild, channel and thread events that say who may see
what. Robustness tests mutate them; benchmarks can replay them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from tests.fakes import discord_payloads as p
from tests.fakes.discord_rest import FakeDiscord
from tests.fakes.discord_world import DiscordWorld

CHANNEL_FORUM = 15


@dataclass(frozen=True)
class CorpusEvent:
    """One gateway event: its name, a builder of a fresh copy (new message ids each time),
    and, for events that change who may see a place, that place (to send a message in)."""

    label: str
    name: str
    build: Callable[[], p.Payload]
    place: p.Payload | None = None


@dataclass(frozen=True)
class Forum:
    channel: p.Payload
    post: p.Payload  # a thread of the forum


def add_forum(fake: FakeDiscord, world: DiscordWorld) -> Forum:
    """A forum channel with one post, in ``world``'s guild (before the bot connects)."""
    forum = {
        **p.text_channel(p.snowflake(), world.guild_id, "ideas"),
        "type": CHANNEL_FORUM,
        "available_tags": [],
        "default_reaction_emoji": None,
        "default_sort_order": None,
        "default_forum_layout": 0,
    }
    post = p.thread(p.snowflake(), world.guild_id, forum["id"], world.alice["id"])
    guild = fake.guilds[world.guild_id]
    guild["channels"].append(forum)
    guild["threads"].append(post)
    fake.channels[forum["id"]] = forum
    fake.channels[post["id"]] = post
    return Forum(forum, post)


def corpus(fake: FakeDiscord, world: DiscordWorld, forum: Forum) -> list[CorpusEvent]:
    bot, alice, bob, guild_id = fake.bot, world.alice, world.bob, world.guild_id

    def said(channel: p.Payload, text: str = "hello", **extra: object) -> p.Payload:
        in_guild = channel.get("guild_id")
        return {
            **p.message(
                channel["id"],
                alice,
                f"{p.mention(bot)} {text}" if in_guild else text,
                guild_id=in_guild,
                mentions=[bot] if in_guild else None,
            ),
            **extra,
        }

    def rich() -> p.Payload:
        reply_to = p.message(world.general["id"], bot, "earlier answer", guild_id=guild_id)
        message = p.message(
            world.general["id"],
            alice,
            f"{p.mention(bot)} see {p.mention(bob)}'s notes",
            guild_id=guild_id,
            mentions=[bot, bob],
            reference={
                "message_id": reply_to["id"],
                "channel_id": world.general["id"],
                "guild_id": guild_id,
            },
        )
        message["referenced_message"] = reply_to
        message["embeds"] = [p.embed("Notes", "the plan for Q3")]
        message["attachments"] = [_attachment("notes.txt")]
        return message

    def forwarded() -> p.Payload:
        original = p.message(world.staff["id"], bob, "staff only", guild_id=guild_id)
        return p.forward(
            world.general["id"],
            alice,
            original,
            guild_id=guild_id,
            content=p.mention(bot),
            mentions=[bot],
        )

    def edit() -> p.Payload:
        return {**said(world.general, "edited"), "edited_timestamp": p.iso_now()}

    def unfurl() -> p.Payload:
        return {
            "id": p.snowflake(),
            "channel_id": world.general["id"],
            "guild_id": guild_id,
            "embeds": [{"type": "link", "url": "https://example.com", "title": "Example"}],
        }

    def deleted(channel: p.Payload) -> p.Payload:
        data = {"id": p.snowflake(), "channel_id": channel["id"]}
        if channel.get("guild_id"):
            data["guild_id"] = channel["guild_id"]
        return data

    def command() -> p.Payload:
        return p.slash_command(
            fake.application_id,
            "memory",
            alice,
            world.alice_dm,
            command_id=fake.command_id("memory"),
        )

    def new_private_thread() -> p.Payload:
        thread = p.thread(
            world.private_thread["id"], guild_id, world.general["id"], alice["id"], private=True
        )
        return {**thread, "newly_created": False}

    return [
        CorpusEvent("dm", "MESSAGE_CREATE", lambda: said(world.alice_dm)),
        CorpusEvent("public channel", "MESSAGE_CREATE", lambda: said(world.general)),
        CorpusEvent("private channel", "MESSAGE_CREATE", lambda: said(world.staff)),
        CorpusEvent("public thread", "MESSAGE_CREATE", lambda: said(world.public_thread)),
        CorpusEvent("private thread", "MESSAGE_CREATE", lambda: said(world.private_thread)),
        CorpusEvent("forum post", "MESSAGE_CREATE", lambda: said(forum.post)),
        CorpusEvent("embeds, files, mentions, reply", "MESSAGE_CREATE", rich),
        CorpusEvent("forward", "MESSAGE_CREATE", forwarded),
        CorpusEvent(
            "webhook post",
            "MESSAGE_CREATE",
            lambda: p.webhook_message(world.general["id"], guild_id, "deployed"),
        ),
        CorpusEvent("edit", "MESSAGE_UPDATE", edit),
        CorpusEvent("unfurl", "MESSAGE_UPDATE", unfurl),
        CorpusEvent("guild deletion", "MESSAGE_DELETE", lambda: deleted(world.general)),
        CorpusEvent("dm deletion", "MESSAGE_DELETE", lambda: deleted(world.alice_dm)),
        CorpusEvent(
            "purge",
            "MESSAGE_DELETE_BULK",
            lambda: {
                "ids": [p.snowflake(), p.snowflake()],
                "channel_id": world.staff["id"],
                "guild_id": guild_id,
            },
        ),
        CorpusEvent("slash command", "INTERACTION_CREATE", command),
        CorpusEvent(
            "guild", "GUILD_CREATE", lambda: _copy(fake.guilds[guild_id]), place=world.staff
        ),
        CorpusEvent(
            "private channel", "CHANNEL_UPDATE", lambda: _copy(world.staff), place=world.staff
        ),
        CorpusEvent(
            "private thread", "THREAD_CREATE", new_private_thread, place=world.private_thread
        ),
    ]


def _attachment(filename: str) -> p.Payload:
    attachment_id = p.snowflake()
    url = f"https://cdn.discordapp.com/attachments/1/{attachment_id}/{filename}"
    return {
        "id": attachment_id,
        "filename": filename,
        "size": 12,
        "url": url,
        "proxy_url": url,
        "content_type": "text/plain",
    }


def _copy(payload: p.Payload) -> p.Payload:
    """A deep copy through JSON, as the gateway would send it."""
    copied: p.Payload = json.loads(json.dumps(payload))
    return copied
