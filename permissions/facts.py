"""Facts about one loaded object, as the in-memory evaluators need them."""

from __future__ import annotations

from dataclasses import dataclass

from models.enums import AdminRight, ChainCorpStatus, ContactStatus, MemberStatus


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
