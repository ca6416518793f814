"""Crafted, stale and revoked credentials: every one is a 401 UNAUTHENTICATED with a
GraphQL-shaped body, and none reaches a resolver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from auth.tokens import issue_person_token
from models import Member, RevokedToken
from models.enums import MemberStatus
from models.settings import get_settings
from tests import factories as f
from tests.gateway import api, app_token, timed

VIEWER = "{ viewer { kind member { name } } }"
OTHER_KEY = "another-secret-0123456789abcdef-0123456789"


def _rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public


IDP_PRIVATE, IDP_PUBLIC = _rsa_pair()
STRANGER_PRIVATE, _ = _rsa_pair()


def _b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _hand_signed(header: dict, claims: dict, key: bytes) -> str:
    """HS256 by hand, for keys PyJWT rightly refuses to use (empty, or a public key's PEM)."""
    signing_input = f"{_b64(header)}.{_b64(claims)}"
    return f"{signing_input}.{_b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"


def _claims(member: Member, **overrides) -> dict:
    now = int(time.time())
    return {"typ": "member", "mid": member.id, "iat": now, "nbf": now, "exp": now + 600, "jti": "j", **overrides}


def _hs(member: Member, key: str | None = None, **overrides) -> str:
    return jwt.encode(_claims(member, **overrides), key or get_settings().secret, algorithm="HS256")


async def _world():
    _, root = await f.corp()
    member = await f.member([root], name="被冒用者")
    admin = await f.super_admin(root)
    return member, admin


Attack = Callable[[Member, Member], Awaitable[str]]


async def expired(m, _):
    return _hs(m, exp=int(time.time()) - 10)


async def not_yet_valid(m, _):
    return _hs(m, nbf=int(time.time()) + 3600)


async def wrong_key(m, _):
    return _hs(m, key=OTHER_KEY)


async def tampered_signature(m, _):
    good = f.token(m)
    return good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")


async def payload_swapped_to_the_admin(m, admin):
    # Keep the member's valid signature, claim to be the super admin.
    header, _, signature = f.token(m).split(".")
    return ".".join([header, _b64(_claims(admin)), signature])


async def alg_none(m, _):
    return jwt.encode(_claims(m), None, algorithm="none")


async def alg_none_spelled_otherwise(m, _):
    return ".".join([_b64({"alg": "NoNe", "typ": "JWT"}), _b64(_claims(m)), ""])


async def hs256_signed_with_the_idp_public_key(m, _):
    # Algorithm confusion: the public key is no HMAC secret here.
    return _hand_signed({"alg": "HS256", "typ": "JWT"}, _claims(m), IDP_PUBLIC.encode())


async def member_token_signed_by_the_idp(m, _):
    # The identity provider vouches for persons only; member tokens are ours alone.
    return jwt.encode(_claims(m), IDP_PRIVATE, algorithm="RS256")


async def person_token_signed_by_a_stranger(m, _):
    claims = {"typ": "person", "mobile": m.mobile, "exp": int(time.time()) + 600, "jti": "p"}
    return jwt.encode(claims, STRANGER_PRIVATE, algorithm="RS256")


async def without_expiry(m, _):
    claims = _claims(m)
    del claims["exp"]
    return jwt.encode(claims, get_settings().secret, algorithm="HS256")


async def without_jti(m, _):
    claims = _claims(m)
    del claims["jti"]
    return jwt.encode(claims, get_settings().secret, algorithm="HS256")


async def unknown_type(m, _):
    return _hs(m, typ="admin")


async def kid_pointing_elsewhere(m, _):
    return _hand_signed({"alg": "HS256", "typ": "JWT", "kid": "../../../../dev/null"}, _claims(m), b"")


async def revoked_jwt(m, _):
    token = f.token(m)
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    await RevokedToken.create(jti=jti, expires_at=datetime.now(UTC) + timedelta(hours=1))
    return token


async def resigned_member(m, _):
    token = f.token(m)
    await Member.filter(id=m.id).update(status=MemberStatus.RESIGNED)
    return token


async def disabled_member(m, _):
    token = f.token(m)
    await Member.filter(id=m.id).update(status=MemberStatus.DISABLED)
    return token


async def deleted_member(m, _):
    return _hs(m, mid=987_654_321)


async def revoked_app_token(m, _):
    secret, _ = await app_token(await m.corp, "directory:read", revoked_at=datetime.now(UTC))
    return secret


async def expired_app_token(m, _):
    secret, _ = await app_token(
        await m.corp, "directory:read", expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    return secret


async def unknown_app_token(m, _):
    return "cgat_" + "x" * 43


async def garbage(m, _):
    return "garbage"


ATTACKS: list[Attack] = [
    expired, not_yet_valid, wrong_key, tampered_signature, payload_swapped_to_the_admin, alg_none,
    alg_none_spelled_otherwise, hs256_signed_with_the_idp_public_key, member_token_signed_by_the_idp,
    person_token_signed_by_a_stranger, without_expiry, without_jti, unknown_type, kid_pointing_elsewhere,
    revoked_jwt, resigned_member, disabled_member, deleted_member, revoked_app_token, expired_app_token,
    unknown_app_token, garbage,
]


def assert_unauthenticated(r):
    assert r.status == 401, r.body
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.body["data"] is None and r.codes == ["UNAUTHENTICATED"], r.body
    assert "member" not in json.dumps(r.body)


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.__name__ for a in ATTACKS])
async def test_forged_stale_and_revoked_credentials_are_unauthenticated(database, monkeypatch, attack):
    # An identity provider's key is configured, so RS256 is a live path that must still hold.
    monkeypatch.setattr(get_settings(), "jwt_public_key", IDP_PUBLIC)
    member, admin = await _world()
    token = await attack(member, admin)
    async with api() as c:
        r = await timed(c.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"}))
    assert_unauthenticated(r)


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "Token abc", "bearer"])
async def test_an_authorization_header_that_is_not_a_bearer_token_is_unauthenticated(database, header):
    async with api() as c:
        r = await timed(c.post("/graphql", json={"query": VIEWER}, headers={"Authorization": header}))
    assert_unauthenticated(r)


async def test_the_real_tokens_still_work_with_the_idp_key_configured(database, monkeypatch):
    monkeypatch.setattr(get_settings(), "jwt_public_key", IDP_PUBLIC)
    member, _ = await _world()
    idp_person = jwt.encode(
        {"typ": "person", "mobile": f.unique_mobile(), "exp": int(time.time()) + 600, "jti": "idp-1"},
        IDP_PRIVATE, algorithm="RS256",
    )
    secret, _ = await app_token(await member.corp, "directory:read")
    async with api() as c:
        answers = [
            (await c.post("/graphql", json={"query": "{ viewer { kind } }"}, headers={"Authorization": f"Bearer {t}"}))
            .json()["data"]["viewer"]["kind"]
            for t in (f.token(member), issue_person_token(f.unique_mobile()), idp_person, secret)
        ]
    assert answers == ["MEMBER", "PERSON", "PERSON", "APP"]


async def test_a_resigned_member_is_refused_at_once_with_a_token_that_worked_a_moment_ago(database):
    member, _ = await _world()
    token = f.token(member)
    async with api() as c:
        before = await timed(c.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"}))
        await Member.filter(id=member.id).update(status=MemberStatus.RESIGNED)
        after = await timed(c.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"}))
    assert before.body["data"]["viewer"]["member"] == {"name": "被冒用者"}
    assert_unauthenticated(after)
