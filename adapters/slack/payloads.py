"""The Slack wire payloads the adapter reads, as ``TypedDict``s in one place, and their readers.

Only the fields Mnemo uses are listed; Slack sends many more. ``read_callback`` and the other
readers check a raw body against these shapes at the edge (pydantic validates the TypedDicts),
so the code past them can trust every field's type; a body that does not fit raises
``MalformedEvent`` with a reason that names the field, never its value.
"""

from __future__ import annotations

from typing import Annotated, Any, NotRequired, TypedDict

from pydantic import Field, StringConstraints, TypeAdapter, ValidationError

#: Slack's ids (teams, orgs, users, bots, channels, events): short, plain ASCII.
type SlackId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]
#: A message ts: seconds since the epoch with a sequence fraction, "1700000000.000100" (a
#: negative one is nonsense, but kept: ``timestamps.sent_at_of`` flags it).
type Timestamp = Annotated[str, StringConstraints(pattern=r"^-?[0-9]{1,16}(\.[0-9]{1,9})?$")]


class MalformedEvent(ValueError):
    """A payload that lacks what every such Slack payload has, or has it with a wrong type."""


class SlackFile(TypedDict, total=False):
    id: str
    name: str
    title: str
    mimetype: str
    permalink: str
    size: int
    #: "hosted" for an upload; "tombstone" (deleted), "external", "hidden_by_limit" have no bytes.
    mode: str
    #: Where the bytes are, fetched with the bot token (the files:read scope).
    url_private: str
    url_private_download: str
    #: "check_file_info": the event names the file only by ``id`` (Slack Connect); files.info
    #: tells the rest.
    file_access: str


class LegacyAttachment(TypedDict, total=False):
    """A message attachment (link unfurls, shares by integrations): text lives here."""

    fallback: str
    pretext: str
    title: str
    title_link: str
    text: str
    from_url: str


class SlackMessagePayload(TypedDict, total=False):
    """A message as Slack nests it inside edit and delete events."""

    type: str
    subtype: str
    user: SlackId
    bot_id: SlackId
    text: str
    ts: Timestamp
    thread_ts: Timestamp
    files: list[SlackFile]
    #: Block Kit layout; rich_text blocks hold what the person typed when ``text`` is empty.
    blocks: list[dict[str, Any]]
    attachments: list[LegacyAttachment]
    #: The workspace of the author (in Slack Connect, maybe another organisation's), and
    #: the one the message was sent from.
    team: SlackId
    user_team: SlackId
    source_team: SlackId


class SlackEvent(SlackMessagePayload, total=False):
    """The ``event`` of an Events API callback (``message`` and ``app_mention``): a message,
    with where it was posted and, for edits and deletions, the message before and after."""

    channel: SlackId
    channel_type: str
    message: SlackMessagePayload
    previous_message: SlackMessagePayload
    deleted_ts: Timestamp


class Authorization(TypedDict, total=False):
    """One installation of the app the event was dispatched to (Slack lists one)."""

    enterprise_id: SlackId | None
    team_id: SlackId | None
    user_id: SlackId
    is_bot: bool
    is_enterprise_install: bool


class EventCallback(TypedDict):
    """The body Slack posts to ``/slack/events`` (and wraps in Socket Mode envelopes)."""

    type: str
    event_id: SlackId
    event: SlackEvent
    #: The workspace where the event happened: in Slack Connect, maybe the partner's.
    team_id: NotRequired[SlackId | None]
    enterprise_id: NotRequired[SlackId | None]
    #: The workspace and org the event was seen in, for the installation it was sent to.
    context_team_id: NotRequired[SlackId | None]
    context_enterprise_id: NotRequired[SlackId | None]
    #: The channel is shared with another organisation (Slack Connect).
    is_ext_shared_channel: NotRequired[bool]
    authorizations: NotRequired[list[Authorization]]


