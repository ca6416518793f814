"""`chaingate`: migrate the database, serve the API, seed the demo, issue dev tokens, export the SDL."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from rich.console import Console
from rich.markup import escape

from chaingate_cli.ids import id_of
from models.settings import InsecureConfiguration, get_settings, require_signing_secret

if TYPE_CHECKING:
    from chaingate_cli.demo import DemoTokens

out = Console()
err = Console(stderr=True)

# Who am I, per kind of demo token; GraphiQL (dev mode) shows the whole schema.
MEMBER_QUERY = "{ viewer { kind isSuperAdmin member { name position } corp { name } } }"
PERSON_QUERY = "{ viewer { kind mobile } }"


def _safe_url(url: str) -> str:
    """A database URL fit for printing: the password masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _browser_url(host: str, port: int) -> str:
    # A wildcard bind address is not something a browser can open.
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


# --- migrate -------------------------------------------------------------------------

async def _applied_migrations() -> list[str]:
    """`app.name` of every migration recorded in the database; none before the first migrate."""
    from tortoise import Tortoise
    from tortoise.exceptions import OperationalError

    from models.db import close_db, init_db

    await init_db(run_migrations=False)
    try:
        rows = await Tortoise.get_connection("default").execute_query_dict(
            "SELECT app, name FROM tortoise_migrations ORDER BY applied_at, app, name"
        )
    except OperationalError:  # no bookkeeping table yet: a fresh database
        rows = []
    finally:
        await close_db()
    return [f"{r['app']}.{r['name']}" for r in rows]


async def _migrate() -> tuple[list[str], list[str]]:
    from models import db

    before = await _applied_migrations()
    try:
        await db.migrate()
    finally:
        await db.close_db()
    return before, await _applied_migrations()


def cmd_migrate(args: argparse.Namespace) -> int:
    url = _safe_url(get_settings().database_url)
    before, after = asyncio.run(_migrate())
    applied = [m for m in after if m not in before]
    if applied:
        out.print(f"Applied {len(applied)} migration(s) to {escape(url)}:")
        for name in applied:
            out.print(f"  [green]+[/green] {escape(name)}")
    else:
        out.print(f"{escape(url)} is up to date ({len(after)} migration(s) applied).")
    return 0


# --- demo and serve ------------------------------------------------------------------

def _print_tokens(tokens: DemoTokens, base_url: str) -> None:
    from auth.tokens import PERSON_TOKEN_TTL

    out.print("[bold]Demo tokens[/bold] (send as Authorization: Bearer <token>):")
    for t in tokens.all():
        out.print(f"\n[bold]{escape(t.role)}[/bold]: {escape(t.who)} [dim]({escape(t.sees)})[/dim]", soft_wrap=True)
        # The token alone on its line, never wrapped or styled: a double-click copies it whole.
        out.print(t.token, soft_wrap=True, markup=False, highlight=False)
    ttl = get_settings().member_token_ttl_seconds
    out.print(
        f"\nMember tokens expire after {ttl} s (CHAINGATE_TOKEN_TTL), the person token after "
        f"{PERSON_TOKEN_TTL} s; `chaingate token member --member ID` makes a fresh one. Example requests:"
    )
    for t in tokens.all():
        body = json.dumps({"query": PERSON_QUERY if t is tokens.person else MEMBER_QUERY}, ensure_ascii=False)
        out.print(f"\n[bold]# {escape(t.role)}[/bold]")
        # Printed unwrapped and unstyled so that the line can be copied as it is.
        out.print(
            f"curl -s {base_url}/graphql -H 'Content-Type: application/json' "
            f"-H 'Authorization: Bearer {t.token}' -d '{body}'",
            soft_wrap=True, markup=False, highlight=False,
        )


async def _seed_if_empty() -> tuple[DemoTokens | None, bool]:
    """(tokens, seeded): seeds the demo into an empty database; else finds the demo already there."""
    from chaingate_cli.demo import demo_tokens, seed_demo
    from models import Corp
    from models.db import close_db, init_db

    await init_db()  # runs the migrations first
    try:
        if await Corp.all().exists():
            return await demo_tokens(), False
        return await seed_demo(), True
    finally:
        await close_db()


