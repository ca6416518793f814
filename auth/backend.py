"""Turns the Authorization header into a Viewer, once per request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from auth.tokens import APP_TOKEN_PREFIX, InvalidToken, decode, hash_app_secret
from auth.viewer_cache import VIEWERS, check_app, check_member, with_token
from flows.errors import FlowError
from flows.identity import ensure_person
from models import AppToken, RevokedToken
from observability.metrics import count_viewer_build
from permissions.apps import token_usable
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
    if claims.typ != "person" or not claims.mobile:
        assert claims.member_id is not None
        return await _member(claims.member_id, claims.jti, claims.issued_ms or 0)
    if await RevokedToken.filter(jti=claims.jti).exists():
        raise AuthenticationFailed("Token revoked.")
    try:
        person = await ensure_person(claims.mobile, claims.name)
    except FlowError as exc:
        raise AuthenticationFailed("Token names no valid mobile.") from exc
    return Viewer(kind=ViewerKind.PERSON, person_id=person.id, token_id=claims.jti)


async def _member(member_id: int, jti: str | None, issued_ms: int) -> Viewer:
    # Checked against the database on every request, in one statement: a revoked token id, a
    # resigned or disabled member, or a token issued before the member's sessions last ended
    # is refused at once. The Viewer itself is rebuilt only when the policy version moved or
    # the member's own seats changed.
    check, database = await check_member(member_id, jti or "", issued_ms)
    if check.revoked:
        raise AuthenticationFailed("Token revoked.")
    if not check.may_act:
        raise AuthenticationFailed("Member is not active.")
    key = (database, "member", member_id)
    viewer = VIEWERS.get(key, check.stamp)
    if viewer is None:
        count_viewer_build("member")
        viewer = await member_viewer(member_id)
        if viewer is None:  # resigned between the check and the build
            raise AuthenticationFailed("Member is not active.")
        viewer = VIEWERS.put(key, check.stamp, viewer)
    return with_token(viewer, jti)


# lastUsedAt is kept to this resolution: writing it on every request would make a busy
# app's requests queue on one row lock.
LAST_USED_RESOLUTION = timedelta(minutes=1)


async def _app(secret: str) -> Viewer:
    check, database = await check_app(hash_app_secret(secret))
    token = check.token
    now = datetime.now(UTC)
    if token is None or not token_usable(token, now):
        raise AuthenticationFailed("Invalid, expired or revoked app token.")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        await AppToken.filter(id=token.id).update(last_used_at=now)
    key = (database, "app", token.id)
    viewer = VIEWERS.get(key, check.version)
    if viewer is None:
        count_viewer_build("app")
        viewer = await app_viewer(token)
        viewer = VIEWERS.put(key, check.version, viewer)
    return viewer
