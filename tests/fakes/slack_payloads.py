"""Real-shaped Slack payloads, as the Events API and interactivity send them, for scenario and
fuzz tests: messages in every kind of conversation, edits, deletions, files, mentions, Slack
Connect and Enterprise Grid envelopes, slash commands, buttons and modals.

Workspace ``T0001`` is the app's own; ``TPARTNER`` is a Slack Connect partner organisation;
``E1`` an Enterprise Grid org with workspaces ``TGRIDA`` and ``TGRIDB``.
"""

from __future__ import annotations

from typing import Any

type Payload = dict[str, Any]

TEAM = "T0001"
PARTNER = "TPARTNER"
ORG = "E1"
BOT_USER = "UBOT"
#: Channels the fake Web API knows: public, private, and one shared with the partner.
CHANNELS: dict[str, Payload] = {
    "CGEN": {"name": "general", "is_private": False},
    "GSECRET": {"name": "secret", "is_private": True},
    "CSHARED": {"name": "partners", "is_ext_shared": True},
}
USERS: dict[str, Payload] = {
    "UANN": {"name": "ann", "profile": {"display_name": "Ann"}},
    "UBEN": {"name": "ben", "profile": {"display_name": "Ben"}},
}


def callback(event: Payload, event_id: str = "Ev1", **envelope: Any) -> Payload:
    """An Events API body as a single-workspace install receives it."""
    return {
        "token": "verification",
        "team_id": TEAM,
        "api_app_id": "A1",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1_700_000_000,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM,
                "user_id": BOT_USER,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "context_team_id": TEAM,
        "context_enterprise_id": None,
        **envelope,
    }


def message(
    text: str = "hello", *, channel: str = "CGEN", channel_type: str = "channel", **fields: Any
) -> Payload:
    return {
        "type": "message",
        "client_msg_id": "6b3f0e5e-0000-4000-8000-000000000001",
        "channel": channel,
        "channel_type": channel_type,
        "user": "UANN",
        "text": text,
        "ts": "1700000001.000100",
        "team": TEAM,
        "event_ts": "1700000001.000100",
        **fields,
    }


