"""`chaingate worker [--concurrency N]`: run import jobs and deliver notifications until SIGTERM.

Run as many as you like, on any machine sharing the database (flows/worker.py). SIGTERM or
Ctrl-C: each running job finishes its batch and goes back to the queue for another worker.

The worker runs at a lower CPU priority than the API (`--nice`, 10 by default; its file
reader processes inherit it): on a machine it shares with `chaingate serve`, an import takes
the CPU the API leaves idle instead of slowing every request down. On PostgreSQL half of an
import's CPU is spent by the worker's backends, not the worker: when the database runs on
the same machine (a localhost or Unix-socket DATABASE_URL) the worker gives each of its
backends its own niceness too (`renice_backend`). That needs the right to renice the
postgres user's processes (root or CAP_SYS_NICE); without it, or with a database on
another machine, the backends keep their priority and the worker says so once in its log.
A reniced backend holding a row lock an API write waits for is scheduled later; the light
reads the API mostly serves take no lock an import holds.

Linux with session autogroups (`kernel.sched_autogroup_enabled`, on in most desktop and
server kernels) shares the CPU between sessions first and applies a process's niceness only
against the processes of its own session. Every PostgreSQL backend leads a session of its
own, so its niceness alone weighs against nothing: the worker sets the niceness of the
backend's autogroup too (`/proc/<pid>/autogroup`), and of its own when it leads its session
(systemd, a container, `setsid`), where the session is the worker's alone.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape

err = Console(stderr=True)
log = logging.getLogger("chaingate.worker")

# The worker's default niceness: below the API's priority, still above idle-class work.
DEFAULT_NICE = 10


async def _stdin_closed() -> None:
    """Returns when stdin reaches its end: the process holding its other end has exited."""
    reader = asyncio.StreamReader()
    transport, _ = await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    try:
        while await reader.read(4096):
            pass
    finally:
        transport.close()


async def _run(concurrency: int, dispatch_every: float, with_parent: bool = False, renice_backends: bool = True) -> int:
    from flows.notifications import SenderConfigError, sender_from_settings
    from flows.worker import Worker, outbox_duty, prune_duty
    from gql.feed.webhooks import webhook_duty
    from models.db import close_db, init_db

    try:
        sender = sender_from_settings()
    except SenderConfigError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        return 2
    # Migrations are `chaingate migrate`'s (or `serve`'s) job: a worker never races to apply them.
    await init_db(run_migrations=False, connection_setup=BackendPriority() if renice_backends else None)
    try:
        async with sender:
            worker = Worker(concurrency=concurrency, duties=[outbox_duty(sender, dispatch_every), prune_duty(), webhook_duty()])
            for sig in (signal.SIGTERM, signal.SIGINT):
                asyncio.get_running_loop().add_signal_handler(sig, worker.stop.set)
            if with_parent:  # the parent's end of our stdin closes however it exits (even SIGKILL)
                watch = asyncio.create_task(_stdin_closed())
                watch.add_done_callback(lambda _: worker.stop.set())
            err.print(f"[dim]worker {escape(worker.owner)}: {concurrency} job(s) at a time, "
                      f"notifications through the {sender.name} sender[/dim]")
            await worker.run()
    finally:
        await close_db()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from models.settings import get_settings
    from observability.logs import configure, human_wanted

    settings = get_settings()
    configure(settings.log_level, human=human_wanted(settings.dev))
    lower_priority(args.nice)
    return asyncio.run(_run(args.concurrency, args.dispatch_interval, args.with_parent, not args.keep_backend_priority))


def lower_priority(increment: int) -> int:
    """Add `increment` (0-19) to this process's niceness; returns the niceness now. A
    process may always lower its own priority, never raise it back. When this process leads
    its session (systemd, a container, `setsid`), the session's autogroup is this worker's
    (and its file readers'): it takes the niceness too, else the worker's niceness would weigh
    only against its own readers and the API's processes would share the CPU with it evenly."""
    niceness = os.nice(increment)
    if os.getsid(0) == os.getpid():
        try:
            set_autogroup_nice(os.getpid(), niceness)
        except OSError as exc:
            log.info("the worker's session keeps its CPU share against other sessions: %s", exc)
    return niceness


LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}


