"""SPEC §2.2 field visibility, through GraphQL."""

from __future__ import annotations

from models import FieldSetting
from models.enums import AdminKind, AdminRight, AppScope
from tests import factories as f

MEMBER = """
query($id: ID!) { node(id: $id) { ... on Member { name mobile birthday position hiddenFields } } }
"""


async def setup():
    corp, root = await f.corp()
    await FieldSetting.create(corp=corp, field="mobile", visible_to_members=False, self_editable=False)
    target = await f.member([root], name="目标", position="工程师", birthday=None)
    peer = await f.member([root], name="同事")
    return corp, root, target, peer


async def test_withheld_fields_are_null_and_listed_in_hidden_fields(gql):
    _, _, target, peer = await setup()
    node = (await gql.ok(MEMBER, {"id": f.gid("Member", target.id)}, token=f.token(peer)))["node"]
    assert node["name"] == "目标" and node["position"] == "工程师"
    assert node["mobile"] is None and node["birthday"] is None
    assert "mobile" in node["hiddenFields"] and "birthday" in node["hiddenFields"]
    assert "position" not in node["hiddenFields"]


async def test_self_sees_own_fields(gql):
    _, _, target, _ = await setup()
    node = (await gql.ok(MEMBER, {"id": f.gid("Member", target.id)}, token=f.token(target)))["node"]
    assert node["mobile"] == target.mobile and node["hiddenFields"] == []


async def test_super_admin_sees_all_fields(gql):
    _, root, target, _ = await setup()
    admin = await f.super_admin(root)
    node = (await gql.ok(MEMBER, {"id": f.gid("Member", target.id)}, token=f.token(admin)))["node"]
    assert node["mobile"] == target.mobile and node["hiddenFields"] == []


async def test_directory_admin_sees_all_fields_in_range_only(gql):
    corp, root, _, _ = await setup()
    a = await f.unit(root, "甲")
    b = await f.unit(root, "乙")
    in_range = await f.member([a], name="甲员工")
    out_of_range = await f.member([b], name="乙员工")
    admin = await f.member([a], name="甲管理员")
    await f.grant(admin, AdminKind.DIRECTORY_ADMIN, unit_ids=[a.id], rights=[AdminRight.READ.value])
    tok = f.token(admin)
    node = (await gql.ok(MEMBER, {"id": f.gid("Member", in_range.id)}, token=tok))["node"]
    assert node["mobile"] == in_range.mobile
    node = (await gql.ok(MEMBER, {"id": f.gid("Member", out_of_range.id)}, token=tok))["node"]
    assert node["mobile"] is None and "mobile" in node["hiddenFields"]


async def test_app_token_needs_fields_sensitive_for_contact_data(gql):
    from auth.tokens import hash_app_secret, new_app_secret
    from models import AppToken

    corp, _, target, _ = await setup()
    plain, sensitive = new_app_secret(), new_app_secret()
    await AppToken.create(corp=corp, name="a", token_hash=hash_app_secret(plain), prefix=plain[:9],
                          scopes=[AppScope.DIRECTORY_READ.value])
    await AppToken.create(corp=corp, name="b", token_hash=hash_app_secret(sensitive), prefix=sensitive[:9],
                          scopes=[AppScope.DIRECTORY_READ.value, AppScope.FIELDS_SENSITIVE.value])
    node = (await gql.ok(MEMBER, {"id": f.gid("Member", target.id)}, token=plain))["node"]
    assert node["mobile"] is None and node["position"] == "工程师"
    node = (await gql.ok(MEMBER, {"id": f.gid("Member", target.id)}, token=sensitive))["node"]
    assert node["mobile"] == target.mobile
