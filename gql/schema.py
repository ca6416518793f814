"""Joins the domains into one schema."""

from __future__ import annotations

import strawberry
from strawberry import relay

from gql.auth.act_as import ActAsPayload, act_as
from gql.auth.change_my_mobile import ChangeMyMobilePayload, change_my_mobile
from gql.apps.mutations.create_app_token import CreateAppTokenPayload, create_app_token
from gql.apps.mutations.revoke_app_token import RevokeAppTokenPayload, revoke_app_token
from gql.apps.types import app_token_node
from gql.audit.types import audit_event_node
from gql.auth.queries import AuthQuery
from gql.chain.joining_types import join_request_node
from gql.chain.mutations.approve_join_request import ApproveJoinRequestPayload, approve_join_request
from gql.chain.mutations.confirm_chain_members import ConfirmChainMembersPayload, confirm_chain_members
from gql.chain.mutations.create_chain_group import CreateChainGroupPayload, create_chain_group
from gql.chain.mutations.create_chain_space import CreateChainSpacePayload, create_chain_space
from gql.chain.mutations.create_invitation import CreateInvitationPayload, create_invitation
from gql.chain.mutations.decline_invitation import DeclineInvitationPayload, decline_invitation
from gql.chain.mutations.import_chain_contacts import ImportChainContactsPayload, import_chain_contacts
from gql.chain.mutations.join_chain import JoinChainPayload, join_chain
from gql.chain.mutations.remove_chain_corp import RemoveChainCorpPayload, remove_chain_corp
from gql.chain.mutations.revoke_invitation import RevokeInvitationPayload, revoke_invitation
from gql.chain.mutations.set_chain_rules import SetChainRulesPayload, set_chain_rules
from gql.chain.mutations.update_chain_group import UpdateChainGroupPayload, update_chain_group
from gql.chain.mutations.update_chain_space import UpdateChainSpacePayload, update_chain_space
from gql.chain.queries import ChainQuery
from gql.chain.types import chain_corp_node, chain_space_node, contact_node, group_node, invitation_node
from gql.context import Info
from gql.directory.mutations.create_corp import CreateCorpPayload, create_corp
from gql.directory.mutations.create_member import CreateMemberPayload, create_member
from gql.directory.mutations.create_org_unit import CreateOrgUnitPayload, create_org_unit
from gql.directory.mutations.delete_org_unit import DeleteOrgUnitPayload, delete_org_unit
from gql.directory.mutations.grant_admin import GrantAdminPayload, grant_admin
from gql.directory.mutations.member_access import disable_member, enable_member
from gql.directory.mutations.member_lifecycle import (
    DeleteMemberPayload,
    MemberPayload,
    delete_member,
    reinstate_member,
    resign_member,
)
from gql.directory.mutations.move_members import MoveMembersPayload, move_members
from gql.directory.mutations.revoke_admin import RevokeAdminPayload, revoke_admin
from gql.directory.mutations.revoke_member_sessions import RevokeMemberSessionsPayload, revoke_member_sessions
from gql.directory.mutations.set_field_settings import SetFieldSettingsPayload, set_field_settings
from gql.directory.mutations.update_member import UpdateMemberPayload, update_member
from gql.directory.mutations.update_my_profile import UpdateMyProfilePayload, update_my_profile
from gql.directory.mutations.update_org_unit import UpdateOrgUnitPayload, update_org_unit
from gql.directory.queries import DirectoryQuery, corp_node, unit_node
from gql.directory.types import member_node
from gql.execution import PlainLeafExecutionContext
from gql.imports.mutations.import_directory import ImportDirectoryPayload, import_directory
from gql.imports.mutations.retry_import_job import RetryImportJobPayload, retry_import_job
from gql.imports.queries import ImportQuery, ImportSubscription
from gql.imports.types import import_job_node
from gql.hints import Hints
from gql.protection.extension import PROTECTION_EXTENSIONS, ProtectedSchema
from gql.relay import parse_pk

