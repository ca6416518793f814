"""Relay plumbing: global ids and cursor connections with totalCount (SPEC §4).

Lists ordered by keys a cursor may carry (see KEYSET_FIELDS) page by keyset: the cursor
holds the last row's order values and the next page is `WHERE (keys) > (cursor) LIMIT n`,
which an index walks straight to, however deep the page. Other lists page by offset.
`totalCount` is one COUNT, run only when the client selects it.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Awaitable, Callable, Hashable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
import strawberry
from strawberry import relay
from tortoise.expressions import Q, Subquery

from flows.errors import NotFound
from gql.errors import bad_request
from models import Member, statements

NodeT = TypeVar("NodeT")
T = TypeVar("T")
MAX_PAGE = 100
DEFAULT_PAGE = 20
MAX_OFFSET = 10**9
# Order keys a keyset cursor may carry. A client can forge a cursor with any values, so
# only keys whose values it already sees on every row qualify: ids, and the pinyin that
# follows from a name (always visible). A hidden field as a key would let a forged cursor
# binary-search its values.
KEYSET_FIELDS = frozenset({"id", "pinyin_full"})
MAX_KEY_LENGTH = 255


@strawberry.type(description="Where a connection's page sits in its list (Relay cursor connections, SPEC §4).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when rows follow this page: ask again with `after: endCursor`.")
    has_previous_page: bool = strawberry.field(description="True when this page was asked for with an `after` cursor.")
    start_cursor: str | None = strawberry.field(description="Opaque cursor of the page's first edge; null on an empty page.")
    end_cursor: str | None = strawberry.field(description="Opaque cursor of the page's last edge, for the next `after`; null on an empty page.")


@strawberry.type(description="One row of a connection's page, with its cursor.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Opaque position of this row; pass it as `after` to get the rows that follow.")
    node: NodeT = strawberry.field(description="The row.")


@strawberry.type(description=(
    "One page of a list, cut to what the viewer may see (SPEC §2): Relay cursor connection with totalCount "
    "(SPEC §4). Page with `first` (0-100, default 20) and `after` (a cursor from this list)."))
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The page's rows with their cursors, in the list's order.")
    page_info: PageInfo = strawberry.field(description="Whether more rows follow, and the cursors to ask for them.")
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Rows in the whole list the viewer may see, not just this page (one COUNT, run only when selected).")
    async def total_count(self) -> int:
        return await self._count()

    @strawberry.field(description="The page's rows without cursors (the nodes of `edges`).")
    def nodes(self) -> list[NodeT]:
        return [e.node for e in self.edges]


@dataclass(frozen=True)
class Total:
    """A list's totalCount as the sum of one-row queries each selecting `n` (NULL for 0),
    e.g. permissions.counts.member_count_parts. `carrier`: a query of exactly one row that
    the parts are read with in one statement when the page does not carry them."""

    parts: Sequence[Any]
    carrier: Any = None

    def columns(self) -> dict[str, Subquery]:
        return {f"total_{i}": Subquery(p) for i, p in enumerate(self.parts)}

    @staticmethod
    def of_row(row: dict[str, Any], names: Sequence[str]) -> int:
        return sum(int(row[n] or 0) for n in names)

    async def read(self) -> int:
        """The total, in one statement."""
        if len(self.parts) == 1 or self.carrier is None:
            return sum([int((await p)[0]["n"] or 0) for p in self.parts])
        columns = self.columns()
        rows = await self.carrier.annotate(**columns).values(*columns)
        return self.of_row(rows[0], list(columns)) if rows else 0


@dataclass(frozen=True)
class _Cursor:
    offset: int = 0
    keys: tuple[Any, ...] | None = None


def _encode(kind: str, value: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def _offset_cursor(offset: int) -> str:
    return _encode("o", str(offset))


def _keyset_cursor(values: Sequence[Any]) -> str:
    # orjson writes what json.dumps(ensure_ascii=False, separators=(",", ":")) writes for
    # these keys (strings and ints), at a fraction of the cost: one cursor per row.
    return base64.urlsafe_b64encode(b"k:" + orjson.dumps(list(values))).decode()


def _parse(after: str | None) -> _Cursor:
    if after is None:
        return _Cursor()
    try:
        kind, _, value = base64.urlsafe_b64decode(after.encode()).decode().partition(":")
        if kind == "o":
            offset = int(value)
            # A cursor is only ever one this server made: an offset past any real list is forged.
            if 0 <= offset < MAX_OFFSET:
                return _Cursor(offset=offset + 1)
        elif kind == "k":
            keys = json.loads(value)
            if isinstance(keys, list) and keys and all(_plain_key(k) for k in keys):
                return _Cursor(keys=tuple(keys))
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request("Malformed cursor.") from exc
    raise bad_request("Malformed cursor.")


def _plain_key(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value <= MAX_PK
    return isinstance(value, str) and len(value) <= MAX_KEY_LENGTH


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if not 0 <= first <= MAX_PAGE:
        raise bad_request(f"first must be between 0 and {MAX_PAGE}.")
    return first


def _keyset_order(query: Any) -> list[tuple[str, bool]] | None:
    """(field, descending) per order key when the list can page by keyset: every key a
    KEYSET_FIELDS column, the last one the unique id."""
    orderings = getattr(query, "_orderings", None) or []
    keys = [(name, getattr(direction, "value", str(direction)).upper() == "DESC") for name, direction in orderings]
    if not keys or keys[-1][0] != "id" or any(name not in KEYSET_FIELDS for name, _ in keys):
        return None
    return keys


def _after(keys: list[tuple[str, bool]], values: tuple[Any, ...]) -> Q:
    """Rows strictly after `values` in the order: (a, b) > (x, y) is a > x OR (a = x AND b > y)."""
    branches = []
    for i, (name, desc) in enumerate(keys):
        branch = {keys[j][0]: values[j] for j in range(i)}
        branch[f"{name}__{'lt' if desc else 'gt'}"] = values[i]
        branches.append(Q(**branch))
    q = branches[0]
    for b in branches[1:]:
        q |= b
    first, desc = keys[0]
    # The bound on the first key alone lets the index start at the cursor.
    return Q(**{f"{first}__{'lte' if desc else 'gte'}": values[0]}) & q


def _key_values(row: Any, keys: list[tuple[str, bool]]) -> list[Any]:
    if isinstance(row, dict):
        return [row[name] for name, _ in keys]
    return [getattr(row, name) for name, _ in keys]


@dataclass
class Deferred:
    """A list's ordered, policy-filtered query and its Total, built only when a page needs
    them: a page whose statement is kept (see paginate's `shapes`) runs the kept text
    without building either. `make`: builds them (the same list every time, for one key)."""

    make: Callable[[], Awaitable[tuple[Any, Total | None]]]
    _built: tuple[Any, Total | None] | None = None

    async def get(self) -> tuple[Any, Total | None]:
        if self._built is None:
            self._built = await self.make()
        return self._built


async def paginate(
    query: Any,
    first: int | None,
    after: str | None,
    build: Callable[[Sequence[Any]], Awaitable[Sequence[NodeT]]],
    *,
    columns: Sequence[str] | None = None,
    total: Total | None = None,
    fold_total: bool = False,
    shape_key: Hashable | None = None,
    shapes: MutableMapping[Any, Any] | None = None,
) -> Connection[NodeT]:
    """One page query, plus one COUNT if totalCount is selected, whatever the page size;
    `query` is already policy-filtered and ordered. With `columns`, `build` gets dict rows
    of those columns instead of model instances (no model to build per row).
    `total`: how totalCount is counted (default `query.count()`); with `fold_total` (the
    client selects totalCount) and `columns`, the page query carries it as uncorrelated
    scalar subqueries (computed once, not per row): no statement of its own unless a
    page after a cursor comes back empty. A first page not cut short counts itself.
    `shape_key` with `shapes` (and `columns`): the page statement's text is rendered once and
    kept in `shapes` (models.statements); the key must name everything `query` and `total`
    depend on, and `shapes` must not outlive it (the kept Viewer's, for a policy-filtered list).
    `query` may be a Deferred (with `columns`, `shape_key` and `shapes`; its Total replaces
    `total`): once a page of that key has run, the next ones neither build the query nor its
    Total, unless a count must be run on its own."""
    size = page_size(first)
    cursor = _parse(after)
    deferred = query if isinstance(query, Deferred) else None
    # What a kept page statement was built with (its order keys, columns and carried counts),
    # kept beside it: the same key names the same query, so they hold for the next page too.
    plan_key = None
    if deferred is not None and shapes is not None and shape_key is not None and columns is not None and size:
        plan_key = ("page plan", shape_key, size, cursor.keys is None, fold_total)
    plan = shapes.get(plan_key) if plan_key is not None and shapes is not None and not cursor.offset else None
    if plan is not None and not statements.is_kept(shapes, plan[3], list(cursor.keys or ())):
        plan = None
    if plan is None and deferred is not None:
        query, total = await deferred.get()
    if plan is not None:
        return await _kept_page(plan, cursor, size, build, deferred, shapes)
    keys = _keyset_order(query)
    page = query
    if cursor.keys is not None:
        if keys is None:
            raise bad_request("Malformed cursor.")
        _check_cursor(keys, cursor.keys)
        page = page.filter(_after(keys, cursor.keys))
    elif cursor.offset:
        page = page.offset(cursor.offset)
    rows: list[Any] = []
    counted: int | None = None
    if size and columns is not None:
        wanted = list(dict.fromkeys([*columns, *(name for name, _ in keys or [])]))
        carried = total.columns() if total is not None and fold_total else {}

        def page_query(*after_keys: Any) -> Any:
            built = query.filter(_after(keys, after_keys)) if after_keys else page  # type: ignore[arg-type]
            built = built.limit(size + 1)
            if carried:
                built = built.annotate(**carried)
            return built.values(*wanted, *carried)

        # With a shape key the statement's text is kept (per kept Viewer): the cursor's keys
        # are its only values that change. Offset pages are built each time.
        key = None if shape_key is None or cursor.offset else (
            shape_key, size, len(cursor.keys or ()), tuple(wanted), tuple(carried))
        rows = await statements.fetch(page_query, list(cursor.keys or ()), key, shapes if key is not None else None)
        if plan_key is not None and key is not None and keys is not None and shapes is not None:
            shapes[plan_key] = (keys, wanted, list(carried), key)
        if carried and rows:
            counted = Total.of_row(rows[0], list(carried))
    elif size:
        rows = list(await page.limit(size + 1))
    if size and cursor.keys is None and not cursor.offset and len(rows) <= size:
        counted = len(rows)  # a first page not cut short is the whole list
    nodes = await build(rows[:size])
    if keys is not None and not cursor.offset:
        cursors = [_keyset_cursor(_key_values(r, keys)) for r in rows[:size]]
    else:
        cursors = [_offset_cursor(cursor.offset + i) for i in range(len(rows[:size]))]
    edges = [Edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=False)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size,
            has_previous_page=cursor.offset > 0 or cursor.keys is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        _count=_counter(query, total, counted),
    )


def _check_cursor(keys: list[tuple[str, bool]], values: Sequence[Any]) -> None:
    """A keyset cursor's values fit the list's order keys (one per key; text for every key
    but the id), else BAD_REQUEST "Malformed cursor."."""
    if len(keys) != len(values) or any(
        isinstance(v, str) != (name != "id") for (name, _), v in zip(keys, values, strict=True)
    ):
        raise bad_request("Malformed cursor.")


async def _kept_page(
    plan: tuple[Any, ...],
    cursor: _Cursor,
    size: int,
    build: Callable[[Sequence[Any]], Awaitable[Sequence[NodeT]]],
    deferred: Deferred | None,
    shapes: MutableMapping[Any, Any],
) -> Connection[NodeT]:
    """paginate's page from a kept statement (`plan`: its order keys, columns, carried
    count columns and statement key), the list's query built only if a count must run."""
    keys, _wanted, carried, key = plan
    if cursor.keys is not None:
        _check_cursor(keys, cursor.keys)

    def unbuilt(*_holes: Any) -> Any:  # the statement is kept (statements.is_kept): never called
        raise AssertionError("a kept page statement was dropped")

    rows = await statements.fetch(unbuilt, list(cursor.keys or ()), key, shapes)
    counted: int | None = None
    if carried and rows:
        counted = Total.of_row(rows[0], carried)
    if cursor.keys is None and len(rows) <= size:
        counted = len(rows)
    nodes = await build(rows[:size])
    cursors = [_keyset_cursor(_key_values(r, keys)) for r in rows[:size]]
    edges = [Edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=False)]

    async def count() -> int:
        if counted is not None:
            return counted
        assert deferred is not None
        query, total = await deferred.get()
        return await _counter(query, total, None)()

    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size,
            has_previous_page=cursor.keys is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        _count=count,
    )


