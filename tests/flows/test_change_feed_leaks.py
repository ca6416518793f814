"""Leak test (SPEC §3.9, §2): for every viewer kind of the leak matrix, nothing in `changes`
names an object or a field that the viewer cannot read through `node` — removed ids only for
objects it could read at the token's position; and nothing in a webhook body of an app token
names what that token cannot read through `node`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flows.app_secrets import hash_app_secret
from gql.feed import webhooks as feed_webhooks
from models import AppToken, ChainContact, ChainCorp, Member, Placement, WebhookDelivery, WebhookSubscription
from models.enums import ChainCorpStatus, MemberStatus
from tests import factories as f
from tests.conftest import GQL
from tests.permissions.test_leak_matrix import build_world

pytestmark = pytest.mark.usefixtures("database")

TOKENS = """
query Tokens($corp: ID!, $chain: ID!) {
  corp: node(id: $corp) { ... on Corp { syncToken } }
  chain: node(id: $chain) { ... on ChainSpace { syncToken } }
}"""
CHANGES = """
query Changes($id: ID!, $after: String!) {
  node(id: $id) {
    ... on Corp { changes(after: $after) { ...Page } }
    ... on ChainSpace { changes(after: $after) { ...Page } }
  }
}
fragment Page on ChangePage {
  hasMore
  changes { kind removedId changedFields node { id ... on Member { hiddenFields } ... on ChainContact { hiddenFields } } }
}"""
NODE = "query N($id: ID!) { node(id: $id) { id ... on Member { hiddenFields } ... on ChainContact { hiddenFields } } }"


async def readable(gql: GQL, token: str | None, ids: list[str]) -> dict[str, Any]:
    out = {}
    for i in ids:
        node = (await gql(NODE, {"id": i}, token))["data"]["node"]
        if node is not None:
            out[i] = node
    return out


async def write_everything(w: Any, chain: Any) -> None:
    """Writes to everything: profiles, a seat, statuses, contacts, a corp leaving the chain."""
    for m in w.objects["Member"].values():
        await Member.filter(id=m.id).update(position=f"岗位{m.id}", mobile=f.unique_mobile())
    two_seats = next(m for m in w.objects["Member"].values() if m.name == "员双岗")
    await Placement.filter(member_id=two_seats.id, is_main=False).delete()
    east_peer = next(m for m in w.objects["Member"].values() if m.name == "员华东二")
    await Member.filter(id=east_peer.id).update(status=MemberStatus.RESIGNED)
    await f.member([next(u for u in w.objects["OrgUnit"].values() if u.name == "大客户部")], name="员新人")
    for c in w.objects["ChainContact"].values():
        await ChainContact.filter(id=c.id).update(name=f"员改名{c.id}")
    place = next(p for p in w.objects["ChainCorp"].values() if p.chain_id == chain.id and p.status is ChainCorpStatus.JOINED)
    await ChainCorp.filter(id=place.id).update(status=ChainCorpStatus.REMOVED)


async def test_changes_name_only_what_the_viewer_can_read(client: Any) -> None:
    gql = GQL(client)
    w = await build_world()
    up, chain = w.corps["up"], w.chains["up"]
    every_id = [f.gid(t, pk) for t in ("Member", "OrgUnit", "ChainCorp", "ChainContact") for pk in w.objects[t]]
    feeds = {"corp": f.gid("Corp", up.id), "chain": f.gid("ChainSpace", chain.id)}
    tokens, seen_before = {}, {}
    for kind, token in w.tokens.items():
        body = await gql(TOKENS, {"corp": feeds["corp"], "chain": feeds["chain"]}, token)
        data = body.get("data") or {}
        tokens[kind] = {k: (data.get(k) or {}).get("syncToken") for k in feeds}
        seen_before[kind] = await readable(gql, token, every_id)

    await write_everything(w, chain)

    told_anything = set()
    for kind, token in w.tokens.items():
        for feed, sync in tokens[kind].items():
            if sync is None:
                continue
            body = await gql(CHANGES, {"id": feeds[feed], "after": sync}, token)
            codes = [e["extensions"]["code"] for e in body.get("errors") or ()]
            if codes == ["RESYNC_REQUIRED"]:  # the viewer's own standing changed (its corp left the chain)
                continue
            assert not codes, (kind, body["errors"])
            if body["data"]["node"] is None:  # the viewer lost the chain (its own corp left it)
                continue
            page = body["data"]["node"]["changes"]
            assert not page["hasMore"]
            for change in page["changes"]:
                told_anything.add(kind)
                if change["kind"] == "REMOVED":
                    assert change["removedId"] in seen_before[kind], (kind, change)
                    continue
                node_id = change["node"]["id"]
                now = await readable(gql, token, [node_id])
                assert node_id in now, (kind, change)
                hidden = set(now[node_id].get("hiddenFields") or ())
                assert hidden == set(change["node"].get("hiddenFields") or ())
                assert not hidden & set(change["changedFields"] or ()), (kind, change)
    # The feed is not silent: members, admins and apps of the corp and chain were told something.
    assert {"super admin", "plain member", "dept-scoped member", "partner app with every scope",
            "dealer member"} <= told_anything


APPS = ("partner app with every scope", "partner app without scopes", "partner app bound to the chain",
        "supplier's partner app")


async def test_webhook_bodies_name_only_what_the_app_can_read(client: Any) -> None:
    """Each partner app of the matrix subscribed before the writes: every body queued for it names
    only objects (and hidden fields) that the app reads through `node` after the writes, and removed
    ids only of objects it could read before them."""
    gql = GQL(client)
    w = await build_world()
    chain = w.chains["up"]
    every_id = [f.gid(t, pk) for t in ("Member", "OrgUnit", "ChainCorp", "ChainContact") for pk in w.objects[t]]
    await WebhookSubscription.all().delete()  # the matrix's own rows: subscribed here, from a known position
    subscriptions, seen_before = {}, {}
    for kind in APPS:
        row = await AppToken.get(token_hash=hash_app_secret(w.tokens[kind]))
        sub = await WebhookSubscription.create(corp_id=row.corp_id, app_token=row, url="https://example.com/hook",
                                               secret="whsec_" + "A" * 44, position="{}")
        await feed_webhooks.produce(sub)  # starts at the current position of each feed the app is served
        await WebhookDelivery.filter(subscription_id=sub.id).delete()
        subscriptions[kind] = sub.id
        seen_before[kind] = await readable(gql, w.tokens[kind], every_id)

    await write_everything(w, chain)

    told = set()
    for kind in APPS:
        sub = await WebhookSubscription.get(id=subscriptions[kind])
        await feed_webhooks.produce(sub)
        for delivery in await WebhookDelivery.filter(subscription_id=sub.id).order_by("id"):
            data = json.loads(delivery.body)["data"]
            if delivery.event_type == "sync.resync_required":
                continue
            told.add(kind)
            if data["kind"] == "REMOVED":
                assert data["removedId"] in seen_before[kind], (kind, data)
                continue
            node = data["node"]
            now = await readable(gql, w.tokens[kind], [node["id"]])
            assert node["id"] in now, (kind, data)
            if "hiddenFields" in node:
                hidden = set(now[node["id"]].get("hiddenFields") or ())
                assert hidden == set(node["hiddenFields"]), (kind, data)
                assert all(node.get(name) is None for name in hidden), (kind, data)
                assert not hidden & set(data["changedFields"] or ()), (kind, data)
    # The apps that read the corp or the chain were told something.
    assert {"partner app with every scope", "partner app bound to the chain"} <= told
