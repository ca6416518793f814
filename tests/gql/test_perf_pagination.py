"""Keyset cursors: pages walk a list once, in order, whatever the page size; cursors from the
offset era still work; a forged cursor is a BAD_REQUEST; totalCount costs a COUNT only when
it is asked for."""

from __future__ import annotations

import base64
import json
import logging

from hypothesis import given
from hypothesis import strategies as st

from models.enums import ChainCorpStatus
from tests import factories as f

MEMBERS = """
query($c: ID!, $n: Int, $after: String) {
  corp(id: $c) { members(first: $n, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id name } }
  } }
}
"""
MEMBERS_WITHOUT_COUNT = """
query($c: ID!) { corp(id: $c) { members(first: 5) { edges { node { id } } } } }
"""
CHAIN_CORPS = """
query($ch: ID!, $n: Int, $after: String) {
  chainSpace(id: $ch) { corps(first: $n, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }
}
"""


def cursor(kind: str, value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return base64.urlsafe_b64encode(f"{kind}:{text}".encode()).decode()


async def walk(gql, query, variables, token, path, size):
    seen, after, pages = [], None, 0
    while True:
        data = await gql.ok(query, {**variables, "n": size, "after": after}, token)
        conn = data
        for key in path:
            conn = conn[key]
        seen += [e["node"]["id"] for e in conn["edges"]]
        pages += 1
        if not conn["pageInfo"]["hasNextPage"]:
            return seen, pages, conn["totalCount"]
        after = conn["pageInfo"]["endCursor"]


async def directory_with_namesakes():
    corp, root = await f.corp()
    unit = await f.unit(root)
    viewer = await f.member([root], name="查看者")
    # Namesakes share their pinyin: the id breaks the tie, and no page may skip or repeat one.
    for i in range(23):
        await f.member([unit], name=("张伟", "王芳", "李娜")[i % 3])
    return corp, viewer


async def test_keyset_pages_walk_every_visible_member_once_in_order_at_any_page_size(gql):
    corp, viewer = await directory_with_namesakes()
    token, variables = f.token(viewer), {"c": f.gid("Corp", corp.id)}
    everyone, _, total = await walk(gql, MEMBERS, variables, token, ("corp", "members"), 100)
    assert len(everyone) == total == 24
    for size in (1, 5, 7, 24):
        seen, pages, count = await walk(gql, MEMBERS, variables, token, ("corp", "members"), size)
        assert seen == everyone and count == total
        assert pages == -(-total // size)  # the last page says so itself: no empty page after it


async def test_a_page_after_a_cursor_has_a_previous_page_and_keyset_cursors(gql):
    corp, viewer = await directory_with_namesakes()
    token, variables = f.token(viewer), {"c": f.gid("Corp", corp.id)}
    first = (await gql.ok(MEMBERS, {**variables, "n": 5}, token))["corp"]["members"]
    assert first["pageInfo"]["hasPreviousPage"] is False
    assert base64.urlsafe_b64decode(first["pageInfo"]["endCursor"]).decode().startswith("k:")
    second = (await gql.ok(MEMBERS, {**variables, "n": 5, "after": first["pageInfo"]["endCursor"]}, token))
    page = second["corp"]["members"]
    assert page["pageInfo"]["hasPreviousPage"] is True
    assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]


async def test_an_offset_cursor_from_before_keyset_paging_still_continues_the_list(gql):
    corp, viewer = await directory_with_namesakes()
    token, variables = f.token(viewer), {"c": f.gid("Corp", corp.id)}
    everyone = [e["node"]["id"] for e in (await gql.ok(MEMBERS, {**variables, "n": 100}, token))["corp"]["members"]["edges"]]
    after_fifth = (await gql.ok(MEMBERS, {**variables, "n": 6, "after": cursor("o", "4")}, token))["corp"]["members"]
    assert [e["node"]["id"] for e in after_fifth["edges"]] == everyone[5:11]
    # ...and the cursors it hands out go on by offset.
    rest = await gql.ok(MEMBERS, {**variables, "n": 100, "after": after_fifth["pageInfo"]["endCursor"]}, token)
    assert [e["node"]["id"] for e in rest["corp"]["members"]["edges"]] == everyone[11:]


async def test_forged_keyset_cursors_are_bad_requests(gql):
    corp, viewer = await directory_with_namesakes()
    token, variables = f.token(viewer), {"c": f.gid("Corp", corp.id)}
    forged = [
        cursor("k", ["zhangwei"]),  # too few keys
        cursor("k", [1, 2]),  # pinyin must be text
        cursor("k", ["zhangwei", "12"]),  # the id must be a number
        cursor("k", ["zhangwei", 2**70]),
        cursor("k", ["x" * 300, 1]),
        cursor("k", "not a list"),
        cursor("k", [True, 1]),
        cursor("x", "1"),
        "not base64 at all!",
    ]
    for after in forged:
        body = await gql(MEMBERS, {**variables, "n": 5, "after": after}, token)
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", after


async def test_a_keyset_cursor_reveals_nothing_a_page_did_not_show(gql):
    corp, viewer = await directory_with_namesakes()
    data = await gql.ok(MEMBERS, {"c": f.gid("Corp", corp.id), "n": 1}, f.token(viewer))
    edge = data["corp"]["members"]["edges"][0]
    kind, _, keys = base64.urlsafe_b64decode(edge["cursor"]).decode().partition(":")
    pinyin, pk = json.loads(keys)
    # The order keys are the row's pinyin (from its visible name) and its id: nothing hidden.
    assert kind == "k" and f.gid("Member", pk) == edge["node"]["id"]
    from flows.names import search_keys

    assert pinyin == search_keys(edge["node"]["name"])[0]


async def test_chain_corps_page_by_keyset_too(gql):
    owner, oroot = await f.corp("链主")
    admin = await f.super_admin(oroot)
    chain, groot = await f.chain_space(owner)
    for _ in range(9):
        await f.chain_corp(groot, None, status=ChainCorpStatus.IMPORTED)
    variables = {"ch": f.gid("ChainSpace", chain.id)}
    everyone, _, total = await walk(gql, CHAIN_CORPS, variables, f.token(admin), ("chainSpace", "corps"), 100)
    seen, pages, _ = await walk(gql, CHAIN_CORPS, variables, f.token(admin), ("chainSpace", "corps"), 4)
    assert seen == everyone and total == 9 and pages == 3


class Statements(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sql: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.sql.append(record.getMessage())


async def test_total_count_is_counted_only_when_asked_for(gql):
    corp, viewer = await directory_with_namesakes()
    token, variables = f.token(viewer), {"c": f.gid("Corp", corp.id)}
    logger = logging.getLogger("tortoise.db_client")
    seen = Statements()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(seen)
    try:
        await gql.ok(MEMBERS_WITHOUT_COUNT, variables, token)
        without = [s for s in seen.sql if "COUNT(" in s]
        seen.sql.clear()
        await gql.ok(MEMBERS, {**variables, "n": 5}, token)
        with_count = [s for s in seen.sql if "COUNT(" in s]
    finally:
        logger.removeHandler(seen)
        logger.setLevel(previous)
    assert without == [] and len(with_count) == 1


_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)  # what a database column can hold


@given(st.lists(st.one_of(_TEXT, st.integers(0, 2**31 - 1)), min_size=1, max_size=3))
def test_keyset_cursor_is_written_as_json_dumps_writes_it(keys):
    """Cursors already handed out stay valid: the writer's text is the standard library's."""
    from gql.relay import _keyset_cursor

    expected = base64.urlsafe_b64encode(f"k:{json.dumps(keys, ensure_ascii=False, separators=(',', ':'))}".encode())
    assert _keyset_cursor(keys) == expected.decode()
