"""The one entry point of every governed list (NetBox's `restrict(user)`, SPEC §2).

`restricted(Model, viewer)` is the queryset of the `Model` rows `viewer` may see: each
governed model's SQL rule (the `*_q` twin of its `can_see_*`), applied once, here. A list
in gql/ starts from it and only narrows it further (`.filter(corp_id=...)`, an order);
tests/project/test_restricted_entry.py fails when gql/ queries a governed model any other way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from models import (
    AppToken,
    AuditEvent,
    ChainContact,
    ChainCorp,
    ChainGroup,
    ChainSpace,
    Corp,
    Invitation,
    Member,
    OrgUnit,
    WebhookSubscription,
)
from models.chain import JoinRequest
from permissions import chain, corps, members, scope
from permissions.actions import can_manage_app_tokens
from permissions.audit import audit_events_q
from permissions.chain import CorpSelector
from permissions.sql import NOTHING, SubtreeUnits
from permissions.viewer import Viewer

M = TypeVar("M", bound=Model)


def _members(
    viewer: Viewer,
    corp_id: int | None = None,
    *,
    ids_given: bool = False,
    within: tuple[str, ...] | None = None,
    units: SubtreeUnits | None = None,
    connectors_in: int | None = None,
) -> Q:
    """Members the viewer sees (members.visible_members_q); with `corp_id`, those of that corp
    in the shape the databases plan well (members.visible_members_in_corp_q, which explains
    `ids_given`, `within`, `units`); with `connectors_in` (a chain id), the owner's members the
    viewer's corp deals with in that chain (chain.connectors_q; none without a standing there)."""
    if connectors_in is not None:
        access = viewer.chain(connectors_in)
        return chain.connectors_q(access) if access is not None else NOTHING
    if corp_id is None:
        return members.visible_members_q(viewer)
    return members.visible_members_in_corp_q(viewer, corp_id, ids_given=ids_given, within=within, units=units)


def _contacts(
    viewer: Viewer, corp_id: int | None = None, *, listed: Mapping[CorpSelector, tuple[int, ...]] | None = None
) -> Q:
    """Chain contacts the viewer sees (chain.contacts_q, which explains `corp_id` and `listed`)."""
    return chain.contacts_q(viewer, corp_id, listed)


def app_tokens_q(viewer: Viewer) -> Q:
    """Filter on rows of a corp's partner-app tokens and their webhook subscriptions (both carry
    `corp_id`): the SQL twin of actions.can_manage_app_tokens, the viewer's own corp when it is
    a super admin there in person, else nothing (SPEC §2.4)."""
    if viewer.corp_id is None or not can_manage_app_tokens(viewer, viewer.corp_id):
        return NOTHING
    return Q(corp_id=viewer.corp_id)


# Governed model -> its rule: (viewer, **narrowing) -> Q on that model's rows.
RULES: dict[type[Model], Callable[..., Q]] = {
    Member: _members,
    OrgUnit: scope.units_q,
    Corp: corps.corps_q,
    ChainSpace: chain.chains_q,
    ChainGroup: chain.groups_q,
    ChainCorp: chain.chain_corps_q,
    ChainContact: _contacts,
    Invitation: chain.invitations_q,
    JoinRequest: chain.join_requests_q,
    AuditEvent: audit_events_q,
    AppToken: app_tokens_q,
    WebhookSubscription: app_tokens_q,
}


def rule(model: type[Model], viewer: Viewer, **narrowing: Any) -> Q:
    """The filter on `model` rows that `viewer` may see (SPEC §2), for a caller that needs the
    condition itself (a subquery, an OR with other conditions). `narrowing`: the model rule's
    own options (Member: corp_id, ids_given, within, units, connectors_in; ChainContact: corp_id,
    listed). Raises KeyError for a model that has no rule (not governed)."""
    return RULES[model](viewer, **narrowing)


def restricted(model: type[M], viewer: Viewer, **narrowing: Any) -> QuerySet[M]:
    """`model.filter(rule(model, viewer, **narrowing))`: the queryset of the rows of a governed
    model that `viewer` may see, unordered, to be narrowed and ordered by the caller (SPEC §2).
    Raises KeyError for a model that has no rule."""
    return model.filter(rule(model, viewer, **narrowing))
