"""Shared steps of the join tests: the worked example's import, the join operations, actAs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flows import jobs
from flows.names import normalise_corp_name
from models import ChainContact, ChainCorp, ChainSpace, Corp, Member
from tests import factories as f

IMPORT = """
mutation($input: ImportChainContactsInput!) { importChainContacts(input: $input) { job { id } userErrors { code } } }
"""

PREVIEW = """
query($code: String!) {
  previewJoin(code: $code) {
    preview {
      chainName rule role contactName importedCorpName needsApproval canCreateCorp defaultCorpName
      requiredCorp { corpId corpName } identities { corpId corpName }
    }
    userErrors { code field message }
  }
}
"""

JOIN = """
mutation($input: JoinChainInput!) {
  joinChain(input: $input) {
    outcome corp { corpId corpName } memberId chainCorpId contactId joinRequestId
    userErrors { code field message }
  }
}
"""

ACT_AS = """
mutation($corp: ID!) { actAs(input: {corpId: $corp}) { token userErrors { code } } }
"""

REQUESTS = """
query { joinRequests(first: 50) { totalCount edges { node { id kind status personName role } } } }
"""

APPROVE = """
mutation($id: ID!) { approveJoinRequest(input: {id: $id}) { joinRequest { status } userErrors { code field message } } }
"""

CONFIRM = """
mutation($place: ID!, $contacts: [ID!]!) {
  confirmChainMembers(input: {chainCorpId: $place, contactIds: $contacts}) {
    results { contact { name status } joined joinRequest { kind status } }
    userErrors { code field message }
  }
}
"""

@dataclass
class Imported:
    chain: ChainSpace
    place: ChainCorp
    contacts: dict[str, ChainContact]
    owner_admin: Member
    # The chain's invitation link: members get no notification of their own and open this one.
    link: str

    def code(self, who: str) -> str:
        """A leader's personal notification code, or for a member the chain's invitation link."""
        return self.contacts[who].join_code or self.link

    def mobile(self, who: str) -> str:
        return self.contacts[who].mobile

    def token(self, who: str) -> str:
        return f.person_token(self.mobile(who), who)


async def named_corp(name: str, short_name: str | None = None) -> tuple[Corp, Member]:
    """A corp with exactly this name and its super admin."""
    corp, root = await f.corp()
    corp.name, corp.short_name, corp.name_key = name, short_name, normalise_corp_name(name)
    await corp.save()
    return corp, await f.super_admin(root, name=f"{name}超管")


async def import_corp_1(gql: Any, name: str = "企业1") -> Imported:
    """Owner O's chain with corp 1 imported into 经销商 through importChainContacts: leaders
    1 and 2, members 3 and 4 (the leaders get their invitation and daily reminders)."""
    owner, root = await f.corp("上级企业")
    owner_admin = await f.super_admin(root)
    chain, _ = await f.chain_space(owner)
    people = [("负责人1", "负责人"), ("负责人2", "负责人"), ("成员3", "成员"), ("成员4", "成员")]
    data = await gql.ok(IMPORT, {"input": {"chainId": f.gid("ChainSpace", chain.id), "rows": [
        {"name": who, "role": role, "mobile": f.unique_mobile(), "corpName": name, "group": "经销商"}
        for who, role in people
    ]}}, token=f.token(owner_admin))
    assert data["importChainContacts"]["userErrors"] == []
    await jobs.run_pending_jobs()
    contacts = {c.name: c for c in await ChainContact.filter(chain_id=chain.id)}
    assert set(contacts) == {who for who, _ in people}
    place = await ChainCorp.get(id=contacts["负责人1"].chain_corp_id)
    link = await f.invitation(chain, owner_admin)
    return Imported(chain, place, contacts, owner_admin, link.code)


async def preview(gql: Any, w: Imported, who: str) -> dict[str, Any]:
    data = await gql.ok(PREVIEW, {"code": w.code(who)}, token=w.token(who))
    assert data["previewJoin"]["userErrors"] == [], data
    return data["previewJoin"]["preview"]


async def join(gql: Any, w: Imported, who: str, **choice: Any) -> dict[str, Any]:
    data = await gql.ok(JOIN, {"input": {"code": w.code(who), **choice}}, token=w.token(who))
    return data["joinChain"]


async def member_token(gql: Any, person_token: str, corp_gid: str) -> str:
    data = await gql.ok(ACT_AS, {"corp": corp_gid}, token=person_token)
    assert data["actAs"]["userErrors"] == []
    return data["actAs"]["token"]


async def approve_all(gql: Any, admin_token: str) -> int:
    data = await gql.ok(REQUESTS, token=admin_token)
    for edge in data["joinRequests"]["edges"]:
        approved = await gql.ok(APPROVE, {"id": edge["node"]["id"]}, token=admin_token)
        assert approved["approveJoinRequest"] == {"joinRequest": {"status": "APPROVED"}, "userErrors": []}
    return data["joinRequests"]["totalCount"]
