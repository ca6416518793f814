"""Identity provider tokens are checked fully (issue 12, point 8): keys from a real JWKS
endpoint (a local HTTP server) by `kid`, cached and rotated without hammering it, the
algorithm pinned per key, and the issuer and audience checked when configured."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from auth import jwks
from auth.ratelimit import RateRule
from auth.tokens import issue_person_token
from models import Member
from models.settings import get_settings
from tests import factories as f
from tests.gateway import api, timed
from web.gate import Budgets

VIEWER = "{ viewer { kind mobile } }"
ISSUER = "https://idp.example.com/"
AUDIENCE = "chaingate"
NO_BUDGETS = Budgets(RateRule(0, 0), RateRule(0, 0), RateRule(0, 0))

RSA_1 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
STRANGER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_1 = ec.generate_private_key(ec.SECP256R1())


def _jwk(private_key: Any, kid: str, alg: str) -> dict[str, Any]:
    to_jwk = ECAlgorithm.to_jwk if alg.startswith("ES") else RSAAlgorithm.to_jwk
    return {**to_jwk(private_key.public_key(), as_dict=True), "kid": kid, "alg": alg, "use": "sig"}


# A symmetric key published by mistake: whoever reads the JWKS knows it, so it must sign nothing.
OCT_SECRET = b"published-symmetric-key-0123456789abcdef"
OCT_JWK = {"kty": "oct", "kid": "oct-1", "k": jwt.utils.base64url_encode(OCT_SECRET).decode(), "use": "sig"}
FIRST_SET = {"keys": [_jwk(RSA_1, "rsa-1", "RS256"), _jwk(EC_1, "ec-1", "ES256"), OCT_JWK]}
ROTATED_SET = {"keys": [_jwk(RSA_2, "rsa-2", "RS256"), _jwk(EC_1, "ec-1", "ES256")]}


@dataclass
class JwksEndpoint:
    """A JWKS served over real HTTP on 127.0.0.1; `served` may be switched at any time."""

    url: str = ""
    served: dict[str, Any] = field(default_factory=lambda: FIRST_SET)
    requests: int = 0
    answering: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.answering.set()


@pytest.fixture
def endpoint() -> Iterator[JwksEndpoint]:
    state = JwksEndpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            state.requests += 1
            state.answering.wait(timeout=60)
            body = json.dumps(state.served).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    try:
        yield state
    finally:
        state.answering.set()
        server.shutdown()
        server.server_close()
        thread.join()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(endpoint: JwksEndpoint) -> Clock:
    """The key cache of this test's JWKS URL runs on a clock the test moves."""
    fake = Clock()
    jwks.jwks_keys(endpoint.url).clock = fake
    return fake


@pytest.fixture
def idp(database, monkeypatch, endpoint: JwksEndpoint, clock: Clock) -> JwksEndpoint:
    settings = get_settings()
    monkeypatch.setattr(settings, "jwks_url", endpoint.url)
    monkeypatch.setattr(settings, "jwt_issuer", ISSUER)
    monkeypatch.setattr(settings, "jwt_audience", AUDIENCE)
    return endpoint


def person_claims(mobile: str | None = None, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"typ": "person", "mobile": mobile or f.unique_mobile(), "iss": ISSUER, "aud": AUDIENCE,
              "iat": now, "exp": now + 600, "jti": uuid.uuid4().hex, **overrides}
    return {k: v for k, v in claims.items() if v is not None}


def signed(claims: dict[str, Any], key: Any = RSA_1, kid: str | None = "rsa-1", alg: str = "RS256") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid} if kid else None)


