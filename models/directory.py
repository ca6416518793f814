"""A corp's own directory: corps, persons, members, the unit tree and field settings."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.enums import Gender, MemberStatus, Scope


class Corp(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=128)
    short_name = fields.CharField(max_length=64, null=True)
    # Normalised full and short names, used by the chain join matching rules.
    name_key = fields.CharField(max_length=128, db_index=True)
    verified = fields.BooleanField(default=False)
    search_by_mobile = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "corp"


class Person(Model):
    """A natural person, identified by a verified mobile number (E.164)."""

    id = fields.IntField(primary_key=True)
    mobile = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "person"


class OrgUnit(Model):
    """A node of the department tree of a corp.

    path is the materialised path of ids, e.g. /1/5/9/, so a subtree is one indexed
    prefix match and the ancestors are read off the path itself.
    """

    id = fields.IntField(primary_key=True)
    corp = fields.ForeignKeyField("models.Corp", related_name="units", on_delete=fields.CASCADE)
    corp_id: int
    parent = fields.ForeignKeyField(
        "models.OrgUnit", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    parent_id: int | None
    path = fields.CharField(max_length=255)
    depth = fields.SmallIntField(default=0)
    name = fields.CharField(max_length=64)
    order = fields.IntField(default=0)
    scope = fields.CharEnumField(Scope, max_length=16, default=Scope.INHERIT)
    # Extra unit subtrees visible to / withheld from the members this scope setting governs.
    scope_whitelist = fields.JSONField(default=list)
    scope_exclude = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "org_unit"
        indexes = (Index(fields=("corp_id", "path")),)


class Member(Model):
    id = fields.IntField(primary_key=True)
    corp = fields.ForeignKeyField("models.Corp", related_name="members", on_delete=fields.CASCADE)
    corp_id: int
    person = fields.ForeignKeyField(
        "models.Person", related_name="members", null=True, on_delete=fields.SET_NULL
    )
    person_id: int | None
    account = fields.CharField(max_length=64)
    # Lower-cased account: accounts are unique per corp ignoring case.
    account_key = fields.CharField(max_length=64)
    name = fields.CharField(max_length=64)
    alias = fields.CharField(max_length=64, null=True)
    mobile = fields.CharField(max_length=32, null=True)
    email = fields.CharField(max_length=128, null=True)
    wechat_id = fields.CharField(max_length=64, null=True)
    telephone = fields.CharField(max_length=32, null=True)
    gender = fields.CharEnumField(Gender, max_length=8, default=Gender.UNKNOWN)
    position = fields.CharField(max_length=128, null=True)
    address = fields.CharField(max_length=255, null=True)
    birthday = fields.DateField(null=True)
    # The birthday's month (1-12), written with the birthday (flows.profile.birth_month_of):
    # searchMembers(birthdayMonth:) compares a column, the same SQL on SQLite and PostgreSQL,
    # and an index finds it (SQLite has no EXTRACT, PostgreSQL no strftime).
    birth_month = fields.SmallIntField(null=True)
    hire_date = fields.DateField(null=True)
    status = fields.CharEnumField(MemberStatus, max_length=16, default=MemberStatus.ACTIVE)
    hidden_from_directory = fields.BooleanField(default=False)
    resigned_at = fields.DatetimeField(null=True)
    # Member tokens issued at or before this instant are refused (resignation, reinstatement,
    # revoked sessions); kept to the millisecond, the precision of the tokens' issue claim.
    tokens_valid_after = fields.DatetimeField(null=True)
    # Search keys, written with the name: full pinyin and initials (surname readings).
    pinyin_full = fields.CharField(max_length=255, default="")
    pinyin_initials = fields.CharField(max_length=64, default="")
    surname_initial = fields.CharField(max_length=1, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "member"
        # A mobile names one member of a corp (deleting a member frees it): actAs and the
        # chain join never choose between two members.
        unique_together = (("corp", "account_key"), ("corp", "mobile"))
        indexes = (
            Index(fields=("corp_id", "status")),
            # The members that left (resigned, disabled), across corps: contacts linked to them
            # are withheld from non-admin chain views (permissions.chain.contact_listed_q).
            Index(fields=("status",)),
            # Covers the listed-member test (status, hidden): head-counts read only this index.
            Index(fields=("corp_id", "status", "hidden_from_directory")),
            Index(fields=("person_id",)),
            # Directory pages in pinyin order (keyset cursors seek it) and pinyin prefix search.
            Index(fields=("corp_id", "pinyin_full", "id")),
            Index(fields=("corp_id", "pinyin_initials")),
            # Name search (contains): scanning this narrow index is cheaper than the table.
            Index(fields=("corp_id", "name", "id")),
            # searchMembers filters: birthday month, hire-date range.
            Index(fields=("corp_id", "birth_month")),
            Index(fields=("corp_id", "hire_date")),
            # Their gender and position filters: a count of many members reads only these,
            # the id included for the visibility test (migration 0025).
            Index(fields=("corp_id", "gender", "status", "hidden_from_directory", "id")),
            Index(fields=("corp_id", "position", "status", "hidden_from_directory", "id")),
        )


class Placement(Model):
    # A member's seat in a unit: exactly one of a member's seats is the main one.

    id = fields.IntField(primary_key=True)
    member = fields.ForeignKeyField("models.Member", related_name="placements", on_delete=fields.CASCADE)
    member_id: int
    unit = fields.ForeignKeyField("models.OrgUnit", related_name="placements", on_delete=fields.CASCADE)
    unit_id: int
    is_main = fields.BooleanField(default=False)
    is_leader = fields.BooleanField(default=False)
    order = fields.IntField(default=0)

    class Meta:
        table = "placement"
        unique_together = (("member", "unit"),)
        indexes = (Index(fields=("unit_id", "member_id")),)


class FieldSetting(Model):
    """Per corp, per profile field: shown to members (显示) and editable by self."""

    id = fields.IntField(primary_key=True)
    corp = fields.ForeignKeyField("models.Corp", related_name="field_settings", on_delete=fields.CASCADE)
    corp_id: int
    field = fields.CharField(max_length=32)
    visible_to_members = fields.BooleanField()
    self_editable = fields.BooleanField()

    class Meta:
        table = "field_setting"
        unique_together = (("corp", "field"),)


# The longest name piece member_name_term keeps: Chinese names are 2-4 characters, so every
# term typed into a search of them is a row; a longer term is looked up by its first pieces.
NAME_TERM_MAX = 4


def name_term_key(text: str) -> str | None:
    """The member_name_term key of a search term (already lower-cased): the term itself when
    it holds no cased letter but ASCII ones (as the table folds names: ASCII letters only),
    else None (the term needs the LIKE scan). A key longer than NAME_TERM_MAX is looked up
    by its first NAME_TERM_MAX characters."""
    if not text or any(not c.isascii() and c.lower() != c.upper() for c in text):
        return None
    return text.lower()


class MemberNameTerm(Model):
    """Every piece of a member's name of 1 to NAME_TERM_MAX characters (ASCII letters
    lower-cased), one row per distinct piece: kept by database triggers (migration 0022) in
    the transaction of every write to `member` (inserts, renames, deletes and their
    cascades), so a name contains-search is an index lookup of (corp_id, term) instead of
    a pass over the corp's names (gql.directory.search). Never written by the application."""

    id = fields.IntField(primary_key=True)
    corp_id = fields.IntField()
    term = fields.CharField(max_length=NAME_TERM_MAX)
    member_id = fields.IntField()

    class Meta:
        table = "member_name_term"
        unique_together = (("corp_id", "term", "member_id"),)
        # A member's rows, dropped when it is renamed or deleted.
        indexes = (Index(fields=("member_id",)),)


