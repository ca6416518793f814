"""Errors that say what went wrong: a multipart request's `map` missing or pointing nowhere is
named as such, and an anonymous corp(id) that is null because no token was sent carries a
hint, the same whether the corp exists or not. (Start-up without a "Tortoise-ORM shutdown"
line: tests/chaingate_cli/test_serve_demo_links.py.)"""

from __future__ import annotations

import json
from typing import Any

from tests import factories as f
from tests.flows.test_directory_import import IMPORT, world

CORP = "query($id: ID!) { corp(id: $id) { name } }"


async def multipart(client: Any, token: str, corp_id: int, *, map_: Any = None, files: dict | None = None,
                    variables: dict | None = None) -> tuple[int, str]:
    data = {"operations": json.dumps({"query": IMPORT, "variables": variables or {
        "input": {"corpId": f.gid("Corp", corp_id), "file": None}}})}
    if map_ is not None:
        data["map"] = map_ if isinstance(map_, str) else json.dumps(map_)
    response = await client.post("/graphql", data=data, files=files or {"0": ("a.csv", b"x", "text/csv")},
                                 headers={"Authorization": f"Bearer {token}"})
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    return response.status_code, error["message"]


async def test_a_multipart_request_whose_map_is_missing_or_points_nowhere_says_so(client):
    w = await world()
    t, corp = w["t"], w["corp"].id
    status, message = await multipart(client, t, corp)
    assert status == 400 and "no `map` field" in message
    status, message = await multipart(client, t, corp, map_="{not json")
    assert status == 400 and "`map` field is not JSON" in message
    status, message = await multipart(client, t, corp, map_={"1": ["variables.input.file"]})
    assert status == 400 and "'1'" in message and "does not carry" in message
    status, message = await multipart(client, t, corp, map_={"0": ["variables.inpt.file"]})
    assert status == 400 and "'variables.inpt.file'" in message and "names nothing in `operations`" in message
    status, message = await multipart(client, t, corp, map_={"0": "variables.input.file"})
    assert status == 400 and "must be a list of paths" in message
    # An empty map leaves the file variable null: the mutation says no file came, as before.
    status, message = await multipart(client, t, corp, map_={"0": []})
    assert status == 400 and "must be a list of paths" in message


async def test_an_anonymous_corp_lookup_hints_that_no_token_was_sent_whether_or_not_the_corp_exists(gql):
    w = await world()
    answers = [await gql(CORP, {"id": f.gid("Corp", pk)}) for pk in (w["corp"].id, 999_999)]
    for body in answers:
        assert body["data"] == {"corp": None} and "errors" not in body
        assert body["extensions"]["hints"] == [{
            "code": "NO_TOKEN", "path": ["corp"],
            "message": "corp(id) is null for requests without a token: send Authorization: Bearer <token>.",
        }]
    assert answers[0] == answers[1]  # nothing tells an existing corp from a missing one
    signed_in = await gql(CORP, {"id": f.gid("Corp", 999_999)}, w["t"])
    assert signed_in["data"] == {"corp": None} and "hints" not in (signed_in.get("extensions") or {})