async def ask(*tokens: str) -> list[Any]:
    async with api(budgets=NO_BUDGETS) as c:
        return [
            await timed(c.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {t}"}))
            for t in tokens
        ]


def assert_unauthenticated(r: Any) -> None:
    assert r.status == 401, r.body
    assert r.body["data"] is None and r.codes == ["UNAUTHENTICATED"], r.body


async def test_person_tokens_verify_with_the_keys_of_the_jwks_url(idp):
    rsa_mobile, ec_mobile, dev_mobile = f.unique_mobile(), f.unique_mobile(), f.unique_mobile()
    answers = await ask(
        signed(person_claims(rsa_mobile)),
        signed(person_claims(ec_mobile, aud=["another-service", AUDIENCE]), EC_1, "ec-1", "ES256"),
        issue_person_token(dev_mobile),  # our own dev-issued tokens still verify beside them
    )
    assert [a.body["data"]["viewer"] for a in answers] == [
        {"kind": "PERSON", "mobile": rsa_mobile}, {"kind": "PERSON", "mobile": ec_mobile},
        {"kind": "PERSON", "mobile": dev_mobile},
    ]
    assert idp.requests == 1  # one fetch, then the cached keys


def wrong_issuer(m: Member) -> str:
    return signed(person_claims(m.mobile, iss="https://evil.example.com/"))


def missing_issuer(m: Member) -> str:
    return signed(person_claims(m.mobile, iss=None))


def wrong_audience(m: Member) -> str:
    return signed(person_claims(m.mobile, aud="another-service"))


def missing_audience(m: Member) -> str:
    return signed(person_claims(m.mobile, aud=None))


def expired(m: Member) -> str:
    return signed(person_claims(m.mobile, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600))


def unknown_kid(m: Member) -> str:
    return signed(person_claims(m.mobile), kid="rsa-unknown")


def known_kid_signed_by_a_stranger(m: Member) -> str:
    return signed(person_claims(m.mobile), STRANGER)


def another_algorithm_than_the_keys(m: Member) -> str:
    # rsa-1 is published for RS256: the same key with RS512 or PS256 is not accepted.
    return signed(person_claims(m.mobile), alg="PS256")


def rsa_signature_under_the_ec_kid(m: Member) -> str:
    return signed(person_claims(m.mobile), RSA_1, kid="ec-1", alg="RS256")


def hs256_claiming_the_idp_issuer(m: Member) -> str:
    # Our own secret signs our own tokens only: a token claiming the identity provider is
    # refused (no `aud`: our own tokens carry none, so the issuer alone must refuse it).
    return jwt.encode(person_claims(m.mobile, aud=None), get_settings().secret, algorithm="HS256")


def hs256_with_the_published_symmetric_key(m: Member) -> str:
    return signed(person_claims(m.mobile), OCT_SECRET, kid="oct-1", alg="HS256")


def hs256_keyed_with_the_jwk_public_key(m: Member) -> str:
    # By hand: PyJWT rightly refuses a JWK as an HMAC secret.
    public = json.dumps(_jwk(RSA_1, "rsa-1", "RS256")).encode()
    head = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    body = jwt.utils.base64url_encode(json.dumps(person_claims(m.mobile)).encode())
    signature = hmac.new(public, head + b"." + body, hashlib.sha256).digest()
    return b".".join([head, body, jwt.utils.base64url_encode(signature)]).decode()


def member_token_signed_by_the_idp(m: Member) -> str:
    now = int(time.time())
    claims = {"typ": "member", "mid": m.id, "iss": ISSUER, "aud": AUDIENCE, "exp": now + 600, "jti": "m"}
    return signed(claims)


def alg_none_with_a_kid(m: Member) -> str:
    return jwt.encode(person_claims(m.mobile), None, algorithm="none", headers={"kid": "rsa-1"})


REFUSED: list[Callable[[Member], str]] = [
    wrong_issuer, missing_issuer, wrong_audience, missing_audience, expired, unknown_kid,
    known_kid_signed_by_a_stranger, another_algorithm_than_the_keys, rsa_signature_under_the_ec_kid,
    hs256_claiming_the_idp_issuer, hs256_with_the_published_symmetric_key, hs256_keyed_with_the_jwk_public_key,
    member_token_signed_by_the_idp, alg_none_with_a_kid,
]


@pytest.mark.parametrize("forge", REFUSED, ids=[r.__name__ for r in REFUSED])
async def test_identity_provider_tokens_failing_any_check_are_unauthenticated(idp, forge):
    _, root = await f.corp()
    member = await f.member([root], mobile=f.unique_mobile())
    [answer] = await ask(forge(member))
    assert_unauthenticated(answer)


async def test_without_a_configured_audience_a_token_naming_one_is_refused(idp, monkeypatch):
    # A token addressed to some audience was meant for that service, not for one that
    # cannot tell whether it is the one meant.
    monkeypatch.setattr(get_settings(), "jwt_audience", None)
    without, addressed = await ask(signed(person_claims(aud=None)), signed(person_claims()))
    assert without.body["data"]["viewer"]["kind"] == "PERSON"
    assert_unauthenticated(addressed)


async def test_a_rotated_key_is_fetched_by_its_kid_and_the_retired_key_refused(idp, clock):
    [before] = await ask(signed(person_claims()))
    assert before.body["data"]["viewer"]["kind"] == "PERSON"

    idp.served = ROTATED_SET
    [too_soon] = await ask(signed(person_claims(), RSA_2, "rsa-2"))
    assert_unauthenticated(too_soon)  # within the cooldown the set is not fetched again
    assert idp.requests == 1

    clock.now += jwks.COOLDOWN_SECONDS
    new_key, retired_key = await ask(signed(person_claims(), RSA_2, "rsa-2"), signed(person_claims()))
    assert new_key.body["data"]["viewer"]["kind"] == "PERSON"
    assert_unauthenticated(retired_key)
    assert idp.requests == 2


async def test_cached_keys_are_fetched_again_once_stale(idp, clock):
    await ask(signed(person_claims()))
    clock.now += jwks.LIFESPAN_SECONDS - 1
    await ask(signed(person_claims()))
    assert idp.requests == 1
    idp.served = ROTATED_SET  # rsa-1 withdrawn: noticed at the next fetch
    clock.now += 1
    [withdrawn] = await ask(signed(person_claims()))
    assert_unauthenticated(withdrawn)
    assert idp.requests == 2


async def test_tokens_naming_invented_kids_do_not_make_the_gateway_hammer_the_jwks_url(idp, clock):
    answers = await ask(*[signed(person_claims(), kid=f"invented-{i}") for i in range(30)])
    for answer in answers:
        assert_unauthenticated(answer)
    assert idp.requests == 1
    clock.now += jwks.COOLDOWN_SECONDS
    await ask(*[signed(person_claims(), kid=f"invented-again-{i}") for i in range(30)])
    assert idp.requests == 2


async def test_an_unreachable_jwks_url_is_not_retried_on_every_request(idp, clock, monkeypatch):
    # A closed port: every fetch fails at once.
    from tests.servers import free_port

    url = f"http://127.0.0.1:{free_port()}/jwks.json"
    jwks.jwks_keys(url).clock = clock
    monkeypatch.setattr(get_settings(), "jwks_url", url)
    answers = await ask(*[signed(person_claims()) for _ in range(5)])
    for answer in answers:
        assert_unauthenticated(answer)
    assert jwks.jwks_keys(url).fetches == 1


async def test_fetching_the_keys_does_not_block_the_event_loop(idp):
    jwks.jwks_keys(idp.url).client.timeout = 120  # the endpoint may answer as late as it likes
    idp.answering.clear()  # the JWKS endpoint holds its answer until the test lets it go
    mobile = f.unique_mobile()
    async with api(budgets=NO_BUDGETS) as c:
        waiting: Awaitable[Any] = asyncio.ensure_future(c.post(
            "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {signed(person_claims(mobile))}"}
        ))
        while idp.requests == 0:
            await asyncio.sleep(0.01)
        # Served while the key fetch is still waiting on the endpoint: the loop is free.
        health = await asyncio.wait_for(c.get("/healthz"), timeout=60)
        assert not waiting.done()
        idp.answering.set()
        answer = await asyncio.wait_for(waiting, timeout=60)
    assert health.status_code == 200
    assert answer.json()["data"]["viewer"] == {"kind": "PERSON", "mobile": mobile}
