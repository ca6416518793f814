"""Statement shapes (models.statements): a query's text rendered once per key, run with new
hole values, returns exactly what the query built with those values returns."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tortoise.expressions import Q, Subquery

from models import Member, Placement
from models.enums import Scope
from models.statements import ShapeError, fetch, inline_values, shape_of
from permissions.sql import ids_in
from tests import factories
from tests.property_sizes import sized


@pytest.fixture
async def people(database):
    _, root = await factories.corp()
    a = await factories.unit(root, "A")
    b = await factories.unit(root, "B")
    names = ["张三", "李四", "王五", "赵六", "钱七"]
    members = [
        await factories.member([a] if i % 2 else [b, a], name=n, position=f"p{i}",
                               birthday=date(1990, 1 + i, 2) if i % 2 else None)
        for i, n in enumerate(names)
    ]
    return members


def _page(corp_id: int, after_name: str, after_id: int) -> object:
    return (
        Member.filter(corp_id=corp_id, pinyin_full__gte=after_name)
        .exclude(pinyin_full=after_name, id__lte=after_id)
        .order_by("pinyin_full", "id").limit(3).values("id", "name", "position", "status", "birthday")
    )


def _seats(ids: list[int]) -> object:
    return Placement.filter(ids_in(Placement, "member_id", ids)).order_by("-is_main", "order", "id").values_list(
        "member_id", "is_main", "unit__id", "unit__name", "unit__scope"
    )


async def test_a_kept_shape_returns_what_the_query_returns_for_every_value(people):
    corp_id = people[0].corp_id
    shapes: dict[object, object] = {}
    everyone = await Member.filter(corp_id=corp_id).order_by("pinyin_full", "id").values_list("pinyin_full", "id")
    for after_name, after_id in [("", 0), *everyone]:
        got = await fetch(lambda n, i: _page(corp_id, n, i), [after_name, after_id], "page", shapes)
        expected = await _page(corp_id, after_name, after_id)
        assert got == expected
        assert [type(r["birthday"]) for r in got] == [type(r["birthday"]) for r in expected]  # dates, not text
    assert len(shapes) == 1  # one text for every cursor


async def test_list_holes_keep_one_shape_per_length_and_convert_columns_as_tortoise_does(people):
    shapes: dict[object, object] = {}
    ids = [m.id for m in people]
    for chosen in ([ids[0]], ids[1:3], [ids[3], ids[1]], ids, [ids[4]]):
        got = await fetch(_seats, [chosen], "seats", shapes)
        expected = await _seats(chosen)
        assert got == expected
        assert all(type(g[4]) is type(e[4]) for g, e in zip(got, expected, strict=True))  # Scope enums, not text
    assert 1 <= len(shapes) <= 4


# 100 in CI: the binder's only structure is the list's length (1 to 8, each drawn many times
# over); the values are opaque ids. The kept statements' other shapes are tested case by case.
@sized(100)
@given(st.lists(st.integers(min_value=1, max_value=2**31 - 1), min_size=1, max_size=8))
async def test_binding_puts_each_value_where_its_marker_was(database, chosen):
    shapes: dict[object, object] = {}
    assert await fetch(_seats, [chosen], "seats", shapes) == await _seats(chosen)
    (shape,) = shapes.values()
    params = shape.bind([chosen])
    flat = [v for p in params for v in (p if isinstance(p, list) else [p])]
    assert flat == chosen


async def test_without_a_store_the_query_is_built_and_run_as_usual(people):
    ids = [m.id for m in people]
    assert await fetch(_seats, [ids], "seats", None) == await _seats(ids)


async def test_a_value_rendered_into_the_text_is_refused_not_kept(people):
    shapes: dict[object, object] = {}
    # A hole that never reaches the parameters (here: one the builder ignores) cannot be bound.
    with pytest.raises(ShapeError):
        await fetch(lambda i: Member.filter(id=1).values("id"), [5], "broken", shapes)
    assert shapes == {}
    with pytest.raises(ShapeError):
        shape_of(Member.filter(id=1), [])  # not a values query


def _first_page(corp_id: int, unit_ids: list[int], name: str) -> object:
    return (
        Member.filter(
            ids_in(Member, "id", [])
            | Q(corp_id=corp_id, status__in=["ACTIVE", "PENDING"], hidden_from_directory=False, name__not=name)
        )
        .filter(id__in=Subquery(Placement.filter(ids_in(Placement, "unit_id", unit_ids)).values("member_id")))
        .order_by("pinyin_full", "id")
        .limit(3)
        .values("id", "name", "birthday")
    )


async def test_a_shape_with_no_hole_takes_no_parameter_on_postgresql(people, database):
    """A first page (nothing in it changes between runs) is kept with its values written into
    the text on PostgreSQL, which then plans it once per connection for those very values:
    the rows are the query's."""
    corp_id = people[0].corp_id
    units = sorted({p.unit_id for p in await Placement.filter(member_id__in=[m.id for m in people])})
    shapes: dict[object, object] = {}
    for _ in range(2):
        got = await fetch(lambda: _first_page(corp_id, units, "王五"), [], "first", shapes)
        assert got == await _first_page(corp_id, units, "王五")
        assert len(got) == 3 and "王五" not in [r["name"] for r in got]
    (shape,) = shapes.values()
    assert (shape.params == ()) == (database == "postgres")
    # A text that would need escaping keeps every value a parameter.
    quoted: dict[object, object] = {}
    got = await fetch(lambda: _first_page(corp_id, units, "O'Brien"), [], "quoted", quoted)
    assert got == await _first_page(corp_id, units, "O'Brien")
    (shape,) = quoted.values()
    assert shape.params != ()
    # A text too long for asyncpg to keep prepared keeps its parameters (one array here).
    many = units + list(range(10**6, 10**6 + 3000))
    long: dict[object, object] = {}
    assert await fetch(lambda: _first_page(corp_id, many, "王五"), [], "long", long) == await _first_page(
        corp_id, units, "王五"
    )
    (shape,) = long.values()
    assert shape.params != ()


