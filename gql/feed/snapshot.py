"""Takes the feed position before a request's resolvers run, when the request asks for a
syncToken: the token then covers no more than the full read beside it (SPEC §3.9)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from flows import feed as feed_flow


class FeedSnapshot(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        context = self.execution_context.context
        query = self.execution_context.query or ""
        if "syncToken" in query and getattr(context, "feed_start", "absent") is None:
            context.feed_start = (await feed_flow.current_position(), *(await feed_flow.feed_state()))
        yield
