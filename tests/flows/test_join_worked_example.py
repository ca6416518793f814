"""The seed's worked example (seeds/000): imported corp 1 with leaders 1 and 2 and members 3
and 4, end to end through GraphQL (importChainContacts, previewJoin, joinChain, actAs,
confirmChainMembers, approveJoinRequest), under each of the three matching rules (SPEC §3.4)."""

from __future__ import annotations

from flows import chain_notices
from models import ChainContact, ChainCorp, Corp, Member, Notification
from models.enums import ContactStatus, MemberStatus
from tests import factories as f
from tests.join_helpers import (
    CONFIRM,
    REQUESTS,
    Imported,
    approve_all,
    import_corp_1,
    join,
    member_token,
    named_corp,
    preview,
)

CHAIN_CONTACTS = """
query($chain: ID!) { chainSpace(id: $chain) { contacts(first: 50) { edges { node { name status role } } } } }
"""



async def assert_all_joined_as(w: Imported, corp: Corp) -> None:
    contacts = await ChainContact.filter(chain_id=w.chain.id).order_by("name")
    assert [(c.name, c.status) for c in contacts] == [
        ("成员3", ContactStatus.JOINED), ("成员4", ContactStatus.JOINED),
        ("负责人1", ContactStatus.JOINED), ("负责人2", ContactStatus.JOINED),
    ]
    places = {c.chain_corp_id for c in contacts}
    assert len(places) == 1
    assert (await ChainCorp.get(id=places.pop())).corp_id == corp.id
    for c in contacts:
        member = await Member.get(id=c.member_id)
        assert (member.corp_id, member.mobile, member.status) == (corp.id, c.mobile, MemberStatus.ACTIVE)
    # Everybody's invitation and reminders are settled: nothing unsent is left for them.
    assert not await Notification.filter(chain_contact_id__in=[c.id for c in contacts], sent_at=None).exists()


async def test_rule_1_corp_1_matches_a_joined_corp_a_all_four_join_it_with_its_super_admin_approval(gql):
    w = await import_corp_1(gql)
    corp_a, admin_a = await named_corp("企业A集团", short_name="企业1")
    await f.chain_corp(await w.place.group, corp_a)

    p1 = await preview(gql, w, "负责人1")
    assert p1["rule"] == "MUST_JOIN_CHAIN_CORP" and p1["needsApproval"] is True
    assert p1["requiredCorp"] == {"corpId": f.gid("Corp", corp_a.id), "corpName": "企业A集团"}
    assert p1["canCreateCorp"] is False
    for leader, choice in (("负责人1", {"newCorpName": "企业1"}), ("负责人2", {})):
        # Whatever a leader picks, the corp is decided: it asks corp a to let it in.
        joined = await join(gql, w, leader, **choice)
        assert joined["userErrors"] == [] and joined["outcome"] == "PENDING_APPROVAL"
        assert joined["corp"]["corpName"] == "企业A集团" and joined["joinRequestId"] is not None
    again = await join(gql, w, "负责人1")
    assert again["outcome"] == "PENDING_APPROVAL" and again["userErrors"] == []
    member = await join(gql, w, "成员3")
    assert member["userErrors"][0]["code"] == "NEEDS_LEADER_CONFIRMATION"
    # Imported corp 1 folded into corp a's place (rule 1): one place, corp a's.
    assert not await ChainCorp.filter(id=w.place.id).exists()

    admin_token = f.token(admin_a)
    requests = await gql.ok(REQUESTS, token=admin_token)
    assert {(e["node"]["personName"], e["node"]["kind"]) for e in requests["joinRequests"]["edges"]} == {
        ("负责人1", "JOIN"), ("负责人2", "JOIN"),
    }
    assert await Notification.filter(kind=chain_notices.APPROVAL_REQUEST, recipient_member_id=admin_a.id).count() == 2
    assert await approve_all(gql, admin_token) == 2
    a_place = await ChainCorp.get(chain_id=w.chain.id, corp_id=corp_a.id)
    confirmed = await gql.ok(CONFIRM, {
        "place": f.gid("ChainCorp", a_place.id),
        "contacts": [f.gid("ChainContact", w.contacts[n].id) for n in ("成员3", "成员4")],
    }, token=admin_token)
    assert confirmed["confirmChainMembers"]["userErrors"] == []
    assert [(r["contact"]["name"], r["joined"]) for r in confirmed["confirmChainMembers"]["results"]] == [
        ("成员3", True), ("成员4", True),
    ]
    await assert_all_joined_as(w, corp_a)
    # Leader 1, now a member of corp a, sees its corp's people in the chain.
    token_1 = await member_token(gql, w.token("负责人1"), f.gid("Corp", corp_a.id))
    seen = await gql.ok(CHAIN_CONTACTS, {"chain": f.gid("ChainSpace", w.chain.id)}, token=token_1)
    assert {e["node"]["name"] for e in seen["chainSpace"]["contacts"]["edges"]} == {"负责人1", "负责人2", "成员3", "成员4"}


