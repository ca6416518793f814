"""The entry points every governed read takes (issue 17): restricted() for lists agrees with the
in-memory rules, flows.access answers NOT_FOUND alike for unknown and invisible objects, and
ShownOnlyTo empties a field for everyone its permissions/ predicate leaves out."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import strawberry

from flows import access
from flows.errors import NotFound
from flows.webhooks import new_secret
from gql.shown_to import ShownOnlyTo
from models import AppToken, AuditEvent, Member, WebhookSubscription
from permissions import chain
from permissions.actions import can_manage_app_tokens
from permissions.loading import app_viewer, member_viewer
from permissions.restricted import restricted
from permissions.viewer import ANONYMOUS, ChainAccess, Viewer, ViewerKind
from tests import factories as f


async def _two_corps_with_tokens() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for side in ("a", "b"):
        corp, root = await f.corp(f"企业{side}")
        boss = await f.super_admin(root)
        plain = await f.member([root], "员工")
        token = await AppToken.create(corp=corp, name=f"app{side}", token_hash=uuid.uuid4().hex, prefix=f"p{side}",
                                      scopes=["directory:read"])
        sub = await WebhookSubscription.create(corp=corp, app_token=token, url="https://example.com/hook",
                                               events=[], secret=new_secret())
        await AuditEvent.create(corp=corp, action="x.test", target_type="Corp", target_id=corp.id, actor_kind="member")
        out[side] = {"boss": boss, "plain": plain, "token": token, "sub": sub, "corp": corp}
    return out


@pytest.fixture
async def w(database: str) -> AsyncIterator[dict[str, Any]]:
    """Two corps, each with a super admin, a plain member, an app token with one webhook
    subscription, and an audit event. The subscriptions go at the end: the session's database
    is shared, and a webhook worker of a later test must not try to deliver to them."""
    made = await _two_corps_with_tokens()
    try:
        yield made
    finally:
        await WebhookSubscription.filter(id__in=[made[side]["sub"].id for side in ("a", "b")]).delete()


async def _viewers(w: dict[str, Any]) -> list[Viewer]:
    viewers: list[Viewer] = [ANONYMOUS, Viewer(kind=ViewerKind.PERSON, person_id=1)]
    for side in ("a", "b"):
        for who in ("boss", "plain"):
            v = await member_viewer(w[side][who].id)
            assert v is not None
            viewers.append(v)
        viewers.append(await app_viewer(w[side]["token"]))
    return viewers


async def test_restricted_app_tokens_and_subscriptions_agree_with_can_manage_app_tokens(w: dict[str, Any]):
    for viewer in await _viewers(w):
        for model in (AppToken, WebhookSubscription):
            rows = await model.filter(corp_id__in=[w[s]["corp"].id for s in ("a", "b")])
            expected = {r.id for r in rows if can_manage_app_tokens(viewer, r.corp_id)}  # type: ignore[attr-defined]
            mine = restricted(model, viewer).filter(corp_id__in=[w[s]["corp"].id for s in ("a", "b")])
            got = set(await mine.values_list("id", flat=True))
            assert got == expected, (viewer.kind, model.__name__)
    boss = await member_viewer(w["a"]["boss"].id)
    assert boss is not None
    assert set(await restricted(AppToken, boss).values_list("id", flat=True)) == {w["a"]["token"].id}


async def test_access_answers_unknown_and_invisible_alike(w: dict[str, Any]):
    boss_a = await member_viewer(w["a"]["boss"].id)
    plain_a = await member_viewer(w["a"]["plain"].id)
    assert boss_a is not None and plain_a is not None
    assert (await access.access_app_token(boss_a, w["a"]["token"].id)).id == w["a"]["token"].id
    assert (await access.access_webhook_subscription(boss_a, w["a"]["sub"].id)).id == w["a"]["sub"].id
    event_a = await AuditEvent.get(corp_id=w["a"]["corp"].id)
    assert (await access.access_audit_event(boss_a, event_a.id)).id == event_a.id
    lookups = [
        (access.access_app_token, w["b"]["token"].id),
        (access.access_webhook_subscription, w["b"]["sub"].id),
        (access.access_audit_event, (await AuditEvent.get(corp_id=w["b"]["corp"].id)).id),
    ]
    for lookup, other_corps in lookups:
        for viewer, pk in ((boss_a, other_corps), (boss_a, 10**9), (plain_a, other_corps)):
            with pytest.raises(NotFound) as unknown:
                await lookup(viewer, pk, "thing")
            assert (unknown.value.code, unknown.value.field, unknown.value.message) == (
                "NOT_FOUND", "thing", "No such object.")
    # Through the SQL rule: a member of corp b is as unknown to corp a's plain member as no member at all.
    assert (await access.access_member(plain_a, w["a"]["boss"].id)).id == w["a"]["boss"].id
    for pk in (w["b"]["boss"].id, 10**9):
        with pytest.raises(NotFound):
            await access.access_member(plain_a, pk)


def _chain_viewer(**standing: Any) -> Viewer:
    return Viewer(kind=ViewerKind.MEMBER, member_id=1, corp_id=1, chains=(ChainAccess(7, 1, **standing),))


@pytest.mark.parametrize(("standing", "rules", "progress"), [
    (None, False, False),
    ({}, False, False),
    ({"own_chain_corp_id": 3}, False, False),
    ({"admin_group_paths": ("/1/",)}, False, True),
    ({"admin_all": True}, True, True),
])
def test_who_reads_a_chains_rules_and_progress(standing: dict[str, Any] | None, rules: bool, progress: bool):
    viewer = _chain_viewer(**standing) if standing is not None else ANONYMOUS
    assert chain.can_read_rules(viewer, 7) is rules
    assert chain.can_read_import_progress(viewer, 7) is progress
    assert not chain.can_read_rules(viewer, 8) and not chain.can_read_import_progress(viewer, 8)


# The rule the fields below ask, set by each test.
_RULE: list[Any] = []


def _asked(viewer: Viewer, key: int) -> bool:
    return bool(_RULE[0](viewer, key))


@strawberry.type
class _Thing:
    pk: int

    @strawberry.field(extensions=[ShownOnlyTo(_asked)])
    def names(self) -> list[str]:
        return ["shown"]

    @strawberry.field(extensions=[ShownOnlyTo(_asked)])
    async def note(self) -> str | None:
        return "shown"


@strawberry.type
class _Query:
    @strawberry.field
    def thing(self) -> _Thing:
        return _Thing(pk=5)


class _Ctx:
    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer


@pytest.mark.parametrize("allowed", [True, False])
async def test_shown_only_to_empties_the_field_for_everyone_else(allowed: bool):
    seen: list[tuple[Viewer, int]] = []

    def rule(viewer: Viewer, key: int) -> bool:
        seen.append((viewer, key))
        return allowed

    _RULE[:] = [rule]
    viewer = Viewer(kind=ViewerKind.MEMBER, member_id=1, corp_id=1)
    result = await strawberry.Schema(query=_Query).execute("{ thing { names note } }", context_value=_Ctx(viewer))
    assert result.errors is None
    expected = {"names": ["shown"], "note": "shown"} if allowed else {"names": [], "note": None}
    assert result.data == {"thing": expected}
    assert seen == [(viewer, 5), (viewer, 5)]


@strawberry.type
class _CountQuery:
    @strawberry.field(extensions=[ShownOnlyTo(_asked)])
    def count(self) -> int:
        return 1


def test_shown_only_to_refuses_a_field_that_cannot_be_empty():
    with pytest.raises(TypeError, match="list or a nullable"):
        strawberry.Schema(query=_CountQuery)


async def test_named_rows_answers_not_found_for_any_id_outside_the_scope(w: dict[str, Any]):
    a, b = w["a"]["corp"].id, w["b"]["corp"].id
    ids = [w["a"]["boss"].id, w["a"]["plain"].id]
    rows = await access.named_rows(Member, [*reversed(ids), ids[0]], "memberIds", corp_id=a)
    assert [m.id for m in rows] == sorted(ids)
    assert await access.named_rows(Member, [], "memberIds", corp_id=a) == []
    for wrong in ([*ids, w["b"]["boss"].id], [ids[0], 10**9]):
        with pytest.raises(NotFound) as refused:
            await access.named_rows(Member, wrong, "memberIds", corp_id=a)
        assert refused.value.field == "memberIds"
    with pytest.raises(NotFound):
        await access.named_rows(Member, ids, "memberIds", corp_id=b)
