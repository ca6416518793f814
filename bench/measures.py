"""Performance and scale: the measures P1-P6 against their goals, on the large dataset.

    python -m bench.measures                        # SQLite and PostgreSQL, everything
    python -m bench.measures --db sqlite --skip-import --skip-http
    python -m bench.measures --only P1,P3 --repeat 50

The dataset comes from bench.generate (cached: the first run builds it, about a minute a
database). Each database runs in its own child process. Timings are in-process requests
(token -> Viewer -> schema execution) unless said otherwise; ratios compare calls that ran
interleaved, round after round, so the machine's noise falls on both sides alike.

P1 policy cost     a scoped member's page / a super admin's page of the same rows   <= 1.10
P2 statements      SQL statements per request, page of 10 vs page of 100             equal
P3 GraphQL cost    100 members x 8 fields + departments / raw SQL + JSON             <= 3
P4 import          100,000-row directory import (bench.import_directory)            <= 60 s, <= 400 MB
P5 list latency    search and list pages, p50                                        <= 30 ms
P6 HTTP            uvicorn, page of 20, 1 worker >= 400 req/s; 2 workers >= 1.7x     (bench.http_load)
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from bench import queries
from bench.harness import count_statements, interleaved, interleaved_cpu, p50, p95, request

GOALS = {
    "P1": "<= 1.10", "P2": "equal at 10 and 100", "P3": "<= 3.0", "P4": "<= 60 s and <= 400 MB",
    "P5": "p50 <= 30 ms", "P6": ">= 400 req/s, 2 workers >= 1.7x",
}


@dataclass
class Report:
    db: str
    lines: list[str] = field(default_factory=list)
    verdicts: list[tuple[str, str, str, bool]] = field(default_factory=list)  # (measure, figure, goal, met)

    def say(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def verdict(self, measure: str, figure: str, met: bool) -> None:
        self.verdicts.append((measure, figure, GOALS[measure.split()[0]], met))


class Viewers:
    def __init__(self, manifest: Any) -> None:
        from auth.tokens import issue_member_token

        roles = {
            "super admin": manifest.super_admin_id,
            "scoped member (DEPARTMENT)": manifest.scoped_member_id,
            "narrow member (SUBDEPARTMENT)": manifest.narrow_member_id,
            "member under ALL": manifest.chain_admin_id,  # sits in 采购部, INHERIT -> the root's ALL
            "directory admin": manifest.directory_admin_id,
            "chain admin (one group)": manifest.chain_admin_id,
            "rule member": manifest.rule_member_id,
            "downstream member": manifest.downstream_member_id,
        }
        self.tokens = {name: issue_member_token(member_id) for name, member_id in roles.items()}

    def __getitem__(self, role: str) -> str:
        return self.tokens[role]


def gid(type_name: str, pk: int) -> str:
    from strawberry import relay

    return str(relay.GlobalID(type_name, str(pk)))


def _ids(data: Any) -> list[str]:
    """Node ids of the first connection found in a response."""
    if isinstance(data, dict):
        if "edges" in data:
            return [e["node"]["id"] for e in data["edges"]]
        for value in data.values():
            found = _ids(value)
            if found:
                return found
    return []


# --- P1 ------------------------------------------------------------------------------------

async def p1(r: Report, m: Any, v: Viewers, repeat: int) -> None:
    unit = {"u": gid("OrgUnit", m.same_rows_unit_id), "n": 20}
    admin = (await request(v["super admin"], queries.UNIT_PAGE, unit)).data
    scoped = (await request(v["scoped member (DEPARTMENT)"], queries.UNIT_PAGE, unit)).data
    # The same members in the same order (their departments and profile fields may differ:
    # the field policy and unit visibility are the point of the policy).
    same = bool(_ids(admin)) and _ids(admin) == _ids(scoped)
    samples = await interleaved({
        "admin": lambda: request(v["super admin"], queries.UNIT_PAGE, unit),
        "scoped": lambda: request(v["scoped member (DEPARTMENT)"], queries.UNIT_PAGE, unit),
    }, repeat)
    ratio = p50(samples["scoped"]) / p50(samples["admin"])
    r.say(f"\n== P1 policy cost: members(first: 20, includeDescendants) of 生产中心, "
          f"{repeat} interleaved rounds (same rows: {same})")
    r.say(f"  super admin        p50 {p50(samples['admin']):6.2f} ms")
    r.say(f"  scoped member      p50 {p50(samples['scoped']):6.2f} ms")
    r.say(f"  ratio scoped/admin     {ratio:6.3f}   (goal <= 1.10)")
    r.verdict("P1 policy cost", f"{ratio:.3f}", ratio <= 1.10 and same)


# --- P2 ------------------------------------------------------------------------------------

async def p2(r: Report, m: Any, v: Viewers) -> None:
    c, ch = gid("Corp", m.corp_id), gid("ChainSpace", m.chain_id)
    unit = gid("OrgUnit", m.same_rows_unit_id)
    cases = [
        ("members list", queries.MEMBERS_PAGE, {"c": c}, ["super admin", "scoped member (DEPARTMENT)", "downstream member"]),
        ("unit subtree list", queries.UNIT_PAGE, {"u": unit}, ["super admin", "scoped member (DEPARTMENT)"]),
        ("search 'z'", queries.SEARCH, {"c": c, "q": "z"}, ["super admin", "scoped member (DEPARTMENT)"]),
        *((f"search {label}", queries.SEARCH_FILTERED, {"c": c, **variables},
           ["super admin", "scoped member (DEPARTMENT)", "directory admin"])
          for label, variables in searches_with_filters(m)),
        ("chain corps", queries.CHAIN_CORPS, {"ch": ch}, ["super admin", "chain admin (one group)", "rule member", "downstream member"]),
        ("chain contacts", queries.CHAIN_CONTACTS, {"ch": ch}, ["rule member", "downstream member"]),
        # Every joined contact links a member, so both page sizes load members: the same shape.
        ("joined contacts", queries.CHAIN_CONTACTS, {"ch": ch, "status": "JOINED"},
         ["super admin", "chain admin (one group)", "rule member", "downstream member"]),
    ]
    r.say("\n== P2 SQL statements per request (authentication included, warm), first: 10 vs first: 100")
    all_equal = True
    for label, query, variables, roles in cases:
        for role in roles:
            # Warm: the viewer's first request builds and keeps its Viewer (and the page's
            # statement); counted cold, the page of 10 would carry that one-off cost alone.
            await request(v[role], query, {**variables, "n": 10})
            counts = []
            for n in (10, 100):
                count, _ = await count_statements(functools.partial(request, v[role], query, {**variables, "n": n}))
                counts.append(count)
            all_equal &= counts[0] == counts[1]
            r.say(f"  {label:18} {role:30} {counts[0]:3d} / {counts[1]:3d}  {'equal' if counts[0] == counts[1] else 'DIFFERENT'}")
    r.verdict("P2 statements", "equal" if all_equal else "differ", all_equal)


def searches_with_filters(m: Any) -> list[tuple[str, dict[str, Any]]]:
    """The searches SPEC §3.7 adds to name and pinyin: an account, a mobile in the spellings
    people write (spaces, +86, 0086 with dashes, bare digits), a department name, and each
    filter; every variable the query takes, unset ones null."""
    unset = {"s": None, "status": None, "from": None, "to": None, "month": None, "position": None, "gender": None}
    return [
        ("account", {**unset, "q": m.search.get("account", "u0123")}),
        ("mobile", {**unset, "q": "139 0000 0100"}),
        ("mobile +86", {**unset, "q": "+86 139 0000 0100"}),
        ("mobile 0086-", {**unset, "q": "0086-139-0000-0100"}),
        ("mobile digits", {**unset, "q": "13900000100"}),
        ("department", {**unset, "q": m.search.get("department", "营销")}),
        ("surname initial", {**unset, "q": "", "s": "z"}),
        ("position", {**unset, "q": "", "position": "经理"}),
        ("gender", {**unset, "q": "", "gender": "FEMALE"}),
        ("birthday month", {**unset, "q": "", "month": "MARCH"}),
        ("hire range", {**unset, "q": "", "from": "2010-01-01", "to": "2012-12-31"}),
        ("status RESIGNED", {**unset, "q": "", "status": ["RESIGNED"]}),
        ("initial + month", {**unset, "q": "", "s": "z", "month": "JULY"}),
        ("name + position", {**unset, "q": m.search["name"][:1], "position": "经理"}),
    ]


# --- P3 ------------------------------------------------------------------------------------

async def p3(r: Report, m: Any, v: Viewers, repeat: int) -> None:
    from tortoise.connection import get_connection

    from auth.backend import authenticate
    from gql.context import make_context
    from gql.schema import schema
    from models import Member
    from models.db import request_connection
    from permissions.members import visible_members_in_corp_q
    from web.responses import json_body

    r.say(f"\n== P3 GraphQL cost: 100 members x 8 fields + departments, vs raw SQL + JSON ({repeat} rounds)")
    worst = 0.0
    for role in ("super admin", "scoped member (DEPARTMENT)"):
        viewer = await authenticate(f"Bearer {v[role]}")
        variables = {"c": gid("Corp", m.corp_id)}

        # Both sides as a server runs them: on one connection for the request (no pool
        # reset per statement), the answer written by the server's JSON writer. Both closures
        # run inside this iteration (interleaved below), so binding late is safe.
        async def graphql() -> bytes:
            async with request_connection():
                result = await schema.execute(queries.P3_PAGE, variable_values=variables, context_value=make_context(viewer))  # noqa: B023
            assert not result.errors, result.errors
            return json_body({"data": result.data})

        page = (
            Member.filter(visible_members_in_corp_q(viewer, m.corp_id)).exclude(status="RESIGNED")
            .order_by("pinyin_full", "id").limit(100)
            .values_list("id", "name", "account", "mobile", "email", "position", "gender", "status")
        )
        page.sql()  # builds the query
        page_sql, params = page.query.get_parameterized_sql()

        async def raw() -> bytes:
            async with request_connection():
                return await raw_page()

        async def raw_page() -> bytes:
            conn = get_connection("default")
            _, rows = await conn.execute_query(page_sql, params)  # noqa: B023
            ids = ",".join(str(row["0"]) for row in rows)
            _, seats = await conn.execute_query(
                "SELECT p.member_id, p.is_main, u.name FROM placement p JOIN org_unit u ON u.id = p.unit_id "
                f"WHERE p.member_id IN ({ids}) ORDER BY p.is_main DESC, p.\"order\", p.id"
            )
            units: dict[int, list[dict[str, Any]]] = {}
            for s in seats:
                units.setdefault(s["member_id"], []).append({"isMain": bool(s["is_main"]), "unit": {"name": s["name"]}})
            nodes = [
                {"id": row["0"], "name": row["1"], "account": row["2"], "mobile": row["3"], "email": row["4"],
                 "position": row["5"], "gender": row["6"], "status": row["7"], "departments": units.get(row["0"], [])}
                for row in rows
            ]
            return json_body({"data": {"corp": {"members": {"edges": [{"node": n} for n in nodes]}}}})

        samples = await interleaved({"graphql": graphql, "raw": raw}, repeat)
        ratio = p50(samples["graphql"]) / p50(samples["raw"])
        worst = max(worst, ratio)
        r.say(f"  {role:28} GraphQL p50 {p50(samples['graphql']):6.2f} ms   raw p50 {p50(samples['raw']):5.2f} ms   "
              f"ratio {ratio:5.2f}")
        # The same in CPU (this process + PostgreSQL backends): holds where a busy machine moves wall time.
        cpu = await interleaved_cpu({"graphql": graphql, "raw": raw}, max(3, repeat // 10))
        r.say(f"  {'':28} CPU per call: GraphQL {p50(cpu['graphql']):6.2f} ms   raw {p50(cpu['raw']):5.2f} ms   "
              f"ratio {p50(cpu['graphql']) / p50(cpu['raw']):5.2f}")
    r.verdict("P3 GraphQL cost", f"{worst:.2f}", worst <= 3.0)


# --- P5 ------------------------------------------------------------------------------------

async def p5_cases(m: Any) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """The P5 pages: name -> (viewer role, operation, variables); bench.explain reads them too."""
    from models import Member

    c, ch = gid("Corp", m.corp_id), gid("ChainSpace", m.chain_id)
    s = m.search
    # A cursor deep in the list (the 40,000th member in pinyin order), as a client paging
    # that far would hold: keyset cursors make page 2,000 cost what page 1 costs.
    deep = await Member.filter(corp_id=m.corp_id).exclude(status="RESIGNED").order_by("pinyin_full", "id").offset(
        int(0.8 * m.scale["members"])).first().values("pinyin_full", "id")
    import base64

    deep_cursor = base64.urlsafe_b64encode(f"k:{json.dumps([deep['pinyin_full'], deep['id']], ensure_ascii=False, separators=(',', ':'))}".encode()).decode()
    cases: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for role in ("super admin", "scoped member (DEPARTMENT)", "member under ALL", "narrow member (SUBDEPARTMENT)"):
        cases[f"members list                 {role}"] = (role, queries.MEMBERS_PAGE, {"c": c, "n": 20})
    cases["members list, page 2,000 (keyset) super admin"] = ("super admin", queries.MEMBERS_PAGE, {"c": c, "n": 20, "after": deep_cursor})
    cases["unit subtree list             scoped member (DEPARTMENT)"] = (
        "scoped member (DEPARTMENT)", queries.UNIT_PAGE, {"u": gid("OrgUnit", m.same_rows_unit_id), "n": 20})
    for kind in ("name", "pinyin", "initials"):
        for role in ("super admin", "scoped member (DEPARTMENT)", "member under ALL", "directory admin"):
            cases[f"search {kind:8} {s[kind]:9} {role}"] = (role, queries.SEARCH, {"c": c, "q": s[kind], "n": 20})
    # The directory admin's own list: what its filtered searches compare with.
    cases["members list                 directory admin"] = ("directory admin", queries.MEMBERS_PAGE, {"c": c, "n": 20})
    for label, variables in searches_with_filters(m):
        for role in ("super admin", "scoped member (DEPARTMENT)", "directory admin"):
            cases[f"search {label:16} {role}"] = (role, queries.SEARCH_FILTERED, {"c": c, "n": 20, **variables})
    for role in ("super admin", "chain admin (one group)", "rule member", "downstream member"):
        cases[f"chain corps list             {role}"] = (role, queries.CHAIN_CORPS, {"ch": ch, "n": 20})
    for role in ("super admin", "chain admin (one group)", "rule member", "downstream member"):
        cases[f"chain contacts list          {role}"] = (role, queries.CHAIN_CONTACTS, {"ch": ch, "n": 20})
    # The same lists without totalCount: what the page itself costs (no COUNT is run then).
    cases["members list, no totalCount   scoped member (DEPARTMENT)"] = (
        "scoped member (DEPARTMENT)", queries.without_count(queries.MEMBERS_PAGE), {"c": c, "n": 20})
    for role in ("super admin", "chain admin (one group)"):
        cases[f"chain contacts, no totalCount {role}"] = (
            role, queries.without_count(queries.CHAIN_CONTACTS), {"ch": ch, "n": 20})
    return cases


async def p5(r: Report, m: Any, v: Viewers, repeat: int) -> None:
    cases = await p5_cases(m)
    calls = {name: (lambda role=role, q=q, var=var: request(v[role], q, var)) for name, (role, q, var) in cases.items()}
    samples = await interleaved(calls, repeat)
    # CPU per page (this process + PostgreSQL backends): what load on a shared machine leaves alone.
    cpu = await interleaved_cpu(calls, max(3, repeat // 5), batch=3)
    r.say(f"\n== P5 list and search pages of 20 at scale (authentication + execution in process, {repeat} rounds; "
          f"CPU: {max(3, repeat // 5)} rounds of 3)")
    r.say(f"  {'page':62} {'p50 ms':>7} {'p95 ms':>7} {'CPU ms':>7}")
    worst_name, worst = "", 0.0
    for name, times in samples.items():
        r.say(f"  {name:62} {p50(times):7.2f} {p95(times):7.2f} {p50(cpu[name]):7.2f}"
              f"{'   over goal' if p50(times) > 30 else ''}")
        if p50(times) > worst:
            worst_name, worst = name, p50(times)
    worst_cpu = max(cpu, key=lambda name: p50(cpu[name]))
    r.say(f"  worst CPU: {' '.join(worst_cpu.split())} {p50(cpu[worst_cpu]):.2f} ms")
    r.verdict("P5 list latency", f"worst p50 {worst:.1f} ms ({' '.join(worst_name.split())})", worst <= 30)


# --- the Viewer, built on every request ---------------------------------------------------------

async def viewer_cost(r: Report, v: Viewers, repeat: int) -> None:
    from auth.backend import authenticate

    roles = ["super admin", "scoped member (DEPARTMENT)", "member under ALL", "rule member", "downstream member"]
    statements = {}
    for role in roles:
        statements[role], _ = await count_statements(lambda role=role: authenticate(f"Bearer {v[role]}"))
    samples = await interleaved({role: (lambda role=role: authenticate(f"Bearer {v[role]}")) for role in roles}, repeat)
    r.say(f"\n== Viewer: token -> Viewer on every request (auth.backend.authenticate), {repeat} rounds")
    for role in roles:
        r.say(f"  {role:32} {statements[role]:2d} statements   p50 {p50(samples[role]):5.2f} ms")


# --- P4 and P6: their own scripts ---------------------------------------------------------------

def p4(r: Report, db: str, rows: int) -> None:
    r.say(f"\n== P4 directory import of {rows} rows: python -m bench.import_directory --rows {rows} --db {db}")
    out = subprocess.run([sys.executable, "-m", "bench.import_directory", "--rows", str(rows), "--db", db],
                         capture_output=True, text=True)
    for line in out.stdout.strip().splitlines()[-2:]:
        r.say(f"  {line}")
    last = out.stdout.strip().splitlines()[-1].split() if out.stdout.strip() else []
    try:
        seconds, peak = float(last[1]), float(last[3])
    except (IndexError, ValueError):
        r.verdict("P4 import", "failed", False)
        return
    r.verdict("P4 import", f"{seconds:.1f} s, {peak:.0f} MB", seconds <= 60 and peak <= 400)


def p6(r: Report, db: str, scale: float, seconds: int) -> None:
    verdicts = []
    for page in ("full", "light"):
        r.say(f"\n== P6 HTTP: python -m bench.http_load --db {db} --seconds {seconds} --page {page}")
        out = subprocess.run([sys.executable, "-m", "bench.http_load", "--db", db, "--scale", str(scale),
                              "--seconds", str(seconds), "--page", page, "--json"], capture_output=True, text=True)
        lines = out.stdout.strip().splitlines()
        for line in lines[:-1]:
            r.say(f"  {line}")
        try:
            figures = json.loads(lines[-1])
        except (IndexError, ValueError):
            r.say(out.stderr[-2000:])
            r.verdict("P6 HTTP", f"{page}: failed", False)
            return
        one, two = figures["1"], figures["2"]
        verdicts.append((page, one, two))
    for page, one, two in verdicts:
        r.verdict("P6 HTTP", f"{page} page: {one:.0f} req/s, 2 workers x{two / one:.2f}", one >= 400 and two >= 1.7 * one)


# --- running ----------------------------------------------------------------------------------

async def run_db(args: argparse.Namespace) -> Report:
    from bench.generate import Scale, open_dataset
    from models.db import close_db

    report = Report(args.db)
    scale = Scale.of(args.scale)
    url, manifest = await open_dataset(args.db, scale)
    only = set(args.only.split(",")) if args.only else {"P1", "P2", "P3", "P4", "P5", "P6"}
    report.say(f"### {args.db}: {url} ({manifest.scale['members']} members in {manifest.scale['units']} units, "
               f"{manifest.scale['chain_corps']} chain corps, {manifest.scale['chain_corps'] * 3} contacts)")
    try:
        viewers = Viewers(manifest)
        await request(viewers["super admin"], queries.MEMBERS_PAGE, {"c": gid("Corp", manifest.corp_id), "n": 1})
        if "P1" in only:
            await p1(report, manifest, viewers, args.repeat)
        if "P2" in only:
            await p2(report, manifest, viewers)
        if "P3" in only:
            await p3(report, manifest, viewers, args.repeat)
        if "P5" in only:
            await p5(report, manifest, viewers, args.repeat)
            await viewer_cost(report, viewers, args.repeat)
    finally:
        await close_db()
    if "P4" in only and not args.skip_import:
        p4(report, args.db, args.import_rows)
    if "P6" in only and not args.skip_http:
        p6(report, args.db, args.scale, args.http_seconds)
    return report


def summary(reports: list[tuple[str, list[list[str]]]]) -> None:
    print("\n=========== summary ===========")
    print(f"{'database':9} {'measure':18} {'figure':58} {'goal':28} met")
    for db, verdicts in reports:
        for measure, figure, goal, met in verdicts:
            print(f"{db:9} {measure:18} {figure:58} {goal:28} {'yes' if met else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--only", help="comma-separated measures, e.g. P1,P3")
    parser.add_argument("--skip-import", action="store_true", help="leave out P4 (about 40 s a database)")
    parser.add_argument("--skip-http", action="store_true", help="leave out P6")
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--http-seconds", type=int, default=10)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.db == "both":
        # One database per process: Tortoise keeps SQL per model in the first dialect it met.
        collected = []
        for db in ("sqlite", "postgres"):
            out = f"/tmp/chaingate-measures-{os.getpid()}-{db}.json"
            argv = [a for a in sys.argv[1:]]
            if "--db" in argv:
                i = argv.index("--db")
                del argv[i:i + 2]
            subprocess.run([sys.executable, "-m", "bench.measures", "--db", db, "--json-out", out, *argv], check=False)
            try:
                with open(out) as fh:
                    collected.append((db, json.load(fh)))
                os.unlink(out)
            except OSError:
                collected.append((db, [("all", "child failed", "", False)]))
        summary(collected)
        return
    report = asyncio.run(run_db(args))
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump(report.verdicts, fh)
    else:
        summary([(args.db, [list(v) for v in report.verdicts])])


if __name__ == "__main__":
    main()
