"""SPEC §3.5 (and §2.1 "resigned and deleted members are never seen by non-admins"): a chain
contact linked to a resigned or disabled member is gone from every non-admin chain view — the
chain's contact list and its totalCount, a chain corp's contacts, node lookups, the change feed
— and comes back on reinstatement (enabling); the chain's admins (owner super admin, chain admin
in its range, the owner's partner app) keep seeing it with its status. Deleting the member
erases the contact and every copy of the person's data (audit diffs, notifications, webhook
bodies); audit rows keep a tombstone."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from strawberry import relay

from models import AuditEvent, ChainContact, ChangeEvent, Member, Notification, WebhookDelivery, WebhookSubscription
from models.enums import AdminKind, AppScope, ContactStatus
from tests import factories as f
from tests.conftest import GQL
from tests.gateway import app_token

pytestmark = pytest.mark.usefixtures("database")

VIEWS = """
query V($chain: ID!, $contact: ID!) {
  chain: node(id: $chain) { ... on ChainSpace {
    contacts(first: 100) { totalCount edges { node { id status } } }
    corps(first: 100) { edges { node { contacts { id } } } }
    importProgress { contacts { status count } }
  } }
  contact: node(id: $contact) { id }
}"""
RESIGN = "mutation($id: ID!) { resignMember(input: {id: $id}) { userErrors { code } } }"
REINSTATE = "mutation($id: ID!) { reinstateMember(input: {id: $id}) { userErrors { code } } }"
DISABLE = "mutation($id: ID!) { disableMember(input: {id: $id}) { userErrors { code } } }"
ENABLE = "mutation($id: ID!) { enableMember(input: {id: $id}) { userErrors { code } } }"
DELETE = "mutation($id: ID!) { deleteMember(input: {id: $id}) { userErrors { code } } }"
SYNC = "query($id: ID!) { node(id: $id) { ... on ChainSpace { syncToken } } }"
CHANGES = """
query($id: ID!, $after: String!) { node(id: $id) { ... on ChainSpace {
  changes(after: $after) { changes { kind removedId node { id } } } } } }"""
BY_MOBILE = "query($chain: ID!, $m: String!) { chainMemberByMobile(chainId: $chain, mobile: $m) { id } }"

NON_ADMINS = ("own corp's leader", "peer corp member", "owner rule subject")
ADMINS = ("owner super admin", "chain admin over the group", "owner partner app")


def pk(gid: str) -> int:
    return int(relay.GlobalID.from_id(gid).node_id)


@dataclass
class World:
    chain_gid: str
    contact_gid: str
    colleague: Member
    downstream_admin_token: str
    tokens: dict[str, str]
    mobile: str


async def build() -> World:
    up, root = await f.corp("上游")
    admin = await f.super_admin(root, name="员上游超管")
    sales = await f.unit(root, "销售部")
    rep = await f.member([sales], name="员对接")
    chain_admin = await f.member([root], name="员链管")
    chain, top = await f.chain_space(up)
    suppliers = await f.group(top, "供应商", peers_visible=True)
    await f.grant(chain_admin, AdminKind.CHAIN_ADMIN, chain_id=chain.id, group_ids=[suppliers.id])
    await f.rule(chain, subject_unit=sales, object_group=suppliers)

    x, x_root = await f.corp("甲供应商")
    leader = await f.super_admin(x_root, name="员甲负责人")
    colleague = await f.member([x_root], name="员甲同事")
    place = await f.chain_corp(suppliers, x, invited_by=admin)
    await f.contact(place, leader)
    contact = await f.contact(place, colleague)
    y, y_root = await f.corp("乙供应商")
    peer = await f.member([y_root], name="员乙")
    await f.contact(await f.chain_corp(suppliers, y, invited_by=admin), peer)

    app, _ = await app_token(up, *(s.value for s in AppScope))
    tokens = {
        "own corp's leader": f.token(leader), "peer corp member": f.token(peer), "owner rule subject": f.token(rep),
        "owner super admin": f.token(admin), "chain admin over the group": f.token(chain_admin),
        "owner partner app": app,
    }
    return World(f.gid("ChainSpace", chain.id), f.gid("ChainContact", contact.id), colleague, f.token(leader),
                 tokens, contact.mobile)


async def sees(gql: GQL, w: World, kind: str) -> bool:
    """Whether viewer `kind` sees the contact, checked to agree across every chain view."""
    data = await gql.ok(VIEWS, {"chain": w.chain_gid, "contact": w.contact_gid}, w.tokens[kind])
    space = data["chain"]
    listed = [e["node"]["id"] for e in space["contacts"]["edges"]]
    assert space["contacts"]["totalCount"] == len(listed), kind
    in_list = w.contact_gid in listed
    in_corps = any(w.contact_gid in [c["id"] for c in e["node"]["contacts"]] for e in space["corps"]["edges"])
    by_node = data["contact"] is not None
    assert in_list == in_corps == by_node, (kind, in_list, in_corps, by_node)
    if space["importProgress"] is not None:  # admins: the counts by status hold every contact listed
        counted = sum(s["count"] for s in space["importProgress"]["contacts"] if s["status"] != "REMOVED")
        assert counted == len(listed), kind
    return in_list


async def seen_by(gql: GQL, w: World) -> dict[str, bool]:
    return {kind: await sees(gql, w, kind) for kind in w.tokens}


async def test_resign_hides_the_contact_from_non_admins_and_reinstate_brings_it_back(gql: GQL) -> None:
    w = await build()
    assert all((await seen_by(gql, w)).values())
    member_gid = f.gid("Member", w.colleague.id)

    await gql.ok(RESIGN, {"id": member_gid}, w.downstream_admin_token)
    after = await seen_by(gql, w)
    assert {k: after[k] for k in NON_ADMINS} == dict.fromkeys(NON_ADMINS, False)
    assert {k: after[k] for k in ADMINS} == dict.fromkeys(ADMINS, True)
    # The owner's status lookup (an admin's) still answers: the contact is still JOINED in the chain.
    found = await gql.ok(BY_MOBILE, {"chain": w.chain_gid, "m": w.mobile}, w.tokens["owner partner app"])
    assert found["chainMemberByMobile"]["id"] == w.contact_gid

    await gql.ok(REINSTATE, {"id": member_gid}, w.downstream_admin_token)
    assert all((await seen_by(gql, w)).values())


async def test_disable_hides_the_contact_from_non_admins_and_enable_brings_it_back(gql: GQL) -> None:
    w = await build()
    member_gid = f.gid("Member", w.colleague.id)
    await gql.ok(DISABLE, {"id": member_gid}, w.downstream_admin_token)
    after = await seen_by(gql, w)
    assert [k for k, v in after.items() if v] == list(ADMINS)
    await gql.ok(ENABLE, {"id": member_gid}, w.downstream_admin_token)
    assert all((await seen_by(gql, w)).values())


async def test_the_chain_feed_removes_the_contact_on_resign_and_brings_it_back(gql: GQL) -> None:
    w = await build()
    member_gid = f.gid("Member", w.colleague.id)
    kind = "peer corp member"
    before = (await gql.ok(SYNC, {"id": w.chain_gid}, w.tokens[kind]))["node"]["syncToken"]
    await gql.ok(RESIGN, {"id": member_gid}, w.downstream_admin_token)
    page = (await gql.ok(CHANGES, {"id": w.chain_gid, "after": before}, w.tokens[kind]))["node"]["changes"]
    assert [c["kind"] for c in page["changes"] if c["removedId"] == w.contact_gid] == ["REMOVED"]

    # Taken while the member is resigned: the contact is not seen then, so a write to it is not
    # announced (not even as removed), until the reinstatement brings it back.
    resigned = (await gql.ok(SYNC, {"id": w.chain_gid}, w.tokens[kind]))["node"]["syncToken"]
    await ChainContact.filter(id=pk(w.contact_gid)).update(name="员甲同事改名")
    page = (await gql.ok(CHANGES, {"id": w.chain_gid, "after": resigned}, w.tokens[kind]))["node"]["changes"]
    assert page["changes"] == []
    await gql.ok(REINSTATE, {"id": member_gid}, w.downstream_admin_token)
    page = (await gql.ok(CHANGES, {"id": w.chain_gid, "after": resigned}, w.tokens[kind]))["node"]["changes"]
    assert [(c["node"] or {}).get("id") for c in page["changes"]] == [w.contact_gid]


async def test_delete_erases_the_contact_and_every_copy_of_the_person(gql: GQL) -> None:
    w = await build()
    contact_id = pk(w.contact_gid)
    contact = await ChainContact.get(id=contact_id)
    name, mobile = contact.name, contact.mobile
    # Copies of the person's data: an audit diff about the contact, a notification, a webhook body.
    corp_id = w.colleague.corp_id
    await AuditEvent.create(corp_id=corp_id, actor_kind="MEMBER", actor_id=w.colleague.id, actor_label=name,
                            action="chain.join", target_type="ChainContact", target_id=contact_id,
                            after={"name": name, "mobile": mobile})
    await Notification.create(kind="invitation", recipient_mobile=mobile, recipient_member_id=w.colleague.id,
                              payload={"contactName": name}, due_at=contact.created_at)
    app = await app_token(await w.colleague.corp, AppScope.CHAIN_READ.value)
    sub = await WebhookSubscription.create(corp_id=corp_id, app_token=app[1], url="https://example.com/hook",
                                           secret="whsec_" + "A" * 44, position="{}")
    body = json.dumps({"type": "contact.updated", "data": {"node": {"id": w.contact_gid, "name": name}}})
    await WebhookDelivery.create(subscription=sub, message_id="msg_1", event_type="contact.updated", body=body)
    seq = (await ChangeEvent.all().order_by("-id").first() or ChangeEvent(id=0)).id

    await gql.ok(DELETE, {"id": f.gid("Member", w.colleague.id)}, w.downstream_admin_token)

    assert not any((await seen_by(gql, w)).values())  # admins too: the contact is gone
    assert await ChainContact.get_or_none(id=contact_id) is None
    audit = await AuditEvent.filter(target_type="ChainContact", target_id=contact_id)
    assert audit and all(a.before is None and a.after == {"erased": True} for a in audit)
    assert all(name not in a.actor_label for a in await AuditEvent.filter(actor_id=w.colleague.id))
    assert not await Notification.filter(recipient_member_id=w.colleague.id).exists()
    delivery = await WebhookDelivery.get(message_id="msg_1")
    assert name not in delivery.body and w.contact_gid not in delivery.body and delivery.status == "CANCELLED"
    # The feed tells chain partners to drop their copy; its rows hold no personal data.
    changes = await ChangeEvent.filter(id__gt=seq, object_type="CONTACT", object_id=contact_id)
    assert [c.kind for c in changes][-1] == "REMOVED"
    assert all(name not in (c.before or "") and mobile not in (c.before or "") for c in changes)
    # The mobile is free again in the chain (a new import may add the person afresh).
    assert not await ChainContact.filter(chain_id=contact.chain_id, mobile=mobile).exists()
    assert await ChainContact.filter(chain_id=contact.chain_id, status=ContactStatus.JOINED.value).count() == 2
