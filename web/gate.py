"""The HTTP gate in front of /graphql (and, budget only, the file and image endpoints):
body size, request budgets and authentication, in the order that costs an abuser most and
us least.

1. A declared body over the limit is refused from the headers alone (413).
2. The caller's budget is drawn before any database work: the member, person or app
   behind a token (read from the token itself), else the client IP (429 when spent).
3. Authentication turns the token into a Viewer; bad credentials get 401 and count against
   the IP's failed-attempt budget, which is checked before an app token is looked up, so
   guessing secrets cannot turn into a flood of database reads.
4. A GraphQL multipart request (a file upload) is for importers only: anonymous callers
   get 401 and viewers that may import nothing 403, and an importer's declared body over
   its kind's cap 413, all before one byte of the body is read.
5. The body is counted as the app reads it (also when no length was declared) and the
   request is refused with 413 the moment it passes the limit: 1 MiB for JSON, the
   viewer kind's upload cap for multipart (Starlette spools uploads to disk as they stream).

The request id (`X-Request-Id`) is given earlier, by `web.telemetry.RequestTelemetry`, to
every request, refusals of this gate included.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auth.backend import AuthenticationFailed, authenticate, bearer
from auth.ratelimit import Decision, RateLimiter, RateRule, budget_key
from auth.tokens import APP_TOKEN_PREFIX
from gql.protection.errors import BAD_REQUEST, FORBIDDEN, RATE_LIMITED, UNAUTHENTICATED
from models.settings import Settings
from permissions.actions import may_send_files
from permissions.viewer import Viewer, ViewerKind
from web.client_address import client_address
from web.responses import error_response
from web.view import scope_viewer


@dataclass(frozen=True)
class Budgets:
    caller: RateRule
    anonymous: RateRule
    # Failed authentications per IP: generous for humans mistyping, tight for scripts.
    auth_failures: RateRule = RateRule(rate=0.5, burst=60)

    @classmethod
    def from_settings(cls, s: Settings) -> Budgets:
        return cls(
            caller=RateRule(s.rate_limit_per_second, s.rate_limit_burst),
            anonymous=RateRule(s.anonymous_rate_limit_per_second, s.anonymous_rate_limit_burst),
        )


@dataclass(frozen=True)
class UploadCaps:
    """The largest GraphQL multipart body per viewer kind, in bytes; a kind not listed (anonymous
    callers, persons) may send no multipart request at all."""

    by_kind: dict[ViewerKind, int]

    @classmethod
    def from_settings(cls, s: Settings) -> UploadCaps:
        return cls({ViewerKind.MEMBER: s.max_upload_bytes, ViewerKind.APP: s.app_max_upload_bytes})

    @property
    def largest(self) -> int:
        return max(self.by_kind.values(), default=0)

    def cap_for(self, viewer: Viewer) -> int | None:
        """The viewer's cap; None when it may not upload (see `may_send_files`)."""
        cap = self.by_kind.get(viewer.kind)
        return cap if cap is not None and may_send_files(viewer) else None


def _client_ip(scope: Scope) -> str:
    # Decided once, for budgets and logs alike (CHAINGATE_TRUSTED_PROXIES).
    return client_address(scope) or "unknown"


def _is_multipart(scope: Scope) -> bool:
    content_type = next((v for k, v in scope.get("headers") or () if k == b"content-type"), b"")
    return content_type.split(b";", 1)[0].strip().lower() == b"multipart/form-data"


def _rate_limited(decision: Decision) -> Response:
    seconds = decision.retry_after_seconds
    return error_response(
        429, f"Too many requests: retry in {seconds} s.", RATE_LIMITED,
        headers={"Retry-After": str(seconds)}, retryAfter=seconds,
    )


def _unauthenticated(message: str) -> Response:
    return error_response(401, message, UNAUTHENTICATED, headers={"WWW-Authenticate": "Bearer"})


