"""The typed per-request context: the Viewer, fresh loaders, and where the request came from."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as StrawberryInfo

from flows.audit import Origin
from gql.chain.loaders import ChainLoaders
from gql.directory.loaders import DirectoryLoaders
from permissions.viewer import Viewer


@dataclass
class Context:
    viewer: Viewer
    request: Any = None
    response: Any = None
    origin: Origin = field(default_factory=Origin)
    # graphql-transport-ws: the `connection_init` payload, where a socket carries its token.
    connection_params: dict[str, Any] | None = None
    # A socket outlives its token's checks at connection_init: this authenticates its token
    # again (None when it no longer may act). Set by the view for sockets only.
    reauthenticate: Callable[[], Awaitable[Viewer | None]] | None = None
    # Advice for the caller, returned in the response's `extensions.hints` (gql.hints).
    hints: list[dict[str, Any]] = field(default_factory=list)
    # (feed position, epoch, pruned-before) taken before the resolvers of a request that asks
    # for a syncToken ran (gql.feed.snapshot): the token is never later than the request's reads.
    feed_start: Any = None
    directory: DirectoryLoaders = field(init=False)
    chain: ChainLoaders = field(init=False)

    def __post_init__(self) -> None:
        self.refresh(self.viewer)

    async def still_signed_in(self) -> bool:
        """Whether the caller may still act: always for an HTTP request (authenticated when
        it arrived); for a socket, its token is checked again, as each HTTP request checks it,
        and the Viewer re-read (a resigned, disabled or revoked member's socket stops at once)."""
        if self.reauthenticate is None:
            return True
        viewer = await self.reauthenticate()
        if viewer is None:
            return False
        self.refresh(viewer)
        return True

    def refresh(self, viewer: Viewer) -> None:
        """After a write that changes what the viewer may see: a new Viewer means new, empty loaders."""
        self.viewer = viewer
        self.directory = DirectoryLoaders(viewer)
        self.chain = ChainLoaders(viewer)


def make_context(viewer: Viewer, request: Any = None, response: Any = None) -> Context:
    ip = request.client.host if request is not None and request.client else None
    # The id RequestTelemetry gave the request (HTTP and websockets) and echoes on the
    # response: the audit trail keeps the same id as the log. A new one only for a schema
    # run without a request (tests, scripts).
    request_id = request.headers.get("x-request-id") if request is not None else None
    return Context(viewer, request, response, Origin(request_id or uuid.uuid4().hex, ip))


Info = StrawberryInfo[Context, None]
