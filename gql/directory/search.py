"""searchMembers (SPEC §3.7): what a search term matches and what each filter keeps, as SQL
conditions on a corp's members. The caller puts them under the member policy
(members_query), so they only ever narrow what the viewer sees; a condition on a profile
field goes through permissions.fields.as_viewer_reads, so a value withheld from the
viewer counts as empty for that member (§2.2) and never narrows, widens or orders a list."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from flows.phones import normalise_mobile
from gql.errors import bad_request
from models import Corp, Member, MemberNameTerm, OrgUnit, Placement
from models.directory import NAME_TERM_MAX, distinct_member_values, name_term_key
from permissions.fields import FieldSettings, as_viewer_reads, as_viewer_reads_all, field_readable_q
from permissions.paths import outermost, under_any
from permissions.restricted import restricted
from permissions.sql import NOTHING, any_of, contains_text, ids_in, ids_written_in, path_under_any, starts_with
from permissions.subtrees import MAX_LISTED_UNITS
from permissions.viewer import Viewer

# A search seldom matches many members; past this many the matches stay a subquery.
SEARCH_CANDIDATES_MAX = 1000
# Matching units whose subtrees are given to SQL as path ranges; past this many (a term like
# 部 that names half the tree) their units are picked in memory from the viewer's units.
UNIT_RANGES_MAX = 20
# A corp with more distinct positions than this has its position filter tested row by row.
POSITION_VALUES_MAX = 200
# A term that can be a phone number: digits with the separators people write them with
# (139 0000 0007, 139-0000-0007, +86 139..., 0086 139..., (+86) 139...).
_PHONE_LIKE = re.compile(r"^\(?\+?[\d\s()\-]+$")
_MIN_PHONE_DIGITS = 7


@dataclass(frozen=True)
class SearchFilters:
    """searchMembers' filters besides status (which members_query applies)."""

    surname_initial: str | None = None
    position: str | None = None
    gender: str | None = None  # a models.enums.Gender value
    hired_from: date | None = None
    hired_to: date | None = None
    birthday_month: int | None = None  # 1-12

    def check(self) -> None:
        """BAD_REQUEST for a hire-date range that ends before it starts."""
        if self.hired_from and self.hired_to and self.hired_from > self.hired_to:
            raise bad_request("Corp.searchMembers(hiredFrom) is after hiredTo.")

    @property
    def profile_fields(self) -> bool:
        """Whether a filter tests a profile field (and so needs the corp's field settings)."""
        return bool(self.position or self.gender or self.hired_from or self.hired_to or self.birthday_month)


def searched_mobile(text: str) -> str | None:
    """The E.164 number a term spells, in any common spelling, or None when it spells none."""
    if not _PHONE_LIKE.match(text) or sum(c.isdigit() for c in text) < _MIN_PHONE_DIGITS:
        return None
    return normalise_mobile(text)


async def _matched_units(viewer: Viewer, corp_id: int, text: str) -> Subquery | list[int] | None:
    """The units (ids) in the subtrees of the units whose name contains `text`, among the
    units the viewer may see (a hidden unit neither matches nor places a member); None when
    no unit the viewer sees matches. One query, two when something matches."""
    visible = restricted(OrgUnit, viewer).filter(corp_id=corp_id)
    paths = await visible.filter(contains_text("name", text)).values_list("path", flat=True)
    if not paths:
        return None
    roots = outermost(paths)
    if len(roots) > UNIT_RANGES_MAX:
        units = await visible.values_list("id", "path")
        return [i for i, path in units if under_any(path, roots)]
    # Listed, the seats' units are estimated right (a path range the planner guesses at a
    # few rows where it holds hundreds of units, and then scans the corp's members).
    in_ranges = visible.filter(path_under_any(roots))
    ids = await in_ranges.limit(MAX_LISTED_UNITS + 1).values_list("id", flat=True)
    return list(ids) if len(ids) <= MAX_LISTED_UNITS else Subquery(in_ranges.values("id"))


