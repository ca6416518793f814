"""Directory import (通讯录批量导入, SPEC §3.1): .xlsx/.csv or rows -> members and units.

The directory rules plugged into the import pipeline (flows/import_pipeline.py), which
reads the file, batches the rows and commits each batch with the job's progress. Rows are
validated in Python against the corp's state before any write: an invalid row changes
nothing and is reported with row, column, code and message; valid rows land.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tortoise.transactions import in_transaction

from flows import jobs
from flows.audit import Origin, event, event_values, record
from flows.directory import MAX_UNIT_DEPTH, validate_unit_name
from flows.errors import FlowError, NotFound
from flows.import_pipeline import ImportSpec, Rows, run_import
from flows.members import _search_fields
from flows.profile import ATTRIBUTES, clean_account, clean_profile, require_contact
from flows.sessions import ended_sessions
from flows.tabular import (
    Cell,
    CellError,
    RowError,
    date_cell,
    foreign_separator,
    mobile_cell,
    open_row,
    split_paths,
    telephone_cell,
    text_cell,
)
from models import AuditEvent, ImportJob, ImportSource, Member, OrgUnit, Placement
from models.bulk import insert_values
from models.enums import ImportKind, ImportMode, MemberStatus
from permissions import actions
from permissions.facts import NO_STANDING, AdminStanding, MemberFacts
from permissions.loading import admin_standings
from permissions.paths import make_path
from permissions.viewer import Viewer, ViewerKind

BATCH_ROWS = 1000

# Canonical field -> accepted headers (compared without case, spaces or `*`). The first
# Chinese header is the template's, used by the export and the error report.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "name"),
    "account": ("账号", "帐号", "account", "userid"),
    "alias": ("别名", "alias"),
    "wechatId": ("微信号", "wechatid", "wechat"),
    "mobile": ("手机", "手机号", "mobile"),
    "email": ("邮箱", "email"),
    "telephone": ("电话", "座机", "telephone"),
    "departments": ("部门", "departments"),
    "position": ("职位", "职务", "position"),
    "gender": ("性别", "gender"),
    "address": ("地址", "address"),
    "birthday": ("生日", "birthday"),
    "hireDate": ("入职日期", "hiredate"),
}
ALIASES = {alias.lower(): key for key, names in COLUMNS.items() for alias in names}
TEMPLATE_HEADERS = {key: names[0] for key, names in COLUMNS.items()}
REQUIRED = {"name", "account"}
PATH_SEPARATOR = "->"

# The mass-resignation guard of REPLACE (SPEC §3.1): refuse when both are exceeded.
GUARD_SHARE = 0.20
GUARD_COUNT = 50


@dataclass
class Existing:
    """A member already in the corp as the import sees it: id, status, its imported attribute
    values, its units (main first) and whether it is bound to a person (its mobile is then its
    own: MOBILE_BOUND)."""

    id: int
    status: MemberStatus
    values: dict[str, Any]
    unit_ids: list[int]
    # Activated (bound to its Person): its mobile is the member's own to change (MOBILE_BOUND).
    bound: bool = False


@dataclass
class Plan:
    """What one valid row does: create a member, or change an existing one."""

    row: int
    account: str
    attrs: dict[str, Any]
    departments: list[tuple[str, ...]] | None
    existing: Existing | None = None


@dataclass
class CorpState:
    """What the rows of one directory import are checked against (SPEC §3.1): the corp's root
    and units by name path, its members by account key, their admin standings, mobiles in use
    and the accounts the file has named so far."""

    corp_id: int
    root: OrgUnit
    # Unit name path below the root -> (id, materialised path, depth).
    units: dict[tuple[str, ...], tuple[int, str, int]]
    members: dict[str, Existing]
    # Admin rights of the corp's members, for the outranking rule (TARGET_OUTRANKS_YOU).
    standings: dict[int, AdminStanding] = field(default_factory=dict)
    # Mobile -> (account key of its member, file row that gave it or None for the database).
    mobiles: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    _padded: dict[str, str] | None = None

    @classmethod
    async def load(cls, corp_id: int) -> CorpState:
        """The state of corp `corp_id` as the database holds it now: units, seats, members,
        admin standings and mobiles (five queries)."""
        rows = await OrgUnit.filter(corp_id=corp_id).order_by("depth").values("id", "parent_id", "name", "path", "depth")
        root_row = next(r for r in rows if r["parent_id"] is None)
        names: dict[int, tuple[str, ...]] = {root_row["id"]: ()}
        units: dict[tuple[str, ...], tuple[int, str, int]] = {(): (root_row["id"], root_row["path"], 0)}
        for r in rows:
            if r["parent_id"] is None or r["parent_id"] not in names:
                continue
            names[r["id"]] = (*names[r["parent_id"]], r["name"])
            units[names[r["id"]]] = (r["id"], r["path"], r["depth"])
        seats: dict[int, list[int]] = {}
        for member_id, unit_id in await Placement.filter(member__corp_id=corp_id).order_by("-is_main", "id").values_list("member_id", "unit_id"):
            seats.setdefault(member_id, []).append(unit_id)
        attrs = list(ATTRIBUTES.values())
        member_rows = await Member.filter(corp_id=corp_id).values("id", "account_key", "status", "person_id", *attrs)
        members = {
            m["account_key"]: Existing(m["id"], MemberStatus(m["status"]), {a: m[a] for a in attrs}, seats.get(m["id"], []),
                                       bound=m["person_id"] is not None)
            for m in member_rows
        }
        mobiles: dict[str, tuple[str, int | None]] = {m["mobile"]: (m["account_key"], None) for m in member_rows if m["mobile"]}
        root = await OrgUnit.get(id=root_row["id"])
        return cls(corp_id, root, units, members, await admin_standings(corp_id), mobiles)

    def padded_account(self, digits: str) -> str | None:
        """The existing account that is `digits` with leading zeros (42 -> 0042), if any."""
        if self._padded is None:
            self._padded = {}
            for key in self.members:
                if key.isdigit() and key.startswith("0"):
                    self._padded.setdefault(key.lstrip("0") or "0", key)
        return self._padded.get(digits.lstrip("0") or "0") if digits.isdigit() else None

    def unit_paths(self, unit_ids: list[int]) -> tuple[str, ...]:
        """The materialised paths of `unit_ids` (units the state knows; others left out)."""
        by_id = {i: p for i, p, _ in self.units.values()}
        return tuple(by_id[u] for u in unit_ids if u in by_id)


def _department_paths(text: str, root_name: str, units: dict[tuple[str, ...], Any]) -> list[tuple[str, ...]]:
    """`营销中心->大客户部;研发部` -> [("营销中心", "大客户部"), ("研发部",)], names checked.

    A path written with another tool's separator (`研发中心/软件部`, `研发中心 > 软件部`) is
    BAD_DEPARTMENT_PATH, not a new top-level unit named with slashes; an existing unit whose
    name holds such a character is still found by its exact path."""
    paths = []
    for part in split_paths(text):
        names = tuple(part)
        if names and names[0] == root_name:
            names = names[1:]  # a path written from the root down
        separator = next((s for s in map(foreign_separator, names) if s), None)
        if separator and names not in units:
            raise FlowError(
                "BAD_DEPARTMENT_PATH",
                f"'{PATH_SEPARATOR.join(names)}' separates units with {separator}: write 研发中心->软件部 "
                "(several departments separated by ;).",
                "departments",
            )
        names = tuple(validate_unit_name(n) for n in names)
        if len(names) >= MAX_UNIT_DEPTH:
            raise FlowError("UNIT_TOO_DEEP", f"Units nest at most {MAX_UNIT_DEPTH} levels deep.", "departments")
        paths.append(names)
    return paths


def _cell_value(key: str, value: Cell) -> Any:
    if key == "mobile":
        return mobile_cell(value)
    if key == "telephone":
        return telephone_cell(value)
    if key in ("birthday", "hireDate"):
        return date_cell(value)
    return text_cell(value)


class Importer:
    """The directory import's RowRules (flows.import_pipeline): validates rows against the
    CorpState, writes members, units and seats batch by batch as `viewer`, resigns the absent
    in REPLACE mode, and keeps `counts` (created, updated, unchanged, failed, resigned...).
    SPEC §3.1."""

    def __init__(self, job: ImportJob, viewer: Viewer, state: CorpState, mapping: dict[int, str], headers: list[str]):
        self.job = job
        self.viewer = viewer
        self.state = state
        self.mapping = mapping
        self.headers = headers
        self.mode = ImportMode(job.mode)
        self.counts: dict[str, int] = {
            "created": 0, "updated": 0, "unchanged": 0, "failed": 0, "resigned": 0, "unitsCreated": 0,
            **job.counts,
        }
        # 部门 text -> its paths or the FlowError refusing it: a file names its few departments
        # again and again. Valid for the whole run: the units an import creates come from
        # paths that passed, so no later unit changes a verdict.
        self._paths: dict[str, list[tuple[str, ...]] | FlowError] = {}
        self._account_at = next(i for i, k in mapping.items() if k == "account")
        self._departments_at = next((i for i, k in mapping.items() if k == "departments"), None)

    def _column(self, key: str) -> str | None:
        index = next((i for i, k in self.mapping.items() if k == key), None)
        return self.headers[index] if index is not None else None

    # --- validation -------------------------------------------------------------------

    def plan(self, number: int, cells: list[Cell]) -> Plan | list[RowError]:
        """Validate row `number` (`cells` padded to the headers; no writes): its Plan, or its
        RowErrors (row, column header, code, message). Codes: REQUIRED, UNKNOWN_COLUMN,
        DUPLICATE_IN_FILE, DUPLICATE_ACCOUNT, DUPLICATE_MOBILE, MOBILE_BOUND, BAD_DEPARTMENT_PATH,
        UNIT_TOO_DEEP, OUT_OF_SCOPE, TARGET_OUTRANKS_YOU, LEADING_ZEROS_LOST, and the cell
        readers' codes (SPEC §3.1)."""
        opened = open_row(number, cells, self.headers, self.mapping, self._column)
        if isinstance(opened, list):
            return opened
        values, row = opened
        errors, fail = row.errors, row.fail
        account = text_cell(values.get("account"))
        if account is None:
            fail("account", "REQUIRED", "The account is required.")
        else:
            try:
                account = clean_account(account)
            except FlowError as exc:
                fail("account", exc.code, exc.message)
                account = None
        if account is not None and isinstance(values["account"], (int, float)) and account.lower() not in self.state.members:
            padded = self.state.padded_account(account)
            if padded is not None:
                fail("account", "LEADING_ZEROS_LOST",
                     f"The account {account} is a number here, and account {padded} exists: the number lost its leading "
                     "zeros. Format the column as text and write the account as it is.")
                account = None
        if account is not None:
            key = account.lower()
            if key in self.state.seen:
                fail("account", "DUPLICATE_IN_FILE", f"Account {account} appears on an earlier row of this file.")
            self.state.seen.add(key)
        existing = self.state.members.get(account.lower()) if account else None
        if existing is not None and self.mode is ImportMode.CREATE:
            fail("account", "DUPLICATE_ACCOUNT", f"Account {account} already exists (mode CREATE).")

        profile: dict[str, Any] = {}
        for key, raw in values.items():
            if key in ("account", "departments"):
                continue
            try:
                value = _cell_value(key, raw)
                if value is None and (existing is not None or key != "name"):
                    continue  # an empty cell leaves the field as it is (UPSERT)
                if existing is not None and value == existing.values.get(ATTRIBUTES[key]):
                    continue  # unchanged, even when stored before today's rule (export -> re-import)
                profile.update(clean_profile({key: value}))
            except (CellError, FlowError) as exc:
                fail(key, exc.code, exc.message)

        if account is not None:
            self._check_mobile(account.lower(), number, existing, profile, fail)

        departments = None
        dept_text = text_cell(values.get("departments"))
        if dept_text:
            try:
                departments = self._department_paths(dept_text)
            except FlowError as exc:
                fail("departments", exc.code, exc.message)
        if errors:
            return errors

        if existing is None:
            merged = {a: profile.get(a) for a in ("mobile", "email", "wechat_id")}
        else:
            merged = {a: profile.get(a, existing.values[a]) for a in ("mobile", "email", "wechat_id")}
        try:
            require_contact(merged["mobile"], merged["email"], merged["wechat_id"])
        except FlowError as exc:
            fail("mobile", exc.code, exc.message)
        if not self._in_scope(existing, departments):
            fail("departments" if "departments" in values else "account", "OUT_OF_SCOPE",
                 "This row reaches outside the units you manage.")
        elif existing is not None and self._changes(existing, profile, departments) and not actions.outranks(
            self.viewer, self.state.standings.get(existing.id, NO_STANDING)
        ):
            fail("account", "TARGET_OUTRANKS_YOU", f"Member {account} holds admin rights you do not hold.")
        if errors:
            return errors
        assert account is not None
        if profile.get("mobile"):
            # Later rows see this row's number as taken, and the member's old one as free.
            if existing is not None and existing.values.get("mobile"):
                self.state.mobiles.pop(existing.values["mobile"], None)
            self.state.mobiles[profile["mobile"]] = (account.lower(), number)
        return Plan(number, account, profile, departments, existing)

    def waits(self, cells: list[Cell]) -> bool:
        """RowRules.waits: the row waits for the batch being committed when it names an account
        an earlier row named (it is judged against that member as the batch leaves it), when
        its account is not plain text (a number is checked for lost leading zeros against the
        accounts as they are), or when it names a department the corp does not have yet (the
        batch may be creating it). Any other row reads nothing a batch writes."""
        account = cells[self._account_at]
        if not isinstance(account, str) or _account_key(account) in self.state.seen:
            return True
        if self._departments_at is None:
            return False
        try:
            text = text_cell(cells[self._departments_at])
            paths = self._department_paths(text) if text else []
        except (CellError, FlowError):
            return False  # the row fails on its departments, whatever the batch writes
        return any(names not in self.state.units for names in paths)

    def _department_paths(self, text: str) -> list[tuple[str, ...]]:
        known = self._paths.get(text)
        if known is None:
            try:
                known = _department_paths(text, self.state.root.name, self.state.units)
            except FlowError as exc:
                known = exc
            self._paths[text] = known
        if isinstance(known, FlowError):
            raise FlowError(known.code, known.message, known.field)
        return list(known)

    def _check_mobile(
        self, key: str, number: int, existing: Existing | None, profile: dict[str, Any],
        fail: Callable[[str | None, str, str], None],
    ) -> None:
        """MOBILE_BOUND: an activated member's mobile is its own to change; DUPLICATE_MOBILE: a
        mobile names one member of the corp, against the database and earlier rows alike."""
        mobile = profile.get("mobile")
        if mobile is None:
            return  # an empty cell changes nothing
        if existing is not None and existing.bound and mobile != existing.values.get("mobile"):
            fail("mobile", "MOBILE_BOUND", "This member is activated: only the member itself changes its mobile.")
            return
        holder = self.state.mobiles.get(mobile)
        if holder is not None and holder[0] != key:
            where = f"row {holder[1]} of this file" if holder[1] is not None else "another member of this corp"
            fail("mobile", "DUPLICATE_MOBILE", f"Mobile {mobile} is already on {where}.")

    def _changes(self, existing: Existing, profile: dict[str, Any], departments: list[tuple[str, ...]] | None) -> bool:
        """Whether applying the row would change the member (an unchanged row touches nobody)."""
        if any(existing.values.get(a) != v for a, v in profile.items()):
            return True
        if departments is None:
            return False
        known = [self.state.units.get(n) for n in departments]
        return None in known or list(dict.fromkeys(u[0] for u in known if u)) != existing.unit_ids

    def _in_scope(self, existing: Existing | None, departments: list[tuple[str, ...]] | None) -> bool:
        """A directory admin imports only into its MANAGE ranges (SPEC §3.1 OUT_OF_SCOPE)."""
        corp = self.state.corp_id
        targets = departments if departments is not None else ([] if existing else [()])
        for names in targets:
            # The deepest existing unit on the path: a missing unit is created below it.
            known = max((names[:k] for k in range(len(names) + 1) if names[:k] in self.state.units), key=len)
            if not actions.can_manage_directory_at(self.viewer, corp, self.state.units[known][1]):
                return False
        if existing is not None:
            facts = MemberFacts(existing.id, corp, existing.status, False, self.state.unit_paths(existing.unit_ids))
            return actions.can_manage_member(self.viewer, facts)
        return True

    # --- applying -----------------------------------------------------------------------

    async def apply(self, plans: list[Plan]) -> tuple[dict[tuple[str, ...], tuple[int, str, int]], dict[str, int]]:
        """One transaction for the batch; returns the units and members it created (merged
        into the in-memory state only once the transaction has committed)."""
        created_units: dict[tuple[str, ...], tuple[int, str, int]] = {}
        ids: dict[str, int] = {}
        audit: list[dict[str, Any]] = []
        # Plain rows, not model instances: building 1,000 Members a batch cost more than inserting them.
        new_members: list[dict[str, Any]] = []
        changed = 0
        for plan in plans:
            if plan.departments is not None:
                for names in plan.departments:
                    await self._ensure_unit(names, created_units)
        for plan in plans:
            if plan.existing is None:
                new_members.append({
                    "corp_id": self.state.corp_id, "account": plan.account, "account_key": plan.account.lower(),
                    "status": MemberStatus.ACTIVE, **plan.attrs, **_search_fields(plan.attrs["name"]),
                })
        if new_members:
            # Read the new ids back by primary-key range: an IN list of a thousand accounts
            # makes PostgreSQL scan the member table once per batch.
            last = await Member.all().order_by("-id").first().values_list("id", flat=True)
            await insert_values(Member, new_members)
            wanted = {m["account_key"] for m in new_members}
            ids = {k: i for k, i in await Member.filter(corp_id=self.state.corp_id, id__gt=last or 0)
                   .values_list("account_key", "id") if k in wanted}
        seats: list[dict[str, Any]] = []
        for plan in plans:
            unit_ids = self._unit_ids(plan.departments, created_units)
            if plan.existing is None:
                member_id = ids[plan.account.lower()]
                seats += [{"member_id": member_id, "unit_id": u, "is_main": i == 0}
                          for i, u in enumerate(unit_ids or [self.state.root.id])]
                audit.append(event_values(self.viewer, "member.import", "Member", member_id, corp_id=self.state.corp_id,
                                          after={"account": plan.account, **_jsonable(plan.attrs), "row": plan.row}))
                continue
            changes = {a: v for a, v in plan.attrs.items() if plan.existing.values.get(a) != v}
            if "name" in changes:
                changes.update(_search_fields(changes["name"]))
            move = unit_ids is not None and unit_ids != plan.existing.unit_ids
            if not changes and not move:
                continue
            changed += 1
            if changes:
                await Member.filter(id=plan.existing.id).update(**changes)
            if move and unit_ids is not None:  # move implies unit_ids; said again for the type checker
                await Placement.filter(member_id=plan.existing.id).delete()
                seats += [{"member_id": plan.existing.id, "unit_id": u, "is_main": i == 0} for i, u in enumerate(unit_ids)]
            audit.append(event_values(
                self.viewer, "member.import", "Member", plan.existing.id, corp_id=self.state.corp_id,
                before={a: _jsonable_value(plan.existing.values.get(a)) for a in changes if a in plan.existing.values},
                after={**_jsonable(changes), **({"units": unit_ids} if move else {}), "row": plan.row},
            ))
        if seats:
            await insert_values(Placement, seats)
        if audit:
            await insert_values(AuditEvent, audit)
        self.counts["created"] += len(new_members)
        self.counts["updated"] += changed
        self.counts["unchanged"] += len(plans) - len(new_members) - changed
        self.counts["unitsCreated"] += len(created_units)
        return created_units, ids

    def _unit_ids(self, departments: list[tuple[str, ...]] | None, created: dict[tuple[str, ...], tuple[int, str, int]]) -> list[int] | None:
        if departments is None:
            return None
        out = [(created.get(n) or self.state.units[n])[0] for n in departments]
        return list(dict.fromkeys(out))

    async def _ensure_unit(self, names: tuple[str, ...], created: dict[tuple[str, ...], tuple[int, str, int]]) -> None:
        for k in range(1, len(names) + 1):
            prefix = names[:k]
            if prefix in self.state.units or prefix in created:
                continue
            parent_id, parent_path, depth = created.get(prefix[:-1]) or self.state.units[prefix[:-1]]
            unit = await OrgUnit.create(corp_id=self.state.corp_id, parent_id=parent_id, path="", depth=depth + 1, name=prefix[-1])
            unit.path = make_path(parent_path, unit.id)
            await unit.save(update_fields=["path"])
            created[prefix] = (unit.id, unit.path, depth + 1)

    def commit_state(self, plans: list[Plan], created_units: dict[tuple[str, ...], tuple[int, str, int]], new_ids: dict[str, int]) -> None:
        """A batch committed: the units it created (`created_units`, name path -> (id, path,
        depth)) and its new members (`new_ids`, account key -> id) join the state, and updated
        members take their new values and units."""
        self.state.units.update(created_units)
        for plan in plans:
            key = plan.account.lower()
            if plan.existing is None:
                self.state.members[key] = Existing(new_ids[key], MemberStatus.ACTIVE, dict(plan.attrs),
                                                   self._unit_ids(plan.departments, {}) or [self.state.root.id])
            else:
                plan.existing.values.update(plan.attrs)
                if plan.departments is not None:
                    plan.existing.unit_ids = self._unit_ids(plan.departments, {}) or plan.existing.unit_ids

    def remember(self, plans: list[Plan], written: tuple[dict[tuple[str, ...], tuple[int, str, int]], dict[str, int]]) -> None:
        """RowRules.remember: commit_state with what apply returned (created units, new ids)."""
        self.commit_state(plans, *written)

    def replay(self, number: int, cells: list[Cell]) -> None:
        """A row committed before a resume: its account counts as seen (duplicates in the
        file, and REPLACE's absent members)."""
        account = _account_key(cells[next(i for i, k in self.mapping.items() if k == "account")])
        if account:
            self.state.seen.add(account)

    async def clash(self, plan: Plan) -> RowError:
        """Which unique key a concurrent writer took between validation and commit."""
        mobile = plan.attrs.get("mobile")
        if mobile and await Member.filter(corp_id=self.state.corp_id, mobile=mobile).exclude(
            account_key=plan.account.lower()
        ).exists():
            return RowError(plan.row, self._column("mobile"), "DUPLICATE_MOBILE",
                            f"Mobile {mobile} was given to another member meanwhile.")
        return RowError(plan.row, self._column("account"), "DUPLICATE_ACCOUNT",
                        f"Account {plan.account} was created by someone else meanwhile.")

    async def finish(self, lease: jobs.Lease) -> None:
        """After the last batch: in REPLACE mode, resign the members absent from the file
        (resign_absent)."""
        if self.mode is ImportMode.REPLACE:
            await self.resign_absent(lease)

    async def resign_absent(self, lease: jobs.Lease) -> None:
        """REPLACE: members absent from the file are resigned (after the guard has passed)."""
        absent = self.absent()
        if not absent:
            return
        ids = [e.id for e in absent]
        async with in_transaction():
            await Member.filter(id__in=ids).update(
                status=MemberStatus.RESIGNED.value, resigned_at=jobs.now(), **ended_sessions()
            )
            await Placement.filter(member_id__in=ids).update(is_leader=False)
            await AuditEvent.bulk_create([
                event(self.viewer, "member.resign", "Member", e.id, corp_id=self.state.corp_id,
                      before={"status": e.status.value},
                      after={"status": "RESIGNED", "reason": f"import job {self.job.id} (REPLACE)"})
                for e in absent
            ])
            self.counts["resigned"] += len(ids)
            await lease.write(counts=self.counts)

    def absent(self) -> list[Existing]:
        """REPLACE: the corp's members the file did not name that the viewer may resign (not
        RESIGNED, managed by the viewer, outranked by it, not the viewer itself)."""
        manageable = [
            e for key, e in self.state.members.items()
            if key not in self.state.seen and e.status is not MemberStatus.RESIGNED
            and actions.can_manage_member(self.viewer, MemberFacts(e.id, self.state.corp_id, e.status, False,
                                                                    self.state.unit_paths(e.unit_ids)))
            and actions.outranks(self.viewer, self.state.standings.get(e.id, NO_STANDING))
        ]
        return [e for e in manageable if e.id != self.viewer.member_id]


