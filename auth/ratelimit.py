"""Request budgets: token buckets per caller, in process or shared through Redis.

A bucket holds up to `burst` tokens and refills at `rate` tokens per second; a request
takes one. In process, each worker keeps its own buckets; with Redis every worker of every
instance draws from the same bucket, updated atomically by one Lua script that also reads
the clock from Redis, so workers whose clocks disagree still agree on the budget.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from auth.tokens import APP_TOKEN_PREFIX, InvalidToken, decode, hash_app_secret

log = logging.getLogger("chaingate.ratelimit")


@dataclass(frozen=True)
class RateRule:
    """`rate` tokens per second into a bucket of `burst` tokens; a rate of 0 means unlimited."""

    rate: float
    burst: int

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0 or self.burst <= 0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    # Seconds until the refused request would be allowed; 0 when allowed.
    retry_after: float
    remaining: int

    @property
    def retry_after_seconds(self) -> int:
        """Whole seconds for the Retry-After header: never 0 for a refusal."""
        return max(1, math.ceil(self.retry_after)) if not self.allowed else 0


ALLOW = Decision(True, 0.0, 0)


class RateLimiter(Protocol):
    async def take(self, key: str, rule: RateRule, cost: int = 1) -> Decision:
        """Take `cost` tokens from `key`'s bucket; cost 0 only asks whether one token is there."""
        ...

    async def close(self) -> None: ...


def _refill(tokens: float, updated: float, now: float, rule: RateRule) -> float:
    return min(float(rule.burst), tokens + max(0.0, now - updated) * rule.rate)


class InMemoryRateLimiter:
    """One worker's buckets. Bounded: the least recently used buckets are dropped first, so a
    flood of made-up keys (random tokens, spoofed ids) cannot grow memory without end; a dropped
    bucket comes back full, which only ever errs towards allowing."""

    def __init__(self, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def take(self, key: str, rule: RateRule, cost: int = 1) -> Decision:
        return self.take_now(key, rule, cost)

    def take_now(self, key: str, rule: RateRule, cost: int = 1) -> Decision:
        if rule.unlimited:
            return ALLOW
        now = self.clock()
        tokens, updated = self._buckets.pop(key, (float(rule.burst), now))
        tokens = _refill(tokens, updated, now, rule)
        need = max(cost, 1)
        allowed = tokens >= need
        if allowed:
            tokens -= cost
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        retry = 0.0 if allowed else (need - tokens) / rule.rate
        return Decision(allowed, retry, int(tokens))

    async def close(self) -> None:
        self._buckets.clear()


# KEYS[1] the bucket; ARGV rate (tokens/s), burst, cost. Returns {allowed, tokens*1000, retry_ms}.
# The clock is Redis's own (TIME), so every worker reads the same time.
TOKEN_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local need = math.max(cost, 1)
local allowed = 0
local retry_ms = 0
if tokens >= need then
  allowed = 1
  tokens = tokens - cost
else
  retry_ms = math.ceil((need - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
-- Once full again the bucket is the same as no bucket: let Redis forget it.
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, math.floor(tokens * 1000), retry_ms}
"""


WARN_INTERVAL = 60.0


class RedisRateLimiter:
    """Buckets shared by every worker through Redis.

    If Redis cannot be reached, the request is judged by a local in-process bucket instead:
    a Redis outage loosens the budget to per worker, it does not take the gateway down.
    """

    def __init__(
        self, url: str, prefix: str = "chaingate:rl:", max_connections: int = 32, timeout: float = 1.0
    ) -> None:
        """`timeout` (seconds): how long a decision may wait for a pooled connection, to connect
        or for Redis's answer before the in-process budget judges instead."""
        import redis.asyncio as redis

        self.prefix = prefix
        # A blocking pool: a burst of concurrent requests waits its turn for one of the
        # connections instead of failing over to the local budget.
        pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=timeout, socket_connect_timeout=timeout,
            socket_timeout=timeout,
        )
        self.client = redis.Redis(connection_pool=pool)
        self._script = self.client.register_script(TOKEN_BUCKET_LUA)
        self.fallback = InMemoryRateLimiter()
        self._warned_at = -WARN_INTERVAL

    async def take(self, key: str, rule: RateRule, cost: int = 1) -> Decision:
        if rule.unlimited:
            return ALLOW
        from redis.exceptions import RedisError

        try:
            allowed, tokens_milli, retry_ms = await self._script(
                keys=[self.prefix + key], args=[rule.rate, rule.burst, cost]
            )
        except (RedisError, OSError) as exc:
            now = time.monotonic()
            if now - self._warned_at >= WARN_INTERVAL:  # one line a minute, not one per request
                self._warned_at = now
                log.warning("rate limiter: Redis unavailable (%s); using the in-process budget", type(exc).__name__)
            return self.fallback.take_now(key, rule, cost)
        return Decision(bool(allowed), int(retry_ms) / 1000, int(tokens_milli) // 1000)

    async def close(self) -> None:
        await self.client.aclose()
        await self.client.connection_pool.disconnect()


def limiter_for(redis_url: str | None) -> RateLimiter:
    """Redis-backed when a URL is configured (several workers share one budget), else in process."""
    return RedisRateLimiter(redis_url) if redis_url else InMemoryRateLimiter()


async def budget_key(token: str) -> str | None:
    """Whose budget a bearer token draws from, found without the database: the member, the
    person or the app behind it, so minting more tokens buys no more requests. None for a
    token that does not verify (it is refused; its attempt counts against the caller's IP)."""
    if token.startswith(APP_TOKEN_PREFIX):
        return "app:" + hash_app_secret(token)[:40]
    try:
        claims = await decode(token)
    except InvalidToken:
        return None
    if claims.member_id is not None:
        return f"member:{claims.member_id}"
    return "person:" + hashlib.sha256((claims.mobile or "").encode()).hexdigest()[:40]
