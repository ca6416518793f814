from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.chain_rules import RuleInput
from flows.chain_rules import set_chain_rules as set_chain_rules_flow
from gql.chain.types import ChainRuleNode, ChainSpaceNode, chain_space_node
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input(description="Exactly one subject (an owner unit subtree or member) and one object (a group subtree or chain corp).")
class ChainRuleInput:
    subject_unit_id: relay.GlobalID | None = strawberry.field(default=None, description=(
        "Global id of an OrgUnit of the owner corp: its subtree is the subject."))
    subject_member_id: relay.GlobalID | None = strawberry.field(default=None, description=(
        "Global id of an active Member of the owner corp: the subject."))
    object_group_id: relay.GlobalID | None = strawberry.field(default=None, description=(
        "Global id of a ChainGroup of the chain: it and its subgroups are the object."))
    object_chain_corp_id: relay.GlobalID | None = strawberry.field(default=None, description=(
        "Global id of a ChainCorp of the chain (not removed): the object."))

    def to_flow(self) -> RuleInput:
        def pk(gid: relay.GlobalID | None, type_name: str, field: str) -> int | None:
            return decode_id(gid, type_name, field) if gid is not None else None

        return RuleInput(
            subject_unit_id=pk(self.subject_unit_id, "OrgUnit", "subjectUnitId"),
            subject_member_id=pk(self.subject_member_id, "Member", "subjectMemberId"),
            object_group_id=pk(self.object_group_id, "ChainGroup", "objectGroupId"),
            object_chain_corp_id=pk(self.object_chain_corp_id, "ChainCorp", "objectChainCorpId"),
        )


@strawberry.input(description="Replaces the chain's whole rule set; an empty list clears it.")
class SetChainRulesInput:
    chain_id: relay.GlobalID = strawberry.field(description="Global id of the ChainSpace.")
    rules: list[ChainRuleInput] = strawberry.field(description="The chain's rules from now on.")


@strawberry.type(description="What setChainRules did.")
class SetChainRulesPayload:
    chain_space: ChainSpaceNode | None = strawberry.field(description="The chain space; null on error.")
    rules: list[ChainRuleNode] = strawberry.field(description="The chain's rules now; empty on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was changed; empty on success.")


async def set_chain_rules(
    info: Info, input: Annotated[SetChainRulesInput, strawberry.argument(description="The chain and its new rule set.")]
) -> SetChainRulesPayload:
    ctx = info.context

    async def flow() -> tuple[int, list[ChainRuleNode]]:
        chain_id = decode_id(input.chain_id, "ChainSpace", "chainId")
        rows = await set_chain_rules_flow(ctx.viewer, chain_id, [r.to_flow() for r in input.rules], origin=ctx.origin)
        return chain_id, [ChainRuleNode(pk=r.id, _r=r) for r in rows]

    result, errors = await run_flow(flow())
    if result is None:
        return SetChainRulesPayload(chain_space=None, rules=[], user_errors=errors)
    chain_id, rules = result
    return SetChainRulesPayload(chain_space=await chain_space_node(info, chain_id), rules=rules, user_errors=[])
