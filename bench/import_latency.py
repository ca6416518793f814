"""API latency while a big import runs: p50/p99 of a light query with no import, then while
a worker imports N rows, side by side, on SQLite and PostgreSQL.

    python -m bench.import_latency                  # 100 000 rows, both databases
    python -m bench.import_latency --rows 20000 --db sqlite
    python -m bench.import_latency --worker-nice 0  # the worker at the API's CPU priority

Real processes, as deployed: `chaingate serve` (one uvicorn worker) queues the import sent
as a GraphQL multipart upload, and a separate `chaingate worker` runs it, while this
script sends `{ viewer { kind } }` one request after another (request budgets off). The
goal: p99 during the import ÷ p99 without it ≤ 1.5. The import's own duration and the
worker's peak memory are printed too (P4: 100 000 rows ≤ 60 s, ≤ 400 MB), and what does not
depend on the machine's load: the server's CPU per light request without and during the
import, the Viewers it built in each phase (`chaingate_viewer_builds_total`: a request whose
kept Viewer went stale builds it again), and the worker's CPU seconds (its own process and
the file readers it waited for; its PostgreSQL backend not included), and, per light request,
the time the server and this client spent runnable but waiting for a CPU (schedstat run
delay): the share of the latency that is the machine's scheduling rather than the request.
On PostgreSQL on this machine, the same for the server's backends (each request's statement
runs there), their CPU per light request, and the worker's backends' CPU over the import.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.import_directory import drop_postgres, generate, postgres_url

LIGHT = "{ viewer { kind } }"
IMPORT = """mutation($input: ImportDirectoryInput!) { importDirectory(input: $input) {
  job { id } userErrors { code message } } }"""
METRICS_TOKEN = "bench-import-latency-metrics-token-0123456789"
JOB = "query($id: ID!) { importJob(id: $id) { status rowsDone totalRows } }"
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _seed(url: str) -> tuple[str, int]:
    """A corp with a super admin; its token and the corp id."""
    from auth.tokens import issue_member_token
    from flows.directory import create_corp
    from flows.identity import ensure_person
    from models.db import close_db, init_db
    from permissions.viewer import Viewer, ViewerKind

    await init_db(url)
    try:
        person = await ensure_person("+8613700000000", "基准管理员")
        admin = await create_corp(Viewer(kind=ViewerKind.PERSON, person_id=person.id), "基准企业")
        return issue_member_token(admin.id), admin.corp_id
    finally:
        await close_db()


async def _light(client: Any, token: str) -> float:
    started = time.perf_counter()
    response = await client.post("/graphql", json={"query": LIGHT}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return (time.perf_counter() - started) * 1000


def _run_delay_ms(pid: int | str) -> float:
    """Time a process's threads spent runnable but waiting for a CPU (/proc/<pid>/task/*/schedstat,
    its second field, ns), in ms; 0 where the kernel does not keep schedstats."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            pass
    return total / 1e6


class BackendMeter:
    """PostgreSQL on this machine: CPU time and run delay (runnable, waiting for a CPU; from
    /proc/<pid>/schedstat) summed over the backends of process `owner`'s connections, in ms:
    those seen at the first `read` from then on, any its pool opens later from their start
    (`read` every few seconds: a pool closes a connection idle for 300 s). `conn` is this
    script's own connection to the database. Counts nothing on SQLite (`conn` None)."""

    def __init__(self, conn: Any, owner: int) -> None:
        self.conn = conn
        self.owner = owner
        self.last: dict[int, tuple[int, int]] | None = None
        self.cpu_ns = self.delay_ns = 0

    async def read(self) -> tuple[float, float]:
        """The totals so far (CPU ms, run delay ms)."""
        first, self.last = self.last is None, self.last or {}
        for pid in await self._pids():
            try:
                fields = Path(f"/proc/{pid}/schedstat").read_text().split()
            except OSError:
                continue
            cpu, delay = int(fields[0]), int(fields[1])
            before = self.last.get(pid, (cpu, delay) if first else (0, 0))
            self.cpu_ns += cpu - before[0]
            self.delay_ns += delay - before[1]
            self.last[pid] = (cpu, delay)
        return self.cpu_ns / 1e6, self.delay_ns / 1e6

    async def _pids(self) -> list[int]:
        if self.conn is None:
            return []
        import psutil

        try:
            ports = [c.laddr.port for c in psutil.Process(self.owner).net_connections(kind="tcp") if c.raddr]
        except psutil.Error:
            return []
        rows = await self.conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                     "AND client_port = ANY($1::int[])", ports)
        return [int(r["pid"]) for r in rows]


