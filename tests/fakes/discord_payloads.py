"""Discord wire payloads (API v10) as the gateway and REST API send them.

One place builds every user, guild, channel, message and interaction dict, so the fake
gateway, the fake REST API and the unit tests all speak the same, realistic shapes.
"""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from typing import Any

type Payload = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000
_increment = itertools.count()

CHANNEL_TEXT = 0
CHANNEL_DM = 1
CHANNEL_PUBLIC_THREAD = 11
CHANNEL_PRIVATE_THREAD = 12

VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
READ_MESSAGE_HISTORY = 1 << 16
EVERYONE_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY

INTERACTION_APPLICATION_COMMAND = 2
INTERACTION_COMPONENT = 3
OPTION_STRING = 3


def snowflake() -> str:
    """A fresh, increasing Discord id (timestamp in the high bits, as Discord mints them)."""
    now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return str((now_ms << 22) | (next(_increment) % (1 << 22)))


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


def user(user_id: str, name: str, *, bot: bool = False) -> Payload:
    return {
        "id": user_id,
        "username": name,
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


def member(user_payload: Payload, *, with_user: bool = True) -> Payload:
    data: Payload = {
        "roles": [],
        "joined_at": iso_now(),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "nick": None,
    }
    if with_user:
        data["user"] = user_payload
    return data


def text_channel(
    channel_id: str, guild_id: str, name: str, *, everyone_can_read: bool = True
) -> Payload:
    """A guild text channel; a private one denies VIEW_CHANNEL to @everyone (role id = guild id)."""
    overwrites = []
    if not everyone_can_read:
        overwrites.append({"id": guild_id, "type": 0, "allow": "0", "deny": str(VIEW_CHANNEL)})
    return {
        "id": channel_id,
        "type": CHANNEL_TEXT,
        "guild_id": guild_id,
        "name": name,
        "position": 0,
        "permission_overwrites": overwrites,
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
    }


def thread(
    thread_id: str, guild_id: str, parent_id: str, owner_id: str, *, private: bool = False
) -> Payload:
    return {
        "id": thread_id,
        "type": CHANNEL_PRIVATE_THREAD if private else CHANNEL_PUBLIC_THREAD,
        "guild_id": guild_id,
        "parent_id": parent_id,
        "owner_id": owner_id,
        "name": "a thread",
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": iso_now(),
            "locked": False,
            "invitable": True,
        },
    }


def guild(
    guild_id: str,
    name: str,
    owner_id: str,
    *,
    channels: list[Payload],
    threads: list[Payload] | None = None,
    members: list[Payload] | None = None,
) -> Payload:
    """A full GUILD_CREATE payload: the @everyone role, channels, active threads."""
    everyone = {
        "id": guild_id,
        "name": "@everyone",
        "permissions": str(EVERYONE_PERMISSIONS),
        "position": 0,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }
    return {
        "id": guild_id,
        "name": name,
        "owner_id": owner_id,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "features": [],
        "roles": [everyone],
        "emojis": [],
        "stickers": [],
        "channels": channels,
        "threads": threads or [],
        "members": members or [],
        "voice_states": [],
        "presences": [],
        "member_count": len(members or []) + 1,
        "large": False,
        "unavailable": False,
        "joined_at": iso_now(),
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "system_channel_flags": 0,
    }


def message(
    channel_id: str,
    author: Payload,
    content: str,
    *,
    guild_id: str | None = None,
    mentions: list[Payload] | None = None,
    message_id: str | None = None,
    reference: Payload | None = None,
    nonce: str | None = None,
) -> Payload:
    """A MESSAGE_CREATE payload (or a REST message object)."""
    data: Payload = {
        "id": message_id or snowflake(),
        "channel_id": channel_id,
        "type": 19 if reference else 0,
        "author": author,
        "content": content,
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": mentions or [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "flags": 0,
        "components": [],
    }
    if guild_id is not None:
        data["guild_id"] = guild_id
        data["member"] = member(author, with_user=False)
        data["mentions"] = [{**m, "member": member(m, with_user=False)} for m in mentions or []]
    if reference is not None:
        data["message_reference"] = reference
    if nonce is not None:
        data["nonce"] = nonce
    return data


