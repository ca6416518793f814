"""Relay plumbing: global ids and cursor connections with totalCount (SPEC §4)."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from strawberry import relay

from flows.errors import NotFound
from gql.errors import bad_request

NodeT = TypeVar("NodeT")
MAX_PAGE = 100
DEFAULT_PAGE = 20
MAX_OFFSET = 10**9


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[NodeT]:
        return [e.node for e in self.edges]


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _offset(after: str | None) -> int:
    if after is None:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(after.encode()).decode().partition(":")
        offset = int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request("Malformed cursor.") from exc
    # A cursor is only ever one this server made: an offset past any real list is forged.
    if kind != "o" or not 0 <= offset < MAX_OFFSET:
        raise bad_request("Malformed cursor.")
    return offset + 1


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if not 0 <= first <= MAX_PAGE:
        raise bad_request(f"first must be between 0 and {MAX_PAGE}.")
    return first


async def paginate(
    query: Any,
    first: int | None,
    after: str | None,
    build: Callable[[Sequence[Any]], Awaitable[Sequence[NodeT]]],
) -> Connection[NodeT]:
    """One COUNT and one page query, whatever the page size; `query` is already policy-filtered."""
    size = page_size(first)
    start = _offset(after)
    total = await query.count()
    rows = list(await query.offset(start).limit(size + 1)) if size else []
    nodes = await build(rows[:size])
    edges = [Edge(cursor=_cursor(start + i), node=n) for i, n in enumerate(nodes)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size,
            has_previous_page=start > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=total,
    )


def decode_id(gid: relay.GlobalID, type_name: str, field: str) -> int:
    """A global id of the expected type, else the NOT_FOUND every unknown object gets."""
    if gid.type_name != type_name:
        raise NotFound(field)
    try:
        return int(gid.node_id)
    except ValueError as exc:
        raise NotFound(field) from exc


def parse_id(gid: relay.GlobalID, type_name: str) -> int | None:
    if gid.type_name != type_name:
        return None
    try:
        return int(gid.node_id)
    except ValueError:
        return None
