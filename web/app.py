"""The ASGI app: /graphql (behind the request gate; GraphiQL where introspection is allowed,
its files under /graphiql/static), /healthz, /readyz, /metrics, the file downloads, and the
join page with its QR code (/join/{code}, /invitations/{code}/qr.png); every request with an id,
an access log line and its metrics (web.telemetry)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute, request_response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from tortoise.connection import get_connection

from auth.ratelimit import InMemoryRateLimiter, RateLimiter, RedisRateLimiter
from gql import persisted
from gql.schema import schema
from models.db import close_db, init_db, request_connection
from models.settings import Settings, get_settings, require_signing_secret
from web.client_address import proxy_middleware
from web.files import directory_export_file, error_report_file
from web.gate import Budgets, RequestGate, UploadCaps
from web.graphiql import ASSET_DIR, STATIC_ROUTE
from web.join_page import join_page
from web.qr import invitation_qr
from web.telemetry import RequestTelemetry, check_metrics_token, metrics_endpoint
from web.view import ProtectedGraphQL


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(_: Request) -> Response:
    try:
        await get_connection("default").execute_query("SELECT 1")
    except Exception as exc:  # readiness reports any database failure, whatever its type
        return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ready"})


def _default_limiter(settings: Settings) -> RateLimiter:
    """Redis when configured (every worker and instance shares one budget), else this process."""
    if settings.redis_url:
        return RedisRateLimiter(settings.redis_url, prefix=settings.redis_prefix)
    return InMemoryRateLimiter()


class OneConnection:
    """The request's statements share one database connection (models.db.request_connection)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with request_connection():
            await self.app(scope, receive, send)


def create_app(
    *, manage_db: bool = True, limiter: RateLimiter | None = None, budgets: Budgets | None = None
) -> Starlette:
    """`manage_db=False` when the caller (tests, CLI) has already initialised Tortoise.

    `limiter`: where request budgets are kept; by default Redis when REDIS_URL is set, else
    this process. `budgets`: the per-caller rules; by default from the settings.
    """
    settings = get_settings()
    # Configuration mistakes stop the server here, not one request at a time later.
    require_signing_secret(settings)  # never serve on a known secret: every entry point comes here
    persisted.check_configuration(settings)
    check_metrics_token(settings)
    behind_proxies = proxy_middleware(settings.trusted_proxies)
    limiter = limiter if limiter is not None else _default_limiter(settings)
    budgets = budgets or Budgets.from_settings(settings)

    view = ProtectedGraphQL(schema)

    def gated(app: ASGIApp, *, authenticates: bool) -> RequestGate:
        return RequestGate(
            app, limiter=limiter, budgets=budgets, max_body_bytes=settings.max_body_bytes,
            upload_caps=UploadCaps.from_settings(settings), authenticates=authenticates,
        )

    def budgeted(endpoint: Callable[[Request], Awaitable[Response]]) -> RequestGate:
        """A plain endpoint that authenticates itself, drawing on the same request budgets."""
        return gated(request_response(endpoint), authenticates=False)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if manage_db:
            await init_db()
        try:
            yield
        finally:
            await limiter.close()
            if manage_db:
                await close_db()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", OneConnection(gated(view, authenticates=True)), methods=["GET", "POST"]),
            # Subscriptions (graphql-transport-ws); the socket authenticates in connection_init.
            WebSocketRoute("/graphql", view),
            Route("/imports/{job_id}/errors.xlsx", budgeted(error_report_file), methods=["GET"]),
            Route("/corps/{corp_id}/directory.xlsx", budgeted(directory_export_file), methods=["GET"]),
            Route("/invitations/{code}/qr.png", budgeted(invitation_qr), methods=["GET"]),
            # Where invitation links and their QR codes lead: a page for the person's phone.
            Route("/join/{code}", budgeted(join_page), methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            # GraphiQL's own scripts and styles (public libraries, no CDN needed).
            Mount(STATIC_ROUTE, StaticFiles(directory=ASSET_DIR)),
        ],
        # The client address is settled first (CHAINGATE_TRUSTED_PROXIES), for everything after.
        middleware=[*behind_proxies, Middleware(RequestTelemetry)],
        lifespan=lifespan,
    )
