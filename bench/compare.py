"""Two checkouts side by side over HTTP: this one ("new") and another ("base", e.g. main),
serving the same bench database, loaded in interleaved rounds.

    python -m bench.compare --db postgres --base /work/wt/baseline --rounds 5 --seconds 10
    python -m bench.compare --base ../main --base-python ../main/.venv/bin/python --page contacts

Both servers (uvicorn, one worker each unless `--workers`, request budgets off, as
bench.http_load starts them) run for the whole comparison; each round loads one, then the
other, with wrk (`-t1`, `--connections`, `--timeout`), the order swapped every round (ABBA)
so that a drift of the machine's load falls on both alike. Only the loaded server works
during its turn, so the CPU meter (its processes plus the PostgreSQL backends of the bench
database, from /proc: bench.http_load.CpuMeter) counts its requests alone.

Pages (`--page`):
  members    a scoped (DEPARTMENT) member's members page of 20 with departments (bench.queries.MEMBERS_PAGE)
  contacts   a downstream member's chain contacts page of 20 (bench.queries.CHAIN_CONTACTS)
  light      20 member names as the super admin

Output: per round and side req/s, p50, CPU per request (server, PostgreSQL); then the
medians and the ratios new / base (req/s: higher is better; CPU: lower is better).
`--json` adds the medians as one JSON line at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import queries
from bench.http_load import CpuMeter, dataset, free_port, start_server, stop_server, wait_ready, wrk

LIGHT_PAGE = "query($c: ID!, $n: Int!) { corp(id: $c) { members(first: $n) { edges { node { id name } } } } }"


@dataclass
class Side:
    name: str
    checkout: str | None
    python: str | None
    port: int = 0
    server: Any = None
    runs: list[dict[str, float]] = field(default_factory=list)

    def median(self, key: str) -> float:
        return statistics.median(r[key] for r in self.runs)


def page_request(page: str, manifest: Any) -> tuple[str, str]:
    """(bearer token, JSON body) for `page`."""
    from strawberry import relay

    from auth.tokens import issue_member_token

    def gid(kind: str, pk: int) -> str:
        return str(relay.GlobalID(kind, str(pk)))

    if page == "members":
        member, query, variables = manifest.scoped_member_id, queries.MEMBERS_PAGE, {"c": gid("Corp", manifest.corp_id), "n": 20}
    elif page == "contacts":
        member, query, variables = (manifest.downstream_member_id, queries.CHAIN_CONTACTS,
                                    {"ch": gid("ChainSpace", manifest.chain_id), "n": 20})
    else:
        member, query, variables = manifest.super_admin_id, LIGHT_PAGE, {"c": gid("Corp", manifest.corp_id), "n": 20}
    return issue_member_token(member), json.dumps({"query": query, "variables": variables})


def load_once(side: Side, url: str, body: str, token: str, seconds: int, connections: int, timeout: int) -> dict[str, float]:
    meter = CpuMeter(side.server.pid, url)
    meter.start()
    figures = wrk(side.port, body, token, seconds, connections, timeout)
    server_cpu, db_cpu = meter.stop()
    answered = max(1.0, figures["requests"])
    figures["server_ms"] = server_cpu / answered * 1000
    figures["db_ms"] = db_cpu / answered * 1000
    figures["total_ms"] = figures["server_ms"] + figures["db_ms"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--base", required=True, help="the other checkout's directory (e.g. main)")
    parser.add_argument("--base-python", help="its interpreter (default: BASE/.venv/bin/python when present)")
    parser.add_argument("--page", choices=["members", "contacts", "light"], default="members")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=10, help="seconds before wrk counts a request as timed out")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    base_dir = str(Path(args.base).resolve())
    base_python = args.base_python or next(
        (str(p) for p in [Path(base_dir, ".venv", "bin", "python")] if p.exists()), None)
    url, manifest = asyncio.run(dataset(args.db, args.scale))
    token, body = page_request(args.page, manifest)
    sides = [Side("base", base_dir, base_python), Side("new", None, None)]
    print(f"{args.db}: page {args.page!r}; base {base_dir} ({base_python or 'this interpreter'}), new {os.getcwd()}; "
          f"{args.workers} worker(s) each; wrk -t1 -c{args.connections}, {args.seconds} s a turn, {args.rounds} rounds (ABBA)")
    try:
        for side in sides:
            side.port = free_port()
            side.server = start_server(url, args.workers, side.port, checkout=side.checkout, python=side.python)
        for side in sides:
            wait_ready(side.port)
            wrk(side.port, body, token, 3, args.connections, args.timeout)  # warm: kept Viewer, caches, plans
        for n in range(args.rounds):
            order = sides if n % 2 == 0 else sides[::-1]
            for side in order:
                f = load_once(side, url, body, token, args.seconds, args.connections, args.timeout)
                side.runs.append(f)
                print(f"  round {n + 1} {side.name:4}  {f['rps']:7.1f} req/s  p50 {f['p50_ms']:6.1f} ms  "
                      f"CPU/request server {f['server_ms']:6.2f} ms  PostgreSQL {f['db_ms']:6.2f} ms  "
                      f"non-2xx {int(f['non2xx'])}  timeouts {int(f['timeouts'])}", flush=True)
    finally:
        for side in sides:
            if side.server is not None:
                stop_server(side.server)
    base, new = sides
    print("medians:")
    for side in sides:
        print(f"  {side.name:4}  {side.median('rps'):7.1f} req/s  p50 {side.median('p50_ms'):6.1f} ms  CPU/request "
              f"server {side.median('server_ms'):6.2f} ms  PostgreSQL {side.median('db_ms'):6.2f} ms  "
              f"total {side.median('total_ms'):6.2f} ms")
    ratios = [n["rps"] / b["rps"] for b, n in zip(base.runs, new.runs, strict=True) if b["rps"]]
    print(f"req/s new / base: {statistics.median(ratios):.2f}x (per round {', '.join(f'{r:.2f}' for r in ratios)})")
    print(f"CPU per request new / base: {new.median('total_ms') / max(1e-9, base.median('total_ms')):.2f} "
          f"(server {new.median('server_ms') / max(1e-9, base.median('server_ms')):.2f}, "
          f"PostgreSQL {new.median('db_ms') / max(1e-9, base.median('db_ms')):.2f})")
    if args.json:
        print(json.dumps({s.name: {k: s.median(k) for k in ("rps", "p50_ms", "server_ms", "db_ms", "total_ms")}
                          for s in sides} | {"rps_ratio": statistics.median(ratios)}))


if __name__ == "__main__":
    main()
