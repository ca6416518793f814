"""Joining through GraphQL: invitation joins, declining, and every refusal code of the join flows."""

from __future__ import annotations

from flows import chain_notices
from models import ChainContact, ChainCorp, Notification
from models.chain import JoinRequest, JoinRequestStatus
from models.enums import ChainCorpStatus, ContactRole, ContactStatus
from tests import factories as f
from tests.join_helpers import (
    APPROVE,
    CONFIRM,
    JOIN,
    PREVIEW,
    import_corp_1,
    join,
    member_token,
    named_corp,
)

DECLINE = """
mutation($code: String!) { declineInvitation(input: {code: $code}) { status userErrors { code field message } } }
"""

CONNECTORS = """
query($chain: ID!) { chainSpace(id: $chain) { connectors { name } corps { edges { node { importedName group { name } } } } } }
"""


async def open_chain(import_only: bool = False):
    owner, root = await f.corp("上级企业")
    admin = await f.super_admin(root, name="邀请的管理员")
    chain, groot = await f.chain_space(owner, import_only=import_only)
    dealers = await f.group(groot, "经销商")
    inv = await f.invitation(chain, admin, dealers)
    return chain, dealers, admin, inv


def error(payload: dict) -> tuple[str, str | None]:
    e = payload["userErrors"][0]
    return e["code"], e["field"]


async def test_a_person_nobody_imported_joins_through_an_invitation_and_creates_its_corp(gql):
    chain, dealers, admin, inv = await open_chain()
    mobile = f.unique_mobile()
    person = f.person_token(mobile, "新人")
    preview = await gql.ok(PREVIEW, {"code": inv.code}, token=person)
    assert preview["previewJoin"]["preview"]["rule"] == "CHOOSE_OR_CREATE"
    assert preview["previewJoin"]["preview"]["role"] is None
    data = await gql.ok(JOIN, {"input": {"code": inv.code, "newCorpName": "新经销商"}}, token=person)
    assert data["joinChain"]["outcome"] == "JOINED"
    token = await member_token(gql, person, data["joinChain"]["corp"]["corpId"])
    seen = await gql.ok(CONNECTORS, {"chain": f.gid("ChainSpace", chain.id)}, token=token)
    # It lands in the invitation's group, and the owner member who invited it is its connector.
    assert seen["chainSpace"]["corps"]["edges"] == [{"node": {"importedName": "新经销商", "group": {"name": "经销商"}}}]
    assert seen["chainSpace"]["connectors"] == [{"name": "邀请的管理员"}]
    # A colleague of the new corp joins through the same link as that corp: one place, two contacts.
    colleague_mobile = f.unique_mobile()
    root = await (await ChainCorp.get(chain_id=chain.id)).corp
    await f.member([await root.units.filter(parent_id=None).first()], name="同事", mobile=colleague_mobile)
    colleague = f.person_token(colleague_mobile)
    data = await gql.ok(JOIN, {"input": {"code": inv.code, "corpId": data["joinChain"]["corp"]["corpId"]}}, token=colleague)
    assert data["joinChain"]["outcome"] == "JOINED"
    assert await ChainCorp.filter(chain_id=chain.id).count() == 1
    roles = await ChainContact.filter(chain_id=chain.id).order_by("id").values_list("role", flat=True)
    assert list(roles) == [ContactRole.LEADER, ContactRole.MEMBER]


async def test_import_only_refuses_people_who_were_not_imported(gql):
    chain, dealers, admin, inv = await open_chain(import_only=True)
    person = f.person_token(f.unique_mobile())
    data = await gql.ok(PREVIEW, {"code": inv.code}, token=person)
    assert error(data["previewJoin"]) == ("IMPORT_ONLY", "code")
    data = await gql.ok(JOIN, {"input": {"code": inv.code, "newCorpName": "x"}}, token=person)
    assert error(data["joinChain"]) == ("IMPORT_ONLY", "code")
    # An imported person may use the very same link.
    place = await f.imported_place(dealers, "导入企业")
    contact = await f.imported_contact(place, "导入负责人")
    data = await gql.ok(PREVIEW, {"code": inv.code}, token=f.person_token(contact.mobile))
    assert data["previewJoin"]["userErrors"] == [] and data["previewJoin"]["preview"]["rule"] == "CHOOSE_OR_CREATE"


async def test_joining_needs_a_person_token(gql):
    w = await import_corp_1(gql)
    corp, admin = await named_corp("某企业")
    data = await gql.ok(JOIN, {"input": {"code": w.code("负责人1")}}, token=f.token(admin))
    assert error(data["joinChain"]) == ("PERSON_TOKEN_REQUIRED", None)
    data = await gql.ok(PREVIEW, {"code": w.code("负责人1")}, token=f.token(admin))
    assert error(data["previewJoin"]) == ("PERSON_TOKEN_REQUIRED", None)


