"""In-process request helpers for the benchmarks: a request is authentication (token to
Viewer) plus schema execution with a fresh context, as /graphql does it minus HTTP."""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Result:
    data: Any
    seconds: float


async def request(token: str, query: str, variables: dict[str, Any] | None = None) -> Result:
    """One request: authenticate the bearer token, execute with fresh loaders, on one
    database connection as /graphql does; errors raise."""
    from auth.backend import authenticate
    from gql.context import make_context
    from gql.schema import schema
    from models.db import request_connection

    started = time.perf_counter()
    async with request_connection():
        viewer = await authenticate(f"Bearer {token}")
        result = await schema.execute(query, variable_values=variables, context_value=make_context(viewer))
    seconds = time.perf_counter() - started
    if result.errors:
        raise RuntimeError(f"GraphQL errors: {[str(e) for e in result.errors]}")
    return Result(result.data, seconds)


class StatementCounter(logging.Handler):
    """Counts the SQL statements Tortoise logs (one DEBUG record each)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def count_statements(call: Callable[[], Awaitable[Any]]) -> tuple[int, Any]:
    logger = logging.getLogger("tortoise.db_client")
    counter = StatementCounter()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.propagate, propagated = False, logger.propagate
    logger.addHandler(counter)
    try:
        value = await call()
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous)
        logger.propagate = propagated
    return counter.count, value


async def interleaved(calls: dict[str, Callable[[], Awaitable[Any]]], repeat: int, warmup: int = 3) -> dict[str, list[float]]:
    """Run the calls round-robin (so machine noise hits all of them alike) and keep
    each one's wall times in milliseconds."""
    for _ in range(warmup):
        for call in calls.values():
            await call()
    samples: dict[str, list[float]] = {k: [] for k in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            started = time.perf_counter()
            await call()
            samples[name].append((time.perf_counter() - started) * 1000)
    return samples


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


async def _backend_pids() -> list[int]:
    """PostgreSQL backends connected to this database (none on SQLite)."""
    from tortoise.connection import get_connection

    conn = get_connection("default")
    if conn.capabilities.dialect != "postgres":
        return []
    _, rows = await conn.execute_query("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    return [int(r["pid"]) for r in rows]


async def interleaved_cpu(
    calls: dict[str, Callable[[], Awaitable[Any]]], rounds: int, batch: int = 10
) -> dict[str, list[float]]:
    """CPU milliseconds per call, this process's plus the PostgreSQL backends' (from /proc,
    as bench.http_load counts a server's): each call runs `batch` times in a row, the calls
    take turns for `rounds` rounds. Unlike wall time, another job's load on the machine is
    not counted. One figure per round and call."""
    import os

    from bench.http_load import cpu_seconds

    samples: dict[str, list[float]] = {k: [] for k in calls}
    me = os.getpid()
    for _ in range(rounds):
        for name, call in calls.items():
            pids = await _backend_pids()
            before = [cpu_seconds(p) for p in pids]
            started = time.process_time()
            for _ in range(batch):
                await call()
            spent = time.process_time() - started
            spent += sum(max(0.0, cpu_seconds(p) - b) for p, b in zip(pids, before, strict=True) if p != me)
            samples[name].append(spent / batch * 1000)
    return samples
