"""A token stays dead (SPEC §3.5, §4): a member token issued before its member was resigned,
or before its sessions were revoked, is refused for good, reinstatement included; the
member gets a fresh one through actAs. Edges are tested on a controlled clock."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from auth.tokens import issue_member_token
from flows import sessions
from models import Member
from models.enums import AdminKind, AdminRight
from models.settings import get_settings
from tests import factories as f

ACT_AS = "mutation($c: ID!) { actAs(input: {corpId: $c}) { token memberId userErrors { code field message } } }"
RESIGN = "mutation($id: ID!) { resignMember(input: {id: $id}) { member { id status } userErrors { code field } } }"
REINSTATE = "mutation($id: ID!) { reinstateMember(input: {id: $id}) { member { id status } userErrors { code field } } }"
REVOKE_SESSIONS = """
mutation($input: RevokeMemberSessionsInput!) { revokeMemberSessions(input: $input) {
  member { id } userErrors { code field message } } }"""
VIEWER = "{ viewer { kind } }"


class Clock:
    """flows.sessions' clock, moved by hand."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


@pytest.fixture(params=[0, 500, 999], ids=["second-start", "mid-second", "second-end"])
def clock(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Clock:
    # Where the millisecond falls in its second: a whole-second `iat` falls before all but the
    # first, and the stored instant is written with and without a fraction.
    c = Clock((sessions.now_ms() // 1000) * 1000 + request.param)
    monkeypatch.setattr(sessions, "now_ms", c)
    return c


async def signed_in(client: Any, token: str) -> bool:
    response = await client.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 401:
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        return False
    assert response.json()["data"]["viewer"]["kind"] == "MEMBER"
    return True


async def world(gql) -> dict[str, Any]:
    c, root = await f.corp()
    sales = await f.unit(root, "销售部")
    boss = await f.super_admin(root)
    staff = await f.member([sales], name="员工")
    boss_t = (await gql.ok(ACT_AS, {"c": f.gid("Corp", c.id)}, f.person_token(boss.mobile)))["actAs"]["token"]
    return {"corp": c, "root": root, "sales": sales, "boss": boss, "boss_t": boss_t, "staff": staff}


async def act_as(gql, member: Member) -> str | None:
    data = await gql.ok(ACT_AS, {"c": f.gid("Corp", member.corp_id)}, f.person_token(member.mobile))
    return data["actAs"]["token"]


async def test_token_issued_before_resignation_is_refused_after_reinstatement(gql, client):
    w = await world(gql)
    staff_gid = f.gid("Member", w["staff"].id)
    old = await act_as(gql, w["staff"])
    assert old and await signed_in(client, old)
    assert (await gql.ok(RESIGN, {"id": staff_gid}, w["boss_t"]))["resignMember"]["userErrors"] == []
    assert not await signed_in(client, old)
    assert await act_as(gql, w["staff"]) is None
    assert (await gql.ok(REINSTATE, {"id": staff_gid}, w["boss_t"]))["reinstateMember"]["userErrors"] == []
    assert not await signed_in(client, old)
    fresh = await act_as(gql, w["staff"])
    assert fresh and await signed_in(client, fresh)


async def test_token_of_the_resignation_millisecond_stays_dead_and_actAs_right_after_reinstatement_works(
    gql, client, clock
):
    w = await world(gql)
    staff_gid = f.gid("Member", w["staff"].id)
    same_ms = await act_as(gql, w["staff"])  # issued at clock.ms
    await gql.ok(RESIGN, {"id": staff_gid}, w["boss_t"])  # ... and resigned in that very millisecond
    clock.ms += 1
    await gql.ok(REINSTATE, {"id": staff_gid}, w["boss_t"])
    assert not await signed_in(client, same_ms)
    # actAs in the reinstatement's own millisecond gives a token that works.
    fresh = await act_as(gql, w["staff"])
    assert fresh and await signed_in(client, fresh)
    assert jwt.decode(fresh, options={"verify_signature": False})["iat_ms"] == clock.ms + 1


async def test_revoked_sessions_refuse_tokens_up_to_the_revocation_millisecond(gql, client, clock):
    w = await world(gql)
    staff = w["staff"]
    at = clock.ms
    before, same, after = (issue_member_token(staff.id, issued_ms=ms) for ms in (at - 1, at, at + 1))
    assert all([await signed_in(client, t) for t in (before, same, after)])
    data = await gql.ok(REVOKE_SESSIONS, {"input": {"memberId": f.gid("Member", staff.id)}}, w["boss_t"])
    assert data["revokeMemberSessions"] == {"member": {"id": f.gid("Member", staff.id)}, "userErrors": []}
    assert [await signed_in(client, t) for t in (before, same, after)] == [False, False, True]
    # A token from before this change, with whole-second iat only, counts from the start of its second.
    legacy_claims = {"typ": "member", "mid": staff.id, "iat": at // 1000, "exp": at // 1000 + 3600, "jti": "legacy1"}
    legacy = jwt.encode(legacy_claims, get_settings().secret, algorithm="HS256")
    assert not await signed_in(client, legacy)
    # actAs in the revocation's own millisecond gives a token that works.
    fresh = await act_as(gql, staff)
    assert fresh and await signed_in(client, fresh)


async def test_a_member_revokes_its_own_sessions(gql, client):
    w = await world(gql)
    mine = await act_as(gql, w["staff"])
    other_device = await act_as(gql, w["staff"])
    data = await gql.ok(REVOKE_SESSIONS, {"input": {"memberId": f.gid("Member", w["staff"].id)}}, mine)
    assert data["revokeMemberSessions"]["userErrors"] == []
    assert not await signed_in(client, mine) and not await signed_in(client, other_device)


async def test_only_admins_over_a_member_revoke_its_sessions(gql, client):
    w = await world(gql)
    peer = await f.member([w["sales"]], name="同事")
    outsider_admin = await f.member([w["root"]], name="别部管")
    other_unit = await f.unit(w["root"], "研发部")
    await f.grant(outsider_admin, AdminKind.DIRECTORY_ADMIN, unit_ids=[other_unit.id], rights=[AdminRight.MANAGE.value])
    staff_t = await act_as(gql, w["staff"])
    gid = f.gid("Member", w["staff"].id)
    for token in (await act_as(gql, peer), await act_as(gql, outsider_admin), f.person_token(w["staff"].mobile)):
        data = await gql.ok(REVOKE_SESSIONS, {"input": {"memberId": gid}}, token)
        assert [e["code"] for e in data["revokeMemberSessions"]["userErrors"]] == ["NOT_FOUND"]
    assert await signed_in(client, staff_t)


async def test_import_replace_resignation_ends_sessions_for_good(gql, client):
    from tests.flows.test_directory_import import IMPORT, counts, finished

    w = await world(gql)
    old = await act_as(gql, w["staff"])
    rows = [{"name": w["boss"].name, "account": w["boss"].account}]
    data = await gql.ok(IMPORT, {"input": {"corpId": f.gid("Corp", w["corp"].id), "mode": "REPLACE", "rows": rows,
                                           "confirmReplace": True}}, w["boss_t"])
    job = await finished(gql, w["boss_t"], data["importDirectory"]["job"]["id"])
    assert counts(job)["resigned"] == 1
    assert (await Member.get(id=w["staff"].id)).tokens_valid_after is not None
    await gql.ok(REINSTATE, {"id": f.gid("Member", w["staff"].id)}, w["boss_t"])
    assert not await signed_in(client, old)