@dataclass(frozen=True)
class Match:
    """One kind of match: `members` is the condition on member rows (an `id IN` subquery),
    `probe` a query of the same member ids that an index answers row by row, so reading
    its first few hundred ids costs that many index entries, not the whole set."""

    members: Q
    probe: QuerySet[Any]
    column: str  # the probe's member id column
    units: Subquery | list[int] | None = None  # a department match's units (their seats are the match)


def _on_member_columns(corp_id: int, test: Q) -> Match:
    query = Member.filter(test, corp_id=corp_id)
    return Match(Q(id__in=Subquery(query.values("id"))), query, "id")


def _seated_in(units: Subquery | list[int]) -> Match:
    seats = Placement.filter(
        ids_written_in(Placement, "unit_id", units) if isinstance(units, list) else Q(unit_id__in=units)
    )
    return Match(Q(id__in=Subquery(seats.values("member_id"))), seats, "member_id", units)


def _name_contains(corp_id: int, text: str) -> Match:
    """Members whose name contains `text`: the rows of its key in member_name_term (an index
    lookup), with a LIKE on those members' names for a term longer than the table's pieces;
    the LIKE over every name of the corp for a term holding a cased non-ASCII letter."""
    key = name_term_key(text)
    if key is None:
        return _on_member_columns(corp_id, contains_text("name", text))
    terms = MemberNameTerm.filter(corp_id=corp_id, term=key[:NAME_TERM_MAX])
    if len(key) > NAME_TERM_MAX:
        # No corp test on member: the terms are the corp's, and with one SQLite walks the
        # corp's members (the corp index) instead of looking the few term rows' ids up.
        query = Member.filter(contains_text("name", text), id__in=Subquery(terms.values("member_id")))
        return Match(Q(id__in=Subquery(query.values("id"))), query, "id")
    return Match(Q(id__in=Subquery(terms.values("member_id"))), terms, "member_id")


async def match_tests(viewer: Viewer, corp: Corp, text: str, settings: FieldSettings | None) -> list[Match]:
    """One Match per kind of match of the (lower-cased, stripped) term, any of which
    selects a member: name contains it; account, full pinyin or pinyin initials start
    with it; its mobile is the number the term spells (when the corp allows search by
    mobile and the viewer reads that member's mobile); it sits in the subtree of a unit
    whose name contains it. `settings`: the corp's, needed only for a term that spells a
    number in a corp that allows search by mobile (see needs_settings)."""
    tests = [starts_with("account_key", text)]
    if text.isascii():
        compact = text.replace(" ", "")
        tests += [starts_with("pinyin_full", compact), starts_with("pinyin_initials", compact)]
    mobile = searched_mobile(text) if corp.search_by_mobile else None
    if mobile is not None and settings is not None:
        if field_readable_q(viewer, corp.id, settings, "mobile") is not NOTHING:
            tests.append(as_viewer_reads(viewer, corp.id, settings, "mobile", Q(mobile=mobile)))
    matches = [_name_contains(corp.id, text), *(_on_member_columns(corp.id, test) for test in tests)]
    units = await _matched_units(viewer, corp.id, text)
    if units is not None:
        matches.append(_seated_in(units))
    return matches


def needs_settings(corp: Corp, text: str, filters: SearchFilters) -> bool:
    return filters.profile_fields or (corp.search_by_mobile and searched_mobile(text) is not None)


@dataclass(frozen=True)
class Matched:
    """What match_by_ids found: `members`, the condition; `ids_given`, whether it is a short
    id list (which should drive the query); `units`, when the members are exactly those
    seated in these units (a department match and nothing else), which head-counts count."""

    members: Q
    ids_given: bool
    units: Subquery | list[int] | None = None


