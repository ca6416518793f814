"""Joins the domains into one schema."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from gql.auth.act_as import ActAsPayload, act_as
from gql.auth.change_my_mobile import ChangeMyMobilePayload, change_my_mobile
from gql.apps.mutations.create_app_token import CreateAppTokenPayload, create_app_token
from gql.apps.mutations.revoke_app_token import RevokeAppTokenPayload, revoke_app_token
from gql.feed.mutations.create_webhook_subscription import (
    CreateWebhookSubscriptionPayload,
    create_webhook_subscription,
)
from gql.feed.mutations.delete_webhook_subscription import (
    DeleteWebhookSubscriptionPayload,
    delete_webhook_subscription,
)
from gql.feed.webhook_types import webhook_subscription_node
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
from gql.feed.snapshot import FeedSnapshot
from gql.feed.subscription import FeedSubscription
from gql.hints import Hints
from gql.protection.extension import PROTECTION_EXTENSIONS, ProtectedSchema
from gql.relay import parse_pk

# Who manages a chain's settings, groups and rules (permissions.actions.can_manage_chain), said on those mutations.
CHAIN_MANAGERS = "the owner's super admins and whole-chain admins (and the owner's apps with chain:write)"

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
    "WebhookSubscription": webhook_subscription_node,
}


@strawberry.type(description=(
    "Reads, each cut to what the caller (member, person or app token; or anonymous) may see (SPEC §2): "
    "objects it may not see are null or absent, as if they did not exist."))
class Query(AuthQuery, DirectoryQuery, ChainQuery, ImportQuery):
    @strawberry.field(description="Any object by global id; null alike for unknown ids and objects you may not see.")
    async def node(
        self, info: Info, id: Annotated[relay.GlobalID, strawberry.argument(description="Global id of any object.")]
    ) -> relay.Node | None:
        resolve = NODE_RESOLVERS.get(id.type_name)
        pk = parse_pk(id.node_id)
        return await resolve(info, pk) if resolve and pk is not None else None  # type: ignore[no-any-return,operator]


@strawberry.type(description=(
    "Changes (SPEC §3). Each checks the caller's right, runs in one transaction and writes an audit event; "
    "business-rule failures come back as userErrors {code field message} with nothing changed. An object the "
    "caller may not see or act on is NOT_FOUND, like one that does not exist."))
class Mutation:
    create_corp: CreateCorpPayload = strawberry.mutation(resolver=create_corp, description=(
        "A person (person token) creates a corp with a root unit, and becomes its first member and super admin; "
        "actAs(corpId) then gives the member token (SPEC §4). Errors: FORBIDDEN (not a person token), INVALID_NAME."))
    act_as: ActAsPayload = strawberry.mutation(resolver=act_as, description=(
        "A person token's member token for one of its corps: the member bound to the person, else the "
        "member not yet activated that holds its number, which this activates (binds). "
        "Errors: PERSON_TOKEN_REQUIRED, NOT_FOUND."))
    change_my_mobile: ChangeMyMobilePayload = strawberry.mutation(resolver=change_my_mobile, description=(
        "A member moves its own mobile to the number of `personToken` (proving it is theirs) and is bound to "
        "that person. Errors: MEMBER_TOKEN_REQUIRED, PERSON_TOKEN_INVALID, DUPLICATE_MOBILE."))
    create_org_unit: CreateOrgUnitPayload = strawberry.mutation(resolver=create_org_unit, description=(
        "A new department under a unit the caller manages (super admins, directory admins holding MANAGE there, "
        "the corp's apps with directory:write). Errors: NOT_FOUND, INVALID_NAME, DUPLICATE_NAME, UNIT_TOO_DEEP, "
        "UNKNOWN_UNIT (whitelist or exclude outside the corp)."))
    update_org_unit: UpdateOrgUnitPayload = strawberry.mutation(resolver=update_org_unit, description=(
        "Rename, move, reorder a unit or change its scope and leaders; the caller manages the unit (and the new "
        "parent). Errors: NOT_FOUND, INVALID_NAME, DUPLICATE_NAME, UNIT_IS_ROOT (the root cannot move), "
        "UNIT_LOOP, UNIT_TOO_DEEP, NOT_IN_UNIT (a leader not seated in the unit)."))
    delete_org_unit: DeleteOrgUnitPayload = strawberry.mutation(resolver=delete_org_unit, description=(
        "Deletes a unit with no child units and no members (resigned ones aside); the caller manages the unit. "
        "Errors: NOT_FOUND, UNIT_IS_ROOT, UNIT_NOT_EMPTY."))
    create_member: CreateMemberPayload = strawberry.mutation(resolver=create_member, description=(
        "A new member (ACTIVE; bound to its person at its first actAs) in units the caller manages (super admins, "
        "directory admins holding MANAGE there, the corp's apps with directory:write). Errors: NOT_FOUND, "
        "UNIT_REQUIRED, INVALID_ACCOUNT, DUPLICATE_ACCOUNT, INVALID_NAME, CONTACT_REQUIRED (none of mobile, email, "
        "wechatId), INVALID_MOBILE, DUPLICATE_MOBILE (a mobile names one member of a corp), INVALID_EMAIL, "
        "INVALID_WECHAT_ID, INVALID_TELEPHONE, INVALID_GENDER, INVALID_DATE, TOO_LONG."))
    update_member: UpdateMemberPayload = strawberry.mutation(resolver=update_member, description=(
        "An admin edits a member it manages. Errors include NOT_FOUND, TARGET_OUTRANKS_YOU (the member holds admin rights you do not: a super or chain admin, or a directory admin with ranges or rights beyond yours), MOBILE_BOUND (the member "
        "is activated: only it changes its mobile, with changeMyMobile), DUPLICATE_MOBILE, ACCOUNT_IMMUTABLE, "
        "UNIT_REQUIRED, INVALID_NAME, CONTACT_REQUIRED, INVALID_MOBILE, INVALID_EMAIL, INVALID_WECHAT_ID, "
        "INVALID_TELEPHONE, INVALID_GENDER, INVALID_DATE, TOO_LONG."))
    update_my_profile: UpdateMyProfilePayload = strawberry.mutation(resolver=update_my_profile, description=(
        "A member (member token) changes its own profile fields that the corp marks self-editable. Errors: "
        "FORBIDDEN (not a member token), FIELD_NOT_EDITABLE, MOBILE_BOUND (an activated member changes its mobile "
        "with changeMyMobile), CONTACT_REQUIRED, INVALID_MOBILE, DUPLICATE_MOBILE, INVALID_EMAIL, INVALID_WECHAT_ID, "
        "INVALID_TELEPHONE, INVALID_GENDER, INVALID_DATE, TOO_LONG."))
    move_members: MoveMembersPayload = strawberry.mutation(resolver=move_members, description=(
        "All or nothing. Errors include NOT_FOUND, TARGET_OUTRANKS_YOU (the member holds admin rights you do not: a super or chain admin, or a directory admin with ranges or rights beyond yours), NOT_IN_UNIT, "
        "MEMBERS_REQUIRED."))
    resign_member: MemberPayload = strawberry.mutation(resolver=resign_member, description=(
        "离职: gone from every view; its tokens are refused at once, and stay refused after a reinstatement. "
        "Errors include NOT_FOUND, TARGET_OUTRANKS_YOU (the member holds admin rights you do not: a super or chain admin, or a directory admin with ranges or rights beyond yours), CANNOT_TARGET_SELF, LAST_SUPER_ADMIN, "
        "ALREADY_RESIGNED, INVALID_HANDOVER."))
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
    set_field_settings: SetFieldSettingsPayload = strawberry.mutation(resolver=set_field_settings, description=(
        "Which profile fields members see of each other and may edit themselves (SPEC §2.2); the corp's super "
        "admins only. Errors: NOT_FOUND, UNKNOWN_FIELD."))
    grant_admin: GrantAdminPayload = strawberry.mutation(resolver=grant_admin, description=(
        "Makes an active member an admin (SPEC §2.4); the corp's super admins only (a directory admin cannot "
        "grant). Errors: NOT_FOUND, MEMBER_NOT_ACTIVE, RANGE_REQUIRED (a directory admin without unitIds)."))
    revoke_admin: RevokeAdminPayload = strawberry.mutation(resolver=revoke_admin, description=(
        "Ends an admin grant; the corp's super admins only. Errors: NOT_FOUND, LAST_SUPER_ADMIN (the corp keeps "
        "at least one super admin)."))
    import_directory: ImportDirectoryPayload = strawberry.mutation(resolver=import_directory, description=(
        "Queues a directory import (SPEC §3.1): .xlsx/.csv upload (GraphQL multipart request) or rows; row errors "
        "and the REPLACE guard (MASS_RESIGN) land on the job, not here. Callers: whoever manages some part of the "
        "corp (rows outside a directory admin's ranges fail with OUT_OF_SCOPE), apps with directory:write. "
        "Errors: NOT_FOUND, FILE_OR_ROWS (send exactly one), BAD_FILE, EMPTY_FILE, CONFIRMATION_REQUIRED "
        "(REPLACE without confirmReplace)."))
    retry_import_job: RetryImportJobPayload = strawberry.mutation(resolver=retry_import_job, description=(
        "Queues a FAILED import again; it resumes after its last committed row (nothing lost, nothing twice). "
        "Callers: whoever may see the job. Errors: NOT_FOUND, JOB_NOT_FAILED."))
    create_chain_space: CreateChainSpacePayload = strawberry.mutation(resolver=create_chain_space, description=(
        "A new chain space (上下游) owned by the caller's corp, with its root group; the corp's super admins in "
        "person only. Errors: NOT_FOUND, INVALID_NAME."))
    create_chain_group: CreateChainGroupPayload = strawberry.mutation(resolver=create_chain_group, description=(
        f"A new group in a chain; {CHAIN_MANAGERS}. Errors: NOT_FOUND, INVALID_NAME, DUPLICATE_NAME."))
    update_chain_space: UpdateChainSpacePayload = strawberry.mutation(resolver=update_chain_space, description=(
        f"Renames a chain or switches importOnly and corpsSeeEachOther; {CHAIN_MANAGERS}. "
        "Errors: NOT_FOUND, INVALID_NAME."))
    update_chain_group: UpdateChainGroupPayload = strawberry.mutation(resolver=update_chain_group, description=(
        f"Renames, moves, reorders a group or switches peersVisible; {CHAIN_MANAGERS}. Errors: NOT_FOUND, "
        "INVALID_NAME, DUPLICATE_NAME, ROOT_GROUP (the root group stays at the root), GROUP_LOOP."))
    set_chain_rules: SetChainRulesPayload = strawberry.mutation(resolver=set_chain_rules, description=(
        f"Replaces a chain's 对接规则 (SPEC §2.3); {CHAIN_MANAGERS}. Errors: NOT_FOUND, INVALID_RULE (not exactly "
        "one subject and one object), MEMBER_NOT_ACTIVE, CORP_REMOVED."))
    remove_chain_corp: RemoveChainCorpPayload = strawberry.mutation(resolver=remove_chain_corp, description=(
        "Removes a corp from its chain: it and its contacts leave every non-admin view at once; pending reminders "
        "and approval requests are dropped. Callers: whole-chain admins and chain admins over the corp's group. "
        "Errors: NOT_FOUND, ALREADY_REMOVED."))
    import_chain_contacts: ImportChainContactsPayload = strawberry.mutation(
        resolver=import_chain_contacts, description=(
            "Queues an import of contacts into a chain (SPEC §3.2); row errors land on the job, not here. Callers: "
            "the chain's admins (rows outside a group admin's groups fail with OUT_OF_SCOPE) and the owner's apps "
            "with chain:write. Errors: NOT_FOUND, FILE_OR_ROWS (send exactly one), BAD_FILE, EMPTY_FILE."))
    create_invitation: CreateInvitationPayload = strawberry.mutation(resolver=create_invitation, description=(
        "An invitation link and QR code into a chain (SPEC §3.3); members only: chain admins within their "
        "groups, a joined leader into its own group. Errors: NOT_FOUND, FORBIDDEN (not a group you may invite into)."))
    revoke_invitation: RevokeInvitationPayload = strawberry.mutation(resolver=revoke_invitation, description=(
        "Withdraws an invitation: the link is refused from now on (INVITATION_REVOKED). Callers: whoever may see "
        "it (its creator, the chain's admins over its group). Errors: NOT_FOUND, ALREADY_REVOKED."))
    join_chain: JoinChainPayload = strawberry.mutation(resolver=join_chain, description=(
        "A person (person token) joins a chain with an invitation or notification code, as the corp identity "
        "the matching rules allow (SPEC §3.4); then actAs(corpId) gives the member token. Errors: "
        "PERSON_TOKEN_REQUIRED, NOT_FOUND, INVITATION_EXPIRED, INVITATION_REVOKED, INVITER_RESIGNED, IMPORT_ONLY, "
        "REMOVED_FROM_CHAIN, ALREADY_JOINED, NEEDS_LEADER_CONFIRMATION, IDENTITY_REQUIRED, MUST_JOIN_AS, "
        "OWNER_CORP_CANNOT_JOIN, CORP_ALREADY_IN_CHAIN, CORP_REMOVED, INVALID_NAME, FORBIDDEN, TRY_AGAIN."))
    decline_invitation: DeclineInvitationPayload = strawberry.mutation(resolver=decline_invitation, description=(
        "An imported person (person token) declines: status DECLINED, the reminders stop. Errors: "
        "PERSON_TOKEN_REQUIRED, NOT_FOUND, INVITATION_EXPIRED, INVITATION_REVOKED, INVITER_RESIGNED, IMPORT_ONLY, "
        "REMOVED_FROM_CHAIN, NOT_IMPORTED, ALREADY_JOINED, TRY_AGAIN."))
    confirm_chain_members: ConfirmChainMembersPayload = strawberry.mutation(
        resolver=confirm_chain_members, description=(
            "The corp's first leader or a super admin confirms imported colleagues into the corp and the chain; a "
            "leader who is not a super admin sends approval requests instead (SPEC §3.4). Errors: NOT_FOUND, "
            "CONTACTS_REQUIRED, CONTACT_DECLINED, and createMember's codes when a member is created "
            "(e.g. DUPLICATE_MOBILE)."))
    approve_join_request: ApproveJoinRequestPayload = strawberry.mutation(
        resolver=approve_join_request, description=(
            "A super admin of the request's corp approves (adds the person to the corp and the chain) or rejects "
            "it. Errors: NOT_FOUND, REQUEST_CLOSED (already decided or withdrawn), and createMember's codes when "
            "the member is created (e.g. DUPLICATE_MOBILE)."))
    create_app_token: CreateAppTokenPayload = strawberry.mutation(resolver=create_app_token, description=(
        "Issues a partner-app token (SPEC §2.4); the corp's super admins in person only. The secret is in the "
        "payload once and stored hashed. Errors: NOT_FOUND, INVALID_NAME, SCOPES_REQUIRED, MISSING_READ_SCOPE, "
        "SCOPE_OUTSIDE_CHAIN, INVALID_EXPIRY (not in the future)."))
    revoke_app_token: RevokeAppTokenPayload = strawberry.mutation(resolver=revoke_app_token, description=(
        "Revokes a partner-app token: refused from the next request on; the corp's super admins in person only. "
        "Errors: NOT_FOUND, ALREADY_REVOKED."))
    create_webhook_subscription: CreateWebhookSubscriptionPayload = strawberry.mutation(
        resolver=create_webhook_subscription, description=(
            "Registers an endpoint for an app token of the corp (SPEC §3.9); the corp's super admins in person only. "
            "The worker posts each change the token may see from now on (cut as the token's own reads: scopes ∩ "
            "corp rights, chain binding, fields:sensitive), signed per Standard Webhooks with the secret in the "
            "payload (shown once), retried with exponential backoff; a revoked token's messages stop at once. "
            "Errors: NOT_FOUND, TOKEN_INACTIVE, INVALID_URL (not http/https, credentials in it, unresolvable), "
            "PRIVATE_ADDRESS (loopback or private address, unless allowed), UNKNOWN_EVENT."))
    delete_webhook_subscription: DeleteWebhookSubscriptionPayload = strawberry.mutation(
        resolver=delete_webhook_subscription, description=(
            "Deletes a webhook subscription and its delivery log; nothing more is posted to it. The corp's super "
            "admins in person only. Errors: NOT_FOUND."))


@strawberry.type(description="Live updates over WebSocket (graphql-transport-ws).")
class Subscription(ImportSubscription, FeedSubscription):
    pass


schema = ProtectedSchema(
    query=Query, mutation=Mutation, subscription=Subscription, extensions=(*PROTECTION_EXTENSIONS, Hints, FeedSnapshot),
    execution_context_class=PlainLeafExecutionContext,
)
