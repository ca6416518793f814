"""What the change log (migration 0011's triggers, SPEC §3.9) costs, with and without it.

    python -m bench.change_log                        # both parts, both databases
    python -m bench.change_log --part update --db sqlite --rounds 20
    python -m bench.change_log --part import --rows 100000

`update`: one database, 200 members; rounds alternate triggers on / off (interleaved, so load
drifts hit both alike); each round times 50 member updates (position + a seat move, each its
own transaction as an API mutation is). Prints the median ms per update and the ratio.
`import`: bench.import_directory's child on a fresh database with the triggers, and on another
without them (dropped after migrating); prints seconds and the ratio (P4: ≤ 60 s with the log).
One run each: the machine's load shows in the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import import_directory as imp

# The change log's triggers: the feed's own, and the linked contacts' (a member's reach).
MIGRATIONS = [importlib.import_module(f"models.migrations.{name}")
              for name in ("0011_change_feed", "0013_contact_member_feed")]
STATEMENT = importlib.import_module("models.migrations.0014_statement_triggers")


async def set_triggers(on: bool) -> None:
    from tortoise.connection import connections

    client = connections.get("default")
    dialect = client.capabilities.dialect
    for migration in MIGRATIONS:
        for sql in migration._drop_sql(dialect):
            await client.execute_script(sql)
    if on:
        for migration in MIGRATIONS:
            for sql in migration._trigger_sql(dialect):
                await client.execute_script(sql)
        if dialect == "postgres":
            # As deployed: 0014 turns the feed's insert triggers into statement triggers.
            for sql in _feed_statement_triggers():
                await client.execute_script(sql)


def _feed_statement_triggers() -> list[str]:
    """The PostgreSQL statements that put 0014's statement-level feed insert triggers in place of
    0011's row-level ones (the head-count triggers 0014 also rewrites are never turned off here)."""
    out = []
    for trigger, table, event, transition, function, body in STATEMENT.STATEMENT_TRIGGERS:
        if trigger in ("member_feed_insert", "placement_feed_insert"):
            out += [f"DROP TRIGGER IF EXISTS {trigger} ON {table}",
                    STATEMENT._function(function, body, STATEMENT.STATEMENT_SETTINGS),
                    f"CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {transition} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"]
    return out


async def member_updates(url: str, rounds: int, per_round: int = 50) -> dict[str, float]:
    from tortoise.transactions import in_transaction

    from flows.directory import create_corp
    from flows.identity import ensure_person
    from models import Member, OrgUnit, Placement
    from models.db import close_db, init_db
    from permissions.viewer import Viewer, ViewerKind
    from tests import factories as f  # rows as the flows write them

    await init_db(url)
    try:
        person = await ensure_person("+8613700000001", "基准管理员")
        admin = await create_corp(Viewer(kind=ViewerKind.PERSON, person_id=person.id), "基准企业")
        root = await OrgUnit.get(corp_id=admin.corp_id, parent_id=None)
        units = [await f.unit(root, f"部门{i}") for i in range(4)]
        members = [await f.member([units[i % 4]], name=f"成员{i}") for i in range(200)]
        timings: dict[bool, list[float]] = {True: [], False: []}
        n = 0
        for r in range(rounds * 2):
            on = r % 2 == 0
            await set_triggers(on)
            started = time.perf_counter()
            for _ in range(per_round):
                m = members[n % len(members)]
                n += 1
                async with in_transaction():
                    await Member.filter(id=m.id).update(position=f"职位{n}")
                    await Placement.filter(member_id=m.id).update(unit_id=units[n % 4].id)
            timings[on].append((time.perf_counter() - started) * 1000 / per_round)
        await set_triggers(True)
        return {"with_ms": statistics.median(timings[True]), "without_ms": statistics.median(timings[False])}
    finally:
        await close_db()


async def _prepare(url: str, log: bool) -> None:
    from models.db import close_db, init_db

    await init_db(url)
    try:
        await set_triggers(log)
    finally:
        await close_db()


def import_run(url: str, file: Path, log: bool) -> dict[str, Any] | str:
    asyncio.run(_prepare(url, log))
    return imp.run_child("with log" if log else "without log", url, file, "directory")


def databases(which: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if which in ("sqlite", "both"):
        out.append(("sqlite", None))
    if which in ("postgres", "both"):
        out.append(("postgres", None))
    return out


def with_database(kind: str, work: Any) -> Any:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            return work(f"sqlite://{tmp}/bench.sqlite3")
    pg = asyncio.run(imp.postgres_url())
    if isinstance(pg, str):
        return pg
    try:
        return work(pg[1])
    finally:
        asyncio.run(imp.drop_postgres(*pg))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["update", "import", "both"], default="both")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    if args.db == "both":  # one process per database: Tortoise keeps per-dialect SQL in its models
        for kind in ("sqlite", "postgres"):
            subprocess.run([sys.executable, "-m", "bench.change_log", "--db", kind, "--part", args.part,
                            "--rows", str(args.rows), "--rounds", str(args.rounds)], check=False)
        return
    for kind, _ in databases(args.db):
        if args.part in ("update", "both"):
            r = with_database(kind, lambda url: asyncio.run(member_updates(url, args.rounds)))
            if isinstance(r, str):
                print(f"{kind}: {r}")
            else:
                print(f"{kind} member update (position + seat move, one transaction): with log "
                      f"{r['with_ms']:.2f} ms, without {r['without_ms']:.2f} ms, ratio {r['with_ms'] / r['without_ms']:.2f}"
                      f" (median of {args.rounds} interleaved rounds of 50)")
        if args.part in ("import", "both"):
            file = Path(tempfile.gettempdir()) / f"chaingate-bench-directory-{args.rows}.xlsx"
            if not file.exists():
                imp.generate(args.rows, file, "directory")
            got = {log: with_database(kind, lambda url, log=log, file=file: import_run(url, file, log)) for log in (True, False)}
            line = []
            for log, r in got.items():
                label = "with log" if log else "without log"
                line.append(f"{label} {r}" if isinstance(r, str) else
                            f"{label} {float(r['seconds']):.1f} s ({r['status']}, peak {float(r['peak_mb']):.0f} MB)")
            ratio = ""
            if not any(isinstance(r, str) for r in got.values()):
                ratio = f", ratio {float(got[True]['seconds']) / float(got[False]['seconds']):.2f}"
            print(f"{kind} import of {args.rows} rows: " + "; ".join(line) + ratio)


if __name__ == "__main__":
    main()
