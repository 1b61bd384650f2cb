"""The Slack adapter: slack-bolt's ``AsyncApp`` translating events for the engine.

Each message event is parsed here and handed to the intake chain, which decides whether it is
for the agent. Events are acknowledged once the engine has stored them (``Engine.receive``
returns at once), so a message Slack considers delivered is never lost; everything else happens
in the engine's workers. Both connection modes run the same app: Socket Mode
(``start``/``stop``) and HTTP events on the bot's aiohttp server (``mount``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.web.async_client import AsyncWebClient

from adapters.history import ChannelHistory
from adapters.intake import bot_intake
from adapters.shared_files import DocumentLearner, SharedFileLearner
from adapters.slack.answers import answer_privately
from adapters.slack.approvals import APPROVE, DENY, SlackApprovals
from adapters.slack.assistant import AssistantThreads
from adapters.slack.clients import WorkspaceClients, build_client
from adapters.slack.commands import COMMAND, UserCommands
from adapters.slack.config import PLATFORM, SlackConfig
from adapters.slack.delivery import SlackDelivery
from adapters.slack.directory import SlackDirectory
from adapters.slack.edge import ScreenedSocketModeHandler, SlackEdge
from adapters.slack.events import MalformedEvent, arrival_of, parse_event
from adapters.slack.feedback import FEEDBACK, FeedbackButtons
from adapters.slack.files import SlackSharedFiles
from adapters.slack.history import SlackHistory
from adapters.slack.home import EDIT_VIEW, HOME_EDIT, HOME_EXPORT, HOME_FORGET, MemoryHome
from adapters.slack.installations import KeyValueInstallationStore, KeyValueOAuthStateStore
from adapters.slack.memory_menus import FORGET_CANCEL, FORGET_CONFIRM, FORGET_ITEM
from adapters.slack.shortcuts import FORGET_MESSAGE, REMEMBER_MESSAGE, MessageShortcuts
from adapters.slack.socket import SocketModeLink
from engine import (
    JSON,
    ApprovalPort,
    BackfillLedger,
    DeliveryLedgerStore,
    FeedbackPort,
    InboundKind,
    IntakePort,
    KeyValueStore,
    UserMemory,
    utcnow,
)

log = logging.getLogger(__name__)


class _ClientTokenWins(logging.Filter):
    """slack-bolt reads SLACK_BOT_TOKEN from the environment by itself and warns that the
    client's token is used instead; the client carries the bot's own token, so the warning
    only alarms operators."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_BOLT_LOG = log.getChild("bolt")
_BOLT_LOG.addFilter(_ClientTokenWins())

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
_ANYTHING = re.compile(".*")


