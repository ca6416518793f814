"""对接规则 (SPEC §1 ChainRule): which owner units/members deal with which groups/corps."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from flows.access import named_rows
from flows.audit import Origin, record
from flows.errors import FlowError, NotFound
from models import ChainCorp, ChainGroup, ChainRule, ChainSpace, Member, OrgUnit
from models.enums import ChainCorpStatus, MemberStatus
from permissions import actions
from permissions.viewer import Viewer


@dataclass(frozen=True)
class RuleInput:
    """One subject (an owner unit subtree or an owner member) × one object (a group subtree or a corp)."""

    subject_unit_id: int | None = None
    subject_member_id: int | None = None
    object_group_id: int | None = None
    object_chain_corp_id: int | None = None

    def key(self) -> tuple[int | None, ...]:
        """The rule's identity (subject unit, subject member, object group, object chain corp): two inputs with one key are one rule."""
        return (self.subject_unit_id, self.subject_member_id, self.object_group_id, self.object_chain_corp_id)


def _ids(values: list[int | None]) -> list[int]:
    return sorted({v for v in values if v is not None})


async def set_chain_rules(
    viewer: Viewer, chain_id: int, rules: list[RuleInput], *, origin: Origin | None = None
) -> list[ChainRule]:
    """Replace the chain's whole rule set (an empty list clears it)."""
    if not actions.can_manage_chain(viewer, chain_id):
        raise NotFound("chainId")
    chain = await ChainSpace.get(id=chain_id)
    for index, r in enumerate(rules):
        if (r.subject_unit_id is None) == (r.subject_member_id is None) or (r.object_group_id is None) == (
            r.object_chain_corp_id is None
        ):
            raise FlowError(
                "INVALID_RULE",
                "Each rule has exactly one subject (unit or member) and one object (group or chain corp).",
                f"rules.{index}",
            )
    unique = list({r.key(): r for r in rules}.values())
    await _check_subjects(chain, unique)
    await _check_objects(chain, unique)
    async with in_transaction():
        before = [list(k) for k in await ChainRule.filter(chain_id=chain_id).values_list(
            "subject_unit_id", "subject_member_id", "object_group_id", "object_chain_corp_id"
        )]
        await ChainRule.filter(chain_id=chain_id).delete()
        await ChainRule.bulk_create(
            [
                ChainRule(
                    chain_id=chain_id,
                    subject_unit_id=r.subject_unit_id,
                    subject_member_id=r.subject_member_id,
                    object_group_id=r.object_group_id,
                    object_chain_corp_id=r.object_chain_corp_id,
                )
                for r in unique
            ]
        )
        await record(
            viewer, "chainRules.set", "ChainSpace", chain_id, corp_id=chain.owner_corp_id,
            before={"rules": before}, after={"rules": [list(r.key()) for r in unique]}, origin=origin,
        )
    return list(await ChainRule.filter(chain_id=chain_id).order_by("id"))


async def _check_subjects(chain: ChainSpace, rules: list[RuleInput]) -> None:
    await named_rows(OrgUnit, _ids([r.subject_unit_id for r in rules]), "subjectUnitId", corp_id=chain.owner_corp_id)
    members = await named_rows(
        Member, _ids([r.subject_member_id for r in rules]), "subjectMemberId", corp_id=chain.owner_corp_id
    )
    if any(m.status is not MemberStatus.ACTIVE for m in members):
        raise FlowError("MEMBER_NOT_ACTIVE", "Only active members of the owner corp can be rule subjects.", "subjectMemberId")


async def _check_objects(chain: ChainSpace, rules: list[RuleInput]) -> None:
    await named_rows(ChainGroup, _ids([r.object_group_id for r in rules]), "objectGroupId", chain_id=chain.id)
    places = await named_rows(ChainCorp, _ids([r.object_chain_corp_id for r in rules]), "objectChainCorpId",
                              chain_id=chain.id)
    if any(p.status is ChainCorpStatus.REMOVED for p in places):
        raise FlowError("CORP_REMOVED", "A corp removed from the chain cannot be a rule object.", "objectChainCorpId")