class MemberSeat(Model):
    """What a member's visibility hangs on, kept by database triggers (migration 0010) in the
    transaction of every write to `member` or `placement`: its corp, status, hidden flag and,
    for a member with exactly one seat, that seat's unit (NULL for none or several seats).
    Never written by the application."""

    member_id = fields.IntField(primary_key=True, generated=False)
    corp_id = fields.IntField()
    unit_id = fields.IntField(null=True)
    status = fields.CharEnumField(MemberStatus, max_length=16)
    hidden = fields.BooleanField()

    class Meta:
        table = "member_seat"
        # The corp's members with no or several seats (unit_id IS NULL): counted one by one.
        indexes = (Index(fields=("corp_id", "unit_id")),)


class UnitHeadcount(Model):
    """Members with exactly one seat, by (corp, unit, status, hidden): the sums of
    MemberSeat rows with a unit, kept by triggers (migration 0010) in the writing
    transaction. A member sits in one row at most, so sums over any set of units count each
    member once (permissions.counts). Never written by the application."""

    id = fields.IntField(primary_key=True)
    corp_id = fields.IntField()
    unit_id = fields.IntField()
    status = fields.CharEnumField(MemberStatus, max_length=16)
    hidden = fields.BooleanField()
    n = fields.IntField(default=0)

    class Meta:
        table = "unit_headcount"
        unique_together = (("corp_id", "unit_id", "status", "hidden"),)


