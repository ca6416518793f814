"""Tortoise models and database set-up; no policy, no GraphQL."""

from models.access import AdminGrant, AppToken, PolicyVersion, RevokedToken
from models.chain import ChainContact, ChainCorp, ChainGroup, ChainRule, ChainSpace, Invitation
from models.directory import Corp, FieldSetting, Member, OrgUnit, Person, Placement
from models.feed import ChangeEvent, FeedState, WebhookDelivery, WebhookSubscription
from models.ops import AuditEvent, ImportJob, ImportJobError, ImportSource, Notification

__all__ = [
    "AdminGrant", "AppToken", "AuditEvent", "ChangeEvent", "FeedState", "ChainContact", "ChainCorp", "ChainGroup", "ChainRule",
    "ChainSpace", "Corp", "FieldSetting", "ImportJob", "ImportJobError", "ImportSource", "Invitation", "Member",
    "Notification", "OrgUnit", "Person", "Placement", "PolicyVersion", "RevokedToken", "WebhookDelivery", "WebhookSubscription",
]
