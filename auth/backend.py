"""Turns the Authorization header into a Viewer, once per request."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from auth.tokens import APP_TOKEN_PREFIX, InvalidToken, decode, hash_app_secret
from flows.errors import FlowError
from flows.identity import ensure_person
from models import AppToken, RevokedToken
from permissions.loading import app_viewer, member_viewer
from permissions.viewer import ANONYMOUS, Viewer, ViewerKind


class AuthenticationFailed(Exception):
    """The request carried credentials that are not (or no longer) good: UNAUTHENTICATED."""


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("Authorization must be 'Bearer <token>'.")
    return token.strip()


async def authenticate(authorization: str | None) -> Viewer:
    token = bearer(authorization)
    if token is None:
        return ANONYMOUS
    if token.startswith(APP_TOKEN_PREFIX):
        return await _app(token)
    try:
        claims = await decode(token)
    except InvalidToken as exc:
        raise AuthenticationFailed("Invalid or expired token.") from exc
    if await RevokedToken.filter(jti=claims.jti).exists():
        raise AuthenticationFailed("Token revoked.")
    if claims.typ == "person" and claims.mobile:
        try:
            person = await ensure_person(claims.mobile, claims.name)
        except FlowError as exc:
            raise AuthenticationFailed("Token names no valid mobile.") from exc
        return Viewer(kind=ViewerKind.PERSON, person_id=person.id, token_id=claims.jti)
    assert claims.member_id is not None
    # Resolved from the database on every request: a resigned or disabled member, or a token
    # issued before the member's sessions last ended, is refused at once.
    viewer = await member_viewer(claims.member_id, token_id=claims.jti, issued_ms=claims.issued_ms or 0)
    if viewer is None:
        raise AuthenticationFailed("Member is not active.")
    return viewer


# lastUsedAt is kept to this resolution: writing it on every request would make a busy
# app's requests queue on one row lock.
LAST_USED_RESOLUTION = timedelta(minutes=1)


async def _app(secret: str) -> Viewer:
    token = await AppToken.get_or_none(token_hash=hash_app_secret(secret))
    now = datetime.now(timezone.utc)
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        raise AuthenticationFailed("Invalid, expired or revoked app token.")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        await AppToken.filter(id=token.id).update(last_used_at=now)
    return await app_viewer(token)
