"""Facts about one loaded object, as the in-memory evaluators need them."""

from __future__ import annotations

from dataclasses import dataclass

from models.enums import AdminKind, AdminRight, ChainCorpStatus, ContactStatus, MemberStatus, Scope


@dataclass(frozen=True)
class ChainCorpFacts:
    """What the chain rules need of one loaded ChainCorp row: its chain, status and group (id and path)."""

    id: int
    chain_id: int
    status: ChainCorpStatus
    group_id: int
    group_path: str


@dataclass(frozen=True)
class ContactFacts:
    """What the chain rules need of one loaded ChainContact row: its status, linked member (if
    any) with that member's status (None: no member, or not known), and its corp."""

    id: int
    status: ContactStatus
    member_id: int | None
    corp: ChainCorpFacts
    member_status: MemberStatus | None = None


@dataclass(frozen=True)
class MemberFacts:
    """What the directory, chain and field rules need of one loaded Member row (SPEC §2.1-§2.3)."""

    id: int
    corp_id: int
    status: MemberStatus
    hidden: bool
    unit_paths: tuple[str, ...]
    # The chain contacts this member is linked to (for cross-corp visibility).
    contacts: tuple[ContactFacts, ...] = ()


@dataclass(frozen=True)
class AdminStanding:
    """The admin rights a member holds, for the outranking rule (SPEC §2.4)."""

    # SUPER_ADMIN or CHAIN_ADMIN: rights that no directory range confers.
    beyond_directory: bool = False
    # DIRECTORY_ADMIN ranges: unit subtree paths with the rights granted over them.
    ranges: tuple[tuple[str, frozenset[AdminRight]], ...] = ()


NO_STANDING = AdminStanding()


@dataclass(frozen=True)
class UnitFacts:
    """What the unit rule needs of one loaded OrgUnit row: its corp and materialised path."""

    id: int
    corp_id: int
    path: str


@dataclass(frozen=True)
class GroupFacts:
    """What the group rule needs of one loaded ChainGroup row: its chain and materialised path."""

    id: int
    chain_id: int
    path: str


@dataclass(frozen=True)
class UnitScopeFacts:
    """A loaded OrgUnit's department-scope settings (SPEC §2.1): its path, the scope set on it
    (INHERIT when none) and the unit ids it whitelists and excludes."""

    id: int
    path: str
    scope: Scope
    whitelist: tuple[int, ...] = ()
    exclude: tuple[int, ...] = ()


@dataclass(frozen=True)
class GrantFacts:
    """A loaded AdminGrant (SPEC §2.4): its holder, kind, rights, the units of a directory
    admin's range and the chain and groups of a chain admin's."""

    member_id: int
    kind: AdminKind
    rights: tuple[AdminRight, ...] = ()
    unit_ids: tuple[int, ...] = ()
    chain_id: int | None = None
    group_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class ChainRuleFacts:
    """A loaded ChainRule (对接规则, SPEC §2.3): its chain, subject (an owner unit's path or
    an owner member) and object (a group's path, or a chain corp with its group's path)."""

    chain_id: int
    subject_unit_path: str | None
    subject_member_id: int | None
    object_group_path: str | None
    object_chain_corp_id: int | None
    object_corp_group_path: str | None


@dataclass(frozen=True)
class ChainPlaceFacts:
    """A corp's JOINED place in a chain (a loaded ChainCorp row with its group and chain):
    what the downstream side of a ChainAccess is built from (SPEC §2.3)."""

    id: int
    chain_id: int
    owner_corp_id: int
    group_id: int
    group_path: str
    group_peers_visible: bool
    corps_see_each_other: bool
    invited_by_id: int | None
