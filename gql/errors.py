"""Errors: payload userErrors for business rules, coded GraphQL errors for request problems."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import strawberry
from graphql import GraphQLError

from flows.errors import FlowError

T = TypeVar("T")


@strawberry.type(description=(
    "A business-rule failure of a mutation (SPEC §3): nothing was changed. Request problems (UNAUTHENTICATED, "
    "FORBIDDEN, RATE_LIMITED, BAD_REQUEST) come as GraphQL errors with extensions.code instead."))
class UserError:
    code: str = strawberry.field(description="Stable UPPER_SNAKE code, e.g. NOT_FOUND; each mutation lists the codes it returns.")
    field: str | None = strawberry.field(description="The input field at fault (camelCase, e.g. `mobile`), or null when the whole request is.")
    message: str = strawberry.field(description="What went wrong and how to fix it, for a person to read.")


def bad_request(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_REQUEST"})


def unauthenticated(message: str = "Sign in first.") -> GraphQLError:
    return GraphQLError(message, extensions={"code": "UNAUTHENTICATED"})


async def run_flow(call: Awaitable[T]) -> tuple[T | None, list[UserError]]:
    """Await a flow; a FlowError becomes userErrors (the flow's transaction has rolled back)."""
    try:
        return await call, []
    except FlowError as exc:
        return None, [UserError(code=exc.code, field=exc.field, message=exc.message)]