def cmd_demo(args: argparse.Namespace) -> int:
    require_signing_secret(get_settings())  # before seeding: the demo ends by signing tokens
    url = _safe_url(get_settings().database_url)
    tokens, seeded = asyncio.run(_seed_if_empty())
    if not seeded:
        err.print(
            f"[red]Refusing to seed the demo:[/red] {escape(url)} already holds corps. "
            "The demo goes into an empty database, e.g.\n  DATABASE_URL=sqlite://demo.sqlite3 chaingate demo",
            soft_wrap=True,
        )
        return 1
    assert tokens is not None
    out.print(f"Seeded the demo into {escape(url)}.")
    _print_tokens(tokens, _browser_url("127.0.0.1", 8000))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    base_url = _browser_url(args.host, args.port)
    if not os.environ.get("CHAINGATE_PUBLIC_URL"):
        # Links the API hands out (reports, invitations, QR codes) point at this server; the
        # workers inherit the environment. Behind a proxy, CHAINGATE_PUBLIC_URL says otherwise.
        os.environ["CHAINGATE_PUBLIC_URL"] = base_url
    if args.demo and "CHAINGATE_DEV" not in os.environ:
        # GraphiQL is served in dev mode only; the workers inherit the environment.
        os.environ["CHAINGATE_DEV"] = "1"
        out.print("[yellow]--demo: CHAINGATE_DEV was not set; set to 1 for this server[/yellow] "
                  "(GraphiQL, unmasked errors). Not for production.")
    get_settings.cache_clear()  # nothing read so far may keep the old environment
    settings = get_settings()
    # Refused here, before migrating, with one line; each worker's app checks it again.
    require_signing_secret(settings)
    url = _safe_url(settings.database_url)
    from web.client_address import trusted_proxies

    try:  # a bad proxy list stops the server here, before any worker starts
        trusted_proxies(settings.trusted_proxies)
    except ValueError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        return 2

    if args.demo:
        tokens, seeded = asyncio.run(_seed_if_empty())
        if seeded:
            out.print(f"Seeded the demo into {escape(url)}.")
        elif tokens is not None:
            out.print(f"{escape(url)} already holds the demo: fresh tokens below.")
        else:
            out.print(f"[yellow]{escape(url)} holds other corps:[/yellow] demo not seeded, no demo tokens.")
        if tokens is not None:
            _print_tokens(tokens, base_url)
    else:
        asyncio.run(_migrate())
        out.print(f"Database {escape(url)} migrated.")

    out.print(f"\nGraphiQL: [bold]{base_url}/graphql[/bold]")
    if not settings.dev:
        out.print("[dim](GraphiQL is served in dev mode only: CHAINGATE_DEV=1)[/dim]")
    import shutil

    from observability.logs import human_wanted, logging_config
    from observability.metrics import MULTIPROC_ENV, prepare_multiprocess_dir

    # Several workers add up their metrics through files (prometheus-client's multi-process
    # mode); set before the workers start, so that each of them imports it that way.
    chosen_dir = os.environ.get(MULTIPROC_ENV)
    metrics_dir = prepare_multiprocess_dir(args.workers)
    if metrics_dir is not None:
        out.print(f"[dim]metrics of the {args.workers} worker(s) are added up in {escape(metrics_dir)}[/dim]")
    job_worker = None
    if args.demo:
        from chaingate_cli.worker import start_worker_process

        # The API only queues imports: the demo runs one job worker beside it.
        job_worker = start_worker_process()
        out.print("[dim]--demo: started a `chaingate worker` for import jobs and notifications[/dim]")
    try:
        # Our own access line (with the request id) replaces uvicorn's.
        uvicorn.run(
            "web.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
            # A person at a terminal in dev mode reads short lines; everything else gets JSON.
            log_config=logging_config(settings.log_level, human=human_wanted(settings.dev)),
            access_log=False,
            # uvicorn would believe X-Forwarded-For from 127.0.0.1 (FORWARDED_ALLOW_IPS): the
            # app decides alone, from CHAINGATE_TRUSTED_PROXIES (web.client_address).
            proxy_headers=False,
        )
    finally:
        if job_worker is not None:
            from chaingate_cli.worker import stop_worker_process

            stop_worker_process(job_worker)
        if metrics_dir is not None and chosen_dir is None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


# --- token, export-schema -----------------------------------------------------------

def cmd_token_person(args: argparse.Namespace) -> int:
    from auth.tokens import PERSON_TOKEN_TTL, issue_person_token
    from flows.phones import normalise_mobile

    require_signing_secret(get_settings())
    mobile = normalise_mobile(args.mobile)
    if mobile is None:
        err.print(f"[red]Not a valid mobile number:[/red] {escape(args.mobile)} (e.g. +8613800000001)")
        return 2
    # The token alone on stdout, so that TOKEN=$(chaingate token person ...) works.
    print(issue_person_token(mobile, args.name))
    err.print(f"[dim]person token for {mobile}, valid {PERSON_TOKEN_TTL} s, signed with CHAINGATE_SECRET[/dim]")
    return 0


