"""The plans behind the P5 pages: every SQL statement a page runs, with its plan and time.

    CHAINGATE_BENCH_DB=mine python -m bench.explain --db postgres            # every P5 page
    python -m bench.explain --db sqlite --only "members list" --min-ms 1     # pages whose name holds the text

Each page is requested once (as bench.measures does: token -> Viewer -> schema execution)
while Tortoise's statement log is captured; then each statement of the page's resolvers is
run again under `EXPLAIN (ANALYZE, BUFFERS)` on PostgreSQL (planned with its own parameters,
as the app plans it: no statement cache) or timed and shown with `EXPLAIN QUERY PLAN` on
SQLite. Statements under --min-ms are listed by their first line only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from typing import Any

from bench.harness import request


class _Statements(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "%s: %s" and isinstance(record.args, tuple) and len(record.args) == 2:
            self.seen.append((str(record.args[0]), record.args[1]))


async def statements_of(token: str, query: str, variables: dict[str, Any]) -> list[tuple[str, Any]]:
    logger = logging.getLogger("tortoise.db_client")
    handler = _Statements()
    previous, propagated = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        await request(token, query, variables)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        logger.propagate = propagated
    return handler.seen


async def explain(sql: str, values: Any) -> tuple[float, list[str]]:
    """(milliseconds of one run, plan lines)."""
    from tortoise.connection import get_connection

    conn = get_connection("default")
    params = list(values or [])
    started = time.perf_counter()
    await conn.execute_query(sql, params)
    ms = (time.perf_counter() - started) * 1000
    if conn.capabilities.dialect == "postgres":
        _, rows = await conn.execute_query(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return ms, [next(iter(dict(r).values())) for r in rows]
    _, rows = await conn.execute_query(f"EXPLAIN QUERY PLAN {sql}", params)
    return ms, [f"{r['id']:>3} {r['parent']:>3} {r['detail']}" for r in rows]


async def run(args: argparse.Namespace) -> None:
    from bench.generate import Scale, open_dataset
    from bench.measures import Viewers, p5_cases
    from models.db import close_db

    url, manifest = await open_dataset(args.db, Scale.of(args.scale))
    try:
        viewers = Viewers(manifest)
        for name, (role, query, variables) in (await p5_cases(manifest)).items():
            if args.only and args.only not in name:
                continue
            print(f"\n=== {' '.join(name.split())}  [{role}]", flush=True)
            for sql, values in await statements_of(viewers[role], query, variables):
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                ms, plan = await explain(sql, values)
                head = " ".join(sql.split())
                if ms < args.min_ms:
                    print(f"  {ms:7.2f} ms  {head[:150]}")
                    continue
                print(f"  {ms:7.2f} ms  {head}\n           params {values}")
                for line in plan:
                    print(f"           | {line}")
    finally:
        await close_db()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--only", help="only the pages whose name contains this text")
    parser.add_argument("--min-ms", type=float, default=2.0, help="show plans of statements at least this slow")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
