"""Partner-app tokens (SPEC §2.4, §3.6): issued by a super admin, shown once, hashed at rest,
revocable, and never more than the issuing corp may see, cut to the token's scopes and chain."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from strawberry import relay

from auth.tokens import hash_app_secret
from models import AppToken, AuditEvent, ChainCorp, ChainSpace, Corp, Member, OrgUnit
from models.enums import AdminKind, AdminRight, ChainCorpStatus, ContactStatus
from tests import factories as f

USER_ERRORS = "userErrors { code field message }"
TOKEN_FIELDS = "id name prefix scopes active expiresAt revokedAt lastUsedAt createdAt chain { id name }"
CREATE = f"""
mutation($input: CreateAppTokenInput!) {{
  createAppToken(input: $input) {{ secret appToken {{ {TOKEN_FIELDS} }} {USER_ERRORS} }}
}}"""
REVOKE = f"""
mutation($id: ID!) {{ revokeAppToken(input: {{id: $id}}) {{ appToken {{ id active revokedAt }} {USER_ERRORS} }} }}
"""
CORP_TOKENS = f"query($corp: ID!) {{ corp(id: $corp) {{ appTokens {{ {TOKEN_FIELDS} }} }} }}"
NODE = "query($id: ID!) { node(id: $id) { id ... on AppToken { name } } }"
VIEWER = "query { viewer { kind scopes } }"
CORP_MEMBERS = "query($corp: ID!) { corp(id: $corp) { members(first: 100) { totalCount } } }"
CHAIN = "query($id: ID!) { chainSpace(id: $id) { name contacts { totalCount edges { node { name } } } } }"
CORP_BY_CUSTOM_ID = """
query($chain: ID!, $custom: String!) {
  chainCorpByCustomId(chainId: $chain, customCorpId: $custom) { status customCorpId importedName }
}"""
MEMBER_BY_MOBILE = """
query($chain: ID!, $mobile: String!) { chainMemberByMobile(chainId: $chain, mobile: $mobile) { status memberId } }
"""


@dataclass
class Upstream:
    corp: Corp
    admin: Member
    chain: ChainSpace
    supplier: ChainCorp
    supplier_member: Member
    joined_mobile: str
    imported: ChainCorp
    imported_mobile: str

    @property
    def admin_token(self) -> str:
        return f.token(self.admin)


async def upstream() -> Upstream:
    """An owner corp with a super admin and a chain: one joined supplier (with a joined
    contact) and one imported-only corp (with an imported contact)."""
    corp, root = await f.corp("上游")
    admin = await f.super_admin(root)
    chain, top = await f.chain_space(corp)
    suppliers = await f.group(top, "供应商")
    supplier_corp, supplier_root = await f.corp("供应商")
    supplier_member = await f.member([supplier_root], name="钱丽")
    supplier = await f.chain_corp(suppliers, supplier_corp)
    joined = await f.contact(supplier, supplier_member)
    imported = await f.chain_corp(suppliers, status=ChainCorpStatus.IMPORTED)
    pending = await f.contact(imported, status=ContactStatus.IMPORTED, name="未加入")
    return Upstream(corp, admin, chain, supplier, supplier_member, joined.mobile, imported, pending.mobile)


async def root_unit(corp_id: int) -> OrgUnit:
    return await OrgUnit.get(corp_id=corp_id, parent_id=None)


def pk(gid: str) -> int:
    return int(relay.GlobalID.from_id(gid).node_id)


async def create(gql, token: str, corp_id: int, *scopes: str, **extra) -> dict:
    variables = {"input": {"corpId": f.gid("Corp", corp_id), "name": extra.pop("name", "ERP 对接"),
                           "scopes": list(scopes), **extra}}
    return (await gql.ok(CREATE, variables, token=token))["createAppToken"]


async def issued(gql, up: Upstream, *scopes: str, **extra) -> str:
    payload = await create(gql, up.admin_token, up.corp.id, *scopes, **extra)
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["secret"]


def codes(payload: dict) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


def assert_unauthenticated(response) -> None:
    assert response.status_code == 401
    body = response.json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def post(client, query: str, secret: str, variables: dict | None = None):
    return await client.post("/graphql", json={"query": query, "variables": variables or {}},
                             headers={"Authorization": f"Bearer {secret}"})


# --- issuing: shown once, hashed at rest, audited ---------------------------------------

async def test_super_admin_creates_a_token_whose_secret_is_shown_once_and_works_as_bearer(gql):
    up = await upstream()
    payload = await create(gql, up.admin_token, up.corp.id, "DIRECTORY_READ", name="HR 系统")
    assert payload["userErrors"] == []
    secret, token = payload["secret"], payload["appToken"]
    assert secret.startswith("cgat_") and len(secret) > 40
    assert token["name"] == "HR 系统" and token["scopes"] == ["DIRECTORY_READ"] and token["active"] is True
    assert token["prefix"] == secret[:12] and token["chain"] is None and token["lastUsedAt"] is None

    me = await gql.ok(VIEWER, token=secret)
    assert me["viewer"] == {"kind": "APP", "scopes": ["directory:read"]}
    members = await gql.ok(CORP_MEMBERS, {"corp": f.gid("Corp", up.corp.id)}, token=secret)
    assert members["corp"]["members"]["totalCount"] == 1

    # Shown once: neither the listing nor the node carries the secret, and the type has no such field.
    listed = (await gql.ok(CORP_TOKENS, {"corp": f.gid("Corp", up.corp.id)}, token=up.admin_token))["corp"]["appTokens"]
    assert [t["id"] for t in listed] == [token["id"]] and secret not in str(listed)
    body = await gql("query($corp: ID!) { corp(id: $corp) { appTokens { secret } } }", {"corp": f.gid("Corp", up.corp.id)}, up.admin_token)
    assert "Cannot query field 'secret'" in body["errors"][0]["message"]


async def test_the_database_holds_only_the_hash_of_the_secret(gql):
    up = await upstream()
    secret = await issued(gql, up, "CHAIN_READ", "CHAIN_STATUS", chainId=f.gid("ChainSpace", up.chain.id))
    (row,) = await AppToken.filter(corp_id=up.corp.id).values()
    assert row["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(value) for value in row.values())
    event = await AuditEvent.get(action="appToken.create", target_id=row["id"])
    assert event.actor_id == up.admin.id and secret not in str(event.after) and secret not in str(event.before)
    assert event.after["scopes"] == ["chain:read", "chain:status"] and event.after["chain"] == up.chain.id


# --- revocation, expiry, lastUsedAt -------------------------------------------------------

async def test_a_revoked_token_gets_401_unauthenticated(gql, client):
    up = await upstream()
    payload = await create(gql, up.admin_token, up.corp.id, "DIRECTORY_READ")
    secret, token_id = payload["secret"], payload["appToken"]["id"]
    assert (await post(client, VIEWER, secret)).status_code == 200
    revoked = (await gql.ok(REVOKE, {"id": token_id}, token=up.admin_token))["revokeAppToken"]
    assert revoked["userErrors"] == [] and revoked["appToken"]["active"] is False and revoked["appToken"]["revokedAt"]
    assert_unauthenticated(await post(client, VIEWER, secret))
    assert await AuditEvent.filter(action="appToken.revoke", target_id=pk(token_id)).exists()


async def test_an_expired_token_gets_401_unauthenticated(gql, client):
    up = await upstream()
    soon = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    payload = await create(gql, up.admin_token, up.corp.id, "DIRECTORY_READ", expiresAt=soon)
    secret = payload["secret"]
    assert payload["appToken"]["expiresAt"] is not None
    assert (await post(client, VIEWER, secret)).status_code == 200
    # Thirty days later.
    await AppToken.filter(token_hash=hash_app_secret(secret)).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert_unauthenticated(await post(client, VIEWER, secret))
    listed = (await gql.ok(CORP_TOKENS, {"corp": f.gid("Corp", up.corp.id)}, token=up.admin_token))["corp"]["appTokens"]
    assert listed[0]["active"] is False


async def test_unknown_secrets_are_unauthenticated(client):
    assert_unauthenticated(await post(client, VIEWER, "cgat_" + "x" * 43))
    assert_unauthenticated(await post(client, VIEWER, "cgat_"))


async def test_last_used_at_is_set_on_use_and_not_rewritten_on_every_request(gql):
    up = await upstream()
    secret = await issued(gql, up, "DIRECTORY_READ")
    before = datetime.now(UTC)
    await gql.ok(VIEWER, token=secret)
    listed = (await gql.ok(CORP_TOKENS, {"corp": f.gid("Corp", up.corp.id)}, token=up.admin_token))["corp"]["appTokens"]
    used = datetime.fromisoformat(listed[0]["lastUsedAt"])
    assert before - timedelta(seconds=1) <= used <= datetime.now(UTC)

    row = AppToken.filter(token_hash=hash_app_secret(secret))
    recent = datetime.now(UTC) - timedelta(seconds=10)
    await row.update(last_used_at=recent)
    await gql.ok(VIEWER, token=secret)
    assert (await row.get()).last_used_at == recent  # a write per request would serialise busy apps on one row
    stale = datetime.now(UTC) - timedelta(minutes=5)
    await row.update(last_used_at=stale)
    await gql.ok(VIEWER, token=secret)
    assert (await row.get()).last_used_at > stale


# --- effective rights: scopes ∩ the corp's rights, cut to the bound chain -----------------

async def test_status_lookups_need_the_chain_status_scope(gql):
    up = await upstream()
    chain_id = f.gid("ChainSpace", up.chain.id)
    without = await issued(gql, up, "CHAIN_READ", "DIRECTORY_READ", name="无状态")
    with_status = await issued(gql, up, "CHAIN_STATUS", name="状态查询")
    by_custom = {"chain": chain_id, "custom": up.supplier.custom_corp_id}
    by_mobile = {"chain": chain_id, "mobile": up.joined_mobile}

    assert (await gql.ok(CORP_BY_CUSTOM_ID, by_custom, token=without))["chainCorpByCustomId"] is None
    assert (await gql.ok(MEMBER_BY_MOBILE, by_mobile, token=without))["chainMemberByMobile"] is None

    found = (await gql.ok(CORP_BY_CUSTOM_ID, by_custom, token=with_status))["chainCorpByCustomId"]
    assert found == {"status": "JOINED", "customCorpId": up.supplier.custom_corp_id, "importedName": up.supplier.imported_name}
    member = (await gql.ok(MEMBER_BY_MOBILE, by_mobile, token=with_status))["chainMemberByMobile"]
    assert member == {"status": "JOINED", "memberId": f.gid("Member", up.supplier_member.id)}
    # Imported but not joined: the corp answers IMPORTED, the person answers null.
    imported = {"chain": chain_id, "custom": up.imported.custom_corp_id}
    assert (await gql.ok(CORP_BY_CUSTOM_ID, imported, token=with_status))["chainCorpByCustomId"]["status"] == "IMPORTED"
    pending = {"chain": chain_id, "mobile": up.imported_mobile}
    assert (await gql.ok(MEMBER_BY_MOBILE, pending, token=with_status))["chainMemberByMobile"] is None


async def test_a_token_bound_to_chain_a_sees_nothing_of_chain_b(gql):
    up = await upstream()
    other, other_top = await f.chain_space(up.corp)
    other_corp, other_root = await f.corp("另一链企业")
    other_place = await f.chain_corp(other_top, other_corp)
    other_contact = await f.contact(other_place, await f.member([other_root], name="孙七"))
    bound = await issued(gql, up, "CHAIN_READ", "CHAIN_STATUS", chainId=f.gid("ChainSpace", up.chain.id))
    unbound = await issued(gql, up, "CHAIN_READ", "CHAIN_STATUS")

    a = (await gql.ok(CHAIN, {"id": f.gid("ChainSpace", up.chain.id)}, token=bound))["chainSpace"]
    assert a["name"] == up.chain.name and a["contacts"]["totalCount"] == 2
    assert (await gql.ok(CHAIN, {"id": f.gid("ChainSpace", other.id)}, token=bound))["chainSpace"] is None
    b_status = {"chain": f.gid("ChainSpace", other.id), "custom": other_place.custom_corp_id}
    assert (await gql.ok(CORP_BY_CUSTOM_ID, b_status, token=bound))["chainCorpByCustomId"] is None
    b_member = {"chain": f.gid("ChainSpace", other.id), "mobile": other_contact.mobile}
    assert (await gql.ok(MEMBER_BY_MOBILE, b_member, token=bound))["chainMemberByMobile"] is None
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert (await gql.ok(node, {"id": f.gid("ChainContact", other_contact.id)}, token=bound))["node"] is None
    # The same scopes without a binding reach chain B: the binding is what cut it.
    assert (await gql.ok(CHAIN, {"id": f.gid("ChainSpace", other.id)}, token=unbound))["chainSpace"] is not None
    assert (await gql.ok(CORP_BY_CUSTOM_ID, b_status, token=unbound))["chainCorpByCustomId"]["status"] == "JOINED"


async def test_a_downstream_corps_token_sees_only_what_that_corp_sees(gql):
    """Scopes never add rights: a supplier's chain:read app sees its own contacts, not the
    other suppliers, and gets no status lookups in a chain its corp does not own."""
    up = await upstream()
    supplier_root = await root_unit(up.supplier.corp_id)
    supplier_admin = await f.super_admin(supplier_root)
    rival_corp, rival_root = await f.corp("竞争供应商")
    rival = await f.chain_corp(await up.supplier.group, rival_corp)
    await f.contact(rival, await f.member([rival_root], name="周八"))
    payload = await create(gql, f.token(supplier_admin), up.supplier.corp_id, "CHAIN_READ", "CHAIN_STATUS",
                           chainId=f.gid("ChainSpace", up.chain.id))
    assert payload["userErrors"] == [] and payload["appToken"]["chain"]["name"] == up.chain.name
    secret = payload["secret"]
    seen = (await gql.ok(CHAIN, {"id": f.gid("ChainSpace", up.chain.id)}, token=secret))["chainSpace"]
    assert [e["node"]["name"] for e in seen["contacts"]["edges"]] == ["钱丽"]
    status = {"chain": f.gid("ChainSpace", up.chain.id), "custom": up.supplier.custom_corp_id}
    assert (await gql.ok(CORP_BY_CUSTOM_ID, status, token=secret))["chainCorpByCustomId"] is None


async def test_a_chain_bound_token_stored_with_directory_scopes_still_reads_no_directory(gql):
    """The issuing flow refuses the combination; a row written around it is cut at use too."""
    from auth.tokens import new_app_secret

    up = await upstream()
    secret = new_app_secret()
    await AppToken.create(corp=up.corp, name="旧数据", token_hash=hash_app_secret(secret), prefix=secret[:12],
                          scopes=["directory:read", "chain:read", "no:such-scope"], chain=up.chain)
    assert (await gql.ok(VIEWER, token=secret))["viewer"]["scopes"] == ["chain:read"]
    corp = (await gql.ok(CORP_MEMBERS, {"corp": f.gid("Corp", up.corp.id)}, token=secret))["corp"]
    assert corp["members"]["totalCount"] == 0  # the owner corp is seen (as the chain's owner), its directory is not
    assert (await gql.ok(CHAIN, {"id": f.gid("ChainSpace", up.chain.id)}, token=secret))["chainSpace"] is not None


async def test_chain_read_without_the_chain_scope_sees_no_chain(gql):
    up = await upstream()
    secret = await issued(gql, up, "DIRECTORY_READ")
    assert (await gql.ok(CHAIN, {"id": f.gid("ChainSpace", up.chain.id)}, token=secret))["chainSpace"] is None


# --- who may issue, list and revoke --------------------------------------------------------

async def test_a_directory_admin_cannot_create_list_or_revoke_tokens(gql):
    up = await upstream()
    root = await root_unit(up.corp.id)
    dir_admin = await f.member([root], name="分级管理员")
    await f.grant(dir_admin, AdminKind.DIRECTORY_ADMIN, unit_ids=[root.id], rights=[AdminRight.MANAGE.value])
    tok = f.token(dir_admin)
    payload = await create(gql, tok, up.corp.id, "DIRECTORY_READ")
    assert payload["secret"] is None and payload["appToken"] is None and codes(payload) == [("NOT_FOUND", "corpId")]

    existing = await create(gql, up.admin_token, up.corp.id, "DIRECTORY_READ")
    revoked = (await gql.ok(REVOKE, {"id": existing["appToken"]["id"]}, token=tok))["revokeAppToken"]
    assert revoked["appToken"] is None and codes(revoked) == [("NOT_FOUND", "id")]
    assert (await gql.ok(CORP_TOKENS, {"corp": f.gid("Corp", up.corp.id)}, token=tok))["corp"]["appTokens"] == []
    assert (await gql.ok(NODE, {"id": existing["appToken"]["id"]}, token=tok))["node"] is None
    assert (await gql.ok(NODE, {"id": existing["appToken"]["id"]}, token=up.admin_token))["node"]["name"] == "ERP 对接"
    assert await AppToken.filter(corp_id=up.corp.id).count() == 1
    assert not await AuditEvent.filter(action="appToken.create", actor_id=dir_admin.id).exists()


async def test_another_corps_super_admin_and_an_app_cannot_issue_or_revoke(gql):
    up = await upstream()
    _, other_root = await f.corp("别家")
    stranger = f.token(await f.super_admin(other_root))
    assert codes(await create(gql, stranger, up.corp.id, "DIRECTORY_READ")) == [("NOT_FOUND", "corpId")]
    existing = await create(gql, up.admin_token, up.corp.id, "DIRECTORY_READ", "DIRECTORY_WRITE")
    app = existing["secret"]
    assert codes(await create(gql, app, up.corp.id, "DIRECTORY_READ")) == [("NOT_FOUND", "corpId")]
    for who in (stranger, app):
        revoked = (await gql.ok(REVOKE, {"id": existing["appToken"]["id"]}, token=who))["revokeAppToken"]
        assert codes(revoked) == [("NOT_FOUND", "id")]


# --- every error code, through GraphQL ----------------------------------------------------

async def test_create_error_codes(gql):
    up = await upstream()
    tok, corp = up.admin_token, up.corp.id
    assert codes(await create(gql, tok, corp, "DIRECTORY_READ", name="  ")) == [("INVALID_NAME", "name")]
    assert codes(await create(gql, tok, corp, "DIRECTORY_READ", name="名" * 65)) == [("INVALID_NAME", "name")]
    assert codes(await create(gql, tok, corp)) == [("SCOPES_REQUIRED", "scopes")]
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert codes(await create(gql, tok, corp, "DIRECTORY_READ", expiresAt=past)) == [("INVALID_EXPIRY", "expiresAt")]
    # Write and export scopes act on what the token can read.
    assert codes(await create(gql, tok, corp, "DIRECTORY_WRITE")) == [("MISSING_READ_SCOPE", "scopes")]
    assert codes(await create(gql, tok, corp, "DIRECTORY_EXPORT")) == [("MISSING_READ_SCOPE", "scopes")]
    assert codes(await create(gql, tok, corp, "CHAIN_WRITE")) == [("MISSING_READ_SCOPE", "scopes")]
    # A chain-bound token is a chain app: no directory or audit rights beside the chain.
    bound = f.gid("ChainSpace", up.chain.id)
    for scope in ("DIRECTORY_READ", "AUDIT_READ"):
        assert codes(await create(gql, tok, corp, "CHAIN_READ", scope, chainId=bound)) == [("SCOPE_OUTSIDE_CHAIN", "scopes")]
    # A chain the corp neither owns nor joined, and ids of the wrong type, are not found.
    elsewhere, _ = await f.chain_space((await f.corp("陌生链主"))[0])
    assert codes(await create(gql, tok, corp, "CHAIN_READ", chainId=f.gid("ChainSpace", elsewhere.id))) == [("NOT_FOUND", "chainId")]
    assert codes(await create(gql, tok, corp, "CHAIN_READ", chainId=f.gid("Corp", corp))) == [("NOT_FOUND", "chainId")]
    # A chain the corp was removed from no longer counts as joined.
    supplier_admin = await f.super_admin(await root_unit(up.supplier.corp_id))
    await ChainCorp.filter(id=up.supplier.id).update(status=ChainCorpStatus.REMOVED)
    assert codes(await create(gql, f.token(supplier_admin), up.supplier.corp_id, "CHAIN_READ", chainId=bound)) == [
        ("NOT_FOUND", "chainId")
    ]
    assert codes(await create(gql, tok, 10_000_000, "DIRECTORY_READ")) == [("NOT_FOUND", "corpId")]
    assert await AppToken.filter(corp_id=corp).count() == 0  # nothing half-applied


async def test_revoke_error_codes(gql):
    up = await upstream()
    existing = await create(gql, up.admin_token, up.corp.id, "DIRECTORY_READ")
    token_id = existing["appToken"]["id"]
    assert (await gql.ok(REVOKE, {"id": token_id}, token=up.admin_token))["revokeAppToken"]["userErrors"] == []
    again = (await gql.ok(REVOKE, {"id": token_id}, token=up.admin_token))["revokeAppToken"]
    assert codes(again) == [("ALREADY_REVOKED", "id")] and again["appToken"] is None
    missing = (await gql.ok(REVOKE, {"id": f.gid("AppToken", 10_000_000)}, token=up.admin_token))["revokeAppToken"]
    assert codes(missing) == [("NOT_FOUND", "id")]
    wrong_type = (await gql.ok(REVOKE, {"id": f.gid("Member", up.admin.id)}, token=up.admin_token))["revokeAppToken"]
    assert codes(wrong_type) == [("NOT_FOUND", "id")]
    assert await AuditEvent.filter(action="appToken.revoke", target_id=pk(token_id)).count() == 1


async def test_chain_admin_tokens_are_listed_with_their_chain_for_the_super_admin(gql):
    up = await upstream()
    await issued(gql, up, "CHAIN_READ", chainId=f.gid("ChainSpace", up.chain.id), name="链上应用")
    await issued(gql, up, "DIRECTORY_READ", name="目录应用")
    listed = (await gql.ok(CORP_TOKENS, {"corp": f.gid("Corp", up.corp.id)}, token=up.admin_token))["corp"]["appTokens"]
    assert [(t["name"], t["chain"] and t["chain"]["name"]) for t in listed] == [("目录应用", None), ("链上应用", up.chain.name)]