async def test_rule_2_leader_1_already_in_corp_b_joins_as_b_and_b_admits_the_others(gql):
    w = await import_corp_1(gql)
    corp_b, admin_b = await named_corp("企业1")
    b_root = await corp_b.units.filter(parent_id=None).first()
    await f.member([b_root], name="负责人1", mobile=w.mobile("负责人1"))
    other_corp, other_root = await f.corp("负责人1的另一家")
    await f.member([other_root], name="负责人1", mobile=w.mobile("负责人1"))

    p1 = await preview(gql, w, "负责人1")
    assert p1["rule"] == "MUST_JOIN_OWN_CORP" and p1["needsApproval"] is False
    assert p1["requiredCorp"]["corpName"] == "企业1" and len(p1["identities"]) == 2
    wrong = await join(gql, w, "负责人1", corpId=f.gid("Corp", other_corp.id))
    assert wrong["userErrors"][0] == {
        "code": "MUST_JOIN_AS", "field": "corpId", "message": "The imported corp name matches 企业1: join as that corp.",
    }
    joined = await join(gql, w, "负责人1")
    assert joined["userErrors"] == [] and joined["outcome"] == "JOINED"
    assert joined["corp"]["corpId"] == f.gid("Corp", corp_b.id)
    assert (await ChainCorp.get(id=w.place.id)).corp_id == corp_b.id
    already = await join(gql, w, "负责人1")
    assert already["userErrors"][0]["code"] == "ALREADY_JOINED"

    p2 = await preview(gql, w, "负责人2")
    assert p2["rule"] == "MUST_JOIN_CHAIN_CORP" and p2["needsApproval"] is True
    pending = await join(gql, w, "负责人2")
    assert pending["outcome"] == "PENDING_APPROVAL"

    # Leader 1 is not corp b's super admin: confirming its colleagues asks b's super admins.
    token_1 = await member_token(gql, w.token("负责人1"), f.gid("Corp", corp_b.id))
    confirmed = await gql.ok(CONFIRM, {
        "place": f.gid("ChainCorp", w.place.id),
        "contacts": [f.gid("ChainContact", w.contacts[n].id) for n in ("负责人2", "成员3", "成员4")],
    }, token=token_1)
    results = confirmed["confirmChainMembers"]["results"]
    assert confirmed["confirmChainMembers"]["userErrors"] == []
    assert [(r["contact"]["name"], r["joined"], r["joinRequest"]["kind"]) for r in results] == [
        ("负责人2", False, "JOIN"), ("成员3", False, "CONFIRM"), ("成员4", False, "CONFIRM"),
    ]
    assert await approve_all(gql, f.token(admin_b)) == 3
    await assert_all_joined_as(w, corp_b)


async def test_rule_3_no_match_leader_2_creates_the_corp_and_confirms_the_others(gql):
    w = await import_corp_1(gql)
    own_corp, own_root = await f.corp("负责人2自己的公司")
    await f.member([own_root], name="负责人2", mobile=w.mobile("负责人2"))

    p2 = await preview(gql, w, "负责人2")
    assert p2["rule"] == "CHOOSE_OR_CREATE" and p2["canCreateCorp"] is True
    assert p2["defaultCorpName"] == "企业1" and p2["importedCorpName"] == "企业1"
    assert [i["corpName"] for i in p2["identities"]] == [own_corp.name]
    assert (await join(gql, w, "负责人2"))["userErrors"][0]["code"] == "IDENTITY_REQUIRED"
    stranger_corp, _ = await f.corp()
    foreign = await join(gql, w, "负责人2", corpId=f.gid("Corp", stranger_corp.id))
    assert foreign["userErrors"][0] == {"code": "NOT_FOUND", "field": "corpId", "message": "No such object."}
    p3 = await preview(gql, w, "成员3")
    assert p3["rule"] == "WAIT_FOR_LEADER"

    joined = await join(gql, w, "负责人2", newCorpName="企业1有限公司")
    assert joined["userErrors"] == [] and joined["outcome"] == "JOINED"
    new_corp = await Corp.get(name="企业1有限公司")
    assert joined["corp"]["corpId"] == f.gid("Corp", new_corp.id)

    # Leader 1 comes second: the identity is taken, it asks the new corp to let it in.
    p1 = await preview(gql, w, "负责人1")
    assert p1["rule"] == "MUST_JOIN_CHAIN_CORP" and p1["requiredCorp"]["corpName"] == "企业1有限公司"
    second = await join(gql, w, "负责人1", newCorpName="另起炉灶")
    assert second["outcome"] == "PENDING_APPROVAL" and second["corp"]["corpName"] == "企业1有限公司"
    assert not await Corp.filter(name="另起炉灶").exists()
    assert (await join(gql, w, "成员4"))["userErrors"][0]["code"] == "NEEDS_LEADER_CONFIRMATION"

    # Leader 2 created the corp, so it is its super admin: confirming admits them at once.
    token_2 = await member_token(gql, w.token("负责人2"), f.gid("Corp", new_corp.id))
    confirmed = await gql.ok(CONFIRM, {
        "place": f.gid("ChainCorp", w.place.id),
        "contacts": [f.gid("ChainContact", w.contacts[n].id) for n in ("负责人1", "成员3", "成员4")],
    }, token=token_2)
    assert [(r["contact"]["name"], r["joined"]) for r in confirmed["confirmChainMembers"]["results"]] == [
        ("负责人1", True), ("成员3", True), ("成员4", True),
    ]
    await assert_all_joined_as(w, new_corp)
    # Leader 1's pending request was settled by the confirmation.
    requests = await gql.ok(REQUESTS, token=token_2)
    assert requests["joinRequests"]["totalCount"] == 0
    # The new corp's creator is named as imported, and the others are its members now.
    names = set(await Member.filter(corp_id=new_corp.id).values_list("name", flat=True))
    assert names == {"负责人1", "负责人2", "成员3", "成员4"}
