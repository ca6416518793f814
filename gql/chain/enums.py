"""Enums of the chain flows, exposed from the flow and model enums (one list of values)."""

from __future__ import annotations

import strawberry

from flows.invitations import InvitationState as InvitationStateValue
from flows.joining import JoinOutcome as JoinOutcomeValue
from flows.joining import JoinRule as JoinRuleValue
from models.chain import JoinRequestKind as JoinRequestKindValue
from models.chain import JoinRequestStatus as JoinRequestStatusValue

InvitationState = strawberry.enum(InvitationStateValue)
JoinRule = strawberry.enum(
    JoinRuleValue,
    description="Which corp identity the person must or may join as (SPEC §3.4 matching rules).",
)
JoinOutcome = strawberry.enum(JoinOutcomeValue)
JoinRequestKind = strawberry.enum(JoinRequestKindValue)
JoinRequestStatus = strawberry.enum(JoinRequestStatusValue)
