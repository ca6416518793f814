"""Enums of the chain flows, exposed from the flow and model enums (one list of values)."""

from __future__ import annotations

from flows.invitations import InvitationState as InvitationStateValue
from flows.joining import JoinOutcome as JoinOutcomeValue
from flows.joining import JoinRule as JoinRuleValue
from gql.enums import described_enum
from models.chain import JoinRequestKind as JoinRequestKindValue
from models.chain import JoinRequestStatus as JoinRequestStatusValue

InvitationState = described_enum(InvitationStateValue, "Whether an invitation link still works (SPEC §3.3).", {
    "ACTIVE": "Usable.",
    "EXPIRED": "Past its expiry (7 days; 90 while the chain is importOnly).",
    "REVOKED": "Revoked by revokeInvitation.",
    "CREATOR_RESIGNED": "Its creator is no longer an active member: the link died with it.",
})
JoinRule = described_enum(
    JoinRuleValue,
    "Which corp identity the person must or may join as (SPEC §3.4 matching rules).",
    {
        "ALREADY_JOINED": "The person has already joined this chain.",
        "AWAITING_APPROVAL": "The person's request to join waits for the required corp's super admins.",
        "MUST_JOIN_CHAIN_CORP": "Rule 1: the imported corp matches a corp already in the chain; join as it "
                                "(with approval when the person is not yet its member).",
        "MUST_JOIN_OWN_CORP": "Rule 2: the imported name matches a corp the person belongs to; join as it.",
        "CHOOSE_OR_CREATE": "Rule 3: choose any of the person's corps, or create a new one.",
        "WAIT_FOR_LEADER": "Imported as a MEMBER: the first leader of the corp to join confirms the person.",
    },
)
JoinOutcome = described_enum(JoinOutcomeValue, "What joinChain did.", {
    "JOINED": "The person is in the chain as a member of the corp.",
    "PENDING_APPROVAL": "A request waits for the corp's super admins (approveJoinRequest).",
})
JoinRequestKind = described_enum(JoinRequestKindValue, "Why an approval request was made.", {
    "JOIN": "A person asks to join a corp already chosen for its place in the chain.",
    "CONFIRM": "The first leader, not a super admin, asks the corp's super admins to add a colleague.",
})
JoinRequestStatus = described_enum(JoinRequestStatusValue, "Where an approval request stands.", {
    "PENDING": "Waiting for a super admin of the corp.",
    "APPROVED": "Approved: the person was added to the corp and joined the chain.",
    "REJECTED": "Rejected by a super admin.",
    "CANCELLED": "No longer applies (the place was removed or went to another corp).",
})
