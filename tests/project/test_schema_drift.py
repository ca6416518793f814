"""schema.graphql at the repository root is the exported SDL; it must match the code."""

from pathlib import Path

from gql.schema import schema

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_schema_matches_the_code():
    assert SDL.exists(), "schema.graphql is missing: run `chaingate export-schema --output schema.graphql`"
    assert SDL.read_text(encoding="utf-8") == schema.as_str() + "\n", (
        "schema.graphql drifted from the code: run `chaingate export-schema --output schema.graphql`"
    )


def test_binding_operation_names_exist():
    sdl = schema.as_str()
    for name in ("node(", "viewer:", "corp(", "chainSpace(", "chainCorpByCustomId(", "chainMemberByMobile(",
                 "members(", "searchMembers(", "rootUnit:", "fieldSettings:", "chainSpaces:", "children:",
                 "parent:", "memberCount:", "leaders:", "hiddenFields:", "departments:", "groups:", "corps(",
                 "contacts(", "importOnly:", "createCorp(", "actAs(", "createOrgUnit(", "createMember(",
                 "createChainSpace(", "createChainGroup(", "setFieldSettings(", "grantAdmin("):
        assert name in sdl, name
