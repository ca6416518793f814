"""The AppToken type. Its secret is no field: it exists once, in createAppToken's payload."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from flows.access import access_app_token
from gql.context import Info
from gql.enums import described_enum
from gql.relay import or_none
from gql.shown_to import ShownOnlyTo
from models import AppToken, enums
from permissions.actions import can_manage_app_tokens
from permissions.apps import token_usable
from permissions.restricted import restricted

if TYPE_CHECKING:
    from gql.chain.types import ChainSpaceNode
    from gql.directory.types import MemberNode
    from gql.feed.webhook_types import WebhookSubscriptionNode

AppScope = described_enum(enums.AppScope, "What a partner-app token may do (SPEC §2.4); its rights are these scopes "
                          "cut to the issuing corp's.", {
    "DIRECTORY_READ": "directory:read: read the corp's directory.",
    "DIRECTORY_WRITE": "directory:write: change the directory (with directory:read).",
    "DIRECTORY_EXPORT": "directory:export: download the directory (with directory:read).",
    "CHAIN_READ": "chain:read: read the chain spaces the corp owns or has joined.",
    "CHAIN_WRITE": "chain:write: change chains the corp owns, import their contacts (with chain:read).",
    "CHAIN_STATUS": "chain:status: chainCorpByCustomId and chainMemberByMobile (SPEC §3.6).",
    "FIELDS_SENSITIVE": "fields:sensitive: read mobile, email, telephone, address and birthday.",
    "AUDIT_READ": "audit:read: read the corp's audit trail.",
})


@strawberry.type(name="AppToken", description="A partner-app credential; visible to its corp's super admins only.")
class AppTokenNode(relay.Node):
    pk: relay.NodeID[int]
    _t: strawberry.Private[AppToken]

    @strawberry.field(description="The name its issuer gave it, 1-64 characters.")
    def name(self) -> str:
        return self._t.name

    @strawberry.field(description="The first characters of the secret, to recognise it; never the secret.")
    def prefix(self) -> str:
        return self._t.prefix

    @strawberry.field(description="What the token may do.")
    def scopes(self) -> list[AppScope]:
        known = enums.AppScope._value2member_map_
        return [enums.AppScope(s) for s in self._t.scopes if s in known]

    @strawberry.field(description="Neither revoked nor expired.")
    def active(self) -> bool:
        return token_usable(self._t, datetime.now(UTC))

    @strawberry.field(description="When it stops working (UTC); null: never.")
    def expires_at(self) -> datetime | None:
        return self._t.expires_at

    @strawberry.field(description="When it was revoked (UTC); null while not revoked.")
    def revoked_at(self) -> datetime | None:
        return self._t.revoked_at

    @strawberry.field(description="When a request last used the token (kept to the minute).")
    def last_used_at(self) -> datetime | None:
        return self._t.last_used_at

    @strawberry.field(description="When it was issued (UTC).")
    def created_at(self) -> datetime:
        return self._t.created_at

    @strawberry.field(description="The chain the token is bound to; null for a corp-wide token.")
    async def chain(self, info: Info) -> Annotated[ChainSpaceNode, strawberry.lazy("gql.chain.types")] | None:
        from gql.chain.types import chain_space_node

        chain_id = self._t.chain_id  # type: ignore[attr-defined]
        return await chain_space_node(info, chain_id) if chain_id is not None else None

    @strawberry.field(description="The super admin who issued it; null when erased or not visible.")
    async def created_by(self, info: Info) -> Annotated[MemberNode, strawberry.lazy("gql.directory.types")] | None:
        from gql.directory.types import member_node

        member_id = self._t.created_by_id  # type: ignore[attr-defined]
        return await member_node(info, member_id) if member_id is not None else None

    @strawberry.field(description="The token's webhook endpoints (SPEC §3.9), oldest first.",
                      extensions=[ShownOnlyTo(can_manage_app_tokens, key=lambda root: root._t.corp_id)])
    async def webhook_subscriptions(
        self, info: Info
    ) -> list[Annotated[WebhookSubscriptionNode, strawberry.lazy("gql.feed.webhook_types")]]:
        from gql.feed.webhook_types import token_subscriptions

        return await token_subscriptions(info, self._t)  # type: ignore[return-value]


async def app_token_node(info: Info, token_id: int) -> AppTokenNode | None:
    """A token by id, for its corp's super admins; null alike for unknown and withheld tokens."""
    t = await or_none(access_app_token(info.context.viewer, token_id))
    return AppTokenNode(pk=t.id, _t=t) if t is not None else None


async def corp_app_tokens(info: Info, corp_id: int) -> list[AppTokenNode]:
    """Corp.appTokens: every token of the corp the viewer manages, newest first."""
    rows = await restricted(AppToken, info.context.viewer).filter(corp_id=corp_id).order_by("-created_at", "-id")
    return [AppTokenNode(pk=t.id, _t=t) for t in rows]
