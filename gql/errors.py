"""Errors: payload userErrors for business rules, coded GraphQL errors for request problems."""

from __future__ import annotations

from collections.abc import Awaitable
from enum import Enum
from typing import TypeVar

import strawberry
from graphql import GraphQLError

from flows import error_codes
from flows.errors import FlowError
from gql.enums import described_enum

T = TypeVar("T")


# The union of the domains' codes (flows.error_codes), as one GraphQL enum: every payload shares
# UserError, so its code has one type. Each code is described here, once, for the SDL.
_UserErrorCode = Enum(  # type: ignore[misc]
    "UserErrorCode", [(code.name, code.value) for domain in error_codes.DOMAINS for code in domain], type=str
)
UserErrorCode = described_enum(_UserErrorCode, (
    "Why a mutation changed nothing (SPEC §3): a stable code; each mutation's description lists the codes it "
    "returns. The codes come in domains: common, auth, directory, import, chain and app token."), {
    # common
    "NOT_FOUND": "No such object, or one the caller may not see or act on (the two are indistinguishable).",
    "FORBIDDEN": "The caller is the wrong kind for this change (e.g. an app where a member is needed) or may "
                 "not make it on an object it sees.",
    "TRY_AGAIN": "The data changed while the request ran; sending it again is safe.",
    "INVALID_NAME": "A name is empty, too long or holds characters names may not hold.",
    "DUPLICATE_NAME": "A sibling (unit or chain group) already has this name.",
    "TOO_LONG": "A text is longer than its field allows.",
    "UNKNOWN_FIELD": "A field name that is not a profile field.",
    "ALREADY_REVOKED": "The invitation or app token was already revoked.",
    # auth
    "PERSON_TOKEN_REQUIRED": "This change is made with a person token.",
    "PERSON_TOKEN_INVALID": "The person token given as proof is not valid.",
    "MEMBER_TOKEN_REQUIRED": "This change is made with a member token.",
    # directory
    "ACCOUNT_IMMUTABLE": "A member's account cannot change once set.",
    "ALREADY_DISABLED": "The member is already disabled.",
    "ALREADY_RESIGNED": "The member has already resigned.",
    "CANNOT_TARGET_SELF": "The caller cannot do this to itself.",
    "CONTACT_REQUIRED": "None of mobile, email and wechatId is given.",
    "DUPLICATE_ACCOUNT": "The account is taken in this corp (accounts ignore case).",
    "DUPLICATE_MOBILE": "Another member of this corp has this mobile (a mobile names one member of a corp).",
    "FIELD_NOT_EDITABLE": "The corp does not let members edit this field themselves (SPEC §2.2).",
    "INVALID_ACCOUNT": "An account is 1-64 of A-Z a-z 0-9 _ . @ -.",
    "INVALID_DATE": "A date field that is not a date.",
    "INVALID_EMAIL": "Not an email address.",
    "INVALID_GENDER": "Not a gender (男/女/未知 or MALE/FEMALE/UNKNOWN).",
    "INVALID_HANDOVER": "Hand over to another active member of the same corp.",
    "INVALID_MOBILE": "Not a valid mobile number (+CC outside China).",
    "INVALID_TELEPHONE": "Not a telephone number.",
    "INVALID_WECHAT_ID": "A wechatId may not be all digits.",
    "LAST_SUPER_ADMIN": "The corp would be left without an active super admin.",
    "MEMBERS_REQUIRED": "No member named.",
    "MEMBER_NOT_ACTIVE": "The member is not active (admin grants and chain rules take active members only).",
    "MOBILE_BOUND": "The member is activated: only it changes its mobile, with changeMyMobile.",
    "NOT_DISABLED": "Only a disabled member can be enabled.",
    "NOT_IN_UNIT": "The member does not sit in that unit.",
    "NOT_RESIGNED": "Only a resigned member can be reinstated.",
    "RANGE_REQUIRED": "A directory admin needs at least one unit range.",
    "TARGET_OUTRANKS_YOU": "The member holds admin rights the caller does not: a super or chain admin, or a "
                           "directory admin with ranges or rights beyond the caller's (SPEC §2.4).",
    "UNIT_IS_ROOT": "The root unit cannot move or be deleted.",
    "UNIT_LOOP": "A unit cannot move under itself or its own subunits.",
    "UNIT_NOT_EMPTY": "The unit still has subunits or members.",
    "UNIT_REQUIRED": "A member sits in at least one unit.",
    "UNIT_TOO_DEEP": "Units would nest deeper than allowed.",
    "UNKNOWN_UNIT": "A unit list names units outside the corp.",
    # imports
    "ACTOR_GONE": "Whoever started the import may no longer run it.",
    "BAD_DEPARTMENT_PATH": "A department path separates units with something other than ->.",
    "BAD_ENCODING": "The .csv file is not readable as text in its encoding.",
    "BAD_FILE": "The file is damaged or not what its name says.",
    "CONFIRMATION_REQUIRED": "REPLACE resigns every member absent from the file: set confirmReplace.",
    "DUPLICATE_COLUMN": "A column header repeats an earlier one.",
    "EMPTY_FILE": "The file holds no rows.",
    "FILE_OR_ROWS": "Send exactly one of a file and rows.",
    "FILE_TOO_COMPLEX": "The file holds more parts, rows or columns than an import reads.",
    "FILE_TOO_LARGE": "The file, one of its parts or one of its cells is larger than an import reads.",
    "IMPORT_SOURCE_EXPIRED": "The import's file was deleted after the retention period; submit it again.",
    "JOB_NOT_FAILED": "Only a failed import job can be retried.",
    "MASS_RESIGN": "A REPLACE would resign too large a share of the corp's members.",
    "MISSING_COLUMN": "A required column is missing.",
    "NUL_CHARACTER": "The header row holds a NUL character.",
    "PARSER_CRASHED": "The file reader stopped unexpectedly; the file cannot be imported as it is.",
    "UNKNOWN_COLUMN": "A column this import does not know.",
    "UNSUPPORTED_FILE": "Not an .xlsx or .csv file.",
    # chain
    "ALREADY_JOINED": "The person has already joined this chain.",
    "ALREADY_REMOVED": "The corp was already removed from the chain.",
    "CONTACTS_REQUIRED": "No contact named.",
    "CONTACT_DECLINED": "The contact declined the invitation and must join by themselves.",
    "CORP_ALREADY_IN_CHAIN": "The chosen corp already has a place in this chain.",
    "CORP_REMOVED": "The corp was removed from this chain.",
    "GROUP_LOOP": "A group cannot move under itself or its own subgroups.",
    "IDENTITY_REQUIRED": "Choose one of your corps (corpId) or name a new corp (newCorpName).",
    "IMPORT_ONLY": "The chain admits only the corps its owner imported.",
    "INVALID_RULE": "A rule needs exactly one subject (unit or member) and one object (group or chain corp).",
    "INVITATION_EXPIRED": "The invitation has expired; ask for a new one.",
    "INVITATION_REVOKED": "The invitation was withdrawn.",
    "INVITER_RESIGNED": "Whoever created the invitation has left their corp; ask for a new one.",
    "MUST_JOIN_AS": "The matching rules require joining as a particular corp (SPEC §3.4).",
    "NEEDS_LEADER_CONFIRMATION": "A leader of the corp confirms this contact first (SPEC §3.4).",
    "NOT_IMPORTED": "There is nothing to decline: the person was not imported into this chain.",
    "OWNER_CORP_CANNOT_JOIN": "The chain's owner corp cannot join its own chain.",
    "REMOVED_FROM_CHAIN": "The person was removed from this chain.",
    "REQUEST_CLOSED": "The request was already decided or withdrawn.",
    "ROOT_GROUP": "The chain's root group stays at the root.",
    # app tokens
    "INVALID_EXPIRY": "The expiry does not lie in the future.",
    "MISSING_READ_SCOPE": "Write and export scopes need the matching read scope too.",
    "SCOPES_REQUIRED": "A token holds at least one scope.",
    "SCOPE_OUTSIDE_CHAIN": "A token bound to one chain holds chain scopes only.",
    # webhooks
    "INVALID_URL": "Not an absolute http or https URL (or credentials in it, or a host that does not resolve).",
    "PRIVATE_ADDRESS": "The URL names a loopback, private or link-local address, which receivers may not use here.",
    "TOKEN_INACTIVE": "The app token is revoked or expired.",
    "UNKNOWN_EVENT": "An event type that the change feed does not know.",
})


@strawberry.type(description=(
    "A business-rule failure of a mutation (SPEC §3): nothing was changed. Request problems (UNAUTHENTICATED, "
    "FORBIDDEN, RATE_LIMITED, BAD_REQUEST) come as GraphQL errors with extensions.code instead."))
class UserError:
    code: UserErrorCode = strawberry.field(description="Why nothing was changed; each mutation lists the codes it returns.")
    field: str | None = strawberry.field(description="The input field at fault (camelCase, e.g. `mobile`), or null when the whole request is.")
    message: str = strawberry.field(description="What went wrong and how to fix it, for a person to read.")


def bad_request(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_REQUEST"})


def unauthenticated(message: str = "Sign in first.") -> GraphQLError:
    return GraphQLError(message, extensions={"code": "UNAUTHENTICATED"})


async def run_flow(call: Awaitable[T]) -> tuple[T | None, list[UserError]]:
    """Await a flow; a FlowError becomes userErrors (the flow's transaction has rolled back)."""
    try:
        return await call, []
    except FlowError as exc:
        return None, [UserError(code=UserErrorCode(exc.code), field=exc.field, message=exc.message)]
