"""Who may do what: admin grants, partner-app tokens, revoked JWT ids, the policy version."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.enums import AdminKind


class AdminGrant(Model):
    # SUPER_ADMIN, DIRECTORY_ADMIN over unit subtrees with rights, or CHAIN_ADMIN of one chain.

    id = fields.IntField(primary_key=True)
    corp = fields.ForeignKeyField("models.Corp", related_name="admin_grants", on_delete=fields.CASCADE)
    corp_id: int
    member = fields.ForeignKeyField("models.Member", related_name="admin_grants", on_delete=fields.CASCADE)
    member_id: int
    kind = fields.CharEnumField(AdminKind, max_length=16)
    unit_ids = fields.JSONField(default=list)
    rights = fields.JSONField(default=list)
    chain = fields.ForeignKeyField("models.ChainSpace", related_name="admin_grants", null=True, on_delete=fields.CASCADE)
    chain_id: int | None
    # CHAIN_ADMIN limited to these group subtrees; empty means the whole chain.
    group_ids = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "admin_grant"
        indexes = (Index(fields=("member_id",)), Index(fields=("corp_id", "kind")))


class AppToken(Model):
    id = fields.IntField(primary_key=True)
    corp = fields.ForeignKeyField("models.Corp", related_name="app_tokens", on_delete=fields.CASCADE)
    corp_id: int
    name = fields.CharField(max_length=64)
    # sha256 of the secret: the secret itself is shown once and never stored.
    token_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=16)
    scopes = fields.JSONField(default=list)
    chain = fields.ForeignKeyField("models.ChainSpace", related_name="app_tokens", null=True, on_delete=fields.CASCADE)
    chain_id: int | None
    created_by = fields.ForeignKeyField("models.Member", related_name="app_tokens", null=True, on_delete=fields.SET_NULL)
    created_by_id: int | None
    expires_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "app_token"


class RevokedToken(Model):
    """A JWT id refused before its expiry (logout, key compromise)."""

    jti = fields.CharField(max_length=64, primary_key=True)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "revoked_token"


class PolicyVersion(Model):
    """One row (id 1): a counter that database triggers bump, in the writing transaction, on
    every write that can change a Viewer (migration 0007 lists them, less the seats that
    migration 0018 took out: the member check reads a member's seats itself; auth.viewer_cache
    says why one global counter)."""

    id = fields.IntField(primary_key=True)
    version = fields.BigIntField(default=0)

    class Meta:
        table = "policy_version"
