"""The live change stream (SPEC §3.9): subscription `changes(corpId | chainId, after)` gives a
socket the pages Corp.changes / ChainSpace.changes would answer, as they come."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry import relay

from gql.context import Info
from gql.errors import bad_request, unauthenticated
from gql.feed.queries import MAX_PAGE, changes_page
from gql.feed.types import ChangePage
from gql.relay import parse_id

# How often the stream looks for new changes when it has sent everything.
POLL_SECONDS = 0.5


@strawberry.type
class FeedSubscription:
    @strawberry.subscription(description=(
        "Changes of one feed as they happen (SPEC §3.9): exactly one of corpId (Corp.changes) or chainId "
        "(ChainSpace.changes), after a syncToken from a full read. Each message is a non-empty page with the token "
        "after it (store it: a reconnecting client passes the last one). Ends with null when the viewer is not "
        "served the feed, with RESYNC_REQUIRED when a policy change concerns the viewer or the token is past the "
        "retention, and when the socket's token is no longer valid (re-checked before each message)."))
    async def changes(
        self, info: Info,
        after: Annotated[str, strawberry.argument(description="A syncToken of the feed: where the stream starts.")],
        corp_id: Annotated[relay.GlobalID | None, strawberry.argument(description="Global id of the Corp.")] = None,
        chain_id: Annotated[relay.GlobalID | None, strawberry.argument(
            description="Global id of the ChainSpace.")] = None,
    ) -> AsyncGenerator[ChangePage | None, None]:
        if (corp_id is None) == (chain_id is None):
            raise bad_request("Give exactly one of corpId and chainId.")
        feed = "corp" if corp_id is not None else "chain"
        feed_id = parse_id(corp_id, "Corp") if corp_id is not None else parse_id(chain_id, "ChainSpace")  # type: ignore[arg-type]
        if feed_id is None:  # not an id of that type: as a feed the viewer is not served
            yield None
            return
        while True:
            # Each round reads as the viewer is now (fresh loaders; a socket's token re-checked).
            if not await info.context.still_signed_in():
                raise unauthenticated("Your session has ended: sign in again.")
            info.context.refresh(info.context.viewer)
            page = await changes_page(info, feed, feed_id, after, MAX_PAGE)
            if page is None:
                yield None
                return
            after = page.sync_token
            if page.changes:
                yield page
            if not page.has_more:
                await asyncio.sleep(POLL_SECONDS)
