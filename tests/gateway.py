"""Shared by the gateway tests: a fresh app per test (its own request budgets), app tokens,
and timed requests."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from auth.ratelimit import RateLimiter
from auth.tokens import APP_TOKEN_PREFIX, hash_app_secret
from models import AppToken, ChainSpace, Corp
from web.gate import Budgets


@contextlib.asynccontextmanager
async def api(
    *,
    limiter: RateLimiter | None = None,
    budgets: Budgets | None = None,
    client_ip: str = "127.0.0.1",
    app: Any = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on a new app instance (budgets never shared with the suite's client), or on
    `app` when given (several clients, several IPs, one app)."""
    from web.app import create_app

    app = app or create_app(manage_db=False, limiter=limiter, budgets=budgets)
    transport = httpx.ASGITransport(app=app, client=(client_ip, 4321))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def app_token(
    corp: Corp,
    *scopes: str,
    chain: ChainSpace | None = None,
    expires_at: datetime | None = None,
    revoked_at: datetime | None = None,
) -> tuple[str, AppToken]:
    """A partner-app token as stored by the issuing flow: only the secret's hash is kept."""
    secret = APP_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = await AppToken.create(
        corp=corp,
        name=f"app-{secrets.token_hex(3)}",
        token_hash=hash_app_secret(secret),
        prefix=secret[:12],
        scopes=list(scopes),
        chain=chain,
        expires_at=expires_at,
        revoked_at=revoked_at,
    )
    return secret, row


@dataclass
class Timed:
    status: int
    body: Any
    headers: httpx.Headers
    seconds: float

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.body.get("errors") or []) if isinstance(self.body, dict) else []

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]


async def timed(call: Any) -> Timed:
    started = time.perf_counter()
    response: httpx.Response = await call
    seconds = time.perf_counter() - started
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return Timed(response.status_code, body, response.headers, seconds)


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}