class SharedSeat(Model):
    """The members no head-count holds: one row per seat of a member with several seats, one
    row with no unit for a member with no seat, each with the member's corp, status and hidden
    flag; kept by database triggers (migration 0016) in the transaction of every write to
    `member` or `placement`. They are counted (distinct members) from the rows in the units a
    scope lists, a few per visible unit, instead of testing each such member of the corp.
    Never written by the application."""

    id = fields.IntField(primary_key=True)
    member_id = fields.IntField()
    corp_id = fields.IntField()
    unit_id = fields.IntField(null=True)
    status = fields.CharEnumField(MemberStatus, max_length=16)
    hidden = fields.BooleanField()

    class Meta:
        table = "shared_seat"
        # The unit's rows carry what a count tests, so it reads the index alone (migration 0024).
        indexes = (Index(fields=("corp_id", "unit_id", "member_id", "status", "hidden")), Index(fields=("member_id",)))


# Member columns whose distinct values a corp holds few of, each led by corp_id in an index.
_DISTINCT_VALUE_COLUMNS = frozenset({"position"})

_DISTINCT_VALUES = """
WITH RECURSIVE v(val, n) AS (
    SELECT (SELECT MIN({col}) FROM member WHERE corp_id = {c}), 1
    UNION ALL
    SELECT (SELECT MIN({col}) FROM member WHERE corp_id = {c} AND {col} > v.val), v.n + 1
    FROM v WHERE v.val IS NOT NULL AND v.n <= {most}
)
SELECT val, (SELECT id FROM member WHERE corp_id = {c} AND {col} = v.val LIMIT 1) AS member_id
FROM v WHERE val IS NOT NULL
"""


async def distinct_member_values(corp_id: int, column: str, most: int) -> list[tuple[str, int]] | None:
    """The distinct non-null values of member `column` (one of _DISTINCT_VALUE_COLUMNS) in
    corp_id, each with the id of one member holding it, in the column's order; None when
    the corp holds more than `most` of them. Read as a walk of the (corp_id, column, ...)
    index that skips from one value to the next (one index descent per value), so ten
    positions among 50,000 members cost ten descents, not 50,000 rows."""
    if column not in _DISTINCT_VALUE_COLUMNS:
        raise ValueError(f"not a distinct-value column: {column!r}")
    db = Member._meta.db
    postgres = db.capabilities.dialect == "postgres"
    sql = _DISTINCT_VALUES.format(col=f'"{column}"', c="$1" if postgres else "?1", most="$2" if postgres else "?2")
    rows = await db.execute_query_dict(sql, [corp_id, most])
    if len(rows) > most:
        return None
    return [(r["val"], r["member_id"]) for r in rows]
