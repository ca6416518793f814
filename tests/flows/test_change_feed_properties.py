"""Property (SPEC §3.9): for random write sequences (members added, edited, moved, hidden,
resigned, reinstated, deleted; unit scopes and field settings changed) and a random viewer,
"full read at the token, then apply every delta" equals the viewer's full read at the end —
or the feed said RESYNC_REQUIRED, and a restart (full read, then deltas) does."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from models import FieldSetting, Member, Placement
from models.enums import AppScope, MemberStatus, Scope
from tests import factories as f
from tests.conftest import GQL
from tests.flows.test_change_feed import apply_deltas, full_read
from tests.gateway import app_token
from tests.property_sizes import sized

UNITS = 3  # root's children: 0 DEPARTMENT, 1 SUBDEPARTMENT, 2 ALL (scopes may change)
VIEWERS = ("admin", "dept", "subdept", "everyone", "app", "sensitive_app")

ops = st.one_of(
    st.tuples(st.just("add"), st.integers(0, UNITS - 1)),
    st.tuples(st.just("edit"), st.integers(0, 9), st.sampled_from(["position", "mobile", "email"])),
    st.tuples(st.just("move"), st.integers(0, 9), st.integers(0, UNITS - 1)),
    st.tuples(st.just("status"), st.integers(0, 9), st.sampled_from(list(MemberStatus))),
    st.tuples(st.just("hide"), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("delete"), st.integers(0, 9)),
    st.tuples(st.just("scope"), st.integers(0, UNITS - 1), st.sampled_from([Scope.ALL, Scope.DEPARTMENT, Scope.SUBDEPARTMENT])),
    st.tuples(st.just("field"), st.sampled_from(["mobile", "position"]), st.booleans()),
)


# 200 in CI (not 500): each example builds a corp and reads the whole directory and the feed
# as the viewer (about 0.2 s an example on SQLite); six viewer kinds and at most six of eight
# write kinds over three units. The soak profile draws 5000.
@sized(200)
@given(viewer_kind=st.sampled_from(VIEWERS), writes=st.lists(ops, min_size=1, max_size=6))
async def test_full_read_then_deltas_equals_full_read_at_the_end(client: Any, viewer_kind: str, writes: list) -> None:
    gql = GQL(client)
    corp, root = await f.corp()
    units = [await f.unit(root, scope=s) for s in (Scope.DEPARTMENT, Scope.SUBDEPARTMENT, Scope.ALL)]
    sub = await f.unit(units[1])
    admin = await f.super_admin(root)
    people = [await f.member([u]) for u in (*units, sub)]
    tokens = {
        "admin": f.token(admin), "dept": f.token(people[0]), "subdept": f.token(people[1]),
        "everyone": f.token(people[2]),
        "app": (await app_token(corp, AppScope.DIRECTORY_READ.value))[0],
        "sensitive_app": (await app_token(corp, AppScope.DIRECTORY_READ.value, AppScope.FIELDS_SENSITIVE.value))[0],
    }
    token = tokens[viewer_kind]
    mirror, sync = await full_read(gql, corp.id, token)

    for op in writes:
        alive = [m for m in people if await Member.exists(id=m.id)]
        victims = [m for m in alive if m.id not in (admin.id, people[0].id, people[1].id, people[2].id)]
        kind = op[0]
        if kind == "add":
            people.append(await f.member([units[op[1]]]))
        elif kind == "edit" and alive:
            value = f.unique_mobile() if op[2] == "mobile" else f"v{len(people)}{op[1]}"
            await Member.filter(id=alive[op[1] % len(alive)].id).update(**{op[2]: value})
        elif kind == "move" and alive:
            await Placement.filter(member_id=alive[op[1] % len(alive)].id).update(unit_id=units[op[2]].id)
        elif kind == "status" and victims:
            await Member.filter(id=victims[op[1] % len(victims)].id).update(status=op[2])
        elif kind == "hide" and victims:
            await Member.filter(id=victims[op[1] % len(victims)].id).update(hidden_from_directory=op[2])
        elif kind == "delete" and victims:
            await Member.filter(id=victims[op[1] % len(victims)].id).delete()
        elif kind == "scope":
            await units[op[1]].__class__.filter(id=units[op[1]].id).update(scope=op[2])
        elif kind == "field":
            await FieldSetting.update_or_create(
                corp=corp, field=op[1], defaults={"visible_to_members": op[2], "self_editable": False})

    end, _ = await full_read(gql, corp.id, token)
    done, _ = await apply_deltas(gql, corp.id, token, mirror, sync)
    if done is None:  # RESYNC_REQUIRED: start over, and the restarted feed is exact
        mirror, sync = await full_read(gql, corp.id, token)
        done, seen = await apply_deltas(gql, corp.id, token, mirror, sync)
        assert done is not None
    assert mirror == end
