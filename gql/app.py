"""The ASGI app: /graphql (GraphiQL in dev mode), /healthz, /readyz."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL
from tortoise.connection import get_connection

from auth.backend import AuthenticationFailed, authenticate
from gql.context import Context, make_context
from gql.schema import schema
from models.db import close_db, init_db
from models.settings import get_settings
from permissions.viewer import ANONYMOUS


class AuthGate:
    """Authenticates once per HTTP request and hands the Viewer on in the ASGI scope.

    Bad credentials get a 401 with a GraphQL-shaped UNAUTHENTICATED error; no credentials
    get the anonymous Viewer, which sees nothing.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            raw = headers.get(b"authorization")
            try:
                viewer = await authenticate(raw.decode("latin-1") if raw else None)
            except AuthenticationFailed as exc:
                body = {"data": None, "errors": [{"message": str(exc), "extensions": {"code": "UNAUTHENTICATED"}}]}
                response = Response(
                    json.dumps(body), status_code=401, media_type="application/json",
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await response(scope, receive, send)
                return
            scope.setdefault("state", {})["viewer"] = viewer
        await self.app(scope, receive, send)


class ChaingateGraphQL(GraphQL[Context, None]):
    async def get_context(self, request: Any, response: Any) -> Context:
        viewer = request.scope.get("state", {}).get("viewer", ANONYMOUS)
        return make_context(viewer, request, response)


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(_: Request) -> Response:
    try:
        await get_connection("default").execute_query("SELECT 1")
    except Exception as exc:  # readiness reports any database failure, whatever its type
        return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ready"})


def create_app(*, manage_db: bool = True) -> Starlette:
    """`manage_db=False` when the caller (tests, CLI) has already initialised Tortoise."""
    settings = get_settings()
    graphql = ChaingateGraphQL(schema, graphql_ide="graphiql" if settings.dev else None)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if manage_db:
            await init_db()
        try:
            yield
        finally:
            if manage_db:
                await close_db()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", AuthGate(graphql), methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
