from tests import factories as f

VIEWER = "query { viewer { kind member { name corp { name } } } }"


async def test_member_token_reads_own_viewer(gql):
    _, root = await f.corp()
    m = await f.member([root], name="李四")
    data = await gql.ok(VIEWER, token=f.token(m))
    assert data["viewer"]["kind"] == "MEMBER"
    assert data["viewer"]["member"]["name"] == "李四"