async def test_a_personal_notification_link_opens_nothing_for_someone_else(gql):
    w = await import_corp_1(gql)
    data = await gql.ok(PREVIEW, {"code": w.code("负责人1")}, token=w.token("负责人2"))
    assert error(data["previewJoin"]) == ("NOT_FOUND", "code")


async def test_decline_stops_the_reminders_and_can_be_changed_by_joining(gql):
    w = await import_corp_1(gql)
    leader = w.contacts["负责人1"]
    assert await Notification.filter(chain_contact_id=leader.id, kind=chain_notices.REMINDER, sent_at=None).count() == 7
    data = await gql.ok(DECLINE, {"code": w.code("负责人1")}, token=w.token("负责人1"))
    assert data["declineInvitation"] == {"status": "DECLINED", "userErrors": []}
    assert not await Notification.filter(chain_contact_id=leader.id, sent_at=None).exists()
    # Leader 2's reminders are untouched.
    assert await Notification.filter(chain_contact_id=w.contacts["负责人2"].id, sent_at=None).count() == 8
    joined = await join(gql, w, "负责人1", newCorpName="企业1")
    assert joined["outcome"] == "JOINED"
    data = await gql.ok(DECLINE, {"code": w.code("负责人1")}, token=w.token("负责人1"))
    assert error(data["declineInvitation"]) == ("ALREADY_JOINED", "code")


async def test_decline_without_being_imported_is_refused(gql):
    chain, dealers, admin, inv = await open_chain()
    data = await gql.ok(DECLINE, {"code": inv.code}, token=f.person_token(f.unique_mobile()))
    assert error(data["declineInvitation"]) == ("NOT_IMPORTED", "code")


async def test_removed_corp_people_are_refused(gql):
    w = await import_corp_1(gql)
    await ChainCorp.filter(id=w.place.id).update(status=ChainCorpStatus.REMOVED)
    data = await gql.ok(PREVIEW, {"code": w.code("负责人1")}, token=w.token("负责人1"))
    assert error(data["previewJoin"]) == ("REMOVED_FROM_CHAIN", "code")


async def test_choosing_a_corp_removed_from_the_chain_is_refused(gql):
    chain, dealers, admin, inv = await open_chain()
    corp, corp_admin = await named_corp("被移出的企业")
    await f.chain_corp(dealers, corp, status=ChainCorpStatus.REMOVED)
    data = await gql.ok(JOIN, {"input": {"code": inv.code, "corpId": f.gid("Corp", corp.id)}},
                        token=f.person_token(corp_admin.mobile))
    assert error(data["joinChain"]) == ("CORP_REMOVED", "corpId")


async def test_choosing_a_corp_already_in_the_chain_under_another_custom_id_is_refused(gql):
    w = await import_corp_1(gql)
    w.place.custom_corp_id = "C-1"
    await w.place.save(update_fields=["custom_corp_id"])
    corp, corp_admin = await named_corp("另一个名字")
    existing = await f.chain_corp(await w.place.group, corp)
    assert existing.custom_corp_id is not None
    root = await corp.units.filter(parent_id=None).first()
    await f.member([root], mobile=w.mobile("负责人1"))
    data = await join(gql, w, "负责人1", corpId=f.gid("Corp", corp.id))
    assert error(data) == ("CORP_ALREADY_IN_CHAIN", "corpId")


async def test_choosing_a_corp_already_in_the_chain_folds_the_imported_place_into_it(gql):
    w = await import_corp_1(gql)
    w.place.custom_corp_id = "C-1"
    await w.place.save(update_fields=["custom_corp_id"])
    corp, _ = await named_corp("另一个名字")
    existing = await ChainCorp.create(chain_id=w.chain.id, group_id=w.place.group_id, corp=corp, imported_name=corp.name,
                                      name_key=corp.name_key, status=ChainCorpStatus.JOINED)
    root = await corp.units.filter(parent_id=None).first()
    await f.member([root], mobile=w.mobile("负责人1"))
    data = await join(gql, w, "负责人1", corpId=f.gid("Corp", corp.id))
    assert data["outcome"] == "JOINED" and data["chainCorpId"] == f.gid("ChainCorp", existing.id)
    assert (await ChainCorp.get(id=existing.id)).custom_corp_id == "C-1"
    assert await ChainContact.filter(chain_corp_id=existing.id).count() == 4


