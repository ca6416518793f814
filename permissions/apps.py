"""Partner-app scopes (SPEC §2.4): which combinations mean something, and what a token may use.

An app's effective rights are its scopes ∩ its corp's rights, limited to its bound chain.
The corp's rights are applied when the Viewer is built (permissions/loading.app_viewer);
this module states the scope side, for both the issuing flow and the loader.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from models.enums import AppScope


class TokenLifetime(Protocol):
    """What decides whether an app token still works: an AppToken row has both."""

    revoked_at: datetime | None
    expires_at: datetime | None

# What a chain-bound token may hold: rights inside that chain. Directory and audit scopes
# reach the whole corp, which a binding to one chain is meant to exclude.
CHAIN_BOUND_SCOPES: frozenset[AppScope] = frozenset(
    {AppScope.CHAIN_READ, AppScope.CHAIN_WRITE, AppScope.CHAIN_STATUS, AppScope.FIELDS_SENSITIVE}
)

# Writing and exporting act on rows the token can read; without the read scope they grant nothing.
READ_SCOPE_FOR: dict[AppScope, AppScope] = {
    AppScope.DIRECTORY_WRITE: AppScope.DIRECTORY_READ,
    AppScope.DIRECTORY_EXPORT: AppScope.DIRECTORY_READ,
    AppScope.CHAIN_WRITE: AppScope.CHAIN_READ,
}


def token_usable(token: TokenLifetime, now: datetime) -> bool:
    """An app token works iff it is not revoked and not expired at `now` (an aware datetime)
    (SPEC §2.4): the one rule the gate, the admin's `AppToken.active` and webhook delivery read."""
    return token.revoked_at is None and (token.expires_at is None or token.expires_at > now)


def outside_chain(scopes: Iterable[AppScope]) -> list[AppScope]:
    """Scopes a chain-bound token may not hold."""
    return sorted((s for s in set(scopes) if s not in CHAIN_BOUND_SCOPES), key=lambda s: s.value)


def missing_read_scopes(scopes: Iterable[AppScope]) -> list[AppScope]:
    """Read scopes that the given write/export scopes need and lack."""
    held = set(scopes)
    return sorted({READ_SCOPE_FOR[s] for s in held if s in READ_SCOPE_FOR} - held, key=lambda s: s.value)


def effective_scopes(scopes: Iterable[str], bound_chain_id: int | None) -> frozenset[str]:
    """The scopes a stored token may use: known values only, and only chain scopes when bound.

    The issuing flow refuses other combinations; this keeps a row written any other way
    (an older version, a manual fix) from reaching beyond its chain.
    """
    known = {s for s in scopes if s in AppScope._value2member_map_}
    if bound_chain_id is not None:
        known &= {s.value for s in CHAIN_BOUND_SCOPES}
    return frozenset(known)
