"""gql/execution.py: the execution context that reads plain fields inline must give exactly
graphql-core's result (data, and errors with their messages and paths), whatever the
document: aliases, fragments, @skip/@include, __typename, null propagation and errors inside
lists. Two properties: one over a small schema with values that break every rule (nulls in
non-null fields, values a scalar refuses, objects of the wrong type, resolvers that raise),
one over the hot directory types (a corp's members page) for several viewers."""

from __future__ import annotations

import enum
from typing import Any

import strawberry
from hypothesis import given
from hypothesis import strategies as st
from strawberry import relay
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gql.execution import PlainLeafExecutionContext, prefetched
from tests import factories as f

# --- a schema made to break the rules ----------------------------------------------------------


@strawberry.enum
class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Leaf:
    name: str
    tag: str | None
    flag: bool
    n: int
    color: Color
    tags: list[str]
    maybe_tags: list[str | None] | None


@strawberry.type
class Item(relay.Node):
    pk: relay.NodeID[int]
    label: str
    note: str | None
    leaf: Leaf
    opt_leaf: Leaf | None
    leaves: list[Leaf]
    opt_leaves: list[Leaf | None] | None
    _more: strawberry.Private[list[Leaf] | None]

    @strawberry.field
    @prefetched("_more")
    def more(self) -> list[Leaf]:
        return [Leaf(name="loaded", tag=None, flag=False, n=0, color=Color.RED, tags=[], maybe_tags=None)]

    @strawberry.field
    def boom(self) -> str | None:
        raise ValueError(f"boom {self.pk}")

    @strawberry.field
    async def later(self) -> str:
        return self.label  # may be None: an error in an awaited field

    @strawberry.field
    def echo(self, word: str) -> str:
        return word


ITEMS: list[Any] = []


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return ITEMS

    @strawberry.field
    def opt_items(self) -> list[Item | None] | None:
        return ITEMS


def _schema(context: type) -> strawberry.Schema:
    return strawberry.Schema(query=Query, types=[Item], execution_context_class=context)


FAST, PLAIN = _schema(PlainLeafExecutionContext), _schema(StrawberryGraphQLCoreExecutionContext)

# Mostly good values, sometimes one each rule refuses.
_text = st.sampled_from(["a", "b", "甲"])
_bad = st.sampled_from([None, 3.5, object(), ValueError("stored error"), 2**40, "x"])


def _maybe(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(good, good, good, good, _bad)


_leaf = st.builds(
    Leaf, name=_maybe(_text), tag=st.one_of(st.none(), _text), flag=_maybe(st.booleans()),
    n=_maybe(st.integers(-5, 5)), color=_maybe(st.sampled_from(list(Color))),
    tags=_maybe(st.lists(_maybe(_text), max_size=2)),
    maybe_tags=st.one_of(st.none(), st.lists(st.one_of(st.none(), _text), max_size=2)),
)
_leaf_or_bad = st.one_of(_leaf, _leaf, _leaf, _bad)
_item = st.builds(
    Item, pk=st.integers(1, 9), label=_maybe(_text), note=st.one_of(st.none(), _text), leaf=_leaf_or_bad,
    opt_leaf=st.one_of(st.none(), _leaf_or_bad), leaves=_maybe(st.lists(_leaf_or_bad, max_size=3)),
    opt_leaves=st.one_of(st.none(), st.lists(st.one_of(st.none(), _leaf_or_bad), max_size=3)),
    _more=st.one_of(st.none(), st.lists(_leaf, max_size=2)),
)
_items = st.lists(st.one_of(_item, _item, _item, _item, _leaf), max_size=3)  # a Leaf where an Item belongs


def _directive() -> st.SearchStrategy[str]:
    return st.sampled_from(["", "", "", " @skip(if: true)", " @include(if: true)", " @skip(if: $b)",
                            " @include(if: $b)"])


@st.composite
def _selection(draw: st.DrawFn, fields: dict[str, Any], depth: int, type_name: str) -> str:
    """A selection set over `fields` (name -> None for a leaf, else (type name, its fields)),
    with aliases, repeated fields, inline fragments and directives."""
    parts = []
    for i in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(sorted(fields)))
        sub = fields[name]
        if sub is not None and depth <= 0:
            name, sub = "__typename", None
        # An alias names one field only, so merged selections never conflict.
        alias = draw(st.sampled_from(["", "", f"{name.partition('(')[0].strip('_')}{i % 2}: "]))
        text = f"{alias}{name}{draw(_directive())}"
        if sub is not None:
            text += " { " + draw(_selection(sub[1], depth - 1, sub[0])) + " }"
        if draw(st.integers(0, 5)) == 0:
            text = f"... on {type_name}{draw(_directive())} {{ {text} }}"
        parts.append(text)
    return " ".join(parts)


