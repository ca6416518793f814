"""Small builders for the SQL evaluators (Tortoise Q objects)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import reduce
from operator import or_
from typing import Any

from pypika_tortoise.terms import Criterion, Term, ValueWrapper
from tortoise.expressions import Q, ResolveContext, Subquery
from tortoise.query_utils import QueryModifier

from permissions.paths import outermost, subtree_upper

NOTHING = Q(id__in=[])  # renders as 1=0

# Subtree root path -> the ids of the units in that subtree, read just before the query is
# built (permissions.loading.subtree_units). Given, a seat test names its units as a list instead of a
# path-range subquery: the planner then knows how many seats it matches (a path range it
# guesses at a few dozen where it holds thousands, and sorts the whole visible set).
SubtreeUnits = Mapping[str, tuple[int, ...]]

# Subtrees as range predicates (`path >= '/1/5/' AND path < '/1/50'`) are what a btree index
# on the path serves on both databases; Tortoise's `startswith` renders
# `CAST(path AS VARCHAR) LIKE '/1/5/%'`, which no index serves. A range is only right where
# the database compares paths bytewise: SQLite always, PostgreSQL under C / C.UTF-8 / POSIX.
# Under a linguistic collation (en_US.UTF-8 ignores '/'), a range would drop rows, so ranges
# stay off until permissions.loading.check_path_ordering has asked the database.
_path_ranges = False


def use_path_ranges(enabled: bool) -> None:
    """Switch subtree predicates between ranges (indexable) and LIKE (right under any collation)."""
    global _path_ranges
    _path_ranges = enabled


# SQLite's LIKE ignores ASCII case and its UPPER folds nothing else, so a plain LIKE finds the
# same rows as the case-insensitive form there. Off (the case-insensitive form, right everywhere)
# until permissions.loading.check_path_ordering has seen the dialect.
_plain_like = False


def use_plain_like(enabled: bool) -> None:
    """Whether contains_text may write a plain LIKE (only where LIKE already ignores ASCII case)."""
    global _plain_like
    _plain_like = enabled


def path_ranges_enabled() -> bool:
    """Whether subtree predicates are written as ranges (see use_path_ranges)."""
    return _path_ranges


def any_of(parts: Iterable[Q]) -> Q:
    """OR of the parts; an empty OR is false (never "everything")."""
    items = list(parts)
    return reduce(or_, items) if items else NOTHING


def contains_text(field: str, text: str) -> Q:
    """Filter: `field` contains `text`, ignoring letter case. Where LIKE already ignores ASCII
    case (SQLite; see use_plain_like) it is a plain LIKE (Tortoise's case-insensitive form wraps
    both sides in UPPER(CAST(...)): the same rows at about three times the CPU per row scanned);
    elsewhere the case-insensitive form, unless the text has no letter case (Chinese, digits),
    where folding would only cost."""
    plain = _plain_like or text.upper() == text.lower()
    return Q(**{f"{field}__contains" if plain else f"{field}__icontains": text})


def starts_with(field: str, prefix: str) -> Q:
    """`field` starts with `prefix`, as a range an index serves where strings compare bytewise
    (the same check as paths): [prefix, prefix with its last character incremented)."""
    if _path_ranges and prefix and ord(prefix[-1]) < 0x10FFFF:
        return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix[:-1] + chr(ord(prefix[-1]) + 1)})
    return Q(**{f"{field}__startswith": prefix})


def path_under(root: str, field: str = "path") -> Q:
    """Filter: `field` (a materialised path column) is `root` or lies in its subtree; a range
    when path ranges are enabled, else a LIKE prefix test. `root` must end with '/'."""
    if _path_ranges:
        return Q(**{f"{field}__gte": root, f"{field}__lt": subtree_upper(root)})
    return Q(**{f"{field}__startswith": root})


def path_under_any(roots: Iterable[str], field: str = "path") -> Q:
    """Filter: `field` lies in the subtree of one of `roots` (nested roots folded first); false for none."""
    return any_of(path_under(r, field) for r in outermost(roots))


def units_under(roots: Iterable[str], corp_id: int | None = None) -> Subquery:
    """Ids of the units in the subtrees; with the corp, the (corp_id, path) index finds them."""
    from models import OrgUnit

    query = OrgUnit.filter(path_under_any(roots))
    if corp_id is not None:
        query = query.filter(corp_id=corp_id)
    return Subquery(query.values("id"))


def unit_ids_under(roots: Iterable[str], units: SubtreeUnits | None) -> list[int] | None:
    """The ids of the units in the subtrees when `units` holds every one of them, else None."""
    outer = outermost(roots)
    if units is None or any(r not in units for r in outer):
        return None
    return sorted({i for r in outer for i in units[r]})


class _AnyOf(Term):
    """`ANY($n)` with the whole list as one array parameter (PostgreSQL)."""

    def __init__(self, values: list[int]) -> None:
        super().__init__()
        self.values = values

    def get_sql(self, ctx: Any) -> str:
        return f"ANY({ValueWrapper(self.values).get_sql(ctx)})"


class _CriterionQ(Q):
    """A Q whose condition is written by `condition(resolve_context)`: a Criterion of our own
    (negated with the Q), or a plain Q to resolve instead. Subclasses keep their arguments in
    `args`, which equality and negation carry over."""

    __slots__ = ("args",)

    def __init__(self, *args: Any) -> None:
        super().__init__()
        self.args = args

    def __bool__(self) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and (self.args, self._is_negated) == (other.args, other._is_negated)

    __hash__ = None  # type: ignore[assignment]

    def __invert__(self) -> Q:
        q = type(self)(*self.args)
        q._is_negated = not self._is_negated
        return q

    def condition(self, resolve_context: ResolveContext) -> Criterion | Q:
        raise NotImplementedError

    def resolve(self, resolve_context: ResolveContext) -> QueryModifier:
        condition = self.condition(resolve_context)
        if isinstance(condition, Q):
            return (~condition if self._is_negated else condition).resolve(resolve_context)
        return QueryModifier(where_criterion=condition.negate() if self._is_negated else condition)


class _IntsIn(Criterion):
    """`"table"."column" IN (1,2,3)`, the ids written into the text (SQLite)."""

    def __init__(self, table: Any, column: str, ids: list[int]) -> None:
        super().__init__()
        self.table, self.column, self.ids = table, column, ids

    def get_sql(self, ctx: Any) -> str:
        return f'"{self.table.alias or self.table.get_table_name()}"."{self.column}" IN ({_int_literals(self.ids)})'


def _int_literals(ids: Iterable[int]) -> str:
    # int() on each: only integers ever reach the text.
    return ",".join(str(int(i)) for i in ids)


class _IdsInQ(_CriterionQ):
    """ids_in on SQLite: `column IN (...)` with the ids as literals (see _IntsIn). args: (column, ids)."""

    def condition(self, resolve_context: ResolveContext) -> Criterion | Q:
        column, ids = self.args
        return _IntsIn(resolve_context.table, column, ids)


def ids_in(model: Any, field: str, ids: list[int]) -> Q:
    """`field IN (ids)` on `model`'s rows. On PostgreSQL `field = ANY($1)`, one array
    parameter: the statement's text and parameters do not grow with the set (a scope's
    hundreds of unit ids cost one parameter to build and send, not one each), and the
    planner still sees the values (plans are custom: plan_cache_mode=force_custom_plan).
    SQLite keeps its IN list."""
    condition: dict[str, Any]
    if ids and model._meta.db.capabilities.dialect == "postgres":
        condition = {field: _AnyOf(list(ids))}
    else:
        condition = {f"{field}__in": ids}
    return Q(**condition)


def ids_written_in(model: Any, field: str, ids: list[int]) -> Q:
    """ids_in, but on SQLite with the ids written into the statement as literals rather than
    one parameter each: the same plan, without building a parameter per id (a directory
    admin's search of a department names a few hundred units several times over). Only
    for a statement that models.statements does not keep (it finds values among the
    parameters). `field`: a column of `model`'s own; `ids`: integers."""
    if not ids or model._meta.db.capabilities.dialect == "postgres":
        return ids_in(model, field, ids)
    return _IdsInQ(field, list(ids))


def members_placed_under(
    roots: Iterable[str], corp_id: int | None = None, units: SubtreeUnits | None = None
) -> Subquery:
    """Ids of members with at least one seat in one of the subtrees; with `units` holding
    the subtrees, their seats are found by the listed unit ids."""
    from models import Placement

    roots = list(roots)
    listed = unit_ids_under(roots, units)
    if listed is not None:
        return Subquery(Placement.filter(ids_in(Placement, "unit_id", listed)).values("member_id"))
    return Subquery(Placement.filter(unit_id__in=units_under(roots, corp_id)).values("member_id"))


class _SeatIn(Criterion):
    """`EXISTS (a seat of the row's member in one of these units)`, correlated on the row's
    member id column: a probe of the placement (member_id, unit_id) index per row, the
    units a hashed list (PostgreSQL: `= ANY($n)`; SQLite: `+unit_id IN (...)`, the `+`
    keeping SQLite from probing the (unit_id, member_id) index once per listed unit)."""

    def __init__(self, table: Any, column: str, unit_ids: list[int], postgres: bool) -> None:
        super().__init__()
        self.table, self.column, self.unit_ids, self.postgres = table, column, unit_ids, postgres

    def get_sql(self, ctx: Any) -> str:
        outer = f'"{self.table.alias or self.table.get_table_name()}"."{self.column}"'
        if self.postgres:
            units = f'"seat_"."unit_id"=ANY({ValueWrapper(self.unit_ids).get_sql(ctx)})'
        else:
            units = f'+"seat_"."unit_id" IN ({_int_literals(self.unit_ids)})'
        return f'EXISTS (SELECT 1 FROM "placement" "seat_" WHERE "seat_"."member_id"={outer} AND {units})'


class _SeatedQ(_CriterionQ):
    """A _SeatIn on the filtered model's table (see seated_in_units). args: (column, unit_ids)."""

    def condition(self, resolve_context: ResolveContext) -> Criterion | Q:
        column, unit_ids = self.args
        postgres = resolve_context.model._meta.db.capabilities.dialect == "postgres"
        return _SeatIn(resolve_context.table, column, unit_ids or [0], postgres)  # no unit has id 0


def seated_in_units(unit_ids: list[int], column: str = "id") -> Q:
    """Filter: the row's member (its `column`, a member id) has a seat in one of `unit_ids`
    (OrgUnit ids; [] matches nothing), tested row by row (_SeatIn) rather than as the set of
    every such member: what a page that walks its ordering index and stops at its end wants,
    where `column IN (seats)` would read every seat in the units first. The seat test of
    the department scope and admin ranges (SPEC §2.1, §2.4); raises nothing."""
    return _SeatedQ(column, sorted(unit_ids))


def seated_under(
    roots: Iterable[str],
    corp_id: int | None = None,
    units: SubtreeUnits | None = None,
    *,
    per_row: bool = False,
    column: str = "id",
) -> Q:
    """Filter: the row's member (its `column`, a member id) is seated in one of the subtrees
    `roots` (unit paths; members_placed_under, SPEC §2.1); with `per_row` and every
    subtree's units listed in `units`, as a per-row test (seated_in_units), else as
    `column IN (seats)`. The same rows either way; raises nothing."""
    roots = list(roots)
    listed = unit_ids_under(roots, units) if per_row else None
    if listed is not None:
        return seated_in_units(listed, column)
    condition: dict[str, Any] = {f"{column}__in": members_placed_under(roots, corp_id, units)}
    return Q(**condition)


def in_corp_by_ids(corp_id: int) -> Q:
    """`corp_id = ?` written as a closed range, the same rows: for a query that an id
    subquery should drive. SQLite's statistics average over all corps (a directory of
    50,000 next to 10,000 of one member each looks like 6 rows a corp), so given
    `corp_id = ?` it scans the corp's index instead of looking up the ids; a range it
    estimates as wide, and takes the ids. PostgreSQL estimates both alike."""
    return Q(corp_id__gte=corp_id, corp_id__lte=corp_id)


class _PlainEq(Criterion):
    """`+"table"."column"=?`: the unary plus keeps SQLite from using an index on the column."""

    def __init__(self, table: Any, column: str, value: int) -> None:
        super().__init__()
        self.table, self.column, self.value = table, column, value

    def get_sql(self, ctx: Any) -> str:
        name = f'"{self.table.alias or self.table.get_table_name()}"."{self.column}"'
        return f"+{name}={ValueWrapper(self.value).get_sql(ctx)}"


class _CorpByIdsQ(_CriterionQ):
    """in_corp_led_by_ids: `+corp_id = ?` on SQLite, in_corp_by_ids' range elsewhere. args: (corp_id,)."""

    def condition(self, resolve_context: ResolveContext) -> Criterion | Q:
        (corp_id,) = self.args
        if resolve_context.model._meta.db.capabilities.dialect != "sqlite":
            return in_corp_by_ids(corp_id)
        return _PlainEq(resolve_context.table, "corp_id", corp_id)


def in_corp_led_by_ids(corp_id: int) -> Q:
    """`corp_id = ?` for a query that a short list of ids (or an id subquery) of the
    caller's must drive, as a search's matches do: on SQLite `+corp_id = ?`, which no index
    serves, so the ids are looked up whatever the statistics say. in_corp_by_ids' range is
    not enough there once the list holds a few hundred ids: a search for 张 with a position
    filter (505 ids) was planned as a walk of the corp's 50,000 members on the
    (corp_id, hire_date) index, 10 ms instead of 1 ms at bench scale. Elsewhere the range
    (PostgreSQL estimates both alike). The same rows either way; raises nothing."""
    return _CorpByIdsQ(corp_id)


def groups_under(chain_id: int, roots: Iterable[str]) -> Subquery:
    """Subquery: ids of the ChainGroups of chain `chain_id` in the subtrees of `roots`."""
    from models import ChainGroup

    return Subquery(ChainGroup.filter(Q(chain_id=chain_id) & path_under_any(roots)).values("id"))
