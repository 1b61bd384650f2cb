"""Files shared in Slack messages, handed to ``adapters.shared_files`` to be learned.

Files come with the message event that shares them (subtype ``file_share``; a mention of the
bot carries them too): each one's name, size and private URL, downloaded with the bot token
(the app needs the ``files:read`` scope). A file the event names only by its id (Slack
Connect) is looked up with ``files.info``. The ``file_shared`` event says less, so it is not
used. The answer goes to the message's thread (top level in a DM). ``file_deleted`` and
``file_unshared`` take back what the file taught, unless another message still shares it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.intake import Arrival
from adapters.shared_files import (
    DownloadError,
    FileShare,
    SharedFile,
    SharedFileLearner,
)
from adapters.slack.events import workspace_id
from adapters.slack.formatting import escape
from adapters.slack.payloads import MalformedEvent, SlackFile, read_callback
from adapters.slack.routing import receiver_of
from adapters.slack.streaming import notice_metadata
from engine import InboundKind

log = logging.getLogger(__name__)

#: File modes with no bytes to download: deleted, linked from elsewhere, over a free plan's limit.
_NO_BYTES = frozenset({"tombstone", "external", "hidden_by_limit"})
#: Domains whose hosts serve Slack's files (commercial and GovSlack).
_SLACK_DOMAINS = ("slack.com", "slack-gov.com")
_NOT_SLACK = "is not on Slack, and I send Slack's token only to Slack"


def on_slack(url: str, api_url: str) -> bool:
    """Whether ``url`` is served by Slack (or by the API host the app was configured with),
    so the bot token may go with the request."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and any(
        host == domain or host.endswith(f".{domain}") for domain in _SLACK_DOMAINS
    ):
        return True
    api = urlsplit(api_url)
    return (parts.scheme, parts.netloc) == (api.scheme, api.netloc)


def shared_files(files: list[SlackFile], token: str, api_url: str) -> tuple[SharedFile, ...]:
    """The downloadable files of a message's ``files``, fetched with ``token`` from Slack
    (``api_url``: the app's API address)."""
    shared = []
    for file in files:
        if file.get("file_access") == "check_file_info" and file.get("id"):
            shared.append(SharedFile("", 0, "", file_id=file["id"]))
            continue
        url = file.get("url_private_download") or file.get("url_private", "")
        if not url or file.get("mode", "hosted") in _NO_BYTES:
            continue
        file_id = file.get("id", "")
        name = file.get("name") or file.get("title") or file_id or "file"
        size = int(file.get("size", 0))
        if not on_slack(url, api_url):
            shared.append(SharedFile(name, size, url, file_id=file_id, refused=_NOT_SLACK))
            continue
        headers = {"Authorization": f"Bearer {token}"}
        shared.append(SharedFile(name, size, url, headers, file_id=file_id))
    return tuple(shared)


class SlackSharedFiles:
    """Hands the files of Slack messages to the learner, answering through the message's
    workspace client."""

    def __init__(self, learner: SharedFileLearner) -> None:
        self.learner = learner

    def take(self, body: Mapping[str, Any], arrival: Arrival, client: AsyncWebClient) -> None:
        inbound = arrival.inbound
        if inbound.kind is InboundKind.DELETE:
            self.learner.message_gone(inbound.workspace, inbound.channel, inbound.message_ref)
            return
        files = body.get("event", {}).get("files") or []
        if not files or not client.token:
            return
        thread = inbound.thread

        async def tell(text: str) -> object:
            # Escaped: a file's name is the sharer's words and must not mention anyone.
            return await client.chat_postMessage(
                channel=inbound.channel,
                thread_ts=thread or None,
                text=escape(text),
                metadata=notice_metadata("shared_file"),
            )

        async def complete(file: SharedFile) -> SharedFile:
            return await look_up(client, file.file_id)

        found = shared_files(files, client.token, client.base_url)
        share = FileShare(arrival, found, tell, complete)
        self.learner.take(share)

    async def file_gone(self, body: Mapping[str, Any]) -> None:
        """Slack deleted a file (``file_deleted``) or took it out of a channel
        (``file_unshared``): the documents only it shared are removed."""
        try:
            team = receiver_of(read_callback(body)).team
        except MalformedEvent as error:
            log.info("a file event was passed over: %s", error)
            return
        event = body.get("event") or {}
        file_id = str(event.get("file_id") or "")
        unshared = event.get("type") == "file_unshared"
        channel = str(event.get("channel_id") or "") if unshared else ""
        if file_id and (channel or not unshared):
            await self.learner.file_gone(workspace_id(team), file_id, channel)


async def look_up(client: AsyncWebClient, file_id: str) -> SharedFile:
    """A file the event named only by ``file_id``, as ``files.info`` describes it."""
    try:
        response = await client.files_info(file=file_id)
    except SlackApiError as error:
        raise DownloadError(f"could not be looked up ({error.response.get('error')})") from None
    described: list[SlackFile] = [response["file"]] if response.get("file") else []
    found = shared_files(described, client.token or "", client.base_url)
    if not found:
        raise DownloadError("has nothing to download (deleted, or stored outside Slack)")
    return found[0]
