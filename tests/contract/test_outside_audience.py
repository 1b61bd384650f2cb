"""An audience that people outside the workspace share (Slack Connect) is kept as such with
the message that came from it, so the turn that answers reads only what it may."""

from __future__ import annotations

import pytest

from engine.audience import Audience, AudienceKind, Scope
from engine.store.protocol import Store
from tests.contract.records import WS, inbox_item


async def test_an_audience_shared_with_another_organisation_is_read_back_as_such(
    store: Store,
) -> None:
    shared = Audience(WS, AudienceKind.PRIVATE, "CSHARED", outside=True)
    item = inbox_item("E-outside", audience=shared)
    assert await store.inbox.put(item)
    kept = await store.inbox.get(item.id)
    assert kept is not None
    assert kept.inbound.audience == shared
    assert kept.inbound.audience.readable_scopes == (Scope.agent(), Scope.private("CSHARED"))


def test_an_audience_with_people_outside_the_workspace_is_never_public() -> None:
    with pytest.raises(ValueError, match="never public"):
        Audience(WS, AudienceKind.PUBLIC, "CGEN", outside=True)
    dm = Audience(WS, AudienceKind.DM, "DPARTNER", "UPARTNER", outside=True)
    assert dm.readable_scopes == (Scope.agent(), Scope.dm("UPARTNER"))
