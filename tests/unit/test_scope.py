"""Scopes: one parse of the stored text, the same text back, and the audience each belongs to."""

from __future__ import annotations

import pytest

from engine.audience import Audience, AudienceKind, Scope, ScopeKind
from engine.records import ConversationKey

DM_CHANNEL = ConversationKey("agent-1", "slack:T1", "D1", "171.2")
CHANNEL = ConversationKey("agent-1", "slack:T1", "C1")

#: Every kind of scope, and the text stored for it (rows and documents written before must
#: still read back the same).
STORED = (
    (Scope.agent(), "agent"),
    (Scope.workspace(), "workspace"),
    (Scope.dm("U1"), "dm:U1"),
    (Scope.private("G1"), "private:G1"),
)


@pytest.mark.parametrize(("scope", "text"), STORED)
def test_a_scope_is_stored_as_the_same_text_and_parsed_back(scope: Scope, text: str) -> None:
    assert str(scope) == text
    assert Scope.parse(text) == scope
    assert hash(Scope.parse(text)) == hash(scope)


def test_ids_with_colons_survive_the_round_trip() -> None:
    scope = Scope.private("thread:123:456")
    assert Scope.parse(str(scope)) == scope
    assert scope.channel == "thread:123:456"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "public",
        "dm:",
        "private:",
        "dm",
        "Agent",
        "agent:x",
        "workspace:T1",
        "user:U1",
        " dm:U1",
    ],
)
def test_any_other_text_is_refused_with_the_forms_it_may_take(text: str) -> None:
    with pytest.raises(ValueError, match=r"unknown scope .*expected 'agent', 'workspace'"):
        Scope.parse(text)


def test_a_scope_says_whose_it_is() -> None:
    dm, private = Scope.dm("U1"), Scope.private("G1")
    assert (dm.kind, dm.is_dm, dm.user, dm.channel) == (ScopeKind.DM, True, "U1", None)
    assert (private.is_dm, private.user, private.channel) == (False, None, "G1")
    for general in (Scope.agent(), Scope.workspace()):
        assert (general.is_dm, general.user, general.channel) == (False, None, None)


def test_a_dm_or_private_scope_needs_its_id_and_the_others_take_none() -> None:
    with pytest.raises(ValueError, match="needs user or channel id"):
        Scope.dm("")
    with pytest.raises(ValueError, match="takes no user or channel id"):
        Scope(ScopeKind.WORKSPACE, "T1")


def test_scopes_are_values_usable_as_keys() -> None:
    seen = {Scope.dm("U1"): 1, Scope.workspace(): 2}
    assert seen[Scope.parse("dm:U1")] == 1
    assert seen[Scope.parse("workspace")] == 2
    assert Scope.dm("U1") != Scope.private("U1")
    with pytest.raises(AttributeError):
        Scope.dm("U1").about = "U2"  # type: ignore[misc]


def test_visibility_tells_the_user_who_may_see_a_record() -> None:
    assert Scope.dm("U1").visibility == "only in our DM"
    assert Scope.private("G1").visibility == "only in the private channel G1"
    assert Scope.workspace().visibility == "everyone in this workspace"
    assert Scope.agent().visibility == "every workspace"


def test_the_audience_of_a_conversation_is_rebuilt_from_its_scope() -> None:
    direct = Scope.dm("U1").audience_of(DM_CHANNEL)
    assert direct == Audience("slack:T1", AudienceKind.DM, "D1", "U1")
    assert direct.write_scope == Scope.dm("U1")
    closed = Scope.private("C1").audience_of(CHANNEL)
    assert (closed.kind, closed.channel, closed.write_scope) == (
        AudienceKind.PRIVATE,
        "C1",
        Scope.private("C1"),
    )
    public = Scope.workspace().audience_of(CHANNEL)
    assert (public.kind, public.write_scope) == (AudienceKind.PUBLIC, Scope.workspace())
    with pytest.raises(ValueError, match="carry the scope 'agent'"):
        Scope.agent().audience_of(CHANNEL)


def test_a_conversation_heard_outside_the_workspace_is_rebuilt_reading_only_its_own() -> None:
    shared = Scope.private("C1").audience_of(CHANNEL, outside=True)
    assert shared == Audience("slack:T1", AudienceKind.PRIVATE, "C1", outside=True)
    assert shared.readable_scopes == (Scope.agent(), Scope.private("C1"))
    partner = Scope.dm("U1").audience_of(DM_CHANNEL, outside=True)
    assert partner.readable_scopes == (Scope.agent(), Scope.dm("U1"))
    with pytest.raises(ValueError, match="never public"):
        Scope.workspace().audience_of(CHANNEL, outside=True)


def test_an_audience_reads_general_to_specific_and_never_another_dm() -> None:
    dm = Audience("slack:T1", AudienceKind.DM, "D1", "U1")
    assert dm.readable_scopes == (Scope.agent(), Scope.workspace(), Scope.dm("U1"))
    assert dm.can_read("slack:T1", Scope.dm("U1"))
    assert not dm.can_read("slack:T1", Scope.dm("U2"))
    assert not dm.can_read("slack:T1", Scope.private("D1"))
    assert dm.can_read("", Scope.agent())
    assert not dm.can_read("slack:T2", Scope.workspace())
    public = Audience("slack:T1", AudienceKind.PUBLIC, "C1")
    assert public.readable_scopes == (Scope.agent(), Scope.workspace())
    assert not public.can_read("slack:T1", Scope.dm("U1"))
