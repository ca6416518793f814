"""Chain import (导入上下游联系人, SPEC §3.2): contact rows -> corps' places and contacts.

Columns: 联系人姓名 name*, 身份 role* (负责人/成员), 手机号 mobile*, 企业名称 corpName*,
上下游分组 group (`A->B`, created if missing), 自定义企业id customCorpId.

Unlike the source product, errors are per row: a corp's valid rows land even when another
of its rows fails. A corp is keyed by customCorpId, else by its normalised name; an imported
name that is a JOINED corp's full or short name lands on that corp (matching rule 1). A
contact is keyed by chain + mobile. These are the chain rules plugged into the import
pipeline (flows/import_pipeline.py), which batches the rows and commits each batch with the
job's progress; imports into one chain run one after another (the job queue is per chain).
Each new leader gets an invitation and a week of daily reminders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tortoise.transactions import in_transaction

from flows import chain_notices, jobs
from flows.audit import Origin, event, record
from flows.chain import GROUP_NAME_MAX
from flows.errors import FlowError, NotFound
from flows.import_pipeline import ImportSpec, Rows, run_import
from flows.invitations import new_code
from flows.names import normalise_corp_name
from flows.tabular import (
    Cell,
    CellError,
    RowError,
    foreign_separator,
    mobile_cell,
    open_row,
    split_paths,
    text_cell,
)
from models import AuditEvent, ChainContact, ChainCorp, ChainGroup, ChainSpace, Corp, ImportJob, ImportSource
from models.enums import ChainCorpStatus, ContactRole, ContactStatus, ImportKind
from permissions import actions
from permissions.paths import make_path
from permissions.viewer import Viewer, ViewerKind

BATCH_ROWS = 500

COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("联系人姓名", "姓名", "联系人", "name", "contactname"),
    "role": ("身份", "角色", "role"),
    "mobile": ("手机号", "手机", "mobile"),
    "corpName": ("企业名称", "企业", "corpname", "corp"),
    "group": ("上下游分组", "分组", "group"),
    "customCorpId": ("自定义企业id", "企业id", "customcorpid"),
}
ALIASES = {alias.lower(): key for key, names in COLUMNS.items() for alias in names}
TEMPLATE_HEADERS = {key: names[0] for key, names in COLUMNS.items()}
REQUIRED = {"name", "role", "mobile", "corpName"}
ROLES = {"负责人": ContactRole.LEADER, "leader": ContactRole.LEADER, "成员": ContactRole.MEMBER, "member": ContactRole.MEMBER}
PATH_SEPARATOR = "->"
NAME_LIMIT = 32
CORP_NAME_EXTRA = frozenset(" -_()（）")


def clean_corp_name(text: str) -> str:
    """1-32 characters: CJK, letters, digits, space and -_()（）."""
    name = text.strip()
    if not 1 <= len(name) <= NAME_LIMIT:
        raise CellError("INVALID_CORP_NAME", f"A corp name has 1 to {NAME_LIMIT} characters.")
    bad = sorted({ch for ch in name if not (ch.isalnum() or ch in CORP_NAME_EXTRA)})
    if bad:
        raise CellError("INVALID_CORP_NAME", f"A corp name may not contain {' '.join(bad)} (allowed: letters, digits, space, -_()（）).")
    return name


def group_path(text: str, root_name: str) -> tuple[str, ...]:
    """The group names a row's group cell names below the chain's root (`A->B` -> ("A", "B");
    a path that starts with the root's name `root_name` is taken from the root down). SPEC §3.2.
    Raises CellError INVALID_GROUP for several paths, another tool's separator, or a name of
    not 1 to GROUP_NAME_MAX characters."""
    paths = split_paths(text)
    if len(paths) != 1:
        raise CellError("INVALID_GROUP", "A row names one group (`A->B`).")
    names = tuple(paths[0])
    separator = next((s for s in map(foreign_separator, names) if s), None)
    if separator:
        raise CellError("INVALID_GROUP", f"Groups in a path are separated by -> (`A->B`), not by {separator}.")
    if any(not 1 <= len(n) <= GROUP_NAME_MAX for n in names):
        raise CellError("INVALID_GROUP", f"Each group in a path has 1 to {GROUP_NAME_MAX} characters (`A->B`).")
    if names and names[0] == root_name:
        names = names[1:]  # a path written from the chain's root group down
    return names


@dataclass
class Place:
    """One chain corp as the import sees it (a ChainCorp row or one a batch creates): its
    customCorpId, imported name and that name's matching key, status and group."""

    id: int
    custom_corp_id: str | None
    imported_name: str
    name_key: str
    status: ChainCorpStatus
    group_id: int


@dataclass
class Contact:
    """One chain contact as the import sees it, keyed by mobile (E.164) in ChainState.contacts:
    its chain corp, name, role, status and join code."""

    id: int
    place_id: int
    name: str
    role: ContactRole
    status: ContactStatus
    join_code: str | None
    mobile: str = ""
    # Set while a batch is written: this row gave the contact its (first) invitation.
    invite: bool = False


@dataclass
class RowPlan:
    """What one valid row does (SPEC §3.2): the contact (name, role, mobile) and the corp it
    belongs to (name, customCorpId, group path below the root or None); `place` and `contact`
    are the existing rows it matched, None where the row creates them."""

    row: int
    name: str
    role: ContactRole
    mobile: str
    corp_name: str
    custom_corp_id: str | None
    group: tuple[str, ...] | None
    place: Place | None = None
    contact: Contact | None = None

    @property
    def name_key(self) -> str:
        """The corp name as it is matched against the chain's corps (flows.names.normalise_corp_name)."""
        return normalise_corp_name(self.corp_name)


@dataclass
class ChainState:
    """What the rows of one chain import are checked against (SPEC §3.2): the chain, its
    groups by name path, its corps (by id, customCorpId, name key, joined corp name), its
    contacts by mobile, what the file itself has agreed so far, and what the batch being written
    has touched (merged in once it commits)."""

    chain: ChainSpace
    owner_name: str
    root: ChainGroup
    groups: dict[tuple[str, ...], tuple[int, str]]
    places: dict[int, Place]
    by_custom: dict[str, int]
    by_name: dict[str, list[int]]
    # JOINED places by their corp's name keys (full and short name): matching rule 1.
    joined_by_corp_key: dict[str, int]
    contacts: dict[str, Contact]
    # In-file agreement: each customCorpId's corp name, the ids given to each name, and the
    # names used without an id.
    file_name_by_custom: dict[str, str] = field(default_factory=dict)
    file_ids_by_name: dict[str, set[str]] = field(default_factory=dict)
    file_names_without_id: set[str] = field(default_factory=set)
    file_mobiles: set[str] = field(default_factory=set)
    # What the batch being written has touched; merged into the state above once it commits.
    places_pending: dict[int, Place] = field(default_factory=dict)
    new_by_key: dict[tuple[str, str | None], Place] = field(default_factory=dict)
    contacts_pending: dict[str, Contact] = field(default_factory=dict)

    def begin_batch(self) -> None:
        """Forget what the previous batch touched (it committed, or it rolled back)."""
        self.places_pending, self.new_by_key, self.contacts_pending = {}, {}, {}

    @classmethod
    async def load(cls, chain_id: int) -> ChainState:
        """The state of chain `chain_id` as the database holds it now: its groups, corps,
        joined corps' names and contacts (five queries)."""
        chain = await ChainSpace.get(id=chain_id)
        owner_name = (await Corp.get(id=chain.owner_corp_id)).name
        rows = await ChainGroup.filter(chain_id=chain_id).values("id", "parent_id", "name", "path")
        root_row = next(r for r in rows if r["parent_id"] is None)
        by_id = {r["id"]: r for r in rows}
        groups: dict[tuple[str, ...], tuple[int, str]] = {}
        for r in sorted(rows, key=lambda r: r["path"].count("/")):
            ids = [int(p) for p in r["path"].strip("/").split("/")][1:]
            groups[tuple(by_id[i]["name"] for i in ids)] = (r["id"], r["path"])
        places = {
            p["id"]: Place(p["id"], p["custom_corp_id"], p["imported_name"], p["name_key"], ChainCorpStatus(p["status"]), p["group_id"])
            for p in await ChainCorp.filter(chain_id=chain_id).values(
                "id", "custom_corp_id", "imported_name", "name_key", "status", "group_id"
            )
        }
        state = cls(chain, owner_name, await ChainGroup.get(id=root_row["id"]), groups, places, {}, {}, {}, {})
        for p in places.values():
            state.index(p)
        for place_id, name, short in await ChainCorp.filter(
            chain_id=chain_id, status=ChainCorpStatus.JOINED.value
        ).values_list("id", "corp__name", "corp__short_name"):
            for key in {normalise_corp_name(n) for n in (name, short) if n}:
                state.joined_by_corp_key.setdefault(key, place_id)
        for c in await ChainContact.filter(chain_id=chain_id).values(
            "id", "chain_corp_id", "name", "role", "status", "mobile", "join_code"
        ):
            state.contacts[c["mobile"]] = Contact(
                c["id"], c["chain_corp_id"], c["name"], ContactRole(c["role"]), ContactStatus(c["status"]), c["join_code"],
                c["mobile"],
            )
        return state

    def index(self, p: Place) -> None:
        """Add (or re-add) place `p` under its id, customCorpId and name key."""
        self.places[p.id] = p
        if p.custom_corp_id:
            self.by_custom[p.custom_corp_id] = p.id
        ids = self.by_name.setdefault(p.name_key, [])
        if p.id not in ids:
            ids.append(p.id)

    def group_of(self, place: Place) -> str:
        """The materialised path of the group `place` sits in."""
        return next(path for gid, path in self.groups.values() if gid == place.group_id)


class ChainImporter:
    """The chain-contacts import's RowRules (flows.import_pipeline): validates rows against
    the ChainState, writes them batch by batch as `viewer` (who must hold can_import_chain), and
    keeps `counts` (corps and contacts created, updated, unchanged, failed; groups created;
    invited). SPEC §3.2."""

    def __init__(self, job: ImportJob, viewer: Viewer, state: ChainState, mapping: dict[int, str], headers: list[str]):
        self.job = job
        self.viewer = viewer
        self.state = state
        self.mapping = mapping
        self.headers = headers
        self.counts: dict[str, int] = {
            "corpsCreated": 0, "corpsUpdated": 0, "created": 0, "updated": 0, "unchanged": 0, "failed": 0,
            "groupsCreated": 0, "invited": 0, **job.counts,
        }

    def column(self, key: str) -> str | None:
        """The file's header of the column mapped to `key` (an API key like "mobile"), or None
        when the file has no such column."""
        index = next((i for i, k in self.mapping.items() if k == key), None)
        return self.headers[index] if index is not None else None

    # --- validation (no writes) -----------------------------------------------------------

    def plan(self, number: int, cells: list[Cell]) -> RowPlan | list[RowError]:
        """Validate row `number` (`cells` padded to the headers; no writes): its RowPlan, or its
        RowErrors (row, column header, code, message). Codes: REQUIRED, UNKNOWN_COLUMN,
        INVALID_NAME, INVALID_ROLE, INVALID_CORP_NAME, INVALID_CUSTOM_ID, INVALID_GROUP,
        DUPLICATE_IN_FILE, CORP_MISMATCH, AMBIGUOUS_CORP, CORP_REMOVED, OUT_OF_SCOPE, and the
        cell readers' codes (SPEC §3.2)."""
        opened = open_row(number, cells, self.headers, self.mapping, self.column)
        if isinstance(opened, list):
            return opened
        values, row = opened
        errors, fail = row.errors, row.fail
        name = text_cell(values.get("name"))
        if name is None:
            fail("name", "REQUIRED", "The contact's name is required.")
        elif len(name) > NAME_LIMIT:
            fail("name", "INVALID_NAME", f"A contact name has 1 to {NAME_LIMIT} characters.")
        role_text = text_cell(values.get("role"))
        role = ROLES.get((role_text or "").lower())
        if role_text is None:
            fail("role", "REQUIRED", "The role is required: 负责人 (LEADER) or 成员 (MEMBER).")
        elif role is None:
            fail("role", "INVALID_ROLE", f"{role_text} is not a role: write 负责人 (LEADER) or 成员 (MEMBER).")
        mobile = None
        try:
            mobile = mobile_cell(values.get("mobile"))
            if mobile is None:
                fail("mobile", "REQUIRED", "The mobile number is required.")
        except CellError as exc:
            fail("mobile", exc.code, exc.message)
        if mobile is not None:
            if mobile in self.state.file_mobiles:
                fail("mobile", "DUPLICATE_IN_FILE", f"{mobile} appears on an earlier row of this file.")
            self.state.file_mobiles.add(mobile)
        corp_name = None
        try:
            raw = text_cell(values.get("corpName"))
            if raw is None:
                fail("corpName", "REQUIRED", "The corp name is required.")
            else:
                corp_name = clean_corp_name(raw)
        except CellError as exc:
            fail("corpName", exc.code, exc.message)
        custom = text_cell(values.get("customCorpId"))
        if custom is not None and len(custom) > 64:
            fail("customCorpId", "INVALID_CUSTOM_ID", "A customCorpId has at most 64 characters.")
            custom = None
        group = None
        try:
            group_text = text_cell(values.get("group"))
            if group_text:
                group = group_path(group_text, self.state.root.name)
        except CellError as exc:
            fail("group", exc.code, exc.message)
        if corp_name is not None:
            self._agree(normalise_corp_name(corp_name), custom, fail)
        if errors:
            return errors
        assert name is not None and role is not None and mobile is not None and corp_name is not None
        plan = RowPlan(number, name, role, mobile, corp_name, custom, group)
        self._resolve(plan, fail)
        return errors or plan

    def _agree(self, key: str, custom: str | None, fail: Any) -> None:
        """Rows of one corp agree on its name and customCorpId. Two corps may share a name
        when their customCorpIds differ; a name used both with and without one is a mismatch."""
        s = self.state
        if custom is not None:
            if s.file_name_by_custom.get(custom, key) != key:
                fail("corpName", "CORP_MISMATCH",
                     f"An earlier row gives customCorpId {custom} another corp name; rows of one corp must agree.")
            elif key in s.file_names_without_id:
                fail("customCorpId", "CORP_MISMATCH",
                     "An earlier row names this corp without a customCorpId; rows of one corp must agree.")
            else:
                s.file_name_by_custom[custom] = key
                s.file_ids_by_name.setdefault(key, set()).add(custom)
        elif key in s.file_ids_by_name:
            given = ", ".join(sorted(s.file_ids_by_name[key]))
            fail("customCorpId", "CORP_MISMATCH",
                 f"Earlier rows give this corp the customCorpId {given}; rows of one corp must agree.")
        else:
            s.file_names_without_id.add(key)

    def _resolve(self, plan: RowPlan, fail: Any) -> None:
        """Find the row's place and contact; refuse what would break a joined person or a scope."""
        s = self.state
        key = plan.name_key
        place_id = s.by_custom.get(plan.custom_corp_id) if plan.custom_corp_id else None
        if place_id is None:
            named = [i for i in s.by_name.get(key, []) if plan.custom_corp_id is None or s.places[i].custom_corp_id is None]
            if len(named) > 1:
                fail("corpName", "AMBIGUOUS_CORP", "Several corps of the chain carry this name: give the customCorpId.")
                return
            place_id = named[0] if named else None
        if place_id is None and key in s.joined_by_corp_key:
            joined = s.places[s.joined_by_corp_key[key]]
            if plan.custom_corp_id is None or joined.custom_corp_id in (None, plan.custom_corp_id):
                place_id = joined.id
        plan.place = s.places.get(place_id) if place_id is not None else None
        if plan.place is not None and plan.place.status is ChainCorpStatus.REMOVED:
            fail("corpName", "CORP_REMOVED", "This corp was removed from the chain.")
            return
        target_path = self._target_group_path(plan)
        if not actions.can_manage_chain_corp(self.viewer, s.chain.id, target_path):
            fail("group" if plan.group is not None else "corpName", "OUT_OF_SCOPE",
                 "This row reaches outside the groups you manage.")
            return
        plan.contact = s.contacts.get(plan.mobile)
        c = plan.contact
        if c is not None and c.place_id != (plan.place.id if plan.place else None):
            if c.status in (ContactStatus.JOINED, ContactStatus.PENDING_CONFIRM):
                fail("corpName", "CONTACT_JOINED",
                     "This person already joined (or is joining) the chain with another corp; it stays there.")

    def _target_group_path(self, plan: RowPlan) -> str:
        s = self.state
        if plan.group is None:
            return s.group_of(plan.place) if plan.place is not None else s.root.path
        # The deepest existing group on the path: a missing group is created below it.
        known = max((plan.group[:k] for k in range(len(plan.group) + 1) if plan.group[:k] in s.groups), key=len)
        if known == plan.group:
            return s.groups[known][1]
        return s.groups[known][1] + "0/"  # below `known`, for the scope check only

    # --- applying (one transaction per batch) ---------------------------------------------

    async def apply(self, plans: list[RowPlan]) -> list[tuple[str, Any]]:
        """Write a batch; returns the state changes to remember once it has committed."""
        s = self.state
        s.begin_batch()
        delta: list[tuple[str, Any]] = []
        new_groups: dict[tuple[str, ...], tuple[int, str]] = {}
        new_contacts: list[ChainContact] = []
        written: list[tuple[RowPlan, Place, str]] = []
        places = []
        for plan in plans:
            group_id = await self._ensure_group(plan.group, new_groups) if plan.group is not None else None
            places.append(await self._ensure_place(plan, group_id, delta))
        await self._insert_new_places()
        for plan, place in zip(plans, places, strict=True):
            outcome = await self._ensure_contact(plan, place, delta, new_contacts)
            self.counts[outcome] += 1
            if outcome != "unchanged":
                written.append((plan, place, outcome))
        if new_contacts:
            # One insert for the batch; the ids come back by primary-key range (an IN list of
            # a thousand mobiles makes PostgreSQL scan the contacts once per batch).
            last = await ChainContact.all().order_by("-id").first().values_list("id", flat=True)
            await ChainContact.bulk_create(new_contacts)
            wanted = {c.mobile for c in new_contacts}
            ids = {m: i for m, i in await ChainContact.filter(chain_id=s.chain.id, id__gt=last or 0)
                   .values_list("mobile", "id") if m in wanted}
            for c in new_contacts:
                s.contacts_pending[c.mobile].id = ids[c.mobile]
        invited = [s.contacts_pending[plan.mobile] for plan, _, _ in written if s.contacts_pending[plan.mobile].invite]
        await chain_notices.invite_leaders([
            chain_notices.LeaderInvite(c.id, c.mobile, c.name, c.role, c.join_code or "", s.places_pending[c.place_id].imported_name)
            for c in invited
        ], s.chain, s.owner_name)
        self.counts["invited"] += len(invited)
        self.counts["groupsCreated"] += len(new_groups)
        await AuditEvent.bulk_create([
            event(
                self.viewer, "chainContact.import", "ChainContact", s.contacts_pending[plan.mobile].id,
                corp_id=s.chain.owner_corp_id,
                after={"row": plan.row, "name": plan.name, "role": plan.role.value, "corp": place.id, "outcome": outcome},
            )
            for plan, place, outcome in written
        ])
        delta.append(("groups", new_groups))
        return delta

    async def _ensure_group(self, names: tuple[str, ...], created: dict[tuple[str, ...], tuple[int, str]]) -> int:
        s = self.state
        for k in range(1, len(names) + 1):
            prefix = names[:k]
            if prefix in s.groups or prefix in created:
                continue
            parent_id, parent_path = created.get(prefix[:-1]) or s.groups[prefix[:-1]]
            group = await ChainGroup.create(chain_id=s.chain.id, parent_id=parent_id, path="", name=prefix[-1])
            group.path = make_path(parent_path, group.id)
            await group.save(update_fields=["path"])
            created[prefix] = (group.id, group.path)
        return (created.get(names) or s.groups[names])[0]

    async def _ensure_place(self, plan: RowPlan, group_id: int | None, delta: list[tuple[str, Any]]) -> Place:
        s = self.state
        known = s.places_pending.get(plan.place.id) if plan.place is not None else None
        if known is None and plan.place is None:
            # A corp new to the chain; a later row of the batch may name it again.
            pending = s.new_by_key.get((plan.name_key, plan.custom_corp_id))
            if pending is not None:
                return pending
            # Inserted with the batch's other new corps; the id is filled in then.
            place = Place(0, plan.custom_corp_id, plan.corp_name, plan.name_key, ChainCorpStatus.IMPORTED,
                          group_id or s.root.id)
            s.new_by_key[(plan.name_key, plan.custom_corp_id)] = place
            delta.append(("place", place))
            self.counts["corpsCreated"] += 1
            return place
        place = known or Place(**vars(plan.place))
        changes: dict[str, Any] = {}
        # A JOINED corp keeps its name (its corp's own); an imported one takes the file's spelling.
        if place.status is ChainCorpStatus.IMPORTED and place.imported_name != plan.corp_name:
            changes.update(imported_name=plan.corp_name, name_key=plan.name_key)
        if plan.custom_corp_id and place.custom_corp_id is None:
            changes["custom_corp_id"] = plan.custom_corp_id
        if group_id is not None and group_id != place.group_id:
            changes["group_id"] = group_id
        if changes:
            await ChainCorp.filter(id=place.id).update(**changes)
            for attr, value in changes.items():
                setattr(place, attr, value)
            if place.id not in s.places_pending:
                self.counts["corpsUpdated"] += 1
        s.places_pending[place.id] = place
        delta.append(("place", place))
        return place

    async def _insert_new_places(self) -> None:
        """One insert for the batch's new corps; their ids come back by (name key, customCorpId)."""
        s = self.state
        if not s.new_by_key:
            return
        last = await ChainCorp.filter(chain_id=s.chain.id).order_by("-id").first().values_list("id", flat=True)
        await ChainCorp.bulk_create([
            ChainCorp(chain_id=s.chain.id, group_id=p.group_id, custom_corp_id=p.custom_corp_id,
                      imported_name=p.imported_name, name_key=p.name_key, status=ChainCorpStatus.IMPORTED)
            for p in s.new_by_key.values()
        ])
        rows = await ChainCorp.filter(
            chain_id=s.chain.id, id__gt=last or 0, status=ChainCorpStatus.IMPORTED.value, corp_id=None
        ).values_list("id", "name_key", "custom_corp_id")
        ids = {(key, custom): i for i, key, custom in rows}
        for key, place in s.new_by_key.items():
            place.id = ids[key]
            s.places_pending[place.id] = place

    async def _ensure_contact(
        self, plan: RowPlan, place: Place, delta: list[tuple[str, Any]], new_contacts: list[ChainContact]
    ) -> str:
        s = self.state
        existing = plan.contact
        leader = plan.role is ContactRole.LEADER
        if existing is None:
            row = ChainContact(
                chain_id=s.chain.id, chain_corp_id=place.id, name=plan.name, mobile=plan.mobile, role=plan.role,
                status=ContactStatus.INVITED if leader else ContactStatus.IMPORTED,
                join_code=new_code() if leader else None, invited_at=jobs.now() if leader else None,
            )
            new_contacts.append(row)
            contact = Contact(0, place.id, row.name, row.role, row.status, row.join_code, plan.mobile, invite=leader)
            s.contacts_pending[plan.mobile] = contact
            delta.append(("contact", (plan.mobile, contact)))
            return "created"
        changes: dict[str, Any] = {}
        if existing.name != plan.name:
            changes["name"] = plan.name
        if existing.role is not plan.role:
            changes["role"] = plan.role.value
        status = existing.status
        if existing.place_id != place.id:
            changes["chain_corp_id"] = place.id
            if status is ContactStatus.REMOVED:
                status = ContactStatus.IMPORTED
        # A leader is invited once: a contact that never had a personal link gets one now.
        invite = leader and existing.join_code is None and status in (ContactStatus.IMPORTED, ContactStatus.INVITED)
        if invite:
            changes.update(join_code=new_code(), invited_at=jobs.now())
            status = ContactStatus.INVITED
        if status is not existing.status:
            changes["status"] = status.value
        contact = Contact(
            existing.id, place.id, plan.name, plan.role, status, changes.get("join_code", existing.join_code),
            plan.mobile, invite=invite,
        )
        s.contacts_pending[plan.mobile] = contact
        if not changes:
            return "unchanged"
        await ChainContact.filter(id=existing.id).update(**changes)
        delta.append(("contact", (plan.mobile, contact)))
        return "updated"

    def remember(self, plans: list[RowPlan], delta: list[tuple[str, Any]]) -> None:
        """The batch committed: later rows see its groups, corps and contacts."""
        s = self.state
        for kind, value in delta:
            if kind == "groups":
                s.groups.update(value)
            elif kind == "place":
                s.index(value)
            elif kind == "contact":
                mobile, contact = value
                s.contacts[mobile] = contact

    def replay(self, number: int, cells: list[Cell]) -> None:
        """Committed before a resume: only the file-level agreement needs to see it again."""
        self.plan(number, cells)

    def waits(self, cells: list[Cell]) -> bool:
        """RowRules.waits: always — a row reads the groups, corps and contacts earlier batches
        wrote, so each batch commits before the next row is validated."""
        return True

    async def clash(self, plan: RowPlan) -> RowError:
        """The row error of a plan whose contact joined the chain while the import ran
        (CONTACT_JOINED, column mobile)."""
        return RowError(plan.row, self.column("mobile"), "CONTACT_JOINED", "This person joined the chain while the import ran.")

    async def finish(self, lease: jobs.Lease) -> None:
        """Nothing: a chain import has no step after its last batch."""
        return None


async def _start(job: ImportJob, viewer: Viewer, mapping: dict[int, str], headers: list[str],
                 reread: Callable[[], Rows]) -> ChainImporter:
    assert job.chain_id is not None
    return ChainImporter(job, viewer, await ChainState.load(job.chain_id), mapping, headers)


SPEC = ImportSpec(
    kind=ImportKind.CHAIN_CONTACTS, aliases=ALIASES, required=REQUIRED, batch_rows=lambda: BATCH_ROWS,
    may_run=lambda viewer, job: job.chain_id is not None and actions.can_import_chain(viewer, job.chain_id),
    start=_start,
)


async def run_chain_import(job: ImportJob, lease: jobs.Lease) -> None:
    """The job handler of chain-contact imports (registered with flows.jobs): runs job
    `job` under `lease` through the shared pipeline (flows.import_pipeline.run_import). SPEC §3.2, §3.8."""
    await run_import(SPEC, job, lease)


jobs.register(ImportKind.CHAIN_CONTACTS, run_chain_import)


async def submit_chain_import(
    viewer: Viewer, chain_id: int, file_name: str, content: bytes, *, origin: Origin | None = None
) -> ImportJob:
    """Queue an import into the chain for a worker; imports into one chain run one after another."""
    if not actions.can_import_chain(viewer, chain_id):
        raise NotFound("chainId")
    if not content:
        raise FlowError("EMPTY_FILE", "The file is empty.", "file")
    chain = await ChainSpace.get(id=chain_id)
    actor_id = viewer.member_id if viewer.kind is ViewerKind.MEMBER else viewer.app_token_id
    async with in_transaction():
        job = await ImportJob.create(
            corp_id=chain.owner_corp_id, chain_id=chain_id, kind=ImportKind.CHAIN_CONTACTS, file_name=file_name,
            created_by_id=viewer.member_id, actor_kind=viewer.kind.value, actor_id=actor_id,
            queue=jobs.queue_of(chain.owner_corp_id, chain_id),
        )
        await ImportSource.create(job=job, file_name=file_name, content=content)
        await record(viewer, "import.chainContacts", "ImportJob", job.id, corp_id=chain.owner_corp_id,
                     after={"chain": chain_id, "file": file_name, "bytes": len(content)}, origin=origin)
    return job
