"""Joins the domains into one schema."""

from __future__ import annotations

import strawberry
from strawberry import relay

from gql.auth.act_as import ActAsPayload, act_as
from gql.auth.queries import AuthQuery
from gql.chain.mutations.create_chain_group import CreateChainGroupPayload, create_chain_group
from gql.chain.mutations.create_chain_space import CreateChainSpacePayload, create_chain_space
from gql.chain.queries import ChainQuery
from gql.chain.types import chain_corp_node, chain_space_node, contact_node, group_node
from gql.context import Info
from gql.directory.mutations.create_corp import CreateCorpPayload, create_corp
from gql.directory.mutations.create_member import CreateMemberPayload, create_member
from gql.directory.mutations.create_org_unit import CreateOrgUnitPayload, create_org_unit
from gql.directory.mutations.delete_org_unit import DeleteOrgUnitPayload, delete_org_unit
from gql.directory.mutations.grant_admin import GrantAdminPayload, grant_admin
from gql.directory.mutations.member_lifecycle import (
    DeleteMemberPayload,
    MemberPayload,
    delete_member,
    reinstate_member,
    resign_member,
)
from gql.directory.mutations.move_members import MoveMembersPayload, move_members
from gql.directory.mutations.revoke_admin import RevokeAdminPayload, revoke_admin
from gql.directory.mutations.set_field_settings import SetFieldSettingsPayload, set_field_settings
from gql.directory.mutations.update_member import UpdateMemberPayload, update_member
from gql.directory.mutations.update_my_profile import UpdateMyProfilePayload, update_my_profile
from gql.directory.mutations.update_org_unit import UpdateOrgUnitPayload, update_org_unit
from gql.directory.queries import DirectoryQuery, corp_node, unit_node
from gql.directory.types import member_node

# Global id type name -> the policy-checked single-object loader.
NODE_RESOLVERS = {
    "Member": member_node,
    "OrgUnit": unit_node,
    "Corp": corp_node,
    "ChainSpace": chain_space_node,
    "ChainGroup": group_node,
    "ChainCorp": chain_corp_node,
    "ChainContact": contact_node,
}


@strawberry.type
class Query(AuthQuery, DirectoryQuery, ChainQuery):
    @strawberry.field(description="Any object by global id; null alike for unknown ids and objects you may not see.")
    async def node(self, info: Info, id: relay.GlobalID) -> relay.Node | None:
        resolve = NODE_RESOLVERS.get(id.type_name)
        try:
            pk = int(id.node_id)
        except ValueError:
            return None
        return await resolve(info, pk) if resolve else None  # type: ignore[no-any-return,operator]


@strawberry.type
class Mutation:
    create_corp: CreateCorpPayload = strawberry.mutation(resolver=create_corp)
    act_as: ActAsPayload = strawberry.mutation(resolver=act_as)
    create_org_unit: CreateOrgUnitPayload = strawberry.mutation(resolver=create_org_unit)
    update_org_unit: UpdateOrgUnitPayload = strawberry.mutation(resolver=update_org_unit)
    delete_org_unit: DeleteOrgUnitPayload = strawberry.mutation(resolver=delete_org_unit)
    create_member: CreateMemberPayload = strawberry.mutation(resolver=create_member)
    update_member: UpdateMemberPayload = strawberry.mutation(resolver=update_member)
    update_my_profile: UpdateMyProfilePayload = strawberry.mutation(resolver=update_my_profile)
    move_members: MoveMembersPayload = strawberry.mutation(resolver=move_members)
    resign_member: MemberPayload = strawberry.mutation(resolver=resign_member)
    reinstate_member: MemberPayload = strawberry.mutation(resolver=reinstate_member)
    delete_member: DeleteMemberPayload = strawberry.mutation(resolver=delete_member)
    set_field_settings: SetFieldSettingsPayload = strawberry.mutation(resolver=set_field_settings)
    grant_admin: GrantAdminPayload = strawberry.mutation(resolver=grant_admin)
    revoke_admin: RevokeAdminPayload = strawberry.mutation(resolver=revoke_admin)
    create_chain_space: CreateChainSpacePayload = strawberry.mutation(resolver=create_chain_space)
    create_chain_group: CreateChainGroupPayload = strawberry.mutation(resolver=create_chain_group)


schema = strawberry.Schema(query=Query, mutation=Mutation)