def rich_text(*words: str, mention: str = "") -> list[Payload]:
    """The ``blocks`` of a message typed in Slack's composer."""
    elements: list[Payload] = []
    if mention:
        elements.append({"type": "user", "user_id": mention})
    elements += [{"type": "text", "text": word} for word in words]
    return [
        {
            "type": "rich_text",
            "block_id": "b1",
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]


def connect_callback(event: Payload, *, ours: bool, event_id: str = "EvC1") -> Payload:
    """A Slack Connect event as one side receives it: ``team_id`` is the author's workspace,
    ``authorizations`` the receiving installation."""
    receiver = TEAM if ours else PARTNER
    return callback(
        {**event, "team": PARTNER, "user_team": PARTNER},
        event_id,
        team_id=PARTNER,
        is_ext_shared_channel=True,
        context_team_id=receiver,
        authorizations=[
            {
                "enterprise_id": None,
                "team_id": receiver,
                "user_id": BOT_USER,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
    )


def grid_callback(event: Payload, workspace: str, event_id: str = "EvG1") -> Payload:
    """An event in ``workspace`` of org ``E1`` for an org-wide install."""
    return callback(
        {**event, "team": workspace},
        event_id,
        team_id=workspace,
        enterprise_id=ORG,
        context_team_id=workspace,
        context_enterprise_id=ORG,
        authorizations=[
            {
                "enterprise_id": ORG,
                "team_id": None,
                "user_id": BOT_USER,
                "is_bot": True,
                "is_enterprise_install": True,
            }
        ],
    )


def edit(new_text: str, old_text: str, **fields: Any) -> Payload:
    return message(
        subtype="message_changed",
        hidden=True,
        message={"type": "message", "user": "UANN", "text": new_text, "ts": "1700000001.000100"},
        previous_message={
            "type": "message",
            "user": "UANN",
            "text": old_text,
            "ts": "1700000001.000100",
        },
        **fields,
    )


def deletion(**fields: Any) -> Payload:
    return message(
        subtype="message_deleted",
        hidden=True,
        deleted_ts="1700000001.000100",
        previous_message={
            "type": "message",
            "user": "UANN",
            "text": "my PIN is 1234",
            "ts": "1700000001.000100",
        },
        **fields,
    )


def tombstone(**fields: Any) -> Payload:
    """A deleted message that had replies: Slack replaces it with a placeholder."""
    return message(
        subtype="message_changed",
        hidden=True,
        message={
            "type": "message",
            "subtype": "tombstone",
            "user": "USLACKBOT",
            "text": "This message was deleted.",
            "ts": "1700000001.000100",
            "thread_ts": "1700000001.000100",
            "reply_count": 2,
        },
        previous_message={
            "type": "message",
            "user": "UANN",
            "text": "my PIN is 1234",
            "ts": "1700000001.000100",
            "thread_ts": "1700000001.000100",
        },
        **fields,
    )


def slash_command(text: str = "memory", command: str = "/mnemo") -> dict[str, str]:
    return {
        "token": "verification",
        "team_id": TEAM,
        "team_domain": "fake",
        "channel_id": "CGEN",
        "channel_name": "general",
        "user_id": "UANN",
        "user_name": "ann",
        "command": command,
        "text": text,
        "api_app_id": "A1",
        "response_url": "http://127.0.0.1:9/response/cmd",
        "trigger_id": "t1",
    }


def block_action(action_id: str = "mnemo_forget_cancel") -> Payload:
    return {
        "type": "block_actions",
        "user": {"id": "UANN", "username": "ann", "team_id": TEAM},
        "api_app_id": "A1",
        "token": "verification",
        "container": {"type": "message", "message_ts": "1700000002.000100"},
        "trigger_id": "t2",
        "team": {"id": TEAM, "domain": "fake"},
        "channel": {"id": "CGEN", "name": "general"},
        "response_url": "http://127.0.0.1:9/response/act",
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b1",
                "text": {"type": "plain_text", "text": "Cancel"},
                "type": "button",
                "action_ts": "1700000002.000200",
            }
        ],
    }


def by_ann(kind: str, **fields: Any) -> Payload:
    """An interactivity payload of ``kind`` from Ann, in the app's workspace."""
    return {
        "type": kind,
        "team": {"id": TEAM, "domain": "fake"},
        "user": {"id": "UANN", "team_id": TEAM},
        "api_app_id": "A1",
        **fields,
    }


def view(kind: str) -> Payload:
    """A ``view_submission`` or ``view_closed`` of some modal."""
    return by_ann(
        kind,
        view={
            "id": "V1",
            "team_id": TEAM,
            "type": "modal",
            "callback_id": "feedback",
            "state": {"values": {}},
            "hash": "h",
            "private_metadata": "",
        },
        is_cleared=False,
    )


def event_payloads() -> dict[str, Payload]:
    """Every Events API body of the collection, by name."""
    dm = {"channel": "DUANN", "channel_type": "im"}
    return {
        "channel_message": callback(message(f"<@{BOT_USER}> hello")),
        "dm": callback(message("hi there", **dm)),
        "group_dm": callback(message("hi all", channel="GMPIM", channel_type="mpim")),
        "private_channel": callback(
            message("secret plan", channel="GSECRET", channel_type="group")
        ),
        "thread_reply": callback(message("in thread", thread_ts="1700000000.000100", **dm)),
        "thread_broadcast": callback(
            message("also here", subtype="thread_broadcast", thread_ts="1700000000.000100")
        ),
        "edit": callback(edit("new words", "old words", **dm)),
        "deletion": callback(deletion(**dm)),
        "tombstone": callback(tombstone(**dm)),
        "file_share": callback(
            message(
                "",
                subtype="file_share",
                files=[{"id": "F1", "name": "plan.pdf", "permalink": "https://x/plan"}],
                **dm,
            )
        ),
        "app_mention": callback(
            {
                "type": "app_mention",
                "user": "UBEN",
                "text": f"<@{BOT_USER}> what's up?",
                "ts": "1700000003.000100",
                "channel": "CGEN",
                "team": TEAM,
                "event_ts": "1700000003.000100",
            }
        ),
        "blocks_only": callback(message("", blocks=rich_text("from blocks"), **dm)),
        "attachments_only": callback(
            message("", attachments=[{"fallback": "shared", "text": "an attachment"}], **dm)
        ),
        "bare_mention": callback(message(f"<@{BOT_USER}>")),
        "connect_ours": connect_callback(message("from the partner", channel="CSHARED"), ours=True),
        "connect_theirs": connect_callback(
            message("from the partner", channel="CUNKNOWN"), ours=False
        ),
        "grid": grid_callback(
            message("grid hello", channel="GSECRET", channel_type="group"), "TGRIDA"
        ),
        "reaction": callback(
            {
                "type": "reaction_added",
                "user": "UANN",
                "reaction": "tada",
                "item": {"type": "message", "channel": "CGEN", "ts": "1700000001.000100"},
                "event_ts": "1700000004.000100",
            }
        ),
        **_more_events(dm),
    }


def _more_events(dm: Payload) -> dict[str, Payload]:
    """Notices and shapes Mnemo passes by, which must still be acknowledged."""
    return {
        "me_message": callback(message("waves", subtype="me_message", **dm)),
        "bot_message": callback(
            message("build passed", subtype="bot_message", bot_id="B9", username="ci")
        ),
        "channel_join": callback(
            message("<@UBEN> has joined the channel", subtype="channel_join", user="UBEN")
        ),
        "connect_dm": callback(
            message("hi from outside", user="UPARTNER", user_team=PARTNER, **dm),
            team_id=PARTNER,
            is_ext_shared_channel=True,
        ),
        "member_joined": callback(
            {
                "type": "member_joined_channel",
                "user": "UBEN",
                "channel": "CGEN",
                "channel_type": "C",
                "team": TEAM,
                "event_ts": "1700000005.000100",
            }
        ),
        "assistant_thread_started": callback(
            {
                "type": "assistant_thread_started",
                "assistant_thread": {
                    "user_id": "UANN",
                    "context": {"channel_id": "CGEN", "team_id": TEAM},
                    "channel_id": "DUANN",
                    "thread_ts": "1700000009.000100",
                },
                "event_ts": "1700000009.000200",
            }
        ),
        "assistant_thread_context_changed": callback(
            {
                "type": "assistant_thread_context_changed",
                "assistant_thread": {
                    "user_id": "UANN",
                    "context": {"channel_id": "GSECRET", "team_id": TEAM},
                    "channel_id": "DUANN",
                    "thread_ts": "1700000009.000100",
                },
                "event_ts": "1700000010.000200",
            }
        ),
        "app_home_opened": callback(
            {
                "type": "app_home_opened",
                "user": "UANN",
                "channel": "DUANN",
                "tab": "home",
                "event_ts": "1700000006.000100",
            }
        ),
        "channel_created": callback(
            {
                "type": "channel_created",
                "channel": {"id": "CNEW", "name": "new", "created": 1_700_000_000},
                "event_ts": "1700000007.000100",
            }
        ),
    }


def interactive_payloads() -> dict[str, Payload]:
    """Every interactivity body (sent as the ``payload`` form field), by name."""
    return {
        "block_action": block_action(),
        "forget_confirm_elsewhere": block_action("unknown_button"),
        "view_submission": view("view_submission"),
        "view_closed": view("view_closed"),
        "global_shortcut": by_ann(
            "shortcut", action_ts="1700000008.000100", callback_id="remember", trigger_id="t3"
        ),
        "message_shortcut": by_ann(
            "message_action",
            callback_id="remember_message",
            trigger_id="t4",
            channel={"id": "CGEN", "name": "general"},
            message={"type": "message", "user": "UBEN", "text": "hi", "ts": "1700000001.000100"},
            response_url="http://127.0.0.1:9/response/shortcut",
        ),
        **_ai_app_interactions(),
        "block_suggestion": by_ann(
            "block_suggestion",
            action_id="pick",
            block_id="b1",
            value="ab",
            view={"id": "V1", "type": "modal", "callback_id": "feedback"},
        ),
    }


def _ai_app_interactions() -> dict[str, Payload]:
    """The message shortcuts, a feedback press, Home's buttons and its correction modal."""
    message = {"type": "message", "user": "UANN", "text": "keep me", "ts": "1700000001.000100"}
    feedback = block_action("mnemo_feedback")
    feedback["actions"][0] |= {"type": "feedback_buttons", "value": "good:turn-1:reply-1"}
    home_forget = block_action("mnemo_home_forget")
    home_forget["actions"][0] |= {"value": "passage:p-1"}
    home_forget["container"] = {"type": "view", "view_id": "VHOME"}
    shortcut = {"trigger_id": "t5", "channel": {"id": "GSECRET", "name": "secret"}}
    return {
        "remember_this": by_ann(
            "message_action", callback_id="mnemo_remember_message", message=message, **shortcut
        ),
        "forget_this": by_ann(
            "message_action", callback_id="mnemo_forget_message", message=message, **shortcut
        ),
        "feedback": feedback,
        "home_forget": home_forget,
        "home_correction": by_ann(
            "view_submission",
            view={
                "id": "VEDIT",
                "type": "modal",
                "callback_id": "mnemo_home_edit_view",
                "private_metadata": "passage:p-1",
                "state": {"values": {"mnemo_item_text": {"text": {"value": "corrected"}}}},
            },
        ),
    }


def command_payloads() -> dict[str, dict[str, str]]:
    return {
        "mnemo_memory": slash_command(),
        "mnemo_forget": slash_command("forget"),
        "mnemo_help": slash_command(""),
        "unknown_command": slash_command("", "/other"),
    }
