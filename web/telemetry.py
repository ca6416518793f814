"""Telemetry at the HTTP edge: the request id, one JSON access line per request, HTTP
metrics, and the /metrics endpoint (the schema's operation metrics: gql/operation_metrics.py).

`RequestTelemetry` is the outermost ASGI middleware. It gives every request its id (the
client's `X-Request-Id` when it is a short token, else a new one) in the ASGI scope, where
the gate, the GraphQL context (and so the audit trail) and the error log all read it, and
echoes it on the response; every log line written while the request is served carries it.
"""

from __future__ import annotations

import hmac
import re
import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gql.protection.errors import UNAUTHENTICATED
from models.settings import Settings, get_settings
from observability.logs import get_logger, request_fields
from observability.metrics import exposition, observe_http
from permissions.viewer import Viewer
from web.client_address import client_address
from web.responses import error_response

REQUEST_ID_HEADER = b"x-request-id"
# Short tokens only: a client cannot push newlines into the log or overlong ids into the
# audit trail (its column holds 64 characters).
_CLIENT_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")
# Probes and scrapes are logged at DEBUG: every few seconds, they would drown the rest.
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})

access_log = get_logger("chaingate.access")


def with_request_id(scope: Scope) -> tuple[Scope, str]:
    headers = [(k, v) for k, v in scope.get("headers") or () if k != REQUEST_ID_HEADER]
    given = next((v for k, v in scope.get("headers") or () if k == REQUEST_ID_HEADER), b"")
    request_id = given if _CLIENT_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex.encode()
    return {**scope, "headers": [*headers, (REQUEST_ID_HEADER, request_id)]}, request_id.decode()


def _route(scope: Scope) -> str:
    # Starlette's router puts the matched route in the scope: its template, never the raw
    # path, so ids in paths do not become label values.
    return str(getattr(scope.get("route"), "path", None) or "unmatched")


def _viewer_label(scope: Scope) -> str | None:
    viewer = (scope.get("state") or {}).get("viewer")
    if not isinstance(viewer, Viewer):
        return None
    ident = viewer.member_id or viewer.app_token_id or viewer.person_id
    return viewer.kind.value.lower() + (f":{ident}" if ident is not None else "")


class RequestTelemetry:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope, request_id = with_request_id(scope)
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        with request_fields(request_id=request_id):
            try:
                await self.app(scope, receive, observed_send if scope["type"] == "http" else send)
            finally:
                self._report(scope, status, time.perf_counter() - started)

    def _report(self, scope: Scope, status: int, seconds: float) -> None:
        route = _route(scope)
        fields: dict[str, Any] = {
            "method": scope.get("method", "WEBSOCKET"), "path": scope.get("path"), "route": route,
            "duration_ms": round(seconds * 1000, 2), "client": client_address(scope),
        }
        viewer = _viewer_label(scope)
        if viewer is not None:
            fields["viewer"] = viewer
        if scope["type"] == "websocket":
            access_log.info("websocket", **fields)
            return
        observe_http(route, str(scope.get("method", "")), status, seconds)
        level = access_log.debug if route in _QUIET_ROUTES and status < 400 else access_log.info
        level("request", status=status, **fields)


# --- /metrics ---------------------------------------------------------------------------

MIN_METRICS_TOKEN = 32


def check_metrics_token(settings: Settings) -> None:
    token = settings.metrics_token
    if token and (len(token) < MIN_METRICS_TOKEN or not token.isascii() or not token.isprintable()):
        raise ValueError(f"CHAINGATE_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN} printable ASCII characters")


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text format. With CHAINGATE_METRICS_TOKEN, for a bearer of that token;
    without it, in dev mode only (elsewhere the route answers 404, as if it did not exist)."""
    settings = get_settings()
    if settings.metrics_token:
        given = request.headers.get("authorization", "").encode("latin-1")
        if not hmac.compare_digest(given, f"Bearer {settings.metrics_token}".encode()):
            return error_response(
                401, "The metrics need their bearer token.", UNAUTHENTICATED, headers={"WWW-Authenticate": "Bearer"}
            )
    elif not settings.dev:
        return PlainTextResponse("Not Found", status_code=404)
    body, content_type = exposition()
    return Response(body, media_type=content_type)