_LEAF_FIELDS = {n: None for n in ("name", "tag", "flag", "n", "color", "tags", "maybeTags", "__typename")}
_ITEM_FIELDS = {
    **{n: None for n in ("id", "label", "note", "boom", "later", "__typename")},
    "echo(word: \"hi\")": None,
    **{n: ("Leaf", _LEAF_FIELDS) for n in ("leaf", "optLeaf", "leaves", "optLeaves", "more")},
}


def _outcome(result: Any) -> tuple[Any, list[tuple[str, str]]]:
    return result.data, sorted((e.message, str(e.path)) for e in result.errors or ())


@given(items=_items, field=st.sampled_from(["items", "optItems"]), b=st.booleans(), data=st.data())
async def test_plain_execution_equals_graphql_core(items: list[Any], field: str, b: bool, data: Any) -> None:
    selection = data.draw(_selection(_ITEM_FIELDS, 2, "Item"))
    fragment = data.draw(st.booleans())
    body = f"{field} {{ ...I }}" if fragment else f"{field} {{ {selection} }}"
    document = f"query($b: Boolean!) {{ __typename @skip(if: $b) {body} }}" + (
        f" fragment I on Item {{ {selection} }}" if fragment else "")
    ITEMS[:] = items
    fast = await FAST.execute(document, variable_values={"b": b})
    plain = await PLAIN.execute(document, variable_values={"b": b})
    assert _outcome(fast) == _outcome(plain), document
    assert all(e.path is not None for e in plain.errors or ()), plain.errors  # executed, not refused


async def test_prefetched_value_is_read_and_the_resolver_runs_without_it() -> None:
    leaf = Leaf(name="kept", tag=None, flag=True, n=1, color=Color.BLUE, tags=["t"], maybe_tags=None)
    ITEMS[:] = [
        Item(pk=1, label="a", note=None, leaf=leaf, opt_leaf=None, leaves=[], opt_leaves=None, _more=[leaf]),
        Item(pk=2, label="b", note=None, leaf=leaf, opt_leaf=None, leaves=[], opt_leaves=None, _more=None),
    ]
    result = await FAST.execute("{ items { more { name color tags } } }")
    assert not result.errors
    assert result.data == {"items": [
        {"more": [{"name": "kept", "color": "BLUE", "tags": ["t"]}]},
        {"more": [{"name": "loaded", "color": "RED", "tags": []}]},
    ]}


# --- the hot directory types, over the database ------------------------------------------------

_UNIT = {n: None for n in ("id", "name", "order", "depth", "scope", "__typename")}
_MEMBER = {
    **{n: None for n in ("id", "name", "account", "mobile", "email", "position", "gender", "status", "alias",
                         "birthday", "hireDate", "hiddenFields", "__typename")},
    "departments": ("MemberDepartment", {"isMain": None, "isLeader": None, "unit": ("OrgUnit", _UNIT),
                                         "__typename": None}),
    "corp": ("Corp", {"name": None, "verified": None, "__typename": None}),
}
_CONNECTION = {
    "edges": ("MemberEdge", {"cursor": None, "node": ("Member", _MEMBER), "__typename": None}),
    "nodes": ("Member", _MEMBER),
    "pageInfo": ("PageInfo", {"hasNextPage": None, "endCursor": None}),
    "totalCount": None,
    "__typename": None,
}
_CORP: dict[str, Any] = {}