async def _member_token(member_id: int) -> tuple[str | None, str]:
    """(token, who) for an active member; (None, why not) otherwise."""
    from auth.tokens import issue_member_token
    from models import Member
    from models.db import close_db, init_db
    from models.enums import MemberStatus

    await init_db()
    try:
        member = await Member.get_or_none(id=member_id).prefetch_related("corp")
        if member is None:
            return None, f"no such member: {member_id}"
        who = f"{member.name} · {member.corp.name} (member {member.id})"
        if member.status is not MemberStatus.ACTIVE:
            return None, f"{who} is {member.status.value.lower()}: only active members get tokens"
        return issue_member_token(member.id), who
    finally:
        await close_db()


def cmd_token_member(args: argparse.Namespace) -> int:
    """A fresh member token (dev issuer) without re-seeding: the demo's expire after 8 h."""
    require_signing_secret(get_settings())
    token, who = asyncio.run(_member_token(args.member))
    if token is None:
        err.print(f"[red]{escape(who)}[/red]")
        return 2
    print(token)  # alone on stdout: TOKEN=$(chaingate token member --member 1)
    ttl = get_settings().member_token_ttl_seconds
    err.print(f"[dim]member token for {escape(who)}, valid {ttl} s, signed with CHAINGATE_SECRET[/dim]")
    return 0


def cmd_export_schema(args: argparse.Namespace) -> int:
    from gql.schema import schema  # imported here: only this command needs the GraphQL layer

    sdl = schema.as_str() + "\n"
    if args.output:
        Path(args.output).write_text(sdl, encoding="utf-8")
        err.print(f"Wrote the schema to {escape(args.output)}.")
    else:
        sys.stdout.write(sdl)
    return 0


# --- the parser ----------------------------------------------------------------------

def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError("must be between 1 and 65535")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chaingate",
        description="Permission-aware GraphQL gateway for cross-enterprise directories. "
        "The database is DATABASE_URL (default: sqlite://chaingate.sqlite3 in the working directory).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("migrate", help="apply the database migrations")
    p.set_defaults(func=cmd_migrate)

    p = commands.add_parser("serve", help="migrate, then serve the API (GraphiQL at /graphql in dev mode)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_port, default=8000)
    p.add_argument("--demo", action="store_true", help="seed the demo into an empty database, print tokens, dev mode")
    p.add_argument("--workers", type=_positive_int, default=1)
    p.set_defaults(func=cmd_serve)

    p = commands.add_parser("demo", help="migrate and seed the demo into an empty database; print tokens")
    p.set_defaults(func=cmd_demo)

    p = commands.add_parser("token", help="issue a development token")
    kinds = p.add_subparsers(dest="kind", required=True, metavar="KIND")
    k = kinds.add_parser("person", help="a person token (dev issuer, signed with CHAINGATE_SECRET)")
    k.add_argument("--mobile", required=True, help="the person's mobile, e.g. +8613800000001")
    k.add_argument("--name")
    k.set_defaults(func=cmd_token_person)
    k = kinds.add_parser("member", help="a member token for an active member (signed with CHAINGATE_SECRET)")
    k.add_argument("--member", required=True, type=id_of("Member"), metavar="ID",
                   help="the member's global id (as the API returns it) or number")
    k.set_defaults(func=cmd_token_member)

    p = commands.add_parser("export-schema", help="print the GraphQL SDL (or write it with --output)")
    p.add_argument("--output", "-o", metavar="PATH")
    p.set_defaults(func=cmd_export_schema)

    from chaingate_cli.importer import add_parser as add_import_parser

    add_import_parser(commands)

    from chaingate_cli.notifications import add_parser as add_notifications_parser

    add_notifications_parser(commands)

    from chaingate_cli.worker import add_parser as add_worker_parser

    add_worker_parser(commands)

    from chaingate_cli.persisted import add_parser as add_persisted_parser

    add_persisted_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except InsecureConfiguration as exc:
        # One line saying what to set, whichever command would have signed with the key.
        err.print(f"[red]chaingate: refusing to run:[/red] {escape(str(exc))}", soft_wrap=True)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
