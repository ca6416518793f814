"""Person and member JWTs (HS256 with CHAINGATE_SECRET; an identity provider's person
tokens by its JWKS or public key); app-token secrets come from flows.app_secrets."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from auth.jwks import ASYMMETRIC_ALGORITHMS, jwks_keys

# App-token secrets are minted by a flow (flows.app_tokens), so they live below auth; named here
# too, as the token vocabulary auth's callers import.
from flows.app_secrets import APP_TOKEN_PREFIX as APP_TOKEN_PREFIX
from flows.app_secrets import hash_app_secret as hash_app_secret
from flows.app_secrets import new_app_secret as new_app_secret
from models.settings import InsecureConfiguration, Settings, get_settings, require_signing_secret

ISSUER_DEV = "chaingate-dev"
PERSON_TOKEN_TTL = 3600


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class Claims:
    typ: str
    jti: str
    exp: int
    mobile: str | None = None
    member_id: int | None = None
    name: str | None = None
    # Member tokens: when issued, in milliseconds (flows.sessions compares it with the member's
    # tokens_valid_after); from `iat` (start of its second) for tokens issued without it.
    issued_ms: int | None = None


def _encode(payload: dict[str, Any], ttl: int) -> str:
    now = int(time.time())
    body = {**payload, "iat": now, "nbf": now, "exp": now + ttl, "jti": uuid.uuid4().hex}
    return jwt.encode(body, require_signing_secret(get_settings()), algorithm="HS256")


def issue_person_token(mobile: str, name: str | None = None, ttl: int = PERSON_TOKEN_TTL) -> str:
    """The dev issuer: in production an identity provider vouches for the mobile and signs this."""
    payload: dict[str, Any] = {"typ": "person", "mobile": mobile, "iss": ISSUER_DEV}
    if name:
        payload["name"] = name
    return _encode(payload, ttl)


def issue_member_token(member_id: int, ttl: int | None = None, *, issued_ms: int | None = None) -> str:
    """`issued_ms`: the issue instant in milliseconds (flows.sessions.token_instant); now by default."""
    ms = issued_ms if issued_ms is not None else time.time_ns() // 1_000_000
    return _encode({"typ": "member", "mid": member_id, "iat_ms": ms}, ttl or get_settings().member_token_ttl_seconds)


async def decode(token: str) -> Claims:
    """Verify a person or member JWT: signature, expiry, not-before, issuer and audience.

    - HS256 with CHAINGATE_SECRET: our own member tokens and dev person tokens (`iss`
      chaingate-dev, or none for member tokens); any other issuer is refused, so a token
      claiming the identity provider's issuer is never accepted on our own key.
    - An identity provider's person tokens: with a `kid`, by that key of CHAINGATE_JWKS_URL
      and only the algorithm the key is for; without one, RS256 with CHAINGATE_JWT_PUBLIC_KEY.
      `iss` must equal CHAINGATE_JWT_ISSUER and `aud` hold CHAINGATE_JWT_AUDIENCE, each when
      set; with no audience configured a token carrying `aud` is refused, as it was meant
      for some other service. The identity provider never mints member tokens.

    Raises InvalidToken for anything else ("none", algorithm confusion, unknown kid, ...).
    """
    settings = get_settings()
    kept = _verified_ours.get(token)
    if kept is not None:
        try:
            secret = require_signing_secret(settings)
        except InsecureConfiguration as exc:
            raise InvalidToken(str(exc)) from exc
        if kept[0] == secret:
            if kept[1].exp <= time.time():  # as PyJWT: expired once `exp` is reached
                raise InvalidToken("Signature has expired")
            return kept[1]
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken("malformed token") from exc
    alg = header.get("alg")
    # The algorithm is pinned per key: "none" and algorithm confusion never verify.
    if alg == "HS256":
        try:
            secret = require_signing_secret(settings)
        except InsecureConfiguration as exc:  # a known key proves nothing
            raise InvalidToken(str(exc)) from exc
        data = _verified(token, secret, alg)
        # Ours name our dev issuer (person tokens) or none (member tokens): a token naming
        # another issuer, the identity provider's above all, was never ours to sign.
        claimed = data.get("iss")
        if claimed != ISSUER_DEV and (claimed is not None or data.get("typ") == "person"):
            raise InvalidToken("issuer not ours")
    elif alg in ASYMMETRIC_ALGORITHMS:
        key = await _identity_provider_key(settings, alg, header.get("kid"))
        # Empty counts as unset (docker compose passes unset variables as empty strings).
        issuer, audience = settings.jwt_issuer or None, settings.jwt_audience or None
        data = _verified(token, key, alg, issuer=issuer, audience=audience)
    else:
        raise InvalidToken("unsupported token algorithm")
    typ = data.get("typ")
    if typ == "person" and isinstance(data.get("mobile"), str):
        return Claims("person", data["jti"], data["exp"], mobile=data["mobile"], name=data.get("name"))
    if typ == "member" and alg == "HS256" and isinstance(data.get("mid"), int):
        # Member tokens are ours alone: an identity provider's key may not mint them.
        ms = data.get("iat_ms")
        issued_ms = ms if isinstance(ms, int) else int(data.get("iat") or 0) * 1000
        claims = Claims("member", data["jti"], data["exp"], member_id=data["mid"], issued_ms=issued_ms)
        if len(_verified_ours) >= MAX_VERIFIED:
            _verified_ours.clear()
        _verified_ours[token] = (secret, claims)
        return claims
    raise InvalidToken("unknown token type")


# Member tokens verified before, with the secret they verified under: a request's token is
# read twice (its budget at the gate, then the Viewer) and a client sends the same one for
# its whole session. The signature, `nbf` and `iat` hold once checked; `exp` is checked
# again on every use. Only our own member tokens: nothing of an identity provider's.
# Bounded: emptied when full (a client sends one token for its whole session).
MAX_VERIFIED = 4096
_verified_ours: dict[str, tuple[str, Claims]] = {}


async def _identity_provider_key(settings: Settings, alg: str, kid: object) -> Any:
    """The identity provider's key that may verify a token signed with `alg` naming `kid`."""
    if settings.jwks_url and kid is not None:
        found = await jwks_keys(settings.jwks_url).key(kid) if isinstance(kid, str) else None
        if found is None or found.algorithm_name != alg:
            raise InvalidToken("no identity provider key for this kid and algorithm")
        return found.key
    if alg == "RS256" and settings.jwt_public_key:
        return settings.jwt_public_key
    raise InvalidToken("unsupported token algorithm")


def _verified(
    token: str, key: Any, alg: str, *, issuer: str | None = None, audience: str | None = None
) -> dict[str, Any]:
    """The claims, once signature, times, and the issuer and audience when given are right."""
    required = ["exp", "jti"] + (["iss"] if issuer else []) + (["aud"] if audience else [])
    try:
        data: dict[str, Any] = jwt.decode(
            token, key, algorithms=[alg], issuer=issuer, audience=audience, options={"require": required}
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    return data


