"""Tortoise models and database set-up; no policy, no GraphQL."""

from models.access import AdminGrant, AppToken, PolicyVersion, RevokedToken
from models.chain import (
    ChainContact,
    ChainCorp,
    ChainCorpHeadcount,
    ChainGroup,
    ChainRule,
    ChainSpace,
    ContactHeadcount,
    Invitation,
)
from models.directory import (
    Corp,
    FieldSetting,
    Member,
    MemberNameTerm,
    MemberSeat,
    OrgUnit,
    Person,
    Placement,
    SharedSeat,
    UnitHeadcount,
)
from models.feed import ChangeEvent, FeedState, WebhookDelivery, WebhookSubscription
from models.ops import AuditEvent, ImportJob, ImportJobError, ImportSource, Notification

__all__ = [
    "AdminGrant", "AppToken", "AuditEvent", "ChainContact", "ChainCorp", "ChainGroup", "ChainRule", "ChainSpace",
    "ChainCorpHeadcount", "ChangeEvent", "ContactHeadcount", "Corp", "FeedState", "FieldSetting", "ImportJob", "ImportJobError", "ImportSource", "Invitation",
    "Member", "MemberNameTerm", "MemberSeat", "Notification", "OrgUnit", "Person", "Placement", "PolicyVersion", "RevokedToken",
    "SharedSeat", "UnitHeadcount", "WebhookDelivery", "WebhookSubscription",
]
