"""P6: requests per second over HTTP, uvicorn serving the large dataset, load from wrk.

    python -m bench.http_load                     # SQLite, 1 then 2 workers, 10 s each
    python -m bench.http_load --db postgres --seconds 20 --connections 16

The server is `uvicorn web.app:create_app --factory --workers N` on loopback with the
request budgets turned off (CHAINGATE_RATE_LIMIT=0, CHAINGATE_ANON_RATE_LIMIT=0: one
token sending hundreds of requests a second is exactly what the budgets exist to refuse).
The load comes from wrk (Debian package `wrk`) in its own process, one thread, 32
connections, sending a members page of 20 as a scoped member (bench.queries.MEMBERS_PAGE;
`--page light`: 20 names as the super admin), the token in the Authorization header. Without
wrk, a small asyncio/httpx generator in a separate process stands in (it needs more CPU
per request than wrk, so it understates the server on a small machine).

Besides req/s (which a busy shared machine moves a lot), each run reports the **CPU per
request**: user + system time of the server's processes and of the PostgreSQL backends
connected to the bench database (read from /proc before and after the load), divided by
the requests answered. It holds where req/s does not, since another job's CPU is not
counted. `--repeat N` runs the load N times and reports medians and the spread. wrk gets
`--timeout` (default 10 s) and its timeouts are reported. The PostgreSQL database is the
bench dataset's (CHAINGATE_BENCH_DB names it, see bench.generate).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import queries


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not come up")


def start_server(url: str, workers: int, port: int, *, checkout: str | None = None,
                 python: str | None = None) -> subprocess.Popen[bytes]:
    """uvicorn serving `checkout` (default: CHAINGATE_BENCH_SERVER_DIR, else this one) with
    `python` (default: this interpreter), in its own process group."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CHAINGATE_RATE_LIMIT": "0",
        "CHAINGATE_ANON_RATE_LIMIT": "0",
    }
    env.pop("REDIS_URL", None)
    # Another checkout's code (side by side with a branch: bench.compare).
    other = checkout or os.environ.get("CHAINGATE_BENCH_SERVER_DIR")
    # Checkouts from before the HTTP layer moved to web/ serve gql.app.
    app = "gql.app:create_app" if other and not Path(other, "web", "app.py").exists() else "web.app:create_app"
    argv = [python or sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    if other:
        env["PYTHONPATH"] = other
    # Its own process group, so stopping it stops its workers too.
    return subprocess.Popen(argv, env=env, start_new_session=True, cwd=other or None)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, in seconds (0 when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_tree(root: int) -> list[int]:
    """The process and its descendants (uvicorn's workers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sorted(tree)


def backend_pids(url: str) -> list[int]:
    """PostgreSQL backends connected to the database of `url` (none for SQLite)."""
    if not url.startswith("postgres"):
        return []

    async def fetch() -> list[int]:
        import asyncpg

        dsn = url.split("?")[0].replace("postgres://", "postgresql://", 1)
        conn = await asyncpg.connect(dsn, timeout=5)
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await conn.close()
        return [r["pid"] for r in rows]

    return asyncio.run(fetch())


class CpuMeter:
    """CPU seconds spent by the server's processes and the database's backends between
    start() and stop(): backends that appear meanwhile count from zero."""

    def __init__(self, server_pid: int, url: str) -> None:
        self.server_pid, self.url = server_pid, url

    def _sample(self) -> tuple[dict[int, float], dict[int, float]]:
        server = {pid: cpu_seconds(pid) for pid in process_tree(self.server_pid)}
        backends = {pid: cpu_seconds(pid) for pid in backend_pids(self.url)}
        return server, backends

    def start(self) -> None:
        self.before = self._sample()

    def stop(self) -> tuple[float, float]:
        after = self._sample()
        spent = []
        for then, now in zip(self.before, after, strict=True):
            spent.append(sum(max(0.0, now[pid] - then.get(pid, 0.0)) for pid in now))
        return spent[0], spent[1]


def wrk(port: int, body: str, token: str, seconds: int, connections: int, timeout: int = 10) -> dict[str, float]:
    script = Path(tempfile.gettempdir()) / f"chaingate-wrk-{os.getpid()}.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body)}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        "done = function(summary, latency, requests)\n"
        '  io.write(string.format("NON2XX %d\\n", summary.errors.status))\n'
        '  io.write(string.format("TIMEOUTS %d\\nREQUESTS %d\\n", summary.errors.timeout, summary.requests))\n'
        '  io.write(string.format("P50 %.3f\\nP99 %.3f\\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))\n'
        "end\n"
    )
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout}s", "-s", str(script),
             f"http://127.0.0.1:{port}/graphql"],
            capture_output=True, text=True, check=True,
        ).stdout
    finally:
        script.unlink(missing_ok=True)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return {
        "rps": rate,
        "non2xx": float(re.search(r"NON2XX (\d+)", out).group(1)),  # type: ignore[union-attr]
        "timeouts": float(re.search(r"TIMEOUTS (\d+)", out).group(1)),  # type: ignore[union-attr]
        "requests": float(re.search(r"REQUESTS (\d+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": float(re.search(r"P50 ([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p99_ms": float(re.search(r"P99 ([\d.]+)", out).group(1)),  # type: ignore[union-attr]
    }


async def _httpx_load(port: int, body: str, token: str, seconds: int, connections: int, timeout: int = 10) -> dict[str, float]:
    import httpx

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    latencies: list[float] = []
    failures = timeouts = 0
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=timeout,
                                 limits=httpx.Limits(max_connections=connections)) as client:
        async def worker() -> None:
            nonlocal failures, timeouts
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.post("/graphql", content=body, headers=headers)
                except httpx.TimeoutException:
                    timeouts += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                failures += response.status_code != 200

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.monotonic() - started
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "non2xx": float(failures), "timeouts": float(timeouts),
            "requests": float(len(latencies)),
            "p50_ms": latencies[len(latencies) // 2], "p99_ms": latencies[int(len(latencies) * 0.99)]}


def httpx_load(port: int, body: str, token: str, seconds: int, connections: int, timeout: int = 10) -> dict[str, float]:
    """The stand-in load generator, in a separate process like wrk."""
    out = subprocess.run(
        [sys.executable, "-c",
         "import asyncio, json, sys; from bench.http_load import _httpx_load; "
         f"print(json.dumps(asyncio.run(_httpx_load({port}, sys.stdin.read(), {token!r}, {seconds}, {connections}, {timeout}))))"],
        input=body, capture_output=True, text=True, check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


LIGHT_PAGE = "query($c: ID!, $n: Int!) { corp(id: $c) { members(first: $n) { edges { node { id name } } } } }"


async def dataset(db: str, scale: float) -> tuple[str, object]:
    from bench.generate import Scale, open_dataset
    from models.db import close_db

    url, manifest = await open_dataset(db, Scale.of(scale))
    await close_db()
    return url, manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=int, default=10)
    # Keep-alive connections stay with the worker that accepted them: with too few, one
    # worker can hold them all and a second worker idles.
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--page", choices=["full", "light"], default="full",
                        help="full: MEMBERS_PAGE as a scoped member; light: names of 20 members as the super admin")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--timeout", type=int, default=10, help="seconds before wrk counts a request as timed out")
    parser.add_argument("--repeat", type=int, default=1, help="load runs per worker count (medians reported)")
    parser.add_argument("--json", action="store_true", help="last line: {workers: req/s} as JSON")
    args = parser.parse_args()

    from strawberry import relay

    from auth.tokens import issue_member_token

    url, manifest = asyncio.run(dataset(args.db, args.scale))
    full = args.page == "full"
    token = issue_member_token(manifest.scoped_member_id if full else manifest.super_admin_id)  # type: ignore[attr-defined]
    body = json.dumps({"query": queries.MEMBERS_PAGE if full else LIGHT_PAGE,
                       "variables": {"c": str(relay.GlobalID("Corp", str(manifest.corp_id))), "n": 20}})  # type: ignore[attr-defined]
    load = wrk if shutil.which("wrk") else httpx_load
    what = "members page of 20 (count, 9 fields, departments) as a scoped member" if full else \
        "20 member names as the super admin"
    print(f"{args.db}: {what}; budgets off; load: "
          f"{'wrk -t1 -c' + str(args.connections) if load is wrk else 'httpx (wrk not installed)'}, {args.seconds} s a run")
    rates: dict[str, float] = {}
    for workers in (int(w) for w in args.workers.split(",")):
        port = free_port()
        server = start_server(url, workers, port)
        runs = []
        try:
            wait_ready(port)
            load(port, body, token, 2, args.connections, args.timeout)  # warm every worker
            meter = CpuMeter(server.pid, url)
            for _ in range(args.repeat):
                meter.start()
                figures = load(port, body, token, args.seconds, args.connections, args.timeout)
                server_cpu, db_cpu = meter.stop()
                answered = max(1.0, figures["requests"])
                figures["server_ms"] = server_cpu / answered * 1000
                figures["db_ms"] = db_cpu / answered * 1000
                runs.append(figures)
        finally:
            stop_server(server)

        def med(key: str, runs: list[dict[str, float]] = runs) -> float:
            return statistics.median(r[key] for r in runs)

        def spread(key: str, runs: list[dict[str, float]] = runs) -> str:
            values = [r[key] for r in runs]
            return f" ({min(values):.1f}-{max(values):.1f})" if len(values) > 1 else ""

        rates[str(workers)] = med("rps")
        print(f"{workers} worker{'s' if workers > 1 else ' '}: {med('rps'):7.1f} req/s{spread('rps')}  "
              f"p50 {med('p50_ms'):6.1f} ms  p99 {med('p99_ms'):6.1f} ms  non-2xx {int(sum(r['non2xx'] for r in runs))}  "
              f"timeouts {int(sum(r['timeouts'] for r in runs))}")
        print(f"  CPU per request: server {med('server_ms'):6.2f} ms{spread('server_ms')}  "
              f"PostgreSQL {med('db_ms'):6.2f} ms{spread('db_ms')}  "
              f"total {statistics.median(r['server_ms'] + r['db_ms'] for r in runs):6.2f} ms")
    if "1" in rates and "2" in rates:
        print(f"2 workers / 1 worker: {rates['2'] / rates['1']:.2f}x (cores on this machine: {os.cpu_count()})")
    if args.json:
        print(json.dumps(rates))


if __name__ == "__main__":
    main()