class BackendPriority:
    """asyncpg pool `init`: give each new backend of this worker the worker's own niceness,
    when the database runs on this machine. Warns once when it cannot (another machine, no
    right to renice the postgres user's processes) and then leaves backends as they are."""

    def __init__(self, database_url: str | None = None) -> None:
        from urllib.parse import parse_qs, urlsplit

        from models.settings import get_settings

        url = urlsplit(database_url or get_settings().database_url)
        # A `host` query parameter (libpq style) names the server too; a path is a Unix socket.
        hosts = [url.hostname or "", *parse_qs(url.query).get("host", [])]
        self.local = all(h in LOCAL_HOSTS or h.startswith("/") for h in hosts)
        self.warned = False

    async def __call__(self, connection: object) -> None:
        if not self.local:
            return self._skip("the database is on another machine")
        pid = int(await connection.fetchval("SELECT pg_backend_pid()"))  # type: ignore[attr-defined]
        outcome = renice_backend(pid, os.getpriority(os.PRIO_PROCESS, 0))
        if outcome is not None:
            self._skip(outcome)

    def _skip(self, why: str) -> None:
        if not self.warned:
            self.warned = True
            log.info("the worker's PostgreSQL backends keep their CPU priority: %s", why)


def renice_backend(pid: int, niceness: int) -> str | None:
    """Raise the niceness of PostgreSQL backend `pid` (a process of this machine) to
    `niceness` (never lowers it), and of its autogroup when it leads its own session, as
    backends do (`set_autogroup_nice`). Returns None when done (or already that nice), else
    why not: not a postgres process here, or no permission."""
    try:
        if not Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"postgres"):
            return f"process {pid} here is not a postgres backend"
        if os.getpriority(os.PRIO_PROCESS, pid) < niceness:
            os.setpriority(os.PRIO_PROCESS, pid, niceness)
        if os.getsid(pid) == pid:  # a backend leads its own session (PostgreSQL calls setsid)
            set_autogroup_nice(pid, niceness)
    except PermissionError:
        return "no permission to renice the postgres user's processes (root or CAP_SYS_NICE needed)"
    except (FileNotFoundError, ProcessLookupError):
        return f"backend {pid} is not a process of this machine"
    except OSError as exc:
        return f"backend {pid}: {exc}"
    return None


def autogroup_nice(pid: int) -> int | None:
    """The niceness of the scheduler autogroup of process `pid` (its session's share of the
    CPU against other sessions', -20..19); None where the kernel keeps no autogroups or the
    process has none of its own. The kernel writes nothing for a process of the root group:
    one whose session never called setsid since boot (init's, and a container's first
    process and its children), so such a process has no session share to set."""
    try:
        text = Path(f"/proc/{pid}/autogroup").read_text()  # "/autogroup-151 nice 0", or ""
    except FileNotFoundError:
        return None
    words = text.split()
    return int(words[-1]) if words else None


def set_autogroup_nice(pid: int, niceness: int) -> None:
    """Raise the niceness of process `pid`'s autogroup to `niceness` (never lowers it; nothing
    where the kernel keeps no autogroups). Only for a process leading its own session: the
    autogroup is the whole session's. Raises PermissionError without the right to write the
    process's /proc entry (its owner or root), OSError for other refusals."""
    current = autogroup_nice(pid)
    if current is not None and current < niceness:
        Path(f"/proc/{pid}/autogroup").write_text(f"{niceness}\n")


def start_worker_process() -> subprocess.Popen[bytes]:
    """A `chaingate worker` child beside `serve --demo`, with this process's environment. It
    stops as on SIGTERM when this process exits, however it exits: uvicorn re-raises the
    SIGTERM that stopped it once it has shut down, so `serve` may never reach its cleanup."""
    return subprocess.Popen([sys.executable, "-m", "chaingate_cli.main", "worker", "--with-parent"],
                            stdin=subprocess.PIPE)


def stop_worker_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()  # SIGTERM: the job in flight finishes its batch and is released
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = commands.add_parser("worker", help="run queued import jobs and deliver notifications (until SIGTERM)")
    p.add_argument("--concurrency", type=_at_least_one, default=1, metavar="N", help="jobs run at once (default 1)")
    p.add_argument("--dispatch-interval", type=float, default=5.0, metavar="SECONDS",
                   help="how often due notifications are delivered (default 5)")
    p.add_argument("--nice", type=_niceness, default=DEFAULT_NICE, metavar="N",
                   help=f"run jobs at this much lower CPU priority than the API, 0-19 (default {DEFAULT_NICE}; "
                        "0 keeps the priority it was started with)")
    p.add_argument("--keep-backend-priority", action="store_true",
                   help="PostgreSQL on this machine: leave the worker's backends at their CPU priority "
                        "(by default they take the worker's --nice)")
    # `serve --demo`'s own worker: stop when stdin (a pipe from the parent) closes.
    p.add_argument("--with-parent", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_worker)


def _niceness(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 19:
        raise argparse.ArgumentTypeError("must be between 0 and 19")
    return value


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value