class RequestGate:
    def __init__(
        self,
        app: ASGIApp,
        limiter: RateLimiter,
        budgets: Budgets,
        max_body_bytes: int,
        upload_caps: UploadCaps,
        *,
        authenticates: bool = True,
    ) -> None:
        """`authenticates=False` for endpoints that authenticate themselves (file downloads,
        public images): the gate then only keeps the budget, the body limit and the request id,
        and takes no uploads."""
        self.app = app
        self.limiter = limiter
        self.budgets = budgets
        self.max_body_bytes = max_body_bytes
        self.upload_caps = upload_caps
        self.authenticates = authenticates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        multipart = self.authenticates and _is_multipart(scope)
        # Before authentication only the largest cap is known: a body over it is too large for anyone.
        limit = self.upload_caps.largest if multipart else self.max_body_bytes
        refusal = self._declared_size_refusal(scope, limit)
        if refusal is None:
            refusal = await self._admit(scope)
        if refusal is None and multipart:
            limit, refusal = self._upload_limit(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, _counting(receive, limit), tracking_send)
        except BodyTooLarge:
            if started:  # the app answered before reading its whole body: nothing left to say
                raise
            await self._too_large(limit)(scope, receive, send)

    # --- 1. declared size ---------------------------------------------------------------

    def _too_large(self, limit: int) -> Response:
        return error_response(
            413, f"The request body is larger than {limit} bytes.", BAD_REQUEST, limit="body", allowed=limit,
        )

    def _declared_size_refusal(self, scope: Scope, limit: int) -> Response | None:
        for name, value in scope.get("headers") or ():
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return error_response(400, "Content-Length is not a number.", BAD_REQUEST)
                if declared > limit:
                    return self._too_large(limit)
        return None

    # --- 4. uploads ------------------------------------------------------------------

    def _upload_limit(self, scope: Scope) -> tuple[int, Response | None]:
        """(the viewer's upload cap, a refusal or None) for a multipart request, from the
        Viewer the gate authenticated: the body is still unread."""
        viewer = scope_viewer(scope)
        if not viewer.is_authenticated:
            return 0, _unauthenticated("Sending files (GraphQL multipart) needs a signed-in caller.")
        cap = self.upload_caps.cap_for(viewer)
        if cap is None:
            return 0, error_response(
                403, "This caller may not send files: uploads are for importers.", FORBIDDEN,
            )
        return cap, self._declared_size_refusal(scope, cap)

    # --- 2 and 3. budget and authentication ---------------------------------------------

    async def _admit(self, scope: Scope) -> Response | None:
        ip = _client_ip(scope)
        header = next((v for k, v in scope.get("headers") or () if k == b"authorization"), None)
        failures_key = f"authfail:{ip}"
        try:
            token = bearer(header.decode("latin-1") if header is not None else None)
        except AuthenticationFailed as exc:
            return await self._failed(failures_key, str(exc))
        if token is None:
            decision = await self.limiter.take(f"ip:{ip}", self.budgets.anonymous)
            if not decision.allowed:
                return _rate_limited(decision)
            return None
        key = await budget_key(token)
        if not self.authenticates:
            # The endpoint authenticates for itself: only the budget is spent here, the
            # caller's if the token verifies, else the IP's.
            decision = await self.limiter.take(
                key or f"ip:{ip}", self.budgets.caller if key else self.budgets.anonymous
            )
            return None if decision.allowed else _rate_limited(decision)
        if key is None:
            return await self._failed(failures_key, "Invalid or expired token.")
        if token.startswith(APP_TOKEN_PREFIX):
            standing = await self.limiter.take(failures_key, self.budgets.auth_failures, cost=0)
            if not standing.allowed:
                return _rate_limited(standing)
        decision = await self.limiter.take(key, self.budgets.caller)
        if not decision.allowed:
            return _rate_limited(decision)
        try:
            viewer = await authenticate(f"Bearer {token}")
        except AuthenticationFailed as exc:
            return await self._failed(failures_key, str(exc))
        scope.setdefault("state", {})["viewer"] = viewer
        return None

    async def _failed(self, failures_key: str, message: str) -> Response:
        decision = await self.limiter.take(failures_key, self.budgets.auth_failures)
        if not decision.allowed:
            return _rate_limited(decision)
        return _unauthenticated(message)


class BodyTooLarge(Exception):
    """Raised into the app's body reading once the body passes the limit (not a ValueError,
    so no parser mistakes it for a malformed body)."""


def _counting(receive: Receive, limit: int) -> Receive:
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge
        return message

    return counted
