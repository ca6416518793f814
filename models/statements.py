"""Statement text rendered once per shape, run many times with new values.

Tortoise builds a query's SQL anew on every run: it resolves the filters (Q objects, joins
for related fields, a deep copy of the table per join) and pypika renders the text. On a hot
read path that is a large part of the Python work of a request. A `StatementShape` is the
query's text and parameter order, rendered once by Tortoise itself and kept with the
converters Tortoise applies to the columns it reads; later runs of the same shape bind the
new values and run the kept text through the connection's `execute_query`.

How a shape finds its values: the query is built once with *markers* in place of the values
that change from run to run (the holes: a cursor's keys, a list of ids), and each marker is
then found among the rendered parameters. A hole that is a list becomes one array parameter
on PostgreSQL (`= ANY($n)`, see permissions.sql.ids_in) or one parameter an element
(`IN (?, ?)`), found either way. Whatever else the statement holds must be fixed by the
caller's key: a key that does not name everything the text depends on would run one
viewer's statement for another, so callers keep viewer-dependent shapes with the kept
Viewer (`Viewer.kept`), which is dropped with it.

PostgreSQL still plans each run for its values: asyncpg prepares the text, and the
connections set `plan_cache_mode = force_custom_plan` (models.db), so a kept text never
leads to a generic plan that ignores its values.

A shape with no hole (a list's first page: nothing in it changes from run to run) is kept on
PostgreSQL with its values written into the text as literals (`inline_values`), so it takes
no parameter at all. PostgreSQL plans a prepared statement without parameters once, knowing
every value (there is nothing a generic plan could ignore), and asyncpg's statement cache
keeps that statement per connection: the next runs skip planning, which for a
policy-filtered page with its counts costs more than running it (1.5 of 4.5 ms at bench
scale). Only integers, booleans and plain texts are written so, and only while the text
stays short enough for asyncpg to keep (MAX_CACHED_TEXT); anything else keeps the parameters.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Hashable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.queryset import ValuesListQuery, ValuesQuery

# Marker values: never a real id (ids are positive) nor a real text (no column holds NUL).
_INT_MARKER_BASE = -1_900_000_000
_TEXT_MARKER = "\x00hole{}\x00"

Hole = int | str | list[int]


class ShapeError(ValueError):
    """A query built with markers does not carry each of them as a parameter (a value the
    query turned into something else, or rendered into the text): no shape can be kept."""


def _markers(holes: Sequence[Hole]) -> list[Hole]:
    out: list[Hole] = []
    n = 0
    for i, value in enumerate(holes):
        if isinstance(value, bool):
            raise ShapeError(f"hole {i}: a bool cannot be told from its marker")
        if isinstance(value, list):
            out.append([_INT_MARKER_BASE - n - j for j in range(len(value))])
            n += len(value)
        elif isinstance(value, int):
            out.append(_INT_MARKER_BASE - n)
            n += 1
        elif isinstance(value, str):
            out.append(_TEXT_MARKER.format(i))
        else:
            raise ShapeError(f"hole {i}: {type(value).__name__} values cannot be holes")
    return out


# Where a rendered parameter takes its value from: (hole, element) or (hole, None) for the whole hole.
_Slot = tuple[int, int | None]


def _slots(params: Sequence[Any], markers: Sequence[Hole]) -> tuple[_Slot | None, ...]:
    """Per rendered parameter, the hole (and element) its marker stands for, None for a fixed value."""
    scalar: dict[Any, _Slot] = {}
    whole: dict[tuple[Any, ...], int] = {}
    for i, m in enumerate(markers):
        if isinstance(m, list):
            whole[tuple(m)] = i
            scalar.update({v: (i, j) for j, v in enumerate(m)})
        else:
            scalar[m] = (i, None)
    slots: list[_Slot | None] = []
    found: set[Any] = set()
    for p in params:
        if isinstance(p, list | tuple) and tuple(p) in whole:
            slots.append((whole[tuple(p)], None))
            found.update(p)
        elif not isinstance(p, bool) and isinstance(p, int | str) and p in scalar:
            slots.append(scalar[p])
            found.add(p)
        else:
            slots.append(None)
    missing = [m for m in scalar if m not in found]
    if missing:
        raise ShapeError(f"markers not among the parameters: {missing!r}")
    return tuple(slots)


@dataclass(frozen=True)
class StatementShape:
    """A query's SQL text, its parameters with the holes marked, and how its rows are read:
    `as_dicts` (a `.values()` query: one dict a row, by column) or tuples (`.values_list()`),
    each column through its converter (Tortoise's own to-Python conversion; None: as read).
    `model`: the query's model, whose connection runs the text."""

    model: Any
    sql: str
    params: tuple[Any, ...]
    slots: tuple[_Slot | None, ...]
    as_dicts: bool
    converters: tuple[tuple[str, Callable[[Any], Any] | None], ...]

    def bind(self, holes: Sequence[Hole]) -> list[Any]:
        """The parameters for these hole values (in the order the shape was built with)."""
        out = []
        for fixed, slot in zip(self.params, self.slots, strict=True):
            if slot is None:
                out.append(fixed)
            else:
                value = holes[slot[0]]
                out.append(value if slot[1] is None else value[slot[1]])  # type: ignore[index]
        return out

    async def run(self, holes: Sequence[Hole]) -> list[Any]:
        """The rows for these hole values, as the query itself returns them (dicts or tuples,
        values converted), on the model's connection of the moment (a request's own, see
        models.db.request_connection)."""
        db = self.model._meta.db
        if self.as_dicts:
            rows = await db.execute_query_dict(self.sql, self.bind(holes))
            for col, func in self.converters:
                if func is not None:
                    for row in rows:
                        row[col] = func(row[col])
            return list(rows)
        _, result = await db.execute_query(self.sql, self.bind(holes))
        return [tuple(r[col] if func is None else func(r[col]) for col, func in self.converters) for r in result]


def _identity(func: Callable[[Any], Any]) -> bool:
    # Tortoise's converter for a column read as it is (resolve_to_python_value) is a lambda.
    return isinstance(func, types.FunctionType) and func.__name__ == "<lambda>"


def shape_of(query: Any, markers: Sequence[Hole]) -> StatementShape:
    """The shape of `query`, a `.values()` or `.values_list()` query built with `markers`
    in place of its holes' values (see `fetch`). Raises ShapeError when a marker is not
    among the rendered parameters, or for another kind of query."""
    if isinstance(query, ValuesQuery):
        fields, as_dicts = query._fields_for_select, True
    elif isinstance(query, ValuesListQuery):
        fields, as_dicts = query.fields, False
    else:
        raise ShapeError(f"only .values() and .values_list() queries have a shape, not {type(query).__name__}")
    query._make_query()
    sql, params = query.query.get_parameterized_sql()
    slots = _slots(params, markers)
    if not any(slots) and query.model._meta.db.capabilities.dialect == "postgres":
        inlined = inline_values(sql, params)
        if inlined is not None and len(inlined) <= MAX_CACHED_TEXT:
            sql, params, slots = inlined, [], ()
    converters = []
    for column, name in fields.items():
        func = query.resolve_to_python_value(query.model, name)
        converters.append((str(column), None if _identity(func) else func))
    return StatementShape(query.model, sql, tuple(params), slots, as_dicts, tuple(converters))


# asyncpg keeps prepared statements of at most this many characters (its default
# max_cacheable_statement_size): a longer text is prepared anew on every run, one more round
# trip, so values are written in only while the text stays within it (a scope listing
# thousands of units keeps its parameters, planned on every run as before).
MAX_CACHED_TEXT = 15 * 1024
_PLACEHOLDER = re.compile(r"\$([0-9]+)")
_MAX_INT4 = 2**31 - 1


def _literal(value: Any) -> str | None:
    """`value` as a PostgreSQL literal, or None when it is not written so: only booleans,
    int4 integers (and lists of them, as integer[]) and texts with no quote, backslash or
    NUL (so no escaping is ever needed, whatever the server's standard_conforming_strings);
    exact types only (an enum member keeps its parameter)."""
    if type(value) is bool:
        return "TRUE" if value else "FALSE"
    if type(value) is int:
        return None if not -_MAX_INT4 <= value <= _MAX_INT4 else str(value) if value >= 0 else f"({value})"
    if type(value) is str:
        return None if any(c in value for c in "'\\\0") else f"'{value}'"
    if type(value) is list and all(type(v) is int and 0 <= v <= _MAX_INT4 for v in value):
        return f"ARRAY[{','.join(map(str, value))}]::integer[]" if value else "'{}'::integer[]"
    return None


def inline_values(sql: str, params: Sequence[Any]) -> str | None:
    """PostgreSQL text `sql` ($1, $2, ... placeholders) with each parameter written in as a
    literal: a statement that takes no parameter, which PostgreSQL plans once per prepared
    statement, for these very values. None when a value cannot be written so (see
    `_literal`) or the text holds a quoted literal of its own (a `$n` inside it would not
    be a placeholder)."""
    if "'" in sql or "$$" in sql:
        return None
    literals = [_literal(p) for p in params]
    if any(lit is None for lit in literals):
        return None
    used: set[int] = set()

    def put(match: re.Match[str]) -> str:
        n = int(match.group(1))
        used.add(n)
        return literals[n - 1]  # type: ignore[return-value]

    try:
        text = _PLACEHOLDER.sub(put, sql)
    except IndexError:
        return None
    return text if used == set(range(1, len(params) + 1)) else None


def _full_key(key: Hashable, holes: Sequence[Hole]) -> tuple[Any, ...]:
    return ("statement", key, tuple(len(h) if isinstance(h, list) else -1 for h in holes))


def is_kept(shapes: MutableMapping[Any, Any], key: Hashable, holes: Sequence[Hole]) -> bool:
    """Whether `fetch` with this key and these holes' kinds would run a kept text (and so
    not call its build)."""
    return _full_key(key, holes) in shapes


async def fetch(
    build: Callable[..., Any],
    holes: Sequence[Hole],
    key: Hashable,
    shapes: MutableMapping[Any, Any] | None,
) -> list[Any]:
    """The rows of `build(*holes)` (a `.values()` or `.values_list()` query of one model), its
    text rendered once per `key` and kept in `shapes` (None: built and run as usual).
    `key` must name everything the text depends on besides the holes, and `shapes` must not
    outlive what the key leaves out (e.g. the kept Viewer's own dict for a policy-filtered
    query). Holes: ints, texts, or lists of ints (a list's length goes with the key: `IN`
    takes one parameter an element). Raises ShapeError (see shape_of)."""
    if shapes is None:
        return list(await build(*holes))
    full_key = _full_key(key, holes)
    shape = shapes.get(full_key)
    if shape is None:
        markers = _markers(holes)
        shape = shapes[full_key] = shape_of(build(*markers), markers)
    rows: list[Any] = await shape.run(holes)
    return rows
