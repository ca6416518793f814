"""N+1 guard: a members page costs the same number of SQL statements at 10 and at 100 rows."""

from __future__ import annotations

import logging

from tests import factories as f

PAGE = """
query($c: ID!, $n: Int!) {
  corp(id: $c) {
    members(first: $n) {
      totalCount
      edges { node { name mobile position hiddenFields departments { isMain unit { name } } corp { name } } }
    }
  }
}
"""


class StatementCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def count_statements(gql, variables, token) -> int:
    logger = logging.getLogger("tortoise.db_client")
    counter = StatementCounter()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        data = await gql.ok(PAGE, variables, token)
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous)
    assert len(data["corp"]["members"]["edges"]) == variables["n"]
    return counter.count


async def test_members_page_of_10_and_100_issue_the_same_statements(gql):
    corp, root = await f.corp()
    units = [await f.unit(root) for _ in range(5)]
    viewer = await f.member([root], name="查看者")
    for i in range(120):
        await f.member([units[i % 5], units[(i + 1) % 5]], name=f"成员{i}")
    token = f.token(viewer)
    variables = {"c": f.gid("Corp", corp.id)}
    small = await count_statements(gql, {**variables, "n": 10}, token)
    large = await count_statements(gql, {**variables, "n": 100}, token)
    assert small == large
    assert small < 25