async def test_confirm_and_approve_refusals(gql):
    w = await import_corp_1(gql)
    joined = await join(gql, w, "负责人1", newCorpName="企业1")
    corp_gid = joined["corp"]["corpId"]
    admin_token = await member_token(gql, w.token("负责人1"), corp_gid)
    place = f.gid("ChainCorp", w.place.id)

    empty = await gql.ok(CONFIRM, {"place": place, "contacts": []}, token=admin_token)
    assert error(empty["confirmChainMembers"]) == ("CONTACTS_REQUIRED", "contactIds")

    await gql.ok(DECLINE, {"code": w.code("负责人2")}, token=w.token("负责人2"))
    declined = await gql.ok(CONFIRM, {"place": place, "contacts": [f.gid("ChainContact", w.contacts["负责人2"].id)]},
                            token=admin_token)
    assert error(declined["confirmChainMembers"]) == ("CONTACT_DECLINED", "contactIds")

    other_place = await f.imported_place(await w.place.group, "别家")
    stranger = await f.imported_contact(other_place, "别家负责人")
    foreign = await gql.ok(CONFIRM, {"place": place, "contacts": [f.gid("ChainContact", stranger.id)]}, token=admin_token)
    assert error(foreign["confirmChainMembers"]) == ("NOT_FOUND", "contactIds")

    # Someone of the corp who is neither its first leader nor its super admin cannot confirm.
    corp_root = await (await ChainCorp.get(id=w.place.id)).corp
    plain = await f.member([await corp_root.units.filter(parent_id=None).first()])
    not_leader = await gql.ok(CONFIRM, {"place": place, "contacts": [f.gid("ChainContact", w.contacts["成员3"].id)]},
                              token=f.token(plain))
    assert error(not_leader["confirmChainMembers"]) == ("NOT_FOUND", "chainCorpId")

    # Approving: a request decided once is closed; strangers do not even see it.
    pending = await join(gql, w, "负责人2")
    assert pending["outcome"] == "PENDING_APPROVAL"
    request_id = pending["joinRequestId"]
    assert await Notification.filter(chain_contact_id=w.contacts["负责人2"].id, kind=chain_notices.APPROVAL_REQUEST).exists()
    stranger_admin = await named_corp("路人企业")
    hidden = await gql.ok(APPROVE, {"id": request_id}, token=f.token(stranger_admin[1]))
    assert error(hidden["approveJoinRequest"]) == ("NOT_FOUND", "id")
    reject = await gql.ok(
        'mutation($id: ID!) { approveJoinRequest(input: {id: $id, approve: false}) { joinRequest { status } userErrors { code } } }',
        {"id": request_id}, token=admin_token,
    )
    assert reject["approveJoinRequest"] == {"joinRequest": {"status": "REJECTED"}, "userErrors": []}
    assert (await ChainContact.get(id=w.contacts["负责人2"].id)).status is ContactStatus.INVITED
    # The super admins' approval messages about it are withdrawn once it is decided.
    assert not await Notification.filter(
        chain_contact_id=w.contacts["负责人2"].id, kind=chain_notices.APPROVAL_REQUEST, sent_at=None
    ).exists()
    closed = await gql.ok(APPROVE, {"id": request_id}, token=admin_token)
    assert error(closed["approveJoinRequest"]) == ("REQUEST_CLOSED", "id")


async def test_endless_contention_gives_up_with_try_again(gql, monkeypatch):
    # Simulates a place that another transaction always claims first (every conditional
    # UPDATE loses): the join plans again a bounded number of times, then says so.
    import flows.joining

    async def always_lost(source, target):
        return False

    monkeypatch.setattr(flows.joining, "merge_place", always_lost)
    w = await import_corp_1(gql)
    corp_a, _ = await named_corp("企业1")
    await f.chain_corp(await w.place.group, corp_a)
    data = await join(gql, w, "负责人1")
    assert error(data) == ("TRY_AGAIN", None)
    assert (await ChainContact.get(id=w.contacts["负责人1"].id)).status is ContactStatus.INVITED
    assert not await JoinRequest.filter(contact_id=w.contacts["负责人1"].id).exists()


async def test_approval_adds_the_person_to_the_corp_root(gql):
    w = await import_corp_1(gql)
    corp_a, admin_a = await named_corp("企业1")
    await f.chain_corp(await w.place.group, corp_a)
    pending = await join(gql, w, "负责人1")
    data = await gql.ok(APPROVE, {"id": pending["joinRequestId"]}, token=f.token(admin_a))
    assert data["approveJoinRequest"]["joinRequest"]["status"] == JoinRequestStatus.APPROVED.value
    token = await member_token(gql, w.token("负责人1"), f.gid("Corp", corp_a.id))
    me = await gql.ok("{ viewer { member { name account departments { unit { name } isMain } } } }", token=token)
    assert me["viewer"]["member"]["name"] == "负责人1"
    assert me["viewer"]["member"]["departments"] == [{"unit": {"name": "root"}, "isMain": True}]