# Global id type name -> the policy-checked single-object loader.
NODE_RESOLVERS = {
    "Member": member_node,
    "OrgUnit": unit_node,
    "Corp": corp_node,
    "ChainSpace": chain_space_node,
    "ChainGroup": group_node,
    "ChainCorp": chain_corp_node,
    "Invitation": invitation_node,
    "JoinRequest": join_request_node,
    "ChainContact": contact_node,
    "ImportJob": import_job_node,
    "AppToken": app_token_node,
    "AuditEvent": audit_event_node,
}


@strawberry.type
class Query(AuthQuery, DirectoryQuery, ChainQuery, ImportQuery):
    @strawberry.field(description="Any object by global id; null alike for unknown ids and objects you may not see.")
    async def node(self, info: Info, id: relay.GlobalID) -> relay.Node | None:
        resolve = NODE_RESOLVERS.get(id.type_name)
        pk = parse_pk(id.node_id)
        return await resolve(info, pk) if resolve and pk is not None else None  # type: ignore[no-any-return,operator]


@strawberry.type
class Mutation:
    create_corp: CreateCorpPayload = strawberry.mutation(resolver=create_corp)
    act_as: ActAsPayload = strawberry.mutation(resolver=act_as, description=(
        "A person token's member token for one of its corps: the member bound to the person, else the "
        "member not yet activated that holds its number, which this activates (binds). "
        "Errors: PERSON_TOKEN_REQUIRED, NOT_FOUND."))
    change_my_mobile: ChangeMyMobilePayload = strawberry.mutation(resolver=change_my_mobile, description=(
        "A member moves its own mobile to the number of `personToken` (proving it is theirs) and is bound to "
        "that person. Errors: MEMBER_TOKEN_REQUIRED, PERSON_TOKEN_INVALID, DUPLICATE_MOBILE."))
    create_org_unit: CreateOrgUnitPayload = strawberry.mutation(resolver=create_org_unit)
    update_org_unit: UpdateOrgUnitPayload = strawberry.mutation(resolver=update_org_unit)
    delete_org_unit: DeleteOrgUnitPayload = strawberry.mutation(resolver=delete_org_unit)
    create_member: CreateMemberPayload = strawberry.mutation(resolver=create_member, description=(
        "Errors include DUPLICATE_ACCOUNT and DUPLICATE_MOBILE (a mobile names one member of a corp)."))
    update_member: UpdateMemberPayload = strawberry.mutation(resolver=update_member, description=(
        "An admin edits a member it manages. Errors include NOT_FOUND, TARGET_OUTRANKS_YOU (the member holds admin rights you do not: a super or chain admin, or a directory admin with ranges or rights beyond yours), MOBILE_BOUND (the member "
        "is activated: only it changes its mobile, with changeMyMobile), DUPLICATE_MOBILE, ACCOUNT_IMMUTABLE."))
    update_my_profile: UpdateMyProfilePayload = strawberry.mutation(resolver=update_my_profile, description=(
        "Errors include FIELD_NOT_EDITABLE and MOBILE_BOUND (an activated member changes its mobile with "
        "changeMyMobile)."))
    move_members: MoveMembersPayload = strawberry.mutation(resolver=move_members, description=(
        "All or nothing. Errors include NOT_FOUND, TARGET_OUTRANKS_YOU (the member holds admin rights you do not: a super or chain admin, or a directory admin with ranges or rights beyond yours), NOT_IN_UNIT."))
    resign_member: MemberPayload = strawberry.mutation(resolver=resign_member, description=(
        "离职: gone from every view; its tokens are refused at once, and stay refused after a reinstatement. "
        "Errors include NOT_FOUND, TARGET_OUTRANKS_YOU (the member holds admin rights you do not: a super or chain admin, or a directory admin with ranges or rights beyond yours), CANNOT_TARGET_SELF, LAST_SUPER_ADMIN."))
    reinstate_member: MemberPayload = strawberry.mutation(resolver=reinstate_member, description=(
        "复职: ACTIVE again; it gets a fresh member token through actAs. Errors include NOT_FOUND, "
        "TARGET_OUTRANKS_YOU (the member holds admin rights you do not: a super or chain admin, or a directory admin with ranges or rights beyond yours), NOT_RESIGNED."))
    delete_member: DeleteMemberPayload = strawberry.mutation(resolver=delete_member, description=(
        "Errors include NOT_FOUND, TARGET_OUTRANKS_YOU (the member holds admin rights you do not: a super or chain admin, or a directory admin with ranges or rights beyond yours), CANNOT_TARGET_SELF, LAST_SUPER_ADMIN."))
    disable_member: MemberPayload = strawberry.mutation(resolver=disable_member, description=(
        "禁用: the member keeps its data and seats, but its tokens are refused at once (and stay refused after "
        "enableMember), actAs finds nothing, and only its admins see it (status DISABLED). Errors include "
        "NOT_FOUND, TARGET_OUTRANKS_YOU (the member holds admin rights you do not: a super or chain admin, or a "
        "directory admin with ranges or rights beyond yours), ALREADY_DISABLED, ALREADY_RESIGNED, "
        "CANNOT_TARGET_SELF, LAST_SUPER_ADMIN, TRY_AGAIN."))
    enable_member: MemberPayload = strawberry.mutation(resolver=enable_member, description=(
        "启用: ACTIVE again; it gets a fresh member token through actAs. Errors include NOT_FOUND, "
        "TARGET_OUTRANKS_YOU (the member holds admin rights you do not: a super or chain admin, or a directory "
        "admin with ranges or rights beyond yours), NOT_DISABLED, TRY_AGAIN."))
    revoke_member_sessions: RevokeMemberSessionsPayload = strawberry.mutation(
        resolver=revoke_member_sessions, description=(
            "Every member token the member holds now is refused from the next request on; it gets a fresh "
            "one through actAs. A member may end its own sessions, an admin those of a member it manages. "
            f"Errors: NOT_FOUND, TARGET_OUTRANKS_YOU (the member holds admin rights you do not: a super or chain admin, or a directory admin with ranges or rights beyond yours)."))
    set_field_settings: SetFieldSettingsPayload = strawberry.mutation(resolver=set_field_settings)
    grant_admin: GrantAdminPayload = strawberry.mutation(resolver=grant_admin)
    revoke_admin: RevokeAdminPayload = strawberry.mutation(resolver=revoke_admin)
    import_directory: ImportDirectoryPayload = strawberry.mutation(resolver=import_directory)
    retry_import_job: RetryImportJobPayload = strawberry.mutation(resolver=retry_import_job)
    create_chain_space: CreateChainSpacePayload = strawberry.mutation(resolver=create_chain_space)
    create_chain_group: CreateChainGroupPayload = strawberry.mutation(resolver=create_chain_group)
    update_chain_space: UpdateChainSpacePayload = strawberry.mutation(resolver=update_chain_space)
    update_chain_group: UpdateChainGroupPayload = strawberry.mutation(resolver=update_chain_group)
    set_chain_rules: SetChainRulesPayload = strawberry.mutation(resolver=set_chain_rules)
    remove_chain_corp: RemoveChainCorpPayload = strawberry.mutation(resolver=remove_chain_corp)
    import_chain_contacts: ImportChainContactsPayload = strawberry.mutation(resolver=import_chain_contacts)
    create_invitation: CreateInvitationPayload = strawberry.mutation(resolver=create_invitation)
    revoke_invitation: RevokeInvitationPayload = strawberry.mutation(resolver=revoke_invitation)
    join_chain: JoinChainPayload = strawberry.mutation(resolver=join_chain)
    decline_invitation: DeclineInvitationPayload = strawberry.mutation(resolver=decline_invitation)
    confirm_chain_members: ConfirmChainMembersPayload = strawberry.mutation(resolver=confirm_chain_members)
    approve_join_request: ApproveJoinRequestPayload = strawberry.mutation(resolver=approve_join_request)
    create_app_token: CreateAppTokenPayload = strawberry.mutation(resolver=create_app_token)
    revoke_app_token: RevokeAppTokenPayload = strawberry.mutation(resolver=revoke_app_token)


@strawberry.type
class Subscription(ImportSubscription):
    pass


schema = ProtectedSchema(
    query=Query, mutation=Mutation, subscription=Subscription, extensions=(*PROTECTION_EXTENSIONS, Hints),
    execution_context_class=PlainLeafExecutionContext,
)