def _account_key(cell: Cell) -> str:
    """An account cell as the key it is matched by ("" when it holds none)."""
    try:
        return (text_cell(cell) or "").lower()
    except CellError:
        return ""


def _jsonable_value(v: Any) -> Any:
    if isinstance(v, date):
        return v.isoformat()
    return getattr(v, "value", v)


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: _jsonable_value(v) for k, v in d.items()}


async def _start(job: ImportJob, viewer: Viewer, mapping: dict[int, str], headers: list[str],
                 reread: Callable[[], Rows]) -> Importer:
    state = await CorpState.load(job.corp_id)
    importer = Importer(job, viewer, state, mapping, headers)
    if ImportMode(job.mode) is ImportMode.REPLACE and job.processed_rows == 0:
        # The guard needs the whole file's accounts before anything is applied.
        account_col = next(i for i, k in mapping.items() if k == "account")
        async with aclosing(reread()) as rows:
            state.seen = {_account_key(cells[account_col]) async for _, cells in rows}
        absent = importer.absent()
        active = sum(1 for e in state.members.values() if e.status is not MemberStatus.RESIGNED)
        if not job.options.get("force") and len(absent) > GUARD_COUNT and len(absent) > GUARD_SHARE * active:
            raise FlowError(
                "MASS_RESIGN",
                f"This REPLACE would resign {len(absent)} of {active} members (over {GUARD_SHARE:.0%} and over "
                f"{GUARD_COUNT}); nothing was changed. Re-run with force to do it anyway.",
            )
        state.seen = set()
    return importer


