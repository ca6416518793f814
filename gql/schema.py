"""Joins the domains into one schema."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from gql.apps.mutations.create_app_token import CreateAppTokenPayload, create_app_token
from gql.apps.mutations.revoke_app_token import RevokeAppTokenPayload, revoke_app_token
from gql.apps.types import app_token_node
from gql.audit.types import audit_event_node
from gql.auth.act_as import ActAsPayload, act_as
from gql.auth.change_my_mobile import ChangeMyMobilePayload, change_my_mobile
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
from gql.contracts import declare
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
from gql.errors import UserErrorCode
from gql.execution import PlainLeafExecutionContext
from gql.feed.mutations.create_webhook_subscription import (
    CreateWebhookSubscriptionPayload,
    create_webhook_subscription,
)
from gql.feed.mutations.delete_webhook_subscription import (
    DeleteWebhookSubscriptionPayload,
    delete_webhook_subscription,
)
from gql.feed.snapshot import FeedSnapshot
from gql.feed.subscription import FeedSubscription
from gql.feed.webhook_types import webhook_subscription_node
from gql.hints import Hints
from gql.imports.mutations.import_directory import ImportDirectoryPayload, import_directory
from gql.imports.mutations.retry_import_job import RetryImportJobPayload, retry_import_job
from gql.imports.queries import ImportQuery, ImportSubscription
from gql.imports.types import import_job_node
from gql.protection.extension import PROTECTION_EXTENSIONS, ProtectedSchema
from gql.relay import parse_pk

# Who manages a chain's settings, groups and rules (permissions.actions.can_manage_chain), said on those mutations.
CHAIN_MANAGERS = "the owner's super admins and whole-chain admins (and the owner's apps with chain:write)"
DIRECTORY_MANAGERS = "super admins, directory admins holding MANAGE there, the corp's apps with directory:write"
MEMBER_MANAGERS = f"MANAGE over one of the member's units ({DIRECTORY_MANAGERS}), outranking the member (SPEC §2.4)"

C = UserErrorCode
# Code lists several mutations share, each written once.
PROFILE_CODES = (
    C.INVALID_NAME, C.CONTACT_REQUIRED, C.INVALID_MOBILE, C.DUPLICATE_MOBILE, C.INVALID_EMAIL, C.INVALID_WECHAT_ID,
    C.INVALID_TELEPHONE, C.INVALID_GENDER, C.INVALID_DATE, C.TOO_LONG,
)
NEW_MEMBER_CODES = (C.DUPLICATE_ACCOUNT, *PROFILE_CODES)
INVITATION_CODES = (C.INVITATION_EXPIRED, C.INVITATION_REVOKED, C.INVITER_RESIGNED, C.IMPORT_ONLY, C.REMOVED_FROM_CHAIN)


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
    create_corp: CreateCorpPayload = declare(create_corp,
        "Creates a corp with a root unit; the caller becomes its first member and super admin, and "
        "actAs(input: {corpId}) then gives the member token (SPEC §4).",
        right="a person token", codes=[C.FORBIDDEN, C.INVALID_NAME])
    act_as: ActAsPayload = declare(act_as,
        "A person token's member token for one of its corps: the member bound to the person, else the "
        "member not yet activated that holds its number, which this activates (binds).",
        right="a person token", codes=[C.PERSON_TOKEN_REQUIRED, C.NOT_FOUND])
    change_my_mobile: ChangeMyMobilePayload = declare(change_my_mobile,
        "A member moves its own mobile to the number of `personToken` (proving it is theirs) and is bound to "
        "that person.",
        right="a member token", codes=[C.MEMBER_TOKEN_REQUIRED, C.PERSON_TOKEN_INVALID, C.DUPLICATE_MOBILE])
    create_org_unit: CreateOrgUnitPayload = declare(create_org_unit,
        "A new department under a unit.",
        right=f"MANAGE over the parent unit ({DIRECTORY_MANAGERS})",
        codes=[C.NOT_FOUND, C.INVALID_NAME, C.DUPLICATE_NAME, C.UNIT_TOO_DEEP, C.UNKNOWN_UNIT])
    update_org_unit: UpdateOrgUnitPayload = declare(update_org_unit,
        "Renames, moves or reorders a unit, or changes its scope and leaders.",
        right=f"MANAGE over the unit and any new parent ({DIRECTORY_MANAGERS})",
        codes=[C.NOT_FOUND, C.INVALID_NAME, C.DUPLICATE_NAME, C.UNIT_IS_ROOT, C.UNIT_LOOP, C.UNIT_TOO_DEEP,
               C.NOT_IN_UNIT])
    delete_org_unit: DeleteOrgUnitPayload = declare(delete_org_unit,
        "Deletes a unit with no child units and no members (resigned ones aside).",
        right=f"MANAGE over the unit ({DIRECTORY_MANAGERS})", codes=[C.NOT_FOUND, C.UNIT_IS_ROOT, C.UNIT_NOT_EMPTY])
    create_member: CreateMemberPayload = declare(create_member,
        "A new member (ACTIVE; bound to its person at its first actAs).",
        right=f"MANAGE over each of its units ({DIRECTORY_MANAGERS})",
        codes=[C.NOT_FOUND, C.UNIT_REQUIRED, C.INVALID_ACCOUNT, C.DUPLICATE_ACCOUNT, *PROFILE_CODES])
    update_member: UpdateMemberPayload = declare(update_member,
        "An admin edits a member.",
        right=MEMBER_MANAGERS,
        codes=[C.NOT_FOUND, C.TARGET_OUTRANKS_YOU, C.MOBILE_BOUND, C.ACCOUNT_IMMUTABLE, C.UNIT_REQUIRED,
               *PROFILE_CODES])
    update_my_profile: UpdateMyProfilePayload = declare(update_my_profile,
        "A member changes its own profile fields that the corp marks self-editable (SPEC §2.2).",
        right="a member token", codes=[C.FORBIDDEN, C.FIELD_NOT_EDITABLE, C.MOBILE_BOUND, *PROFILE_CODES])
    move_members: MoveMembersPayload = declare(move_members,
        "Moves members from one unit to another; all or nothing.",
        right=f"MANAGE over the target unit and over each member ({DIRECTORY_MANAGERS}), outranking each member",
        codes=[C.NOT_FOUND, C.TARGET_OUTRANKS_YOU, C.NOT_IN_UNIT, C.MEMBERS_REQUIRED])
    resign_member: MemberPayload = declare(resign_member,
        "离职: gone from every view but its admins' (its chain contacts too: only the chain's admins still list "
        "them); its tokens are refused at once, and stay refused after a reinstatement.",
        right=MEMBER_MANAGERS,
        codes=[C.NOT_FOUND, C.TARGET_OUTRANKS_YOU, C.CANNOT_TARGET_SELF, C.LAST_SUPER_ADMIN, C.ALREADY_RESIGNED,
               C.INVALID_HANDOVER])
    reinstate_member: MemberPayload = declare(reinstate_member,
        "复职: ACTIVE again; it gets a fresh member token through actAs.",
        right=MEMBER_MANAGERS, codes=[C.NOT_FOUND, C.TARGET_OUTRANKS_YOU, C.NOT_RESIGNED])
    delete_member: DeleteMemberPayload = declare(delete_member,
        "删除: irreversible. The member, its seats and its chain contacts are deleted (chain feeds report them "
        "REMOVED); audit rows about them keep a tombstone, notifications to it and webhook messages naming it "
        "are erased.",
        right=MEMBER_MANAGERS,
        codes=[C.NOT_FOUND, C.TARGET_OUTRANKS_YOU, C.CANNOT_TARGET_SELF, C.LAST_SUPER_ADMIN])
    disable_member: MemberPayload = declare(disable_member,
        "禁用: the member keeps its data and seats, but its tokens are refused at once (and stay refused after "
        "enableMember), actAs finds nothing, and only its admins see it (status DISABLED; its chain contacts only the "
        "chain's admins).",
        right=MEMBER_MANAGERS,
        codes=[C.NOT_FOUND, C.TARGET_OUTRANKS_YOU, C.ALREADY_DISABLED, C.ALREADY_RESIGNED, C.CANNOT_TARGET_SELF,
               C.LAST_SUPER_ADMIN, C.TRY_AGAIN])
    enable_member: MemberPayload = declare(enable_member,
        "启用: ACTIVE again; it gets a fresh member token through actAs.",
        right=MEMBER_MANAGERS, codes=[C.NOT_FOUND, C.TARGET_OUTRANKS_YOU, C.NOT_DISABLED, C.TRY_AGAIN])
    revoke_member_sessions: RevokeMemberSessionsPayload = declare(revoke_member_sessions,
            "Every member token the member holds now is refused from the next request on; it gets a fresh "
            "one through actAs.",
            right=f"the member itself, or {MEMBER_MANAGERS}", codes=[C.NOT_FOUND, C.TARGET_OUTRANKS_YOU])
    set_field_settings: SetFieldSettingsPayload = declare(set_field_settings,
        "Which profile fields members see of each other and may edit themselves (SPEC §2.2).",
        right="the corp's super admins", codes=[C.NOT_FOUND, C.UNKNOWN_FIELD])
    grant_admin: GrantAdminPayload = declare(grant_admin,
        "Makes an active member an admin (SPEC §2.4).",
        right="the corp's super admins (a directory admin cannot grant)",
        codes=[C.NOT_FOUND, C.MEMBER_NOT_ACTIVE, C.RANGE_REQUIRED])
    revoke_admin: RevokeAdminPayload = declare(revoke_admin,
        "Ends an admin grant.",
        right="the corp's super admins", codes=[C.NOT_FOUND, C.LAST_SUPER_ADMIN])
    import_directory: ImportDirectoryPayload = declare(import_directory,
        "Queues a directory import (SPEC §3.1): .xlsx/.csv upload (GraphQL multipart request) or rows; row errors "
        "(e.g. OUT_OF_SCOPE for rows outside a directory admin's ranges) and the REPLACE guard (MASS_RESIGN) land "
        "on the job, not here.",
        right="whoever manages some part of the corp (super admins, directory admins holding MANAGE), the corp's "
              "apps with directory:write",
        codes=[C.NOT_FOUND, C.FILE_OR_ROWS, C.BAD_FILE, C.EMPTY_FILE, C.CONFIRMATION_REQUIRED])
    retry_import_job: RetryImportJobPayload = declare(retry_import_job,
        "Queues a FAILED import again; it resumes after its last committed row (nothing lost, nothing twice).",
        right="whoever may see the job", codes=[C.NOT_FOUND, C.JOB_NOT_FAILED, C.IMPORT_SOURCE_EXPIRED])
    create_chain_space: CreateChainSpacePayload = declare(create_chain_space,
        "A new chain space (上下游) owned by the caller's corp, with its root group.",
        right="the corp's super admins in person", codes=[C.NOT_FOUND, C.INVALID_NAME])
    create_chain_group: CreateChainGroupPayload = declare(create_chain_group,
        "A new group in a chain.",
        right=CHAIN_MANAGERS, codes=[C.NOT_FOUND, C.INVALID_NAME, C.DUPLICATE_NAME])
    update_chain_space: UpdateChainSpacePayload = declare(update_chain_space,
        "Renames a chain or switches importOnly and corpsSeeEachOther.",
        right=CHAIN_MANAGERS, codes=[C.NOT_FOUND, C.INVALID_NAME])
    update_chain_group: UpdateChainGroupPayload = declare(update_chain_group,
        "Renames, moves, reorders a group or switches peersVisible.",
        right=CHAIN_MANAGERS,
        codes=[C.NOT_FOUND, C.INVALID_NAME, C.DUPLICATE_NAME, C.ROOT_GROUP, C.GROUP_LOOP])
    set_chain_rules: SetChainRulesPayload = declare(set_chain_rules,
        "Replaces a chain's 对接规则 (SPEC §2.3).",
        right=CHAIN_MANAGERS, codes=[C.NOT_FOUND, C.INVALID_RULE, C.MEMBER_NOT_ACTIVE, C.CORP_REMOVED])
    remove_chain_corp: RemoveChainCorpPayload = declare(remove_chain_corp,
        "Removes a corp from its chain: it and its contacts leave every non-admin view at once; pending reminders "
        "and approval requests are dropped.",
        right="whole-chain admins and chain admins over the corp's group", codes=[C.NOT_FOUND, C.ALREADY_REMOVED])
    import_chain_contacts: ImportChainContactsPayload = declare(import_chain_contacts,
            "Queues an import of contacts into a chain (SPEC §3.2); row errors (e.g. OUT_OF_SCOPE for rows "
            "outside a group admin's groups) land on the job, not here.",
            right="the chain's admins, the owner's apps with chain:write",
            codes=[C.NOT_FOUND, C.FILE_OR_ROWS, C.BAD_FILE, C.EMPTY_FILE])
    create_invitation: CreateInvitationPayload = declare(create_invitation,
        "An invitation link and QR code into a chain (SPEC §3.3).",
        right="members only: chain admins within their groups, a joined leader into its own group",
        codes=[C.NOT_FOUND, C.FORBIDDEN])
    revoke_invitation: RevokeInvitationPayload = declare(revoke_invitation,
        "Withdraws an invitation: the link is refused from now on (INVITATION_REVOKED).",
        right="whoever may see it (its creator, the chain's admins over its group)",
        codes=[C.NOT_FOUND, C.ALREADY_REVOKED])
    join_chain: JoinChainPayload = declare(join_chain,
        "Joins a chain with an invitation or notification code, as the corp identity the matching rules allow "
        "(SPEC §3.4); then actAs(input: {corpId}) gives the member token.",
        right="a person token",
        codes=[C.PERSON_TOKEN_REQUIRED, C.NOT_FOUND, *INVITATION_CODES, C.ALREADY_JOINED,
               C.NEEDS_LEADER_CONFIRMATION, C.IDENTITY_REQUIRED, C.MUST_JOIN_AS, C.OWNER_CORP_CANNOT_JOIN,
               C.CORP_ALREADY_IN_CHAIN, C.CORP_REMOVED, C.INVALID_NAME, C.FORBIDDEN, C.TRY_AGAIN])
    decline_invitation: DeclineInvitationPayload = declare(decline_invitation,
        "An imported person declines: status DECLINED, the reminders stop.",
        right="a person token",
        codes=[C.PERSON_TOKEN_REQUIRED, C.NOT_FOUND, *INVITATION_CODES, C.NOT_IMPORTED, C.ALREADY_JOINED,
               C.TRY_AGAIN])
    confirm_chain_members: ConfirmChainMembersPayload = declare(confirm_chain_members,
            "Confirms imported colleagues into the corp and the chain; a leader who is not a super admin sends "
            "approval requests instead (SPEC §3.4).",
            right="the corp's first leader in the chain, or its super admins",
            codes=[C.NOT_FOUND, C.CONTACTS_REQUIRED, C.CONTACT_DECLINED, *NEW_MEMBER_CODES])
    approve_join_request: ApproveJoinRequestPayload = declare(approve_join_request,
            "Approves (adds the person to the corp and the chain) or rejects a join request.",
            right="the super admins of the request's corp",
            codes=[C.NOT_FOUND, C.REQUEST_CLOSED, *NEW_MEMBER_CODES])
    create_app_token: CreateAppTokenPayload = declare(create_app_token,
        "Issues a partner-app token (SPEC §2.4). The secret is in the payload once and stored hashed.",
        right="the corp's super admins in person",
        codes=[C.NOT_FOUND, C.INVALID_NAME, C.SCOPES_REQUIRED, C.MISSING_READ_SCOPE, C.SCOPE_OUTSIDE_CHAIN,
               C.INVALID_EXPIRY])
    revoke_app_token: RevokeAppTokenPayload = declare(revoke_app_token,
        "Revokes a partner-app token: refused from the next request on.",
        right="the corp's super admins in person", codes=[C.NOT_FOUND, C.ALREADY_REVOKED])
    create_webhook_subscription: CreateWebhookSubscriptionPayload = declare(create_webhook_subscription,
            "Registers an endpoint for an app token of the corp (SPEC §3.9). The worker posts each change the token "
            "may see from now on (cut as the token's own reads: scopes ∩ corp rights, chain binding, "
            "fields:sensitive), signed per Standard Webhooks with the secret in the payload (shown once), retried "
            "with exponential backoff; a revoked token's messages stop at once.",
            right="the corp's super admins in person",
            codes=[C.NOT_FOUND, C.TOKEN_INACTIVE, C.INVALID_URL, C.PRIVATE_ADDRESS, C.UNKNOWN_EVENT])
    delete_webhook_subscription: DeleteWebhookSubscriptionPayload = declare(delete_webhook_subscription,
            "Deletes a webhook subscription and its delivery log; nothing more is posted to it.",
            right="the corp's super admins in person", codes=[C.NOT_FOUND])


@strawberry.type(description="Live updates over WebSocket (graphql-transport-ws).")
class Subscription(ImportSubscription, FeedSubscription):
    pass


schema = ProtectedSchema(
    query=Query, mutation=Mutation, subscription=Subscription, extensions=(*PROTECTION_EXTENSIONS, Hints, FeedSnapshot),
    execution_context_class=PlainLeafExecutionContext,
)
