"""Partner-app tokens (SPEC §2.4): a corp's super admin issues and revokes them.

The secret is generated here, returned once to the caller and stored only as its sha256:
nobody, not even the issuer, can read it back later. What a token may see is decided per
request from its scopes, its corp's current rights and its chain binding
(permissions/loading.app_viewer), so a revoked token, a lapsed expiry or a corp that left
the bound chain take effect on the next request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from flows.access import access_app_token

# Only the pure secret helpers: generating and hashing app secrets, no request handling.
from flows.app_secrets import hash_app_secret, new_app_secret
from flows.audit import Origin, record
from flows.errors import FlowError, NotFound
from flows.webhooks import cancel_pending
from models import AppToken, ChainCorp, ChainSpace
from models.enums import AppScope, ChainCorpStatus
from permissions import actions
from permissions.apps import missing_read_scopes, outside_chain
from permissions.viewer import Viewer

NAME_MAX = 64
# Enough of the secret to tell tokens apart in a listing ("cgat_" and 7 characters).
PREFIX_LENGTH = 12


@dataclass(frozen=True)
class IssuedToken:
    """A newly issued app token (SPEC §2.4): the stored row and its secret, returned once and never stored."""

    token: AppToken
    # The only time the secret exists outside the caller's hands: show it, then forget it.
    secret: str


def _utc(moment: datetime) -> datetime:
    # A time without a zone is taken as UTC, the zone the API answers in.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def _chain_open_to(corp_id: int, chain_id: int) -> bool:
    """A corp may bind tokens to the chains it owns and those it has joined (and not left)."""
    joined = ChainCorp.filter(chain_id=chain_id, corp_id=corp_id, status=ChainCorpStatus.JOINED.value)
    return await ChainSpace.filter(id=chain_id, owner_corp_id=corp_id).exists() or await joined.exists()


def _validate_scopes(scopes: Iterable[AppScope], chain_id: int | None) -> list[AppScope]:
    wanted = sorted(set(scopes), key=lambda s: s.value)
    if not wanted:
        raise FlowError("SCOPES_REQUIRED", "Give the token at least one scope.", "scopes")
    lacking = missing_read_scopes(wanted)
    if lacking:
        names = ", ".join(s.value for s in lacking)
        raise FlowError("MISSING_READ_SCOPE", f"Write and export scopes need the read scope too: add {names}.", "scopes")
    if chain_id is not None:
        beyond = outside_chain(wanted)
        if beyond:
            names = ", ".join(s.value for s in beyond)
            raise FlowError(
                "SCOPE_OUTSIDE_CHAIN", f"A token bound to one chain holds chain scopes only, not {names}.", "scopes"
            )
    return wanted


async def create_app_token(
    viewer: Viewer,
    corp_id: int,
    name: str,
    scopes: Iterable[AppScope],
    *,
    chain_id: int | None = None,
    expires_at: datetime | None = None,
    origin: Origin | None = None,
) -> IssuedToken:
    """Issues a token for `corp_id`; returns it with its secret, which is never stored."""
    if not actions.can_manage_app_tokens(viewer, corp_id):
        raise NotFound("corpId")
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise FlowError("INVALID_NAME", f"A token name has 1 to {NAME_MAX} characters.", "name")
    wanted = _validate_scopes(scopes, chain_id)
    if chain_id is not None and not await _chain_open_to(corp_id, chain_id):
        raise NotFound("chainId")
    if expires_at is not None:
        expires_at = _utc(expires_at)
        if expires_at <= datetime.now(UTC):
            raise FlowError("INVALID_EXPIRY", "The expiry must lie in the future.", "expiresAt")
    secret = new_app_secret()
    async with in_transaction():
        token = await AppToken.create(
            corp_id=corp_id,
            name=name,
            token_hash=hash_app_secret(secret),
            prefix=secret[:PREFIX_LENGTH],
            scopes=[s.value for s in wanted],
            chain_id=chain_id,
            created_by_id=viewer.member_id,
            expires_at=expires_at,
        )
        await record(
            viewer, "appToken.create", "AppToken", token.id, corp_id=corp_id,
            after={
                "name": name,
                "prefix": token.prefix,
                "scopes": token.scopes,
                "chain": chain_id,
                "expiresAt": expires_at.isoformat() if expires_at else None,
            },
            origin=origin,
        )
    return IssuedToken(token, secret)


async def revoke_app_token(viewer: Viewer, token_id: int, *, origin: Origin | None = None) -> AppToken:
    """Revokes at once: the next request with the secret gets 401."""
    token = await access_app_token(viewer, token_id)
    now = datetime.now(UTC)
    async with in_transaction():
        # Conditional, so that of two concurrent revocations one wins and one is told so.
        changed = await AppToken.filter(Q(revoked_at=None), id=token.id).update(revoked_at=now)
        if not changed:
            raise FlowError("ALREADY_REVOKED", "This token is already revoked.", "id")
        await cancel_pending(token.id)  # its webhooks stop with it (flows/webhooks.py)
        await record(
            viewer, "appToken.revoke", "AppToken", token.id, corp_id=token.corp_id,
            before={"name": token.name, "prefix": token.prefix}, after={"revokedAt": now.isoformat()},
            origin=origin,
        )
    token.revoked_at = now
    return token
