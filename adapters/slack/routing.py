"""Whose memory an event belongs to: the workspace of the installation that received it.

Slack names several teams in one callback. ``team_id`` is where the event happened, which in
a Slack Connect channel may be the partner organisation; ``authorizations[0]`` is the
installation the event was dispatched to (what slack-bolt's authorize step uses), and
``context_team_id`` / ``context_enterprise_id`` the workspace and org it was seen in. Memory
follows the installation: each side of a Connect channel keeps its own, and an org-wide
(Enterprise Grid) install keeps one memory per workspace of the org, never one for the org
unless no workspace of the org can be told from the event.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.slack.payloads import Authorization, EventCallback, MalformedEvent


@dataclass(frozen=True, slots=True)
class Receiver:
    """The installation an event was dispatched to, and the workspace whose memory it is."""

    #: The workspace (``T…``); the org (``E…``) when an org-wide install cannot tell which
    #: of its workspaces the event belongs to.
    team: str
    #: The Enterprise Grid org, "" outside Grid.
    enterprise: str = ""
    #: Installed org-wide: one token serves every workspace of ``enterprise``.
    org_wide: bool = False


def receiver_of(callback: EventCallback) -> Receiver:
    """The receiving installation, as bolt's authorize step reads it from ``callback``."""
    authorizations = callback.get("authorizations") or []
    if authorizations:
        receiver = _installed(authorizations[0], callback)
        if receiver is not None:
            return receiver
    team = (
        callback.get("context_team_id")
        or callback.get("team_id")
        or callback.get("context_enterprise_id")
        or callback.get("enterprise_id")
    )
    if not team:
        raise MalformedEvent("the callback names no team it was sent to")
    enterprise = callback.get("context_enterprise_id") or callback.get("enterprise_id") or ""
    return Receiver(team, enterprise)


def _installed(authorization: Authorization, callback: EventCallback) -> Receiver | None:
    enterprise = authorization.get("enterprise_id") or ""
    if authorization.get("is_enterprise_install") and enterprise:
        team = _workspace_in_org(callback, enterprise) or enterprise
        return Receiver(team, enterprise, org_wide=True)
    installed_in = authorization.get("team_id")
    return Receiver(installed_in, enterprise) if installed_in else None


def _workspace_in_org(callback: EventCallback, enterprise: str) -> str:
    """The workspace of ``enterprise`` the event was seen in, when the callback says which."""
    pairs = [
        (callback.get("context_team_id"), callback.get("context_enterprise_id")),
        (callback.get("team_id"), callback.get("enterprise_id")),
    ]
    if not callback.get("is_ext_shared_channel"):
        # Outside Slack Connect the author's workspace is one of the org's own.
        pairs.append((callback["event"].get("team"), callback.get("enterprise_id") or enterprise))
    for team, org in pairs:
        if team and org == enterprise and team != enterprise:
            return team
    return ""
