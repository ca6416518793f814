"""GraphQL enums, exposed from the model enums so there is one list of values."""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

import strawberry

from models import enums

E = TypeVar("E", bound=type[Enum])


def described_enum(cls: E, description: str, values: dict[str, str]) -> E:
    """`strawberry.enum(cls)` with a description for the type and for each of its values (keyed by member
    name). The values live in models/ or flows/, which know nothing of GraphQL, so their descriptions are
    given here; a name that is not a member of `cls` is a KeyError at import."""
    exposed = strawberry.enum(cls, description=description)
    by_name = {value.name: value for value in exposed.__strawberry_definition__.values}  # type: ignore[attr-defined]
    for name, text in values.items():
        by_name[name].description = text
    return exposed


MemberStatus = described_enum(enums.MemberStatus, "Where a member stands in its corp (SPEC §1).", {
    "ACTIVE": "Working: seen per the directory rules, its tokens accepted.",
    "DISABLED": "禁用 by an admin: data and seats kept, tokens refused, seen only by its admins.",
    "PENDING": "Not activated (SPEC §1). Members are created ACTIVE; activation (binding to the person, by actAs or "
               "a chain join) does not change the status.",
    "RESIGNED": "离职: gone from every view but its admins'; tokens refused; reinstateMember brings it back.",
})
Gender = described_enum(enums.Gender, "A member's gender as its profile records it.", {
    "UNKNOWN": "Not recorded.",
    "MALE": "Male.",
    "FEMALE": "Female.",
})
Scope = described_enum(enums.Scope, "Whom the members of an org unit see in the directory (SPEC §2.1).", {
    "INHERIT": "The default: the nearest ancestor's explicit scope applies; at the root, ALL.",
    "ALL": "所有人: the whole corp directory.",
    "DEPARTMENT": "仅本部门: the subtree of the unit that sets this scope (everyone under the same department).",
    "SUBDEPARTMENT": "仅子部门: the subtree of the member's own unit (its sub-department and below).",
})
ChainCorpStatus = described_enum(enums.ChainCorpStatus, "A corp's place in a chain space (SPEC §1).", {
    "IMPORTED": "Created by the owner's import; no real corp has joined as it yet.",
    "JOINED": "A real corp has joined the chain in this place.",
    "REMOVED": "Removed by removeChainCorp: its contacts left the chain's views.",
})
ContactRole = described_enum(enums.ContactRole, "A chain contact's role for its corp (SPEC §3.2).", {
    "LEADER": "负责人: decides which corp identity the corp joins as, and confirms its other contacts.",
    "MEMBER": "成员: joins only once a leader of its corp has joined and confirms it.",
})
ContactStatus = described_enum(enums.ContactStatus, "A person's progress into a chain space (SPEC §1, §3.4).", {
    "IMPORTED": "Imported by the owner; not yet invited.",
    "INVITED": "Sent an invitation notification; has not joined or declined.",
    "PENDING_CONFIRM": "Waits for its corp's first leader (or its super admins) to confirm it.",
    "JOINED": "Joined: linked to a member of the corp it joined as.",
    "DECLINED": "Declined the invitation (declineInvitation); no more reminders.",
    "REMOVED": "Removed from the chain, with its corp.",
})
AdminKind = described_enum(enums.AdminKind, "The kind of an admin grant (SPEC §2.4).", {
    "SUPER_ADMIN": "Everything in the corp and in the chain spaces it owns.",
    "DIRECTORY_ADMIN": "分级管理员: members and units inside its org unit ranges, with the rights granted.",
    "CHAIN_ADMIN": "One chain space, optionally limited to some of its groups.",
})
AdminRight = described_enum(enums.AdminRight, "What a directory admin may do inside its ranges (SPEC §2.4).", {
    "READ": "See the members and units in range, with all their fields (every directory admin holds it).",
    "MANAGE": "Create, change, move, disable, resign and delete members and units in range.",
    "EXPORT": "Export the directory in range.",
})
ImportJobStatus = described_enum(enums.ImportJobStatus, "Where an import job stands (SPEC §3.8).", {
    "QUEUED": "Waiting for a worker.",
    "RUNNING": "A worker is applying its rows.",
    "SUCCEEDED": "Every row was read; invalid rows are in the job's row errors.",
    "FAILED": "Stopped by a problem with the whole file (see failure); committed rows stay; retryImportJob resumes it.",
})
ImportKind = described_enum(enums.ImportKind, "What an import job imports.", {
    "DIRECTORY": "A corp's directory: members and org units (SPEC §3.1).",
    "CHAIN_CONTACTS": "A chain space's corps and contacts (SPEC §3.2).",
})
ImportMode = described_enum(enums.ImportMode, "How a directory import treats existing members (SPEC §3.1).", {
    "CREATE": "Only new accounts: a row whose account exists is a row error.",
    "UPSERT": "更新现有数据: keyed by account; empty cells leave fields unchanged; rerunning a file changes nothing.",
    "REPLACE": "Full sync: members absent from the file are resigned; needs confirmation and is refused past "
               "20 % of the corp and 50 members unless forced.",
})


@strawberry.enum(description="A month of the year, as searchMembers(birthdayMonth:) takes it.")
class Month(Enum):
    JANUARY = strawberry.enum_value(1, description="January (1月).")
    FEBRUARY = strawberry.enum_value(2, description="February (2月).")
    MARCH = strawberry.enum_value(3, description="March (3月).")
    APRIL = strawberry.enum_value(4, description="April (4月).")
    MAY = strawberry.enum_value(5, description="May (5月).")
    JUNE = strawberry.enum_value(6, description="June (6月).")
    JULY = strawberry.enum_value(7, description="July (7月).")
    AUGUST = strawberry.enum_value(8, description="August (8月).")
    SEPTEMBER = strawberry.enum_value(9, description="September (9月).")
    OCTOBER = strawberry.enum_value(10, description="October (10月).")
    NOVEMBER = strawberry.enum_value(11, description="November (11月).")
    DECEMBER = strawberry.enum_value(12, description="December (12月).")