SPEC = ImportSpec(
    kind=ImportKind.DIRECTORY, aliases=ALIASES, required=REQUIRED, batch_rows=lambda: BATCH_ROWS,
    may_run=lambda viewer, job: True, start=_start,
)


async def run_directory_import(job: ImportJob, lease: jobs.Lease) -> None:
    """The job handler of directory imports (registered with flows.jobs): runs job `job`
    under `lease` through the shared pipeline (flows.import_pipeline.run_import). SPEC §3.1, §3.8."""
    await run_import(SPEC, job, lease)


jobs.register(ImportKind.DIRECTORY, run_directory_import)


async def submit_directory_import(
    viewer: Viewer,
    corp_id: int,
    file_name: str,
    content: bytes,
    mode: ImportMode,
    *,
    confirm_replace: bool = False,
    force: bool = False,
    origin: Origin | None = None,
) -> ImportJob:
    """Queue an import for a worker (flows/worker.py); the file is kept with the job, in the
    database, so any worker can run it, resume it and report on it."""
    if not actions.can_import_directory(viewer, corp_id):
        raise NotFound("corpId")
    if not content:
        raise FlowError("EMPTY_FILE", "The file is empty.", "file")
    if mode is ImportMode.REPLACE and not confirm_replace:
        raise FlowError(
            "CONFIRMATION_REQUIRED",
            "REPLACE resigns every member absent from the file: set confirmReplace to go ahead.",
            "confirmReplace",
        )
    actor_id = viewer.member_id if viewer.kind is ViewerKind.MEMBER else viewer.app_token_id
    async with in_transaction():
        job = await ImportJob.create(
            corp_id=corp_id, kind=ImportKind.DIRECTORY, mode=mode.value, file_name=file_name,
            created_by_id=viewer.member_id, actor_kind=viewer.kind.value, actor_id=actor_id,
            options={"confirmReplace": confirm_replace, "force": force}, queue=jobs.queue_of(corp_id, None),
        )
        await ImportSource.create(job=job, file_name=file_name, content=content)
        await record(viewer, "import.directory", "ImportJob", job.id, corp_id=corp_id,
                     after={"file": file_name, "mode": mode.value, "bytes": len(content), "force": force}, origin=origin)
    return job