async def _directory() -> dict[str, Any]:
    """A corp whose members each viewer sees differently: scopes, hidden fields, an admin."""
    if _CORP:
        return _CORP
    from auth.backend import authenticate
    from models import FieldSetting
    from models.enums import AdminKind, AdminRight, Scope

    corp, root = await f.corp("执行企业")
    await FieldSetting.create(corp=corp, field="mobile", visible_to_members=False, self_editable=False)
    sales = await f.unit(root, "销售部", scope=Scope.DEPARTMENT)
    east = await f.unit(sales, "华东")
    dev = await f.unit(root, "研发部")
    members = [await f.member([u], name=f"成员{i}") for i, u in enumerate([sales, east, dev, dev, root, east])]
    both = await f.member([east, dev], name="两处")
    admin = await f.super_admin(root)
    directory_admin = await f.member([dev], name="目录管理员")
    await f.grant(directory_admin, AdminKind.DIRECTORY_ADMIN, unit_ids=[sales.id], rights=[AdminRight.READ.value])
    viewers = [admin, members[0], members[2], both, directory_admin]
    _CORP.update(corp=f.gid("Corp", corp.id),
                 viewers=[await authenticate(f"Bearer {f.token(v)}") for v in viewers])
    return _CORP


@given(data=st.data(), first=st.sampled_from([0, 1, 3, 20]), b=st.booleans())
async def test_plain_execution_equals_graphql_core_on_member_pages(database: str, data: Any, first: int, b: bool) -> None:
    from gql.context import make_context
    from gql.schema import schema
    from models.db import request_connection

    directory = await _directory()
    selection = data.draw(_selection(_CONNECTION, 4, "MemberConnection"))
    document = (f"query($c: ID!, $b: Boolean!) {{ __typename @include(if: $b) "
                f"corp(id: $c) {{ members(first: {first}) {{ {selection} }} }} }}")
    variables = {"c": directory["corp"], "b": b}
    for viewer in directory["viewers"]:
        outcomes = []
        for context in (PlainLeafExecutionContext, StrawberryGraphQLCoreExecutionContext):
            schema.execution_context_class = context
            try:
                async with request_connection():
                    result = await schema.execute(document, variable_values=variables,
                                                  context_value=make_context(viewer))
            finally:
                schema.execution_context_class = PlainLeafExecutionContext
            outcomes.append(_outcome(result))
        assert outcomes[0] == outcomes[1], document
        assert not outcomes[0][1], outcomes[0][1]


SELECTED_THROUGH_FRAGMENTS = """
query($c: ID!) {
  corp(id: $c) { members(first: 1) { ...Counted edges { node { ... on Member { name ...Units } } } } }
}
fragment Counted on MemberConnection { totalCount }
fragment Units on Member { departments { unit { name } } }
"""


async def test_count_and_departments_asked_for_inside_fragments_are_served(gql):
    """A page reads whether totalCount and departments are selected from the document, named
    fragments and inline fragments included."""
    corp, root = await f.corp()
    unit = await f.unit(root, "单元")
    viewer = await f.member([unit], name="甲")
    await f.member([unit], name="乙")
    data = await gql.ok(SELECTED_THROUGH_FRAGMENTS, {"c": f.gid("Corp", corp.id)}, f.token(viewer))
    page = data["corp"]["members"]
    assert page["totalCount"] == 2
    assert [d["unit"]["name"] for d in page["edges"][0]["node"]["departments"]] == ["单元"]
