"""Answers are compact UTF-8 JSON, Chinese as Chinese, whatever the strings hold
(web.responses.json_body: orjson, the standard library for what orjson refuses)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from tests import factories as f
from web.responses import json_body

# GraphQL results: objects with string keys, lists, strings (lone surrogates included: a
# client's own input echoed back), integers (past 64 bits too), floats, booleans, null.
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                      max_leaves=12)


@given(VALUES)
def test_any_result_reads_back_as_itself_from_valid_utf8(value):
    body = json_body({"data": value})
    assert json.loads(body.decode("utf-8")) == {"data": value}


def test_chinese_is_written_as_chinese_and_a_lone_surrogate_as_its_escape():
    assert json_body({"name": "王建国"}) == '{"name":"王建国"}'.encode()
    assert json_body({"name": "王\ud800"}) == b'{"name":"\xe7\x8e\x8b\\ud800"}'
    assert json_body({"n": 2**70}) == b'{"n":1180591620717411303424}'


async def test_an_answer_over_http_carries_chinese_as_utf8(client):
    corp, root = await f.corp("汉字公司")
    token = f.token(await f.super_admin(root))
    response = await client.post("/graphql", json={"query": "query($c: ID!) { corp(id: $c) { name } }",
                                                   "variables": {"c": f.gid("Corp", corp.id)}},
                                 headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert corp.name.startswith("汉字公司")
    assert f'"name":"{corp.name}"'.encode() in response.content
