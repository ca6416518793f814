"""What the README and the Dockerfile say holds: the partner lookups answer the owner's super
admin too, PostgreSQL connections plan each statement for its parameters without anyone
configuring it, the links' variable is documented, and the image installs its dependencies before copying the source."""

from __future__ import annotations

import re

from models.db import tortoise_config
from tests import factories as f
from tests.servers import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
LOOKUP = """
query($chain: ID!, $custom: String!, $mobile: String!) {
  chainCorpByCustomId(chainId: $chain, customCorpId: $custom) { customCorpId }
  chainMemberByMobile(chainId: $chain, mobile: $mobile) { name }
}
"""


async def test_partner_lookups_answer_the_owners_super_admin_as_documented(gql):
    owner, oroot = await f.corp()
    boss = await f.super_admin(oroot)
    chain, groot = await f.chain_space(owner)
    supplier, sroot = await f.corp()
    leader = await f.member([sroot], name="供应商负责人")
    place = await f.chain_corp(groot, supplier)
    await f.contact(place, leader)
    assert leader.mobile is not None and place.custom_corp_id is not None
    variables = {"chain": f.gid("ChainSpace", chain.id), "custom": place.custom_corp_id, "mobile": leader.mobile}
    answer = await gql.ok(LOOKUP, variables, f.token(boss))
    assert answer == {"chainCorpByCustomId": {"customCorpId": place.custom_corp_id},
                      "chainMemberByMobile": {"name": "供应商负责人"}}
    assert await gql.ok(LOOKUP, variables, f.token(leader)) == {"chainCorpByCustomId": None, "chainMemberByMobile": None}
    assert "the chain's admins (the owner's super admins among\nthem)" in README


def test_postgres_connections_plan_for_their_parameters_as_the_readme_says():
    config = tortoise_config("postgresql://u:p@db:5432/chaingate?maxsize=5")["connections"]["default"]
    assert config["credentials"]["server_settings"]["plan_cache_mode"] == "force_custom_plan"
    assert config["credentials"]["server_settings"]["jit"] == "off"
    assert config["credentials"]["database"] == "chaingate" and int(config["credentials"]["maxsize"]) == 5
    kept = tortoise_config("postgres://u@db/chaingate?statement_cache_size=100")["connections"]["default"]
    assert kept.endswith("?statement_cache_size=100")
    assert "sets `plan_cache_mode=force_custom_plan`\n  on its connections" in README
    assert "and `jit=off`" in README
    assert "statement_cache_size" not in (ROOT / "docker-compose.yml").read_text(encoding="utf-8")


def test_every_link_setting_is_in_the_readme_table():
    assert re.search(r"^\| `CHAINGATE_PUBLIC_URL` \|", README, re.MULTILINE)
    assert "`chaingate token member --member ID`" in README


def test_the_image_installs_dependencies_before_it_copies_the_source():
    steps = [line.split()[0] + " " + " ".join(line.split()[1:3])
             for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
             if line and not line.startswith((" ", "#"))]
    copies = [i for i, s in enumerate(steps) if s.startswith("COPY")]
    assert steps[copies[0]] == "COPY pyproject.toml ./"
    installs = [i for i, s in enumerate(steps) if s.startswith("RUN") and i < copies[-1]]
    assert installs and copies[0] < installs[0] < copies[1], steps
    assert steps[copies[1]].startswith("COPY . .")
    assert "pip install --no-deps ." in (ROOT / "Dockerfile").read_text(encoding="utf-8")
