"""Person and member JWTs (HS256 with CHAINGATE_SECRET, RS256 from an identity provider),
and opaque app-token secrets stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from models.settings import get_settings

ISSUER_DEV = "chaingate-dev"
APP_TOKEN_PREFIX = "cgat_"
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
    return jwt.encode(body, get_settings().secret, algorithm="HS256")


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


def decode(token: str) -> Claims:
    """Verify signature, expiry and not-before; only HS256 with our secret or RS256 with the configured key."""
    settings = get_settings()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken("malformed token") from exc
    alg = header.get("alg")
    # The algorithm is pinned per key: "none" and algorithm confusion never verify.
    if alg == "HS256":
        key: str = settings.secret
    elif alg == "RS256" and settings.jwt_public_key:
        key = settings.jwt_public_key
    else:
        raise InvalidToken("unsupported token algorithm")
    try:
        data = jwt.decode(token, key, algorithms=[alg], options={"require": ["exp", "jti"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    typ = data.get("typ")
    if typ == "person" and isinstance(data.get("mobile"), str):
        return Claims("person", data["jti"], data["exp"], mobile=data["mobile"], name=data.get("name"))
    if typ == "member" and alg == "HS256" and isinstance(data.get("mid"), int):
        # Member tokens are ours alone: an identity provider's key may not mint them.
        ms = data.get("iat_ms")
        issued_ms = ms if isinstance(ms, int) else int(data.get("iat") or 0) * 1000
        return Claims("member", data["jti"], data["exp"], member_id=data["mid"], issued_ms=issued_ms)
    raise InvalidToken("unknown token type")


def new_app_secret() -> str:
    return APP_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_app_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
