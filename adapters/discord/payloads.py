"""Gateway events checked against the shapes Discord documents before discord.py reads them.

discord.py trusts its payload types (``discord/types/``) and reads fields without checking them:
a null id raises deep inside its parser, and a missing ``permission_overwrites`` silently makes
a private channel look public. The events Mnemo decides on (messages, deletions, channels,
threads, guilds, interactions) are checked here first; an event that does not fit is refused
whole, with the reason, so the cache never holds a channel more public than Discord said.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

#: Discord ids are unsigned 64-bit integers, sent as decimal strings.
_MAX_SNOWFLAKE = 2**64 - 1
#: Channel types of threads (announcement, public, private).
_THREAD_TYPES = frozenset({10, 11, 12})
#: Channel types without permission overwrites: DMs and group DMs.
_PRIVATE_TYPES = frozenset({1, 3})
#: Interaction tokens are a few hundred characters; they go into the URL of the answer.
_MAX_TOKEN = 1000
#: Interactions naming a command (slash or autocomplete), and those of a component or modal.
_COMMAND_INTERACTIONS = frozenset({2, 4})
_COMPONENT_INTERACTIONS = frozenset({3, 5})


class MalformedEvent(Exception):
    """A gateway event whose shape Discord never sends; the message says which field."""


def is_unfurl(name: str, data: object) -> bool:
    """A partial MESSAGE_UPDATE (a link's embeds unfolding): no ``author``, not an edit.

    Discord really sends these; they change nothing a bot without a message cache keeps.
    """
    return (
        name == "MESSAGE_UPDATE"
        and isinstance(data, Mapping)
        and "author" not in data
        and data.get("edited_timestamp") is None
    )


def check_event(name: str, data: object) -> None:
    """Raise ``MalformedEvent`` when ``data`` is not a shape Discord sends for event ``name``."""
    check = _CHECKS.get(name)
    if check is not None:
        check(_object(data, name))


# -- fields ---------------------------------------------------------------------------------


def _object(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise MalformedEvent(f"{where} is {_kind(value)}, not an object")
    return value


def _list(data: Mapping[str, object], key: str, *, required: bool = True) -> list[object]:
    value = data.get(key)
    if value is None and not required and key not in data:
        return []
    if not isinstance(value, list):
        raise MalformedEvent(f"{key} is {_kind(value)}, not a list")
    return value


def _objects(
    data: Mapping[str, object], key: str, *, required: bool = True
) -> list[Mapping[str, object]]:
    return [_object(item, f"an item of {key}") for item in _list(data, key, required=required)]


def _snowflake(data: Mapping[str, object], key: str, *, required: bool = True) -> None:
    if key not in data and not required:
        return
    # Discord sends every id as a decimal string: a number is not a shape it sends (and would
    # name another role or channel than the one meant).
    value = data.get(key)
    if not (isinstance(value, str) and _is_decimal(value) and int(value) <= _MAX_SNOWFLAKE):
        raise MalformedEvent(f"{key} is {_kind(value)}, not a Discord id")


def _optional_snowflake(data: Mapping[str, object], key: str) -> None:
    if data.get(key) is not None:
        _snowflake(data, key)


def _string(data: Mapping[str, object], key: str, *, required: bool = True) -> None:
    if key not in data and not required:
        return
    if not isinstance(data.get(key), str):
        raise MalformedEvent(f"{key} is {_kind(data.get(key))}, not a string")


def _nullable_string(data: Mapping[str, object], key: str, *, required: bool = True) -> None:
    if data.get(key) is not None or (key not in data and required):
        _string(data, key)


def _integer(data: Mapping[str, object], key: str, *, required: bool = True) -> None:
    if key not in data and not required:
        return
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedEvent(f"{key} is {_kind(value)}, not an integer")


def _timestamp(data: Mapping[str, object], key: str, *, nullable: bool) -> None:
    value = data.get(key)
    if value is None and nullable:
        return
    if not isinstance(value, str):
        raise MalformedEvent(f"{key} is {_kind(value)}, not an ISO 8601 time")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise MalformedEvent(f"{key} is not an ISO 8601 time") from None


def _permissions(data: Mapping[str, object], key: str) -> None:
    value = data.get(key)
    if not (isinstance(value, str) and _is_decimal(value)):
        raise MalformedEvent(f"{key} is {_kind(value)}, not a permission bit set")


def _is_decimal(value: str) -> bool:
    return 0 < len(value) <= 20 and value.isascii() and value.isdigit()


def _kind(value: object) -> str:
    return "missing" if value is None else type(value).__name__


# -- events ---------------------------------------------------------------------------------


def _user(user: Mapping[str, object]) -> None:
    """The fields discord.py reads of a user (a missing one silently drops the author)."""
    _snowflake(user, "id")
    _string(user, "username")
    _string(user, "discriminator")
    _nullable_string(user, "global_name", required=False)
    _nullable_string(user, "avatar")
    if user.get("bot") is not None and not isinstance(user.get("bot"), bool):
        raise MalformedEvent("author.bot is not a boolean")
    if user.get("member") is not None:
        _member(_object(user["member"], "member"))


def _member(member: Mapping[str, object]) -> None:
    _nullable_string(member, "nick", required=False)
    for role in _list(member, "roles"):
        _snowflake({"roles": role}, "roles")


def _message_body(message: Mapping[str, object]) -> None:
    """What a message and a forwarded message's snapshot share."""
    _integer(message, "type")
    _string(message, "content")
    _timestamp(message, "timestamp", nullable=False)
    _timestamp(message, "edited_timestamp", nullable=True)
    for embed in _objects(message, "embeds"):
        _string(embed, "title", required=False)
        _string(embed, "description", required=False)
    for attachment in _objects(message, "attachments"):
        _snowflake(attachment, "id")
        _string(attachment, "url")
        _string(attachment, "filename")


def _message(message: Mapping[str, object]) -> None:
    _snowflake(message, "id")
    _snowflake(message, "channel_id")
    _snowflake(message, "guild_id", required=False)
    _user(_object(message.get("author"), "author"))
    if message.get("member") is not None:
        _member(_object(message["member"], "member"))
    _message_body(message)
    for user in _objects(message, "mentions"):
        _user(user)
    for role in _list(message, "mention_roles"):
        _snowflake({"role": role}, "role")
    _optional_snowflake(message, "webhook_id")
    _optional_snowflake(message, "application_id")
    reference = message.get("message_reference")
    if reference is not None:
        reference = _object(reference, "message_reference")
        for key in ("message_id", "channel_id", "guild_id"):
            _optional_snowflake(reference, key)
    for snapshot in _objects(message, "message_snapshots", required=False):
        _message_body(_object(snapshot.get("message"), "message_snapshots.message"))
    replied_to = message.get("referenced_message")
    if replied_to is not None:  # the message replied to, whose author may be the bot
        _message(_object(replied_to, "referenced_message"))


def _deletion(event: Mapping[str, object]) -> None:
    _snowflake(event, "id")
    _snowflake(event, "channel_id")
    _snowflake(event, "guild_id", required=False)


def _bulk_deletion(event: Mapping[str, object]) -> None:
    for message_id in _list(event, "ids"):
        _snowflake({"ids": message_id}, "ids")
    _snowflake(event, "channel_id")
    _snowflake(event, "guild_id", required=False)


def _channel(channel: Mapping[str, object]) -> None:
    """A guild channel keeps who may see it in its overwrites: they must be all there."""
    _snowflake(channel, "id")
    _integer(channel, "type")
    kind = channel["type"]
    if kind in _PRIVATE_TYPES:
        return
    _snowflake(channel, "guild_id", required=False)
    if kind in _THREAD_TYPES:
        _snowflake(channel, "parent_id")
        return
    for overwrite in _objects(channel, "permission_overwrites"):
        _snowflake(overwrite, "id")
        if overwrite.get("type") not in (0, 1) or isinstance(overwrite.get("type"), bool):
            raise MalformedEvent("a permission overwrite's type is neither role nor member")
        _permissions(overwrite, "allow")
        _permissions(overwrite, "deny")


def _thread(thread: Mapping[str, object]) -> None:
    _channel(thread)
    if thread["type"] not in _THREAD_TYPES:
        raise MalformedEvent(f"a thread event holds a channel of type {thread['type']}")


def _guild(guild: Mapping[str, object]) -> None:
    _snowflake(guild, "id")
    if guild.get("unavailable") is True:
        return
    for role in _objects(guild, "roles"):
        _snowflake(role, "id")
        _permissions(role, "permissions")
    for channel in _objects(guild, "channels"):
        _channel(channel)
    for thread in _objects(guild, "threads", required=False):
        _thread(thread)


def _interaction(interaction: Mapping[str, object]) -> None:
    _snowflake(interaction, "id")
    _snowflake(interaction, "application_id")
    _integer(interaction, "type")
    token = interaction.get("token")
    if not (isinstance(token, str) and 0 < len(token) <= _MAX_TOKEN and token.isascii()):
        raise MalformedEvent("token is not the short ASCII string Discord sends")
    if not token.isprintable():
        raise MalformedEvent("token holds control characters")
    _optional_snowflake(interaction, "channel_id")
    _optional_snowflake(interaction, "guild_id")
    kind = interaction["type"]
    if kind in _COMMAND_INTERACTIONS:
        data = _object(interaction.get("data"), "data")
        _string(data, "name")
        _integer(data, "type", required=False)
        _options(data)
        if data.get("resolved") is not None:
            resolved = _object(data["resolved"], "resolved")
            # The message a message command was run on, which the command reads whole.
            for message in _object(resolved.get("messages") or {}, "resolved.messages").values():
                _message(_object(message, "a resolved message"))
    elif kind in _COMPONENT_INTERACTIONS:
        data = _object(interaction.get("data"), "data")
        _string(data, "custom_id")
        _integer(data, "component_type", required=kind == 3)
    author = interaction.get("member") or {}
    user = _object(author, "member").get("user") or interaction.get("user")
    _user(_object(user, "the invoking user"))


def _options(command: Mapping[str, object], depth: int = 0) -> None:
    """A command's options: subcommands (and their groups) nest, at most two levels deep."""
    if depth > 2:
        raise MalformedEvent("options nest deeper than a subcommand group")
    for option in _objects(command, "options", required=False):
        _string(option, "name")
        _integer(option, "type")
        value = option.get("value")
        if value is not None and not isinstance(value, str | int | float):
            raise MalformedEvent(f"option value is {_kind(value)}, not a value")
        _options(option, depth + 1)


_CHECKS: Mapping[str, Callable[[Mapping[str, object]], None]] = {
    "MESSAGE_CREATE": _message,
    "MESSAGE_UPDATE": _message,
    "MESSAGE_DELETE": _deletion,
    "MESSAGE_DELETE_BULK": _bulk_deletion,
    "CHANNEL_CREATE": _channel,
    "CHANNEL_UPDATE": _channel,
    "CHANNEL_DELETE": _channel,
    "THREAD_CREATE": _thread,
    "THREAD_UPDATE": _thread,
    "GUILD_CREATE": _guild,
    "GUILD_UPDATE": _guild,
    "INTERACTION_CREATE": _interaction,
}
