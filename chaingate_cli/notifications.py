"""`chaingate notifications dispatch [--loop] [--interval N] [--limit N]`: drain the outbox."""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

out = Console()
err = Console(stderr=True)

if TYPE_CHECKING:
    from flows.notifications import DispatchResult


def _report(result: DispatchResult) -> None:
    line = f"sent {len(result.sent)}, retrying {len(result.retrying)}, gave up {len(result.gave_up)}"
    out.print(line, markup=False, highlight=False)


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True


async def _run(loop_forever: bool, interval: float, limit: int) -> int:
    from flows.notifications import SenderConfigError, dispatch_due, outbox_counts, sender_from_settings
    from models.db import close_db, init_db

    try:
        sender = sender_from_settings()
    except SenderConfigError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        return 2
    stop = asyncio.Event()
    if loop_forever:
        # SIGTERM (docker stop, systemd) ends the loop after the batch in flight, never mid-send.
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    # Migrations are `chaingate migrate`'s job: a worker never races the server to apply them.
    await init_db(run_migrations=False)
    try:
        async with sender:
            err.print(f"[dim]delivering through the {sender.name} sender[/dim]")
            while True:
                try:
                    result = await dispatch_due(sender, limit=limit)
                except Exception as exc:  # a long-running worker outlives a database hiccup
                    if not loop_forever:
                        raise
                    err.print(f"[red]dispatch failed:[/red] {escape(type(exc).__name__)}: {escape(str(exc))}")
                    result = None
                if result is not None and (result.claimed or not loop_forever):
                    _report(result)
                if not loop_forever or stop.is_set():
                    break
                # A full batch means more may be due right away; otherwise wait (or stop).
                if (result is None or result.claimed < limit) and await _stopped_within(stop, interval):
                    break
            counts = await outbox_counts()
            err.print(
                f"[dim]outbox: {counts['due']} due, {counts['waiting']} waiting, "
                f"{counts['sent']} sent, {counts['given_up']} given up[/dim]"
            )
    finally:
        await close_db()
    return 0


def cmd_notifications_dispatch(args: argparse.Namespace) -> int:
    from models.settings import get_settings
    from observability.logs import configure

    # The log sender's lines (and any failure) as JSON, like the server's.
    configure(get_settings().log_level)
    return asyncio.run(_run(args.loop, args.interval, args.limit))


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from flows.notifications.dispatch import DEFAULT_LIMIT

    p = commands.add_parser("notifications", help="the notification outbox")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    d = actions.add_parser(
        "dispatch",
        help="send due notifications (webhook if CHAINGATE_WEBHOOK_URL is set, else the log)",
    )
    d.add_argument("--loop", action="store_true", help="keep running until SIGTERM / Ctrl-C")
    d.add_argument("--interval", type=_positive_float, default=5.0, metavar="SECONDS",
                   help="pause between polls when nothing more is due (with --loop; default 5)")
    d.add_argument("--limit", type=_positive_limit, default=DEFAULT_LIMIT, help="rows per batch")
    d.set_defaults(func=cmd_notifications_dispatch)


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _positive_limit(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError("must be between 1 and 1000")
    return value