class SlashCommand(TypedDict):
    """The form Slack posts for ``/mnemo``."""

    command: str
    team_id: SlackId
    user_id: SlackId
    text: NotRequired[str]
    enterprise_id: NotRequired[SlackId | None]
    #: Where it was typed (``/mnemo why`` answers for that channel's audience).
    channel_id: NotRequired[SlackId]
    channel_name: NotRequired[str]


class Actor(TypedDict):
    id: SlackId
    team_id: NotRequired[SlackId | None]


class ActionTeam(TypedDict):
    id: SlackId


class BlockAction(TypedDict):
    """A button press on one of Mnemo's messages (``block_actions``)."""

    user: Actor
    #: None in org-wide installs: the user's ``team_id`` names the workspace then.
    team: NotRequired[ActionTeam | None]


class ChosenOption(TypedDict):
    value: Annotated[str, StringConstraints(max_length=150)]


class ChosenAction(TypedDict):
    action_id: str
    selected_option: NotRequired[ChosenOption | None]


class ItemChoice(BlockAction):
    """A choice in one of Mnemo's menus (``/mnemo forget``'s list of items)."""

    actions: Annotated[list[ChosenAction], Field(min_length=1, max_length=5)]


class PressedButton(TypedDict):
    action_id: str
    #: What the button carries (Slack allows 2,000 characters).
    value: NotRequired[Annotated[str, StringConstraints(max_length=2000)]]


class ButtonPress(BlockAction):
    """A press of one of Mnemo's buttons that carry a value (feedback, App Home's items)."""

    actions: Annotated[list[PressedButton], Field(min_length=1, max_length=5)]


class TypedInput(TypedDict):
    """What a person typed in one input of a modal."""

    value: NotRequired[str | None]


class ViewState(TypedDict):
    #: block id -> action id -> input.
    values: dict[str, dict[str, TypedInput]]


class SubmittedView(TypedDict):
    callback_id: str
    state: ViewState
    #: What Mnemo put in the view when it opened it (Slack allows 3,000 characters).
    private_metadata: NotRequired[Annotated[str, StringConstraints(max_length=3000)]]


class ViewSubmission(BlockAction):
    """A modal of Mnemo's submitted (``view_submission``)."""

    view: SubmittedView


class ShortcutChannel(TypedDict):
    id: SlackId
    name: NotRequired[str]


class MessageShortcut(BlockAction):
    """A message shortcut ("Remember this") chosen on a message (``message_action``)."""

    callback_id: str
    channel: ShortcutChannel
    message: SlackMessagePayload


class PayloadReader[P]:
    """Reads one kind of payload: ``body`` as a ``P``, or ``MalformedEvent`` naming what is
    wrong (``what`` says which payload, in words)."""

    def __init__(self, shape: type[P], what: str) -> None:
        self._adapter = TypeAdapter(shape)
        self._what = what

    def __call__(self, body: object) -> P:
        what = self._what
        try:
            return self._adapter.validate_python(body)
        except ValidationError as error:
            raise MalformedEvent(
                f"the {what} does not fit Slack's shape: {_problems(error)}"
            ) from None
        except RecursionError:
            raise MalformedEvent(f"the {what} is nested too deeply") from None


read_callback = PayloadReader(EventCallback, "event callback")
read_command = PayloadReader(SlashCommand, "slash command")
read_block_action = PayloadReader(BlockAction, "block action")
read_item_choice = PayloadReader(ItemChoice, "menu choice")
read_button_press = PayloadReader(ButtonPress, "button press")
read_view_submission = PayloadReader(ViewSubmission, "view submission")
read_message_shortcut = PayloadReader(MessageShortcut, "message shortcut")


def _problems(error: ValidationError, most: int = 3) -> str:
    """Where and what, never the offending value (it may be anything a user typed)."""
    found = [
        f"{'.'.join(str(part) for part in e['loc']) or 'body'}: {e['msg']}"
        for e in error.errors(include_url=False, include_input=False)[:most]
    ]
    more = error.error_count() - len(found)
    return "; ".join(found) + (f" (and {more} more)" if more > 0 else "")