def _counter(query: Any, total: Total | None, counted: int | None) -> Callable[[], Awaitable[int]]:
    async def known() -> int:
        assert counted is not None
        return counted

    if counted is not None:
        return known
    return total.read if total is not None else query.count


# Every primary key is a Tortoise IntField: a 32-bit integer on PostgreSQL (int4), and kept
# to the same range on SQLite. A number outside it names no row; sent to PostgreSQL it would
# be a driver error, so it never leaves this module.
MAX_PK = int(Member._meta.pk.constraints["le"])
_PK_TEXT = re.compile(r"[1-9][0-9]{0,9}")


def parse_pk(text: str) -> int | None:
    """The primary key a global id's node part (or a URL path segment) names, or None when
    it can name no row: anything but plain ASCII digits (int() would also take " 7", "+7",
    "7_0", "٧"), zero, or a number past MAX_PK."""
    if not _PK_TEXT.fullmatch(text):
        return None
    pk = int(text)
    return pk if pk <= MAX_PK else None


def pk_from_text(text: str, type_name: str) -> int | None:
    """The primary key that `text` names, for ids people type or paste (URL path segments,
    CLI options): the global id GraphQL hands out for `type_name` (e.g. `Q29ycDox`, Corp 1),
    or the plain number. None when it can name no row of that type."""
    if _PK_TEXT.fullmatch(text):
        return parse_pk(text)
    try:
        gid = relay.GlobalID.from_id(text)
    except relay.GlobalIDValueError:
        return None
    return parse_id(gid, type_name)


def parse_id(gid: relay.GlobalID, type_name: str) -> int | None:
    """The primary key of a global id of the expected type, else None (unknown object)."""
    return parse_pk(gid.node_id) if gid.type_name == type_name else None


def decode_id(gid: relay.GlobalID, type_name: str, field: str) -> int:
    """A global id of the expected type, else the NOT_FOUND every unknown object gets."""
    pk = parse_id(gid, type_name)
    if pk is None:
        raise NotFound(field)
    return pk


async def or_none(lookup: Awaitable[T]) -> T | None:
    """What a flows.access helper returns, or None where it raises NotFound: how a node
    lookup answers null alike for unknown and invisible objects (SPEC §2)."""
    try:
        return await lookup
    except NotFound:
        return None
