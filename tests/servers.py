"""Real API servers for the tests that need separate processes: `chaingate serve` (or plain
uvicorn) on a free loopback port, against the test run's own database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise.connection import get_connection

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_database_url(max_connections: int = 10) -> str:
    """DATABASE_URL of the database this test run created (conftest's `database` fixture),
    for child processes: they must see exactly the rows the test writes."""
    conn: Any = get_connection("default")
    filename = getattr(conn, "filename", None)
    if filename is not None:
        return f"sqlite://{filename}"
    auth = f"{conn.user}:{conn.password}@" if conn.password else f"{conn.user}@"
    return f"postgres://{auth}{conn.host}:{conn.port}/{conn.database}?minsize=1&maxsize={max_connections}"


def skip_or_fail(reason: str) -> None:
    """Missing services skip the test on a developer's machine; in CI they are a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: CI must run this test)")
    pytest.skip(reason)


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()


def serve_command(port: int, workers: int = 1) -> list[str]:
    """The CLI as an operator runs it (it migrates, then starts uvicorn)."""
    return [sys.executable, "-m", "chaingate_cli.main", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers)]


def uvicorn_command(port: int) -> list[str]:
    """One uvicorn process on the app factory, without the CLI's migration step."""
    return [sys.executable, "-m", "uvicorn", "web.app:create_app", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "warning"]


@contextlib.asynccontextmanager
async def running(
    commands: list[list[str]], env: Mapping[str, str], *, ready_path: str = "/readyz", timeout: float = 60,
    inherit_env: bool = True, cwd: Path = ROOT,
) -> AsyncIterator[list[Server]]:
    """Start each command (its port is in it), wait until each answers `ready_path`, and
    stop them all afterwards (SIGTERM, then SIGKILL after 10 s). Their stderr (the JSON
    log) is kept in a file per server. `inherit_env=False`: the servers get `env` alone."""
    logs = tempfile.TemporaryDirectory(prefix="chaingate-servers-")
    # Metrics mode is the test's to choose (`env`), never inherited from the test process.
    inherited = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"} if inherit_env else {}
    servers: list[Server] = []
    try:
        for i, command in enumerate(commands):
            port = command[command.index("--port") + 1]
            log_path = Path(logs.name) / f"server-{i}.log"
            with open(log_path, "wb") as log:
                process = subprocess.Popen(
                    command, cwd=cwd, env={**inherited, **env}, stdout=subprocess.DEVNULL, stderr=log
                )
            servers.append(Server(f"http://127.0.0.1:{port}", process, log_path))
        async with httpx.AsyncClient(timeout=2) as client:
            deadline = time.monotonic() + timeout
            for server in servers:
                while True:
                    if server.process.poll() is not None:
                        pytest.fail(f"server {server.url} exited ({server.process.returncode}):\n"
                                    + "\n".join(server.log_lines()[-30:]))
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get(server.url + ready_path)).status_code == 200:
                            break
                    if time.monotonic() > deadline:
                        pytest.fail(f"server {server.url} did not start:\n" + "\n".join(server.log_lines()[-30:]))
                    await asyncio.sleep(0.2)
        try:
            yield servers
        except BaseException:
            # The servers' own account of a failing test, shown with pytest's captured output.
            for server in servers:
                print(f"--- {server.url} (stderr, last lines)", *server.log_lines()[-40:], sep="\n")
            raise
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.process.terminate()
        for server in servers:
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()
        logs.cleanup()


@contextlib.asynccontextmanager
async def in_process_ws_url() -> AsyncIterator[str]:
    """The app served by uvicorn inside the test's own event loop (so it sees the test's
    database connection) on a free loopback port: the websocket URL of its /graphql."""
    import uvicorn

    from web.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(manage_db=False), lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{sock.getsockname()[1]}/graphql"
    finally:
        server.should_exit = True
        await task
        sock.close()
