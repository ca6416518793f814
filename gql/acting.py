"""The shape every mutation on one object by id shares: decode the id, act, report.

A mutation such as revokeAppToken or retryImportJob decodes its `input.id`, runs its flow as
the viewer (the flow loads the object, checks the right, acts and writes the audit event)
and answers the flow's result or its userErrors; only the flow and the payload differ.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol, TypeVar

from strawberry import relay

from flows.audit import Origin
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id
from permissions.viewer import Viewer

R = TypeVar("R", covariant=True)


class ActOnId(Protocol[R]):
    """A flow acting on one object: flow(viewer, pk, origin=origin) -> its result."""

    def __call__(self, viewer: Viewer, pk: int, /, *, origin: Origin | None = ...) -> Awaitable[R]: ...


async def act_on_id(
    info: Info, global_id: relay.GlobalID, type_name: str, field: str, act: ActOnId[R]
) -> tuple[R | None, list[UserError]]:
    """Run flow `act` as the request's viewer on the object `global_id` names (a global id of
    a `type_name`; another type or a malformed id is the NOT_FOUND userError on `field`,
    like an unknown or invisible object, SPEC §2). Returns (the flow's result, []) or
    (None, the userErrors of its FlowError; its transaction has rolled back)."""
    ctx = info.context

    async def call() -> R:
        # Decoded inside the flow's call: an id of the wrong type is a NOT_FOUND userError too.
        return await act(ctx.viewer, decode_id(global_id, type_name, field), origin=ctx.origin)

    return await run_flow(call())
