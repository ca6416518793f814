"""Re-resolving the viewer after a write that changes what it may see."""

from __future__ import annotations

from gql.context import Context
from permissions.loading import member_viewer


async def refresh_viewer(ctx: Context) -> None:
    if ctx.viewer.member_id is None:
        return
    refreshed = await member_viewer(ctx.viewer.member_id, token_id=ctx.viewer.token_id)
    if refreshed is not None:
        ctx.refresh(refreshed)