class SlackAdapter:
    """One Slack app speaking as one agent, in one or many workspaces."""

    def __init__(
        self,
        config: SlackConfig,
        engine: IntakePort,
        user_memory: UserMemory,
        kv: KeyValueStore,
        deliveries: DeliveryLedgerStore,
        directory: SlackDirectory | None = None,
        *,
        ratings: FeedbackPort | None = None,
        approvals: ApprovalPort | None = None,
        sources: DocumentLearner | None = None,
    ) -> None:
        self._config = config
        #: Files shared with the bot, learned where ``config.serving.file_learning`` says.
        learner = config.serving.file_learner(sources)
        self._files = SlackSharedFiles(learner) if learner is not None else None
        self._intake = bot_intake(engine, config.policies, config.serving)
        self._directory = directory or SlackDirectory()
        installations = KeyValueInstallationStore(kv) if config.multi_workspace else None
        self._installations = installations
        clients = WorkspaceClients(config, installations)
        self._delivery = SlackDelivery(
            clients, deliveries, directory=self._directory, feedback=ratings is not None
        )
        self._feedback = (
            FeedbackButtons(ratings, config.agent_id, self._reject) if ratings else None
        )
        #: Approve / Deny prompts for tool calls that wait for a person.
        self.approvals = (
            SlackApprovals(config.agent_id, approvals, clients, self._reject) if approvals else None
        )
        self._home = MemoryHome(user_memory, self._reject)
        self._shortcuts = MessageShortcuts(
            user_memory, config.agent_id, self._reject, self._directory
        )
        serving = config.serving
        history = ChannelHistory(
            engine, config.policies, serving, BackfillLedger(kv), serving.history
        )
        self._history = SlackHistory(config, history, clients, self._directory)
        self._commands = UserCommands(
            user_memory, self._reject, self._directory, learn_channel=self._history.learn
        )
        self._assistant = AssistantThreads(user_memory, kv, self._on_message, self._directory)
        self.bolt = self._build_app(installations, kv)
        self._edge = SlackEdge(self.bolt, self._reject, config.signing_secret)
        self._register_listeners()
        self._socket: SocketModeLink | None = None

    @property
    def platform_port(self) -> SlackDelivery:
        return self._delivery

    @property
    def file_learner(self) -> SharedFileLearner | None:
        """The learner of files shared with the bot, when learning is on somewhere."""
        return self._files.learner if self._files is not None else None

    @property
    def problem(self) -> str | None:
        """Why the app hears nothing now (its Socket Mode connection is down), or None."""
        return self._socket.problem if self._socket is not None else None

    async def start(self) -> None:
        """Forget old delivery and assistant thread records; connect over Socket Mode (with
        an app token), or fail with one line when Slack refuses the token or stays
        unreachable."""
        await self._delivery.prune(utcnow())
        await self._assistant.prune(utcnow())
        await self._history.resume()
        if not self._config.socket_mode or self._socket is not None:
            return
        socket = self._socket = SocketModeLink(self._config.app_token, build_client(self._config))
        ScreenedSocketModeHandler(self._edge, self.bolt, socket.client)
        try:
            await socket.open()
        except Exception:
            self._socket = None  # ``open`` closed it
            raise

    async def stop(self) -> None:
        await self._history.stop()
        if self._files is not None:
            await self._files.learner.stop()
        if self._socket is not None:
            await self._socket.close()
            self._socket = None

    def mount(self, app: web.Application) -> None:
        """Serve Slack's HTTP requests on the bot's server: events (HTTP mode) and the
        install pages (multi-workspace mode)."""
        if self._config.signing_secret:
            app.router.add_post(EVENTS_PATH, self._edge.handle_http)
        if self._config.multi_workspace:
            app.router.add_get(INSTALL_PATH, self._handle_install)
            app.router.add_get(REDIRECT_PATH, self._handle_oauth_redirect)

    # -- HTTP ---------------------------------------------------------------------------------

    async def _handle_install(self, request: web.Request) -> web.Response:
        flow = self._oauth_flow()
        response = await flow.handle_installation(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _handle_oauth_redirect(self, request: web.Request) -> web.Response:
        flow = self._oauth_flow()
        response = await flow.handle_callback(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    def _oauth_flow(self) -> AsyncOAuthFlow:
        flow = self.bolt.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        return flow

    # -- bolt ---------------------------------------------------------------------------------

    def _build_app(
        self, installations: KeyValueInstallationStore | None, kv: KeyValueStore
    ) -> AsyncApp:
        config = self._config
        common: dict[str, Any] = {
            "signing_secret": config.signing_secret,
            # Socket Mode requests are not signed; HTTP requests always are.
            "request_verification_enabled": bool(config.signing_secret),
            # Ack only after the engine stored the event (it returns at once).
            "process_before_response": True,
            # The bot token (single-workspace mode) travels in the client.
            "client": build_client(config, config.bot_token or None),
            "logger": _BOLT_LOG,
        }
        if installations is None:
            return AsyncApp(**common)
        settings = AsyncOAuthSettings(
            client_id=config.client_id,
            client_secret=config.client_secret,
            scopes=list(config.scopes),
            redirect_uri=config.redirect_uri or None,
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            installation_store=installations,
            state_store=KeyValueOAuthStateStore(kv),
        )
        flow = AsyncOAuthFlow(client=build_client(config), settings=settings)
        return AsyncApp(installation_store=installations, oauth_flow=flow, **common)

    def _register_listeners(self) -> None:
        app = self.bolt
        app.assistant(self._assistant.middleware)
        app.event("message")(self._on_message)
        app.event("app_mention")(self._on_message)
        # Lazily, after the ack: reading a channel starts with Web API calls Slack may throttle.
        app.event("member_joined_channel")(ack=_ack, lazy=[self._history.joined])
        if self._files is not None:
            app.event("file_deleted")(ack=_ack, lazy=[self._files.file_gone])
            app.event("file_unshared")(ack=_ack, lazy=[self._files.file_gone])
        app.command(COMMAND)(
            ack=self._commands.acknowledge,
            lazy=[
                self._commands.run_export,
                self._commands.run_why,
                self._commands.run_learn_channel,
            ],
        )
        app.action(FORGET_CONFIRM)(ack=_ack, lazy=[self._commands.forget])
        app.action(FORGET_CANCEL)(ack=_ack, lazy=[self._commands.cancel])
        app.action(FORGET_ITEM)(ack=_ack, lazy=[self._commands.forget_item])
        if self._feedback is not None:
            app.action(FEEDBACK)(ack=_ack, lazy=[self._feedback.pressed])
        if self.approvals is not None:
            app.action(APPROVE)(ack=_ack, lazy=[self.approvals.pressed])
            app.action(DENY)(ack=_ack, lazy=[self.approvals.pressed])
        home = self._home
        app.event("app_home_opened")(ack=_ack, lazy=[home.opened])
        app.action(HOME_FORGET)(ack=_ack, lazy=[home.forget])
        app.action(HOME_EDIT)(ack=_ack, lazy=[home.edit])
        app.action(HOME_EXPORT)(ack=_ack, lazy=[home.export])
        app.view(EDIT_VIEW)(home.save)
        for shortcut in (REMEMBER_MESSAGE, FORGET_MESSAGE):
            app.shortcut(shortcut)(ack=_ack, lazy=[self._shortcuts.chosen])
        # Whatever else Slack sends gets a 200, so it never retries or flags the app.
        app.command(_ANYTHING)(self._commands.unknown)
        app.event(_ANYTHING)(_ignore)
        app.action(_ANYTHING)(ack=_ack, lazy=[_unknown_action])
        app.view(_ANYTHING)(_ack)
        app.view_closed(_ANYTHING)(_ack)
        app.shortcut(_ANYTHING)(_ack)
        app.options(_ANYTHING)(_ack)

    async def _on_message(
        self, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        try:
            message = parse_event(body, context.bot_user_id or "")
        except MalformedEvent as error:
            await self._reject(body, str(error))
            return
        if message is None:
            return
        where = message.envelope
        receiver = where.receiver
        if receiver.org_wide and self._installations is not None:
            await self._installations.note_org_workspace(receiver.team, receiver.enterprise)
        channel = await self._directory.channel(
            client, where.team, where.channel, where.channel_type, shared=where.shared
        )
        author_name = ""
        if message.kind is not InboundKind.DELETE:
            author_name = await self._directory.user_name(client, where.team, message.user)
        arrival = arrival_of(
            message,
            agent_id=self._config.agent_id,
            audience_kind=channel.kind,
            author_name=author_name,
            channel_name=channel.name,
            shared_channel=channel.shared,
        )
        if arrival is not None:
            result = await self._intake.receive(arrival)
            log.debug("slack event %s: %s %s", where.event_id, result.outcome, result.reason)
            if self._files is not None:
                self._files.take(body, arrival, client)

    async def _reject(self, raw: JSON, reason: str) -> None:
        """Keep a payload that does not fit Slack's shape, for the operator."""
        await self._intake.reject(PLATFORM, raw, reason)


async def _ack(ack: AsyncAck) -> None:
    await ack()


async def _unknown_action(body: dict[str, Any], respond: AsyncRespond) -> None:
    """A button Mnemo does not know (an old message's, another app's): say so, change nothing."""
    await answer_privately(respond, body, "I don't know that button; nothing was changed.")


async def _ignore() -> None:
    """Events nobody listens to are acknowledged and dropped."""