async def _meter_connection(url: str) -> Any:
    """This script's connection for the backend meters (PostgreSQL), None on SQLite."""
    if not url.startswith("postgres"):
        return None
    import asyncpg

    return await asyncpg.connect(url.split("?")[0].replace("postgres://", "postgresql://", 1))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process and its threads (not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _viewer_builds(client: Any) -> float:
    text = (await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("chaingate_viewer_builds_total{"))


async def _measure(url: str, file: Path, seconds_idle: float, nice: int | None, worker_options: list[str]) -> dict[str, Any]:
    import httpx

    token, corp_id = await _seed(url)
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "CHAINGATE_RATE_LIMIT": "0", "CHAINGATE_LOG_LEVEL": "WARNING",
           "CHAINGATE_METRICS_TOKEN": METRICS_TOKEN}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen([sys.executable, "-m", "chaingate_cli.main", "serve", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker: subprocess.Popen[bytes] | None = None
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for _ in range(600):
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            for _ in range(20):  # warm-up
                await _light(client, token)
            idle: list[float] = []
            meter = await _meter_connection(url)
            api_backends = BackendMeter(meter, server.pid)
            builds, cpu = await _viewer_builds(client), _cpu_seconds(server.pid)
            wait, own_wait = _run_delay_ms(server.pid), _run_delay_ms("self")
            backend_cpu, backend_wait = await api_backends.read()
            deadline = time.monotonic() + seconds_idle
            while time.monotonic() < deadline:
                idle.append(await _light(client, token))
            idle_cpu, idle_builds = _cpu_seconds(server.pid) - cpu, await _viewer_builds(client) - builds
            idle_wait, idle_own_wait = _run_delay_ms(server.pid) - wait, _run_delay_ms("self") - own_wait
            now_cpu, now_wait = await api_backends.read()
            idle_backend_cpu, idle_backend_wait = now_cpu - backend_cpu, now_wait - backend_wait

            from strawberry import relay

            corp_gid = str(relay.GlobalID("Corp", str(corp_id)))
            variables = {"input": {"corpId": corp_gid, "mode": "UPSERT", "file": None}}
            response = await client.post(
                "/graphql",
                data={"operations": json.dumps({"query": IMPORT, "variables": variables}),
                      "map": json.dumps({"0": ["variables.input.file"]})},
                files={"0": (file.name, file.read_bytes(), "application/octet-stream")},
                headers={"Authorization": f"Bearer {token}"},
            )
            job_id = response.json()["data"]["importDirectory"]["job"]["id"]
            niceness = [] if nice is None else ["--nice", str(nice)]
            worker = subprocess.Popen([sys.executable, "-m", "chaingate_cli.main", "worker", *niceness, *worker_options], cwd=ROOT, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            started = time.monotonic()
            builds, cpu = await _viewer_builds(client), _cpu_seconds(server.pid)
            worker_backends = BackendMeter(meter, worker.pid)
            await worker_backends.read()
            wait, own_wait = _run_delay_ms(server.pid), _run_delay_ms("self")
            backend_cpu, backend_wait = await api_backends.read()
            busy: list[float] = []
            status, checked, metered = "QUEUED", 0.0, time.monotonic()
            while status not in ("SUCCEEDED", "FAILED"):
                busy.append(await _light(client, token))
                if time.monotonic() - checked > 0.5:
                    checked = time.monotonic()
                    job = (await client.post("/graphql", json={"query": JOB, "variables": {"id": job_id}},
                                             headers={"Authorization": f"Bearer {token}"})).json()["data"]["importJob"]
                    status = job["status"]
                    if time.monotonic() - metered > 5:
                        metered = time.monotonic()
                        await api_backends.read()
                        await worker_backends.read()
            import_seconds = time.monotonic() - started
            # The job polls (one in about 0.5 s of requests) count with the import's requests.
            busy_cpu, busy_builds = _cpu_seconds(server.pid) - cpu, await _viewer_builds(client) - builds
            busy_wait, busy_own_wait = _run_delay_ms(server.pid) - wait, _run_delay_ms("self") - own_wait
            now_cpu, now_wait = await api_backends.read()
            busy_backend_cpu, busy_backend_wait = now_cpu - backend_cpu, now_wait - backend_wait
            worker_backend_cpu = (await worker_backends.read())[0] / 1000
            if meter is not None:
                await meter.close()
        worker.send_signal(signal.SIGTERM)
        _, _, usage = os.wait4(worker.pid, 0)
        worker = None
        return {"idle": idle, "busy": busy, "status": status, "import_seconds": import_seconds,
                "worker_peak_mb": usage.ru_maxrss / 1024, "worker_cpu_s": usage.ru_utime + usage.ru_stime,
                "idle_cpu_ms": 1000 * idle_cpu / len(idle), "busy_cpu_ms": 1000 * busy_cpu / len(busy),
                "idle_builds": idle_builds, "busy_builds": busy_builds,
                "idle_wait_ms": idle_wait / len(idle), "busy_wait_ms": busy_wait / len(busy),
                "idle_client_wait_ms": idle_own_wait / len(idle), "busy_client_wait_ms": busy_own_wait / len(busy),
                "postgres": meter is not None, "worker_backend_cpu_s": worker_backend_cpu,
                "idle_backend_cpu_ms": idle_backend_cpu / len(idle), "busy_backend_cpu_ms": busy_backend_cpu / len(busy),
                "idle_backend_wait_ms": idle_backend_wait / len(idle), "busy_backend_wait_ms": busy_backend_wait / len(busy)}
    finally:
        for process in (worker, server):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


def _child(url: str, file: Path, idle_seconds: float, nice: int | None, keep: bool) -> dict[str, Any] | str:
    """One database per child process: Tortoise keeps one database's dialect per process."""
    niceness = [] if nice is None else ["--worker-nice", str(nice)]
    niceness += ["--keep-backend-priority"] if keep else []
    done = subprocess.run([sys.executable, "-m", "bench.import_latency", "--child", url, "--file", str(file),
                           "--idle-seconds", str(idle_seconds), *niceness], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        return f"child failed with status {done.returncode}"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _line(label: str, r: dict[str, Any] | str) -> str:
    if isinstance(r, str):
        return f"{label:<10} {r}"
    idle, busy = r["idle"], r["busy"]
    i50, i99 = statistics.median(idle), _percentile(idle, 0.99)
    b50, b99 = statistics.median(busy), _percentile(busy, 0.99)
    return (f"{label:<10} {i50:>8.1f} {i99:>8.1f} {b50:>8.1f} {b99:>8.1f} {b50 / i50:>6.2f} {b99 / i99:>6.2f}"
            f" {len(busy):>7} {r['import_seconds']:>7.1f} {r['worker_peak_mb']:>7.0f} {r['worker_cpu_s']:>7.1f}"
            f" {r['idle_cpu_ms']:>6.2f} {r['busy_cpu_ms']:>6.2f} {r['idle_builds']:>6.0f} {r['busy_builds']:>6.0f}  {r['status']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="how long the no-import baseline runs")
    parser.add_argument("--worker-nice", type=int, metavar="N",
                        help="the worker's --nice (default: the worker's own default, 10)")
    parser.add_argument("--keep-backend-priority", action="store_true",
                        help="PostgreSQL: the worker leaves its backends at their priority (the worker's option)")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(_measure(args.child, Path(args.file), args.idle_seconds, args.worker_nice,
                                                ["--keep-backend-priority"] if args.keep_backend_priority else []))))
        return

    file = Path(tempfile.gettempdir()) / f"chaingate-bench-directory-{args.rows}.xlsx"
    if not file.exists():
        generate(args.rows, file, "directory")
    results: list[tuple[str, dict[str, Any] | str]] = []
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(("sqlite", _child(f"sqlite://{tmp}/bench.sqlite3", file, args.idle_seconds, args.worker_nice,
                                              args.keep_backend_priority)))
    if args.db in ("postgres", "both"):
        pg = asyncio.run(postgres_url())
        if isinstance(pg, str):
            results.append(("postgres", pg))
        else:
            try:
                results.append(("postgres", _child(pg[1], file, args.idle_seconds, args.worker_nice,
                                              args.keep_backend_priority)))
            finally:
                asyncio.run(drop_postgres(*pg))
    nice = "default" if args.worker_nice is None else args.worker_nice
    nice = f"{nice}{', backends at their priority' if args.keep_backend_priority else ''}"
    print(f"\n`{LIGHT}` latency (ms) without and during a {args.rows}-row directory import run by a worker"
          f" (--nice {nice}); load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'database':<10} {'idle p50':>8} {'idle p99':>8} {'busy p50':>8} {'busy p99':>8} {'p50 ×':>6} {'p99 ×':>6}"
          f" {'samples':>7} {'import s':>7} {'peak MB':>7} {'wrk CPU':>7} {'cpu/rq':>6} {'cpu/rq':>6}"
          f" {'builds':>6} {'builds':>6}  outcome")
    print(f"{'':<10} {'':>8} {'':>8} {'':>8} {'':>8} {'':>6} {'':>6} {'':>7} {'':>7} {'':>7} {'s':>7}"
          f" {'idle':>6} {'busy':>6} {'idle':>6} {'busy':>6}")
    for label, r in results:
        print(_line(label, r))
    print("\nWaiting for a CPU while runnable (run delay, /proc/<pid>/task/*/schedstat), ms per light request:"
          " how much of the latency is the machine's scheduling, not the request's work")
    print(f"{'database':<10} {'server idle':>11} {'server busy':>11} {'client idle':>11} {'client busy':>11}"
          f" {'backend idle':>12} {'backend busy':>12}")
    for label, r in results:
        if not isinstance(r, str):
            backend = (f" {r['idle_backend_wait_ms']:>12.2f} {r['busy_backend_wait_ms']:>12.2f}" if r.get("postgres")
                       else f" {'-':>12} {'-':>12}")
            print(f"{label:<10} {r['idle_wait_ms']:>11.2f} {r['busy_wait_ms']:>11.2f}"
                  f" {r['idle_client_wait_ms']:>11.2f} {r['busy_client_wait_ms']:>11.2f}{backend}")
    pg = [(label, r) for label, r in results if not isinstance(r, str) and r.get("postgres")]
    if pg:
        print("\nPostgreSQL (on this machine): the server's backends' CPU per light request (ms), and the"
              " worker's backends' CPU over the import (s)")
        print(f"{'database':<10} {'backend idle':>12} {'backend busy':>12} {'worker backends s':>17}")
        for label, r in pg:
            print(f"{label:<10} {r['idle_backend_cpu_ms']:>12.2f} {r['busy_backend_cpu_ms']:>12.2f}"
                  f" {r['worker_backend_cpu_s']:>17.1f}")


if __name__ == "__main__":
    main()