def snowflake_at(when: datetime) -> str:
    """A Discord id minted at ``when`` (a clock far off, for timestamp tests)."""
    millis = int(when.timestamp() * 1000) - DISCORD_EPOCH_MS
    return str((millis << 22) | (next(_increment) % (1 << 22)))


def webhook_message(channel_id: str, guild_id: str, content: str, **extra: Any) -> Payload:
    """A post made through a channel webhook: its author is the webhook, not a person's account."""
    webhook_id = snowflake()
    data = message(channel_id, user(webhook_id, "Deploy Notifier"), content, guild_id=guild_id)
    del data["member"]  # webhooks are not guild members
    return {**data, "webhook_id": webhook_id, **extra}


def forward(
    channel_id: str,
    author: Payload,
    original: Payload,
    *,
    guild_id: str | None = None,
    content: str = "",
    mentions: list[Payload] | None = None,
) -> Payload:
    """A forward of ``original``: a snapshot of the forwarded message, and usually no
    content of its own."""
    data = message(channel_id, author, content, guild_id=guild_id, mentions=mentions)
    reference: Payload = {
        "type": 1,
        "message_id": original["id"],
        "channel_id": original["channel_id"],
    }
    if "guild_id" in original:
        reference["guild_id"] = original["guild_id"]
    snapshot = {
        key: original[key]
        for key in ("type", "content", "embeds", "attachments", "timestamp", "edited_timestamp")
    }
    return {**data, "message_reference": reference, "message_snapshots": [{"message": snapshot}]}


def embed(title: str, description: str) -> Payload:
    return {"type": "rich", "title": title, "description": description}


def mention(user_payload: Payload) -> str:
    return f"<@{user_payload['id']}>"


def slash_command(
    application_id: str,
    name: str,
    invoker: Payload,
    channel: Payload,
    *,
    command_id: str,
    guild_id: str | None = None,
    options: dict[str, str] | None = None,
) -> Payload:
    """An INTERACTION_CREATE payload for a chat-input command (``options``: its string
    options by name)."""
    data: Payload = {"id": command_id, "name": name, "type": 1}
    if options:
        data["options"] = [
            {"name": key, "type": OPTION_STRING, "value": value} for key, value in options.items()
        ]
    return _interaction(
        application_id, INTERACTION_APPLICATION_COMMAND, data, invoker, channel, guild_id=guild_id
    )


def button_press(
    application_id: str,
    custom_id: str,
    invoker: Payload,
    channel: Payload,
    pressed_on: Payload,
    *,
    guild_id: str | None = None,
) -> Payload:
    """An INTERACTION_CREATE payload for a click on a button of message ``pressed_on``."""
    data = _interaction(
        application_id,
        INTERACTION_COMPONENT,
        {"custom_id": custom_id, "component_type": 2},
        invoker,
        channel,
        guild_id=guild_id,
    )
    data["message"] = pressed_on
    return data


def menu_choice(
    application_id: str,
    custom_id: str,
    values: list[str],
    invoker: Payload,
    channel: Payload,
    chosen_on: Payload,
    *,
    guild_id: str | None = None,
) -> Payload:
    """An INTERACTION_CREATE payload for a choice in a string select menu of ``chosen_on``."""
    data = _interaction(
        application_id,
        INTERACTION_COMPONENT,
        {"custom_id": custom_id, "component_type": 3, "values": values},
        invoker,
        channel,
        guild_id=guild_id,
    )
    data["message"] = chosen_on
    return data


