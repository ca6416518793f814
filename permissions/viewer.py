"""The Viewer: who is asking, resolved once per request into plain, frozen facts.

Everything the policy needs about the asker is pre-resolved here (effective department
scopes as subtree paths, admin ranges, chain relationships), so every rule below is a
pure function of (Viewer, target facts) and has a SQL twin built from the same data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from models.enums import AdminRight, AppScope


class ViewerKind(str, Enum):
    """Who is asking: nobody, a person (no corp chosen yet), a corp's member, or a partner app."""

    ANONYMOUS = "ANONYMOUS"
    PERSON = "PERSON"
    MEMBER = "MEMBER"
    APP = "APP"


@dataclass(frozen=True)
class ScopeView:
    """What one of the viewer's own units lets it see: subtree roots minus excluded subtrees."""

    roots: tuple[str, ...]
    excluded: tuple[str, ...] = ()


@dataclass(frozen=True)
class DirectoryAccess:
    """The viewer's standing inside its own corp's directory."""

    corp_id: int
    # Super admins, and apps with directory:read, read the whole corp (resigned and hidden too).
    reads_all: bool = False
    manages_all: bool = False
    # DIRECTORY_ADMIN ranges: unit subtrees with the rights granted over them.
    admin_ranges: tuple[tuple[str, frozenset[AdminRight]], ...] = ()
    views: tuple[ScopeView, ...] = ()
    own_unit_paths: tuple[str, ...] = ()

    def range_paths(self, right: AdminRight | None = None) -> tuple[str, ...]:
        """The subtree paths of the viewer's admin ranges, those granting `right` only when given."""
        return tuple(p for p, rights in self.admin_ranges if right is None or right in rights)


@dataclass(frozen=True)
class ChainAccess:
    """The viewer's standing in one chain space (SPEC §2.3)."""

    chain_id: int
    owner_corp_id: int
    # Owner side.
    admin_all: bool = False
    admin_group_paths: tuple[str, ...] = ()
    rule_group_paths: tuple[str, ...] = ()
    rule_chain_corp_ids: frozenset[int] = frozenset()
    rule_corp_group_paths: tuple[str, ...] = ()
    # Downstream side: the viewer's corp is JOINED in this chain.
    own_chain_corp_id: int | None = None
    own_group_id: int | None = None
    own_group_path: str | None = None
    peers_visible: bool = False
    connector_unit_paths: tuple[str, ...] = ()
    connector_member_ids: frozenset[int] = frozenset()

    @property
    def is_admin(self) -> bool:
        """Whole-chain admin, or chain admin over some groups (SPEC §2.3)."""
        return self.admin_all or bool(self.admin_group_paths)


@dataclass(frozen=True)
class Viewer:
    """Who is asking, with every fact the policy needs pre-resolved (SPEC §2): frozen, built once
    per request by auth, compared by value (kept Viewers, auth.viewer_cache)."""

    kind: ViewerKind = ViewerKind.ANONYMOUS
    person_id: int | None = None
    member_id: int | None = None
    corp_id: int | None = None
    app_token_id: int | None = None
    # App scopes; None for members, whose rights come from their grants alone.
    scopes: frozenset[str] | None = None
    bound_chain_id: int | None = None
    is_super_admin: bool = False
    directory: DirectoryAccess | None = None
    chains: tuple[ChainAccess, ...] = field(default_factory=tuple)
    token_id: str | None = None
    # What requests derived from tables whose writes bump the policy version (a corp's field
    # settings and row, the unit ids of scope subtrees), kept with this Viewer: a Viewer is kept
    # (auth.viewer_cache) only while that version holds, so these are as fresh as the Viewer.
    # None for a Viewer that is not kept (anonymous, persons, a Viewer built within a request).
    kept: dict[Any, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def is_authenticated(self) -> bool:
        """Anyone but the anonymous viewer."""
        return self.kind is not ViewerKind.ANONYMOUS

    def has_scope(self, scope: AppScope) -> bool:
        """Members hold every scope their grants allow; apps only the scopes they were given."""
        return self.scopes is None or scope.value in self.scopes

    def chain(self, chain_id: int) -> ChainAccess | None:
        """The viewer's standing in chain `chain_id`, or None when it has none there (SPEC §2.3)."""
        for access in self.chains:
            if access.chain_id == chain_id:
                return access
        return None

    @property
    def is_admin(self) -> bool:
        """Admins of some kind (for introspection and error detail decisions)."""
        d = self.directory
        return self.kind is ViewerKind.MEMBER and (
            self.is_super_admin or (d is not None and bool(d.admin_ranges)) or any(c.is_admin for c in self.chains)
        )


ANONYMOUS = Viewer()
