"""One kind of id everywhere: the REST downloads take the global ids GraphQL hands out (numbers
still work), GraphQL hands out the export link to those who may export, and a refused
download answers in the GraphQL error shape."""

from __future__ import annotations

from strawberry import relay

from models.enums import AdminKind, AdminRight
from tests import factories as f
from tests.flows.test_directory_import import finished, upload, world

CSV = "姓名,账号,手机\n好人,good_one,13900139001\n坏号码,bad_one,12345\n".encode()
EXPORT_URL = "query($id: ID!) { corp(id: $id) { exportUrl } }"


def refusal(response) -> tuple[int, str]:
    body = response.json()
    [error] = body["errors"]
    assert set(error) >= {"message", "extensions"} and error["message"]
    return response.status_code, error["extensions"]["code"]


async def test_downloads_take_the_global_ids_graphql_hands_out(client, gql):
    w = await world()
    auth = {"Authorization": f"Bearer {w['t']}"}
    job = (await upload(client, w["t"], w["corp"].id, "people.csv", CSV))["job"]
    done = await finished(gql, w["t"], job["id"])
    assert done["errorCount"] == 1
    # reportUrl carries the job's global id, and the download answers it.
    assert f"/imports/{job['id']}/errors.xlsx" in done["reportUrl"]
    corp_gid = f.gid("Corp", w["corp"].id)
    export_url = (await gql.ok(EXPORT_URL, {"id": corp_gid}, w["t"]))["corp"]["exportUrl"]
    assert export_url.endswith(f"/corps/{corp_gid}/directory.xlsx")
    for path in (f"/imports/{job['id']}/errors.xlsx", f"/corps/{corp_gid}/directory.xlsx",
                 f"/imports/{relay.GlobalID.from_id(job['id']).node_id}/errors.xlsx", f"/corps/{w['corp'].id}/directory.xlsx"):
        response = await client.get(path, headers=auth)
        assert response.status_code == 200 and response.content[:2] == b"PK", path
    # Another type's global id names nothing here.
    assert refusal(await client.get(f"/corps/{f.gid('Member', w['boss'].id)}/directory.xlsx", headers=auth)) == (
        404, "NOT_FOUND")
    assert refusal(await client.get(f"/imports/{corp_gid}/errors.xlsx", headers=auth)) == (404, "NOT_FOUND")


async def test_download_refusals_have_the_graphql_error_shape(client):
    w = await world()
    corp_gid = f.gid("Corp", w["corp"].id)
    assert refusal(await client.get(f"/corps/{corp_gid}/directory.xlsx")) == (401, "UNAUTHENTICATED")
    bad = {"Authorization": "Bearer not-a-token"}
    assert refusal(await client.get(f"/corps/{corp_gid}/directory.xlsx", headers=bad)) == (401, "UNAUTHENTICATED")
    peer = await f.member([w["sales"]])
    peer_auth = {"Authorization": f"Bearer {f.token(peer)}"}
    # A corp the member may not export is answered like a corp that does not exist.
    assert refusal(await client.get(f"/corps/{corp_gid}/directory.xlsx", headers=peer_auth)) == (404, "NOT_FOUND")
    assert refusal(await client.get(f"/corps/{f.gid('Corp', 999999)}/directory.xlsx", headers=peer_auth)) == (
        404, "NOT_FOUND")
    assert refusal(await client.get("/imports/nonsense/errors.xlsx", headers=peer_auth)) == (404, "NOT_FOUND")


async def test_export_url_is_given_only_to_viewers_who_may_export(gql):
    w = await world()
    corp_gid = f.gid("Corp", w["corp"].id)
    plain = await f.member([w["sales"]])
    exporter = await f.member([w["root"]])
    await f.grant(exporter, AdminKind.DIRECTORY_ADMIN, rights=[AdminRight.EXPORT.value],
                  unit_ids=[w["sales"].id])
    reader = await f.member([w["root"]])
    await f.grant(reader, AdminKind.DIRECTORY_ADMIN, rights=[AdminRight.MANAGE.value], unit_ids=[w["sales"].id])
    urls = {
        who: (await gql.ok(EXPORT_URL, {"id": corp_gid}, f.token(m)))["corp"]["exportUrl"]
        for who, m in (("super admin", w["boss"]), ("exporter", exporter), ("manager", reader), ("member", plain))
    }
    assert urls["super admin"] == urls["exporter"] and urls["super admin"].endswith(f"/corps/{corp_gid}/directory.xlsx")
    assert urls["manager"] is None and urls["member"] is None