def _interaction(
    application_id: str,
    kind: int,
    data: Payload,
    invoker: Payload,
    channel: Payload,
    *,
    guild_id: str | None,
) -> Payload:
    payload: Payload = {
        "id": snowflake(),
        "application_id": application_id,
        "type": kind,
        "data": data,
        "channel_id": channel["id"],
        "channel": channel,
        "token": f"interaction-token-{snowflake()}",
        "version": 1,
        "app_permissions": str(EVERYONE_PERMISSIONS),
        "locale": "en-US",
        "entitlements": [],
        "attachment_size_limit": 10 * 1024 * 1024,
        "authorizing_integration_owners": {"0": guild_id} if guild_id else {"1": invoker["id"]},
        "context": 0 if guild_id else 1,
    }
    if guild_id is not None:
        payload["guild_id"] = guild_id
        payload["guild_locale"] = "en-US"
        payload["member"] = {**member(invoker), "permissions": str(EVERYONE_PERMISSIONS)}
    else:
        payload["user"] = invoker
    return payload


def dm_channel(channel_id: str, recipient: Payload) -> Payload:
    return {"id": channel_id, "type": CHANNEL_DM, "recipients": [recipient]}


CHANNEL_GROUP_DM = 3
INTERACTION_MODAL_SUBMIT = 5
COMMAND_MESSAGE = 3
COMPONENT_TEXT_INPUT = 4
#: Where an interaction was asked (its ``context``): a server, the bot's DM, or another
#: private channel (a group DM, a DM between people).
CONTEXT_GUILD = 0
CONTEXT_BOT_DM = 1
CONTEXT_PRIVATE_CHANNEL = 2


def message_command(
    application_id: str,
    name: str,
    invoker: Payload,
    channel: Payload,
    target: Payload,
    *,
    command_id: str,
    guild_id: str | None = None,
) -> Payload:
    """An INTERACTION_CREATE payload for a message command (a message's menu → Apps) run on
    ``target``, which Discord resolves in full."""
    data: Payload = {
        "id": command_id,
        "name": name,
        "type": COMMAND_MESSAGE,
        "target_id": target["id"],
        "resolved": {"messages": {target["id"]: target}},
    }
    return _interaction(
        application_id, INTERACTION_APPLICATION_COMMAND, data, invoker, channel, guild_id=guild_id
    )


def modal_submit(
    application_id: str,
    custom_id: str,
    values: dict[str, str],
    invoker: Payload,
    channel: Payload,
    *,
    guild_id: str | None = None,
) -> Payload:
    """An INTERACTION_CREATE payload for a submitted modal: each text input's value by id."""
    rows = [
        {"type": 1, "components": [{"type": COMPONENT_TEXT_INPUT, "custom_id": key, "value": v}]}
        for key, v in values.items()
    ]
    data = {"custom_id": custom_id, "components": rows}
    return _interaction(
        application_id, INTERACTION_MODAL_SUBMIT, data, invoker, channel, guild_id=guild_id
    )


def user_installed(interaction: Payload, *, context: int | None = None) -> Payload:
    """``interaction`` as Discord sends it when only the invoker's own install of the app
    authorised it: the bot need not be a member where it was asked (a server then comes as a
    partial guild)."""
    invoker = (interaction.get("member") or {}).get("user") or interaction["user"]
    changed: Payload = {**interaction, "authorizing_integration_owners": {"1": invoker["id"]}}
    if "guild_id" in interaction:
        changed["guild"] = {"id": interaction["guild_id"], "locale": "en-US", "features": []}
    if context is not None:
        changed["context"] = context
    return changed


def foreign_channel(channel_id: str, guild_id: str, name: str) -> Payload:
    """A channel of a server the bot is not in, as an interaction carries it: who may read it
    (its permission overwrites) is not said."""
    channel = text_channel(channel_id, guild_id, name)
    del channel["permission_overwrites"]
    channel["permissions"] = str(EVERYONE_PERMISSIONS)
    return channel


def group_dm(channel_id: str, owner: Payload, *recipients: Payload) -> Payload:
    return {
        "id": channel_id,
        "type": CHANNEL_GROUP_DM,
        "name": None,
        "icon": None,
        "owner_id": owner["id"],
        "recipients": [owner, *recipients],
    }
