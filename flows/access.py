"""Zulip's `access_<thing>(viewer, id)`: one object of a governed model by id, or NOT_FOUND.

Each helper returns the row when `viewer` may see it and raises NotFound(field) otherwise,
the same answer for a row that does not exist (invisible ≡ nonexistent, SPEC §2). Mutations
start from these before any rule of their own (who may change what, SPEC §2.4); the GraphQL
node lookups use them too (gql.relay.or_none turns NotFound into null). The rule each applies
is the permissions/ predicate named in its docstring, never written here.

Members, units, corps and chain objects read in bulk go through the per-request loaders
(gql.directory.loaders, gql.chain.loaders), which apply the same predicates to batches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from tortoise.models import Model

from flows.errors import NotFound
from models import (
    AppToken,
    AuditEvent,
    ChainContact,
    ChainCorp,
    ChainGroup,
    ChainSpace,
    Corp,
    ImportJob,
    Invitation,
    Member,
    OrgUnit,
    WebhookSubscription,
)
from models.chain import JoinRequest
from permissions import chain
from permissions.actions import can_manage_app_tokens, can_read_audit
from permissions.jobs import JobFacts, can_see_import_job
from permissions.restricted import restricted
from permissions.viewer import Viewer

M = TypeVar("M", bound=Model)


def _shown(row: M | None, visible: bool, field: str) -> M:
    if row is None or not visible:
        raise NotFound(field)
    return row


async def _by_rule(model: type[M], viewer: Viewer, pk: int, field: str) -> M:
    return _shown(await restricted(model, viewer).get_or_none(id=pk), True, field)


async def named_rows(model: type[M], ids: Iterable[int], field: str, **within: Any) -> list[M]:
    """The rows of `model` that `ids` name (each id once, by id), every one of them matching
    `within` (e.g. corp_id=..., chain_id=...: the corp or chain the request is about). One query;
    none for no ids. Code: NOT_FOUND (`field`) when an id names no such row, as for one the
    caller may not see (SPEC §2)."""
    wanted = sorted(set(ids))
    rows = sorted(await model.filter(id__in=wanted, **within), key=lambda r: r.pk) if wanted else []
    if len(rows) != len(wanted):
        raise NotFound(field)
    return rows


async def access_member(viewer: Viewer, member_id: int, field: str = "id") -> Member:
    """Member `member_id` (int pk) when the viewer sees it (members.can_see_member's SQL twin,
    SPEC §2.1, §2.3). Returns the Member. Code: NOT_FOUND (`field`) otherwise."""
    return await _by_rule(Member, viewer, member_id, field)


async def access_unit(viewer: Viewer, unit_id: int, field: str = "id") -> OrgUnit:
    """Unit `unit_id` when the viewer sees it (scope.units_q, SPEC §2.1). Returns the OrgUnit.
    Code: NOT_FOUND (`field`) otherwise."""
    return await _by_rule(OrgUnit, viewer, unit_id, field)


async def access_corp(viewer: Viewer, corp_id: int, field: str = "id") -> Corp:
    """Corp `corp_id` when the viewer sees it (corps.corps_q, SPEC §2.3). Returns the Corp.
    Code: NOT_FOUND (`field`) otherwise."""
    return await _by_rule(Corp, viewer, corp_id, field)


async def access_chain_space(viewer: Viewer, chain_id: int, field: str = "id") -> ChainSpace:
    """Chain space `chain_id` when the viewer has a standing in it (chain.can_see_chain,
    SPEC §2.3). Returns the ChainSpace. Code: NOT_FOUND (`field`) otherwise."""
    return _shown(await ChainSpace.get_or_none(id=chain_id), chain.can_see_chain(viewer, chain_id), field)


async def access_chain_group(viewer: Viewer, group_id: int, field: str = "id") -> ChainGroup:
    """Chain group `group_id` when the viewer sees it (chain.groups_q, SPEC §2.3). Returns the
    ChainGroup. Code: NOT_FOUND (`field`) otherwise."""
    return await _by_rule(ChainGroup, viewer, group_id, field)


async def access_chain_corp(viewer: Viewer, chain_corp_id: int, field: str = "id") -> ChainCorp:
    """Chain corp `chain_corp_id` when the viewer sees it (chain.chain_corps_q, SPEC §2.3).
    Returns the ChainCorp. Code: NOT_FOUND (`field`) otherwise."""
    return await _by_rule(ChainCorp, viewer, chain_corp_id, field)


async def access_chain_contact(viewer: Viewer, contact_id: int, field: str = "id") -> ChainContact:
    """Chain contact `contact_id` when the viewer sees it (chain.contacts_q, SPEC §2.3).
    Returns the ChainContact. Code: NOT_FOUND (`field`) otherwise."""
    return await _by_rule(ChainContact, viewer, contact_id, field)


async def access_invitation(viewer: Viewer, invitation_id: int, field: str = "id") -> Invitation:
    """Invitation `invitation_id` (its group prefetched) when the viewer lists it
    (chain.can_see_invitation: members only; whole-chain admins, chain admins over its group,
    its creator; SPEC §2.3, §3.3). Returns the Invitation. Code: NOT_FOUND (`field`) otherwise."""
    inv = await Invitation.get_or_none(id=invitation_id).prefetch_related("group")
    if inv is None:
        raise NotFound(field)
    facts = chain.InvitationFacts(inv.id, inv.chain_id, inv.group.path if inv.group else None, inv.created_by_id)
    return _shown(inv, chain.can_see_invitation(viewer, facts), field)


async def access_join_request(viewer: Viewer, request_id: int, field: str = "id") -> JoinRequest:
    """Join request `request_id` when the viewer sees the requests into its corp
    (chain.can_see_join_request: that corp's super admins in person, SPEC §3.4). Returns the
    JoinRequest. Code: NOT_FOUND (`field`) otherwise."""
    r = await JoinRequest.get_or_none(id=request_id)
    return _shown(r, r is not None and chain.can_see_join_request(viewer, r.corp_id), field)


async def access_import_job(viewer: Viewer, job_id: int, field: str = "id") -> ImportJob:
    """Import job `job_id` when the viewer sees (and may retry) it (jobs.can_see_import_job:
    whoever started it, the corp's super admins, the chain's whole-chain admins; SPEC §3.8).
    Returns the ImportJob. Code: NOT_FOUND (`field`) otherwise."""
    job = await ImportJob.get_or_none(id=job_id)
    visible = job is not None and can_see_import_job(
        viewer, JobFacts(job.corp_id, job.chain_id, job.actor_kind, job.actor_id)
    )
    return _shown(job, visible, field)


async def access_app_token(viewer: Viewer, token_id: int, field: str = "id") -> AppToken:
    """App token `token_id` when the viewer manages its corp's tokens
    (actions.can_manage_app_tokens: the corp's super admins in person, SPEC §2.4). Returns the
    AppToken. Code: NOT_FOUND (`field`) otherwise."""
    t = await AppToken.get_or_none(id=token_id)
    return _shown(t, t is not None and can_manage_app_tokens(viewer, t.corp_id), field)


async def access_webhook_subscription(viewer: Viewer, subscription_id: int, field: str = "id") -> WebhookSubscription:
    """Webhook subscription `subscription_id` when the viewer manages its corp's app tokens
    (actions.can_manage_app_tokens, SPEC §3.9). Returns the WebhookSubscription. Code:
    NOT_FOUND (`field`) otherwise."""
    s = await WebhookSubscription.get_or_none(id=subscription_id)
    return _shown(s, s is not None and can_manage_app_tokens(viewer, s.corp_id), field)  # type: ignore[attr-defined]


async def access_audit_event(viewer: Viewer, event_id: int, field: str = "id") -> AuditEvent:
    """Audit event `event_id` when the viewer reads its corp's trail (actions.can_read_audit:
    the corp's super admins, its apps with audit:read; SPEC §2.4). Returns the AuditEvent.
    Code: NOT_FOUND (`field`) otherwise."""
    e = await AuditEvent.get_or_none(id=event_id)
    return _shown(e, e is not None and e.corp_id is not None and can_read_audit(viewer, e.corp_id), field)