async def match_by_ids(matches: list[Match]) -> Matched:
    """The members any of the matches selects, with each match's ids read first: a match
    of at most SEARCH_CANDIDATES_MAX members becomes that id list, so the page and its
    count look up these ids instead of running every test again (twice); a broader one
    (a department name, a one-letter term) stays a subquery. Returns a Matched: the
    condition, whether it is a short id list (which should drive the query; else the page
    walks the pinyin index and stops at its end), and the units of a department match
    when it alone selects anyone."""
    found: set[int] = set()
    broad: list[Match] = []
    for match in matches:
        ids = await match.probe.limit(SEARCH_CANDIDATES_MAX + 1).values_list(match.column, flat=True)
        if len(ids) > SEARCH_CANDIDATES_MAX:
            broad.append(match)
        else:
            found.update(ids)
    if len(found) > SEARCH_CANDIDATES_MAX:
        return Matched(any_of(m.members for m in matches), False)
    ids = [Q(id__in=sorted(found))] if found else []
    units = broad[0].units if not found and len(broad) == 1 else None
    return Matched(any_of([*ids, *(m.members for m in broad)]), not broad, units)


async def position_contains(corp_id: int, text: str) -> Q:
    """`position contains text` (contains_text) on corp_id's members, written as `position IN
    (the corp's positions that contain it)` when the corp holds at most POSITION_VALUES_MAX
    distinct positions: the same rows, found from the (corp_id, position, ...) index instead
    of a contains-test on every member (a count of 经理 among 50,000 members on PostgreSQL:
    25 -> 5 ms). The positions are tested by the database, one member each, with the same
    condition, so the match is the one contains_text makes. Two statements, each a few
    index descents."""
    values = await distinct_member_values(corp_id, "position", POSITION_VALUES_MAX)
    if values is None:
        return contains_text("position", text)
    holders = [member_id for _, member_id in values]
    matching = await Member.filter(ids_in(Member, "id", holders), contains_text("position", text)).values_list(
        "position", flat=True
    )
    return Q(position__in=sorted(set(matching))) if matching else NOTHING


async def filter_tests(
    viewer: Viewer, corp_id: int, settings: FieldSettings | None, filters: SearchFilters, *, ids_given: bool = False
) -> list[Q]:
    """The conditions of the filters given. The surname initial comes from the name, which whoever
    sees the row reads; every other filter tests a profile field as the viewer reads it.
    `settings`: the corp's, given whenever filters.profile_fields. The profile-field filters
    are one condition, which tests the viewer's right to read them once (as_viewer_reads_all).
    `ids_given`: a short list of matched ids drives the query (Matched.ids_given), so a
    position is tested on those rows alone, without looking the corp's positions up first."""
    tests = []
    if filters.surname_initial:
        letter = filters.surname_initial.lower()[:1]
        tests.append(Q(surname_initial=letter))
        if "a" <= letter <= "z":
            # A letter initial is the first letter of the full pinyin (flows.names.search_keys):
            # the same rows, as a range of the (corp_id, pinyin_full, id) index the page walks.
            tests.append(starts_with("pinyin_full", letter))
    on_fields: list[tuple[str, Q]] = []
    if filters.position:
        position = filters.position
        test = contains_text("position", position) if ids_given else await position_contains(corp_id, position)
        on_fields.append(("position", test))
    if filters.gender:
        on_fields.append(("gender", Q(gender=filters.gender)))
    # Dates compare as ranges on the column (ISO text on SQLite, DATE on PostgreSQL: the same
    # order); an empty date is in no range and in no month.
    if filters.hired_from:
        on_fields.append(("hireDate", Q(hire_date__gte=filters.hired_from)))
    if filters.hired_to:
        on_fields.append(("hireDate", Q(hire_date__lte=filters.hired_to)))
    if filters.birthday_month:
        on_fields.append(("birthday", Q(birth_month=filters.birthday_month)))
    if on_fields:
        assert settings is not None
        tests.append(as_viewer_reads_all(viewer, corp_id, settings, on_fields))
    return tests