def test_values_are_written_in_only_where_no_escaping_is_needed():
    written = inline_values(
        "SELECT 1 FROM t WHERE a = ANY($3) AND b = $1 AND c = $2 AND d = $1 LIMIT $4", [True, "/1/5/", [5, 17], 21]
    )
    expected = "SELECT 1 FROM t WHERE a = ANY(ARRAY[5,17]::integer[]) AND b = TRUE AND c = '/1/5/' AND d = TRUE"
    assert written == expected + " LIMIT 21"
    assert inline_values("SELECT $1 - $2", [1, -2]) == "SELECT 1 - (-2)"  # never `--`, a comment
    assert inline_values("SELECT $1", [[]]) == "SELECT '{}'::integer[]"
    for value in ["it's", "back\\slash", "nul\0", 2**31, 1.5, None, ["a"], date(2020, 1, 1)]:
        assert inline_values("SELECT $1", [value]) is None, value
    assert inline_values("SELECT 'a$1' || $1", [1]) is None  # the text's own literal
    assert inline_values("SELECT $1", [1, 2]) is None  # a parameter the text does not use


PAGES = """
query($c: ID!, $after: String) {
  corp(id: $c) { members(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } }
}
"""


async def _all_pages(gql, corp_id: int, token: str) -> tuple[list[str], list[int]]:
    names: list[str] = []
    counts: list[int] = []
    after = None
    while True:
        page = (await gql.ok(PAGES, {"c": factories.gid("Corp", corp_id), "after": after}, token))["corp"]["members"]
        names += [e["node"]["name"] for e in page["edges"]]
        counts.append(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            return names, counts
        after = page["pageInfo"]["endCursor"]


async def test_kept_page_statements_follow_the_cursor_and_a_policy_change(gql):
    """The member page's text is kept with the kept Viewer: every cursor page is right, and
    after a scope change (which drops the kept Viewer) the pages follow the new scope."""
    from models import OrgUnit

    corp, root = await factories.corp()
    sales = await factories.unit(root, "sales", scope=Scope.DEPARTMENT)
    other = await factories.unit(root, "other")
    viewer = await factories.member([sales], name="查看者")
    for i in range(4):
        await factories.member([sales], name=f"销售{i}")
    for i in range(3):
        await factories.member([other], name=f"别处{i}")
    token = factories.token(viewer)
    for _ in range(2):  # the second time from kept statements
        names, counts = await _all_pages(gql, corp.id, token)
        assert len(names) == 5 and not any(n.startswith("别处") for n in names)
        assert set(counts) == {5}
    # A raw write: the database's triggers bump the policy version, as for any write path.
    await OrgUnit.filter(id=sales.id).update(scope=Scope.ALL)
    names, counts = await _all_pages(gql, corp.id, token)
    assert len(names) == 8 and sum(n.startswith("别处") for n in names) == 3
    assert set(counts) == {8}
