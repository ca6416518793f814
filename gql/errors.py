"""Errors: payload userErrors for business rules, coded GraphQL errors for request problems."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import strawberry
from graphql import GraphQLError

from flows.errors import FlowError

T = TypeVar("T")


@strawberry.type
class UserError:
    code: str
    field: str | None
    message: str


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
