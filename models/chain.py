"""Chain spaces (上下游): groups, the corps and contacts in them, rules and invitations."""

from __future__ import annotations

from enum import Enum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.enums import ChainCorpStatus, ContactRole, ContactStatus


class JoinRequestKind(str, Enum):
    # JOIN: a person asks to join a corp already chosen for its place in the chain.
    JOIN = "JOIN"
    # CONFIRM: the first leader, not a super admin, asks the corp's super admins to add a colleague.
    CONFIRM = "CONFIRM"


class JoinRequestStatus(str, Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    # The request no longer applies (the place was removed or went to another corp).
    CANCELLED = "CANCELLED"


class ChainSpace(Model):
    id = fields.IntField(primary_key=True)
    owner_corp = fields.ForeignKeyField("models.Corp", related_name="owned_chains", on_delete=fields.CASCADE)
    owner_corp_id: int
    name = fields.CharField(max_length=64)
    import_only = fields.BooleanField(default=False)
    # The chain-wide switch "corps may see each other": every group behaves as peersVisible.
    corps_see_each_other = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "chain_space"


class ChainGroup(Model):
    # A node of a chain's group tree: its path is materialised like OrgUnit.path.

    id = fields.IntField(primary_key=True)
    chain = fields.ForeignKeyField("models.ChainSpace", related_name="groups", on_delete=fields.CASCADE)
    chain_id: int
    parent = fields.ForeignKeyField(
        "models.ChainGroup", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    parent_id: int | None
    path = fields.CharField(max_length=255)
    name = fields.CharField(max_length=64)
    order = fields.IntField(default=0)
    peers_visible = fields.BooleanField(default=False)

    class Meta:
        table = "chain_group"
        indexes = (Index(fields=("chain_id", "path")),)


class ChainCorp(Model):
    # A corp's place in a chain: it exists from the import row on, before the corp joins.

    id = fields.IntField(primary_key=True)
    chain = fields.ForeignKeyField("models.ChainSpace", related_name="chain_corps", on_delete=fields.CASCADE)
    chain_id: int
    group = fields.ForeignKeyField("models.ChainGroup", related_name="chain_corps", on_delete=fields.RESTRICT)
    group_id: int
    corp = fields.ForeignKeyField("models.Corp", related_name="chain_places", null=True, on_delete=fields.SET_NULL)
    corp_id: int | None
    custom_corp_id = fields.CharField(max_length=64, null=True)
    imported_name = fields.CharField(max_length=64)
    name_key = fields.CharField(max_length=64)
    status = fields.CharEnumField(ChainCorpStatus, max_length=16, default=ChainCorpStatus.IMPORTED)
    invited_by = fields.ForeignKeyField(
        "models.Member", related_name="invited_chain_corps", null=True, on_delete=fields.SET_NULL
    )
    invited_by_id: int | None
    joined_at = fields.DatetimeField(null=True)
    # The member of the chosen corp whose leader decision won (the first leader): it confirms colleagues.
    decided_by = fields.ForeignKeyField(
        "models.Member", related_name="decided_chain_corps", null=True, on_delete=fields.SET_NULL
    )
    decided_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "chain_corp"
        unique_together = (("chain", "custom_corp_id"), ("chain", "corp"))
        indexes = (
            # Ends with id: the JOINED corps of a rule's groups are read from the index alone
            # (a contact list's corp subquery: 53 index pages where the table took 1,800).
            Index(fields=("chain_id", "status", "group_id", "id")),
            Index(fields=("chain_id", "name_key")),
            # A group's corps in id order (keyset pages of a chain admin's or a rule's groups).
            Index(fields=("chain_id", "group_id", "id")),
            # A corp's places in chains: read for every request's Viewer and for corp visibility.
            Index(fields=("corp_id",)),
        )


class ChainContact(Model):
    id = fields.IntField(primary_key=True)
    chain = fields.ForeignKeyField("models.ChainSpace", related_name="contacts", on_delete=fields.CASCADE)
    chain_id: int
    chain_corp = fields.ForeignKeyField("models.ChainCorp", related_name="contacts", on_delete=fields.CASCADE)
    chain_corp_id: int
    name = fields.CharField(max_length=64)
    mobile = fields.CharField(max_length=32)
    role = fields.CharEnumField(ContactRole, max_length=8, default=ContactRole.MEMBER)
    status = fields.CharEnumField(ContactStatus, max_length=16, default=ContactStatus.IMPORTED)
    member = fields.ForeignKeyField(
        "models.Member", related_name="chain_contacts", null=True, on_delete=fields.SET_NULL
    )
    member_id: int | None
    # Whether the linked member has left (RESIGNED, DISABLED): kept by database triggers from
    # the member's status (migration 0019), never written by the application; non-admin chain
    # views withhold such contacts (permissions.chain.contact_listed_q).
    member_left = fields.BooleanField(default=False, db_default=False)
    # The personal link of an import notification (a leader's invitation), and when it was sent.
    join_code = fields.CharField(max_length=64, unique=True, null=True)
    invited_at = fields.DatetimeField(null=True)
    joined_at = fields.DatetimeField(null=True)
    declined_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "chain_contact"
        unique_together = (("chain", "mobile"),)
        indexes = (
            Index(fields=("chain_corp_id", "status")),
            Index(fields=("member_id",)),
            # A chain's contacts by status in id order: list pages (keyset) and their counts.
            Index(fields=("chain_id", "status", "id")),
        )


class ContactHeadcount(Model):
    """A chain's contacts by (group, chain corp status, contact status): kept by database
    triggers (migration 0017) in the transaction of every write to `chain_contact` or
    `chain_corp`, so a contact list's totalCount is a sum over the few rows its selectors
    name (a group range, a group, the whole chain) instead of a pass over the chain's
    contacts (permissions.chain.contact_count_parts). Never written by the application."""

    id = fields.IntField(primary_key=True)
    chain_id = fields.IntField()
    group_id = fields.IntField()
    corp_status = fields.CharEnumField(ChainCorpStatus, max_length=16)
    status = fields.CharEnumField(ContactStatus, max_length=16)
    n = fields.IntField(default=0)
    # Of n, the contacts whose linked member has not left (chain_contact.member_left false):
    # what non-admin standings count (SPEC §3.5; migration 0019).
    n_listed = fields.IntField(default=0, db_default=0)

    class Meta:
        table = "contact_headcount"
        unique_together = (("chain_id", "group_id", "corp_status", "status"),)


class ChainCorpHeadcount(Model):
    """A chain's corps by (group, status): kept by database triggers (migration 0020) in the
    transaction of every write to `chain_corp`, so a corps list's totalCount is a sum over the
    few rows its selectors name (a group range, a group, the whole chain) instead of a pass
    over the chain's corps (permissions.chain.chain_corp_count_parts). Never written by the
    application."""

    id = fields.IntField(primary_key=True)
    chain_id = fields.IntField()
    group_id = fields.IntField()
    status = fields.CharEnumField(ChainCorpStatus, max_length=16)
    n = fields.IntField(default=0)

    class Meta:
        table = "chain_corp_headcount"
        unique_together = (("chain_id", "group_id", "status"),)


class ChainRule(Model):
    """对接规则: owner-side subject (a unit subtree or a member) × object (a group subtree or a corp)."""

    id = fields.IntField(primary_key=True)
    chain = fields.ForeignKeyField("models.ChainSpace", related_name="rules", on_delete=fields.CASCADE)
    chain_id: int
    subject_unit = fields.ForeignKeyField("models.OrgUnit", related_name="chain_rules", null=True, on_delete=fields.CASCADE)
    subject_unit_id: int | None
    subject_member = fields.ForeignKeyField("models.Member", related_name="chain_rules", null=True, on_delete=fields.CASCADE)
    subject_member_id: int | None
    object_group = fields.ForeignKeyField("models.ChainGroup", related_name="rules", null=True, on_delete=fields.CASCADE)
    object_group_id: int | None
    object_chain_corp = fields.ForeignKeyField("models.ChainCorp", related_name="rules", null=True, on_delete=fields.CASCADE)
    object_chain_corp_id: int | None

    class Meta:
        table = "chain_rule"
        indexes = (Index(fields=("chain_id",)),)


class Invitation(Model):
    id = fields.IntField(primary_key=True)
    chain = fields.ForeignKeyField("models.ChainSpace", related_name="invitations", on_delete=fields.CASCADE)
    chain_id: int
    group = fields.ForeignKeyField("models.ChainGroup", related_name="invitations", null=True, on_delete=fields.CASCADE)
    group_id: int | None
    code = fields.CharField(max_length=64, unique=True)
    created_by = fields.ForeignKeyField("models.Member", related_name="invitations", on_delete=fields.CASCADE)
    created_by_id: int
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "invitation"
        indexes = (Index(fields=("chain_id", "created_at")),)


class JoinRequest(Model):
    # An approval request to a corp's super admins: a person joins the corp and, through it, the chain.

    id = fields.IntField(primary_key=True)
    chain = fields.ForeignKeyField("models.ChainSpace", related_name="join_requests", on_delete=fields.CASCADE)
    chain_id: int
    chain_corp = fields.ForeignKeyField("models.ChainCorp", related_name="join_requests", on_delete=fields.CASCADE)
    chain_corp_id: int
    contact = fields.ForeignKeyField("models.ChainContact", related_name="join_requests", on_delete=fields.CASCADE)
    contact_id: int
    corp = fields.ForeignKeyField("models.Corp", related_name="join_requests", on_delete=fields.CASCADE)
    corp_id: int
    kind = fields.CharEnumField(JoinRequestKind, max_length=16)
    status = fields.CharEnumField(JoinRequestStatus, max_length=16, default=JoinRequestStatus.PENDING)
    requested_by_member = fields.ForeignKeyField(
        "models.Member", related_name="join_requests_made", null=True, on_delete=fields.SET_NULL
    )
    requested_by_member_id: int | None
    requested_by_person = fields.ForeignKeyField(
        "models.Person", related_name="join_requests", null=True, on_delete=fields.SET_NULL
    )
    requested_by_person_id: int | None
    decided_by = fields.ForeignKeyField(
        "models.Member", related_name="join_requests_decided", null=True, on_delete=fields.SET_NULL
    )
    decided_by_id: int | None
    decided_at = fields.DatetimeField(null=True)
    # The contact id while PENDING, NULL once decided: one open request per contact, enforced
    # by the unique index even when the same person taps "join" twenty times at once.
    open_key = fields.IntField(null=True, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "join_request"
        indexes = (Index(fields=("corp_id", "status")),)
