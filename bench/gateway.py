"""Gateway protection figures: how fast abusive requests are refused, what a request budget
costs per decision (in process and in Redis), and what a worker serves before and after a
caller's budget runs out.

    python -m bench.gateway                      # SQLite in a temp dir, Redis at 127.0.0.1:6379
    python -m bench.gateway --redis-url redis://127.0.0.1:6379/0 --requests 500

Everything runs in this process against loopback only; Redis figures are skipped, saying
why, when Redis is unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from graphql import get_introspection_query

ABUSE: dict[str, dict[str, Any] | bytes] = {
    "101 aliases": {"query": "{ " + " ".join(f"a{i}: viewer {{ kind }}" for i in range(101)) + " }"},
    "depth 16": {"query": "{ viewer { corp { rootUnit { " + "children { " * 12 + "name" + " }" * 12 + " } } } }"},
    "parser bomb (600 levels)": {"query": "{" + "viewer{" * 600 + "kind" + "}" * 600 + "}"},
    "fragment cycle": {"query": "query { ...A } fragment A on Query { viewer { kind } ...B } fragment B on Query { ...A }"},
    "fragment fan-out 2^60": {"query": "query { ...F60 } fragment F0 on Query { viewer { kind } } " + " ".join(
        f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 61))},
    "2500 tokens": {"query": "{ viewer { " + "kind " * 2500 + "} }"},
    "280 repeated selections": {"query": "{ " + "viewer { corp { name } } " * 280 + "}"},
    "over-cost nested pages": {"query": 'query { corp(id: "Q29ycDox") { members(first: 100) { edges { node { corp {'
                               " members(first: 100) { edges { node { name } } } } } } } } }"},
    "introspection (anonymous)": {"query": get_introspection_query()},
    "field suggestion bait": {"query": "{ viewer { isSuperAdmn } }"},
    "batch of 2": b'[{"query": "{ viewer { kind } }"}, {"query": "{ viewer { kind } }"}]',
    "deep JSON (100k levels)": b"[" * 100_000 + b"]" * 100_000,
    "2 MiB body": json.dumps({"query": "{ viewer { kind } }", "pad": "x" * (2 * 1024 * 1024)}).encode(),
}


async def timed_ms(call: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, float, Any]:
    samples = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples), result


async def post_abuse(client: httpx.AsyncClient, payload: bytes | dict[str, Any]) -> httpx.Response:
    if isinstance(payload, bytes):
        return await client.post("/graphql", content=payload, headers={"Content-Type": "application/json"})
    return await client.post("/graphql", json=payload)


async def abuse(client: httpx.AsyncClient, repeat: int) -> None:
    print(f"\n== abusive requests, refused (median / max of {repeat}, ms)")
    for name, payload in ABUSE.items():
        median, worst, response = await timed_ms(functools.partial(post_abuse, client, payload), repeat)
        codes = {e.get("extensions", {}).get("code") for e in response.json().get("errors", [])}
        print(f"  {name:28} {median:7.2f} / {worst:7.2f}   HTTP {response.status_code} {sorted(codes)}")


async def limiter_figures(redis_url: str, decisions: int) -> None:
    from auth.ratelimit import InMemoryRateLimiter, RateRule, RedisRateLimiter

    rule = RateRule(rate=1e6, burst=10**9)
    local = InMemoryRateLimiter()
    started = time.perf_counter()
    for i in range(decisions):
        await local.take(f"k{i % 1000}", rule)
    elapsed = time.perf_counter() - started
    print(f"\n== budget decisions\n  in process: {decisions / elapsed:,.0f} decisions/s")

    import redis.asyncio as redis

    probe = redis.Redis.from_url(redis_url, socket_connect_timeout=1)
    try:
        await probe.ping()
    except OSError as exc:
        print(f"  Redis: skipped ({redis_url} unreachable: {exc})")
        return
    except Exception as exc:  # redis-py raises its own ConnectionError
        print(f"  Redis: skipped ({redis_url} unreachable: {type(exc).__name__}: {exc})")
        return
    finally:
        await probe.aclose()
    shared = RedisRateLimiter(redis_url, prefix=f"bench:{uuid.uuid4().hex}:")
    try:
        count = min(decisions, 5000)
        started = time.perf_counter()
        for i in range(count):
            await shared.take(f"k{i % 1000}", rule)
        sequential = time.perf_counter() - started
        started = time.perf_counter()
        await asyncio.gather(*(shared.take(f"k{i % 1000}", rule) for i in range(count)))
        concurrent = time.perf_counter() - started
        tight = RateRule(rate=0.001, burst=100)
        results = await asyncio.gather(*(shared.take("hot", tight) for _ in range(1000)))
    finally:
        await shared.close()
    print(f"  Redis, one at a time: {count / sequential:,.0f} decisions/s "
          f"({sequential / count * 1000:.3f} ms each)")
    print(f"  Redis, {count} concurrent: {count / concurrent:,.0f} decisions/s")
    print(f"  Redis, 1000 concurrent on a bucket of 100: {sum(r.allowed for r in results)} allowed")


async def served(requests: int) -> None:
    from auth.ratelimit import RateRule
    from tests import factories as f
    from web.app import create_app
    from web.gate import Budgets

    _, root = await f.corp("压测")
    token = f.token(await f.super_admin(root))
    headers = {"Authorization": f"Bearer {token}"}
    query = {"query": "{ viewer { kind corp { name members(first: 20) { totalCount edges { node { name } } } } } }"}
    print(f"\n== one worker, {requests} sequential requests by one member")
    for label, budgets in (
        ("no budget", Budgets(RateRule(0, 0), RateRule(0, 0))),
        ("budget 50/s, burst 100", Budgets(RateRule(50, 100), RateRule(0, 0))),
    ):
        app = create_app(manage_db=False, budgets=budgets)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            statuses: list[int] = []
            ok_ms: list[float] = []
            refused_ms: list[float] = []
            started = time.perf_counter()
            for _ in range(requests):
                t = time.perf_counter()
                response = await client.post("/graphql", json=query, headers=headers)
                (ok_ms if response.status_code == 200 else refused_ms).append((time.perf_counter() - t) * 1000)
                statuses.append(response.status_code)
            elapsed = time.perf_counter() - started
        refused = statuses.count(429)
        line = (f"  {label:24} {requests / elapsed:7.0f} req/s; answered {statuses.count(200)} "
                f"(median {statistics.median(ok_ms):.2f} ms)")
        if refused:
            line += f", refused {refused} with 429 (median {statistics.median(refused_ms):.2f} ms)"
        print(line)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    from models.db import close_db, init_db
    from web.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        await init_db(f"sqlite://{tmp}/bench.sqlite3")
        try:
            from auth.ratelimit import RateRule
            from web.gate import Budgets

            app = create_app(manage_db=False, budgets=Budgets(RateRule(0, 0), RateRule(0, 0), RateRule(0, 0)))
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
                await abuse(client, args.repeat)
            await limiter_figures(args.redis_url, 50_000)
            await served(args.requests)
        finally:
            await close_db()


if __name__ == "__main__":
    asyncio.run(main())
